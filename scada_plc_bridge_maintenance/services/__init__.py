from . import task_failures
