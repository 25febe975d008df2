from . import task_sync
from . import task_poll
from . import task_finish
from . import task_health
from . import plausibility
from . import settings
from . import batch_operations
from . import plc_contact
