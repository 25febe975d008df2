from . import scada_equipment
from . import scada_equipment_failure
from . import scada_plc
from . import maintenance_equipment
from . import maintenance_request
