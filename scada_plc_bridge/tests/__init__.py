from . import test_batch_cycle
from . import test_task1_sync
from . import test_task2_plc_read
from . import test_auto_cancel
from . import test_task3_process
from . import test_task3_concurrency
from . import test_mo_history
from . import test_task4_health
