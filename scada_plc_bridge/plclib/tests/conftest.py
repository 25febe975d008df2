"""plclib tests run without Odoo: put the addon folder on sys.path so
`import plclib` finds the package without importing the addon."""

import os
import sys

import pytest

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ADDON_DIR not in sys.path:
    sys.path.insert(0, ADDON_DIR)

from plclib.simulator import PlcSimulator  # noqa: E402

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
