from . import mo_batch_cancel
from . import scada_plc_slots
from . import scada_day_report_wizard
from . import scada_plc_clear_slot
from . import mo_batch_correct
from . import mo_batch_correct_line
from . import mrp_production_split
