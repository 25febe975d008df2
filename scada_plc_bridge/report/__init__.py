from . import scada_consumption_report
from . import scada_day_report
from . import scada_batch_ticket
