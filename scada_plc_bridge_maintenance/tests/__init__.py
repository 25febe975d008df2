from . import test_maintenance_bridge
