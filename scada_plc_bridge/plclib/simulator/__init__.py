"""The PLC simulator (see server); a package, to be split into modules."""

from .server import (
    DM_WORDS,
    FAULT_KINDS,
    PLANT_TICK_SECONDS,
    REFUSE_END_CODE,
    AddressError,
    DmMemory,
    PlantSlot,
    PlcSimulator,
)
