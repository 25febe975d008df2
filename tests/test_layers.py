"""The addon's layers import one way (docs/architecture.md): models hold
data and screens, services the task code, the runner the PLC I/O; they
reach each other through `env["model.name"]`, never by importing each
other's modules, so no circle can close.  Read from the source, no Odoo."""

import ast
import pathlib

import pytest

ADDON = pathlib.Path(__file__).resolve().parent.parent / "scada_plc_bridge"
# package -> the packages of the addon its modules must not import
FORBIDDEN = {
    "models": {"runner", "services", "wizards", "report"},
    "services": {"models", "runner", "wizards", "report"},
    "runner": {"models", "services", "wizards", "report"},
    "plclib": {"models", "services", "runner", "wizards", "report"},
}


def addon_imports(path, root=ADDON):
    """The addon's top-level packages a module imports (relative imports)."""
    package = path.relative_to(root).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            target = base + (node.module.split(".") if node.module else [])
            names = [target] if node.module else [base + [alias.name] for alias in node.names]
            found.update(name[0] for name in names if name)
    return found


def modules(package):
    return sorted((ADDON / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_one_way(package):
    wrong = {
        str(path.relative_to(ADDON)): sorted(addon_imports(path) & FORBIDDEN[package])
        for path in modules(package)
        if "tests" not in path.relative_to(ADDON).parts
    }
    assert not {name: bad for name, bad in wrong.items() if bad}


def test_the_check_sees_a_wrong_import(tmp_path):
    """The check itself: a model module importing the runner is caught."""
    probe = tmp_path / "models" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("from ..runner.runner import PlcRunner\nfrom . import mo_batch\nfrom .. import const\n")
    assert addon_imports(probe, tmp_path) == {"runner", "models", "const"}
