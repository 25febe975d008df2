from . import test_batch_cycle
