"""The lint configuration of the project passes: ruff (style, Python 3.8
syntax floor) and pylint-odoo's mandatory checks on the addon."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_check_passes():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pylint_odoo_mandatory_checks_pass():
    result = run(
        str(BIN / "pylint"), "--rcfile=.pylintrc", "scada_plc_bridge", "scada_plc_bridge_maintenance"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_addon_readme_is_generated_from_fragments():
    result = run(sys.executable, "scripts/gen_addon_readme.py", "--check")
    assert result.returncode == 0, result.stderr
