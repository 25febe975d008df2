"""plclib never imports Odoo: a fresh interpreter where importing odoo is
impossible still imports every plclib module."""

import os
import subprocess
import sys

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = [
    "plclib",
    "plclib.exceptions",
    "plclib.fins.frame",
    "plclib.fins.commands",
    "plclib.transport",
    "plclib.client",
    "plclib.memory_map",
    "plclib.simulator",
    "plclib.simulator.memory",
    "plclib.simulator.faults",
    "plclib.simulator.server",
    "plclib.simulator.plant",
    "plclib.handshake",
    "plclib.cli",
]


def test_plclib_imports_without_odoo():
    code = "import sys; sys.modules['odoo'] = None\n" + "".join("import %s\n" % name for name in MODULES)
    code += "assert not [m for m in sys.modules if m.startswith('odoo') and sys.modules[m] is not None]\n"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=ADDON_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=ADDON_DIR),
    )
    assert result.returncode == 0, result.stderr
