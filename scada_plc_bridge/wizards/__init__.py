from . import mo_batch_cancel
from . import scada_plc_slots
