"""A PLC simulator speaking FINS over UDP and FINS/TCP on loopback.

It holds DM memory as 16-bit words and answers Memory Area Read/Write,
Multiple Memory Area Read, Controller Data Read and Controller Status Read
with the end codes a CS/CJ CPU gives for bad areas, out-of-range addresses
and over-long commands.  In plant mode it behaves like the batching line:
it takes recipes from WRITE slots (handshake word 0), marks them taken,
runs each batch for `batch_seconds` while consumption grows, then reports
it finished (or failed) in the matching READ slot.  Faults can be injected
at a rate each, to test clients against a misbehaving network or PLC.

Split as pymodbus splits its own: `memory` (the data store), `faults`
(fault injection), `server` (FINS execution and serving), `mailboxes`
(the failure and weighing mailboxes) and `plant` (the simulated line); the
names are imported from here."""

from .faults import FAULT_KINDS, REFUSE_END_CODE, FaultInjector
from .mailboxes import PLANT_EQUIPMENT, WEIGHING_PRODUCT_IDS, SimMailbox
from .memory import DM_WORDS, AddressError, DmMemory
from .plant import PLANT_TICK_SECONDS, PlantSlot, PlcSimulator
from .server import FinsServer

__all__ = [
    "DM_WORDS",
    "FAULT_KINDS",
    "PLANT_EQUIPMENT",
    "PLANT_TICK_SECONDS",
    "REFUSE_END_CODE",
    "WEIGHING_PRODUCT_IDS",
    "AddressError",
    "DmMemory",
    "FaultInjector",
    "FinsServer",
    "PlantSlot",
    "PlcSimulator",
    "SimMailbox",
]
