"""plclib tests run without Odoo: put the addon folder on sys.path so
`import plclib` finds the package without importing the addon."""

import os
import sys
import types

import pytest

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ADDON_DIR not in sys.path:
    sys.path.insert(0, ADDON_DIR)


def _odoo_is_configured():
    odoo = sys.modules.get("odoo")
    return bool(odoo and odoo.tools.config.get("db_name"))


# pytest 8 imports the __init__.py of every package between the rootdir and
# a test (for setup_module).  Without Odoo (no --odoo-database), importing the
# addon's own __init__ would load its Odoo models and fail, so the addon is
# registered as a bare namespace: the plclib tests never need the rest of it.
# Under pytest-odoo the addon loads as odoo.addons.scada_plc_bridge instead.
if not _odoo_is_configured() and "scada_plc_bridge" not in sys.modules:
    _addon = types.ModuleType("scada_plc_bridge")
    _addon.__path__ = [ADDON_DIR]
    sys.modules["scada_plc_bridge"] = _addon

from plclib.simulator import PlcSimulator  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    """pytest-odoo's session fixture of this name loads an Odoo registry for
    every test; the plclib tests need none, and must run without a database."""
    yield


# The plant's reference data, beside the repository (../shared/reference).
REFERENCE_DIR = os.path.join(os.path.dirname(os.path.dirname(ADDON_DIR)), "shared", "reference")


@pytest.fixture(params=["udp", "tcp"])
def simulator(request):
    with PlcSimulator(protocol=request.param, seed=7, fault_delay=0.12) as sim:
        yield sim


@pytest.fixture
def reference_dir():
    if not os.path.isdir(REFERENCE_DIR):
        pytest.skip("the plant's reference data (%s) is not beside this checkout" % REFERENCE_DIR)
    return REFERENCE_DIR
