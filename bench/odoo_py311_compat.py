"""Python 3.11 compatibility for Odoo 14, applied from outside Odoo's files.

Odoo 14 was released for Python 3.6-3.8.  Two things stop it on 3.11:

(a) ``odoo.tools.safe_eval`` checks compiled bytecode against allow-lists of
    opcodes.  Python 3.11 compiles the same expressions to new opcodes
    (``BINARY_OP`` instead of ``BINARY_ADD``, ``PRECALL``/``CALL`` instead of
    ``CALL_FUNCTION``, relative jumps, ...), so every domain, context and
    server action is refused.  We add the 3.11 spelling of exactly what the
    3.8 lists allowed, in place, so every module that imported the sets sees
    them.  Closures (``LOAD_CLOSURE``, ``LOAD_DEREF``, ``MAKE_CELL``,
    ``COPY_FREE_VARS``) stay forbidden as before, and the forbidden list is
    subtracted again.

(b) The QWeb compiler sets ``lineno`` on the functions it generates but not
    ``end_lineno``; 3.11's ``compile`` refuses such a node ("AST node line
    range (N, 1) is not valid").  We give the node ``end_lineno = lineno``.

Each fix is applied right after its Odoo module is imported, by a
``sys.meta_path`` hook that :func:`install` registers.  The project's
virtualenv calls :func:`install` from a ``.pth`` file, so ``odoo-bin``,
``odoo shell`` and pytest-odoo all run with the fixes.  Setting
``ODOO_PY311_COMPAT=0`` disables them (the tests use it to show what fails
without them).
"""

import importlib.abc
import os
import re
import sys
import warnings

SAFE_EVAL_MODULE = "odoo.tools.safe_eval"
QWEB_MODULE = "odoo.addons.base.models.qweb"

# 3.11 forms of what Odoo 14's lists allowed on 3.8, per list.
PY311_CONST_OPCODES = (
    "NOP",
    "RESUME",  # every code object starts with it
    "COPY",  # replaces DUP_TOP / DUP_TOP_TWO
    "SWAP",  # replaces ROT_TWO / ROT_THREE / ROT_FOUR
    "PUSH_NULL",
    "CACHE",
)
PY311_EXPR_OPCODES = (
    "BINARY_OP",  # replaces BINARY_* and INPLACE_*
    "FORMAT_VALUE",  # f-strings
    "BUILD_STRING",
)
PY311_SAFE_OPCODES = (
    "PRECALL",  # CALL_FUNCTION / CALL_METHOD became PRECALL + CALL
    "CALL",
    "KW_NAMES",  # CALL_FUNCTION_KW
    "JUMP_BACKWARD",  # JUMP_ABSOLUTE
    "JUMP_BACKWARD_NO_INTERRUPT",
    "POP_JUMP_FORWARD_IF_FALSE",  # POP_JUMP_IF_FALSE / _TRUE
    "POP_JUMP_FORWARD_IF_TRUE",
    "POP_JUMP_BACKWARD_IF_FALSE",
    "POP_JUMP_BACKWARD_IF_TRUE",
    "POP_JUMP_FORWARD_IF_NONE",  # `x is None` tests
    "POP_JUMP_FORWARD_IF_NOT_NONE",
    "POP_JUMP_BACKWARD_IF_NONE",
    "POP_JUMP_BACKWARD_IF_NOT_NONE",
    "RETURN_GENERATOR",  # generators (YIELD_VALUE was allowed)
    "CHECK_EXC_MATCH",  # JUMP_IF_NOT_EXC_MATCH
    "PUSH_EXC_INFO",  # try/except now uses the exception table
    "LOAD_ASSERTION_ERROR",  # `assert` (3.8 used LOAD_GLOBAL)
)


def patch_safe_eval(module):
    opcodes = list(module.to_opcodes(PY311_CONST_OPCODES))
    module._CONST_OPCODES.update(opcodes)
    module._EXPR_OPCODES.update(opcodes)
    module._SAFE_OPCODES.update(opcodes)
    opcodes = list(module.to_opcodes(PY311_EXPR_OPCODES))
    module._EXPR_OPCODES.update(opcodes)
    module._SAFE_OPCODES.update(opcodes)
    module._SAFE_OPCODES.update(module.to_opcodes(PY311_SAFE_OPCODES))
    for allowed in (module._CONST_OPCODES, module._EXPR_OPCODES, module._SAFE_OPCODES):
        allowed.difference_update(module._BLACKLIST)


def patch_qweb(module):
    original_create_def = module.QWeb._create_def
    if getattr(original_create_def, "_py311_compat", False):
        return

    def _create_def(self, options, body, prefix="fn", lineno=None):
        name = original_create_def(self, options, body, prefix=prefix, lineno=lineno)
        if lineno is not None:
            options["ast_calls"][-1].end_lineno = lineno
        return name

    _create_def._py311_compat = True
    module.QWeb._create_def = _create_def


NETSVC_MODULE = "odoo.netsvc"
QUIET_WARNINGS_VARIABLE = "SCADA_QUIET_ODOO_WARNINGS"


def patch_netsvc(netsvc):
    """(c) Not a fix, a launcher's choice: with SCADA_QUIET_ODOO_WARNINGS=1
    (set by `make run`) the DeprecationWarnings that Python 3.11 raises in
    Odoo 14's own modules are not logged, so the terminal shows the URL and
    the [TASK n] lines.  Warnings of the addon and of anything else still
    show.  Odoo's logger set-up turns deprecation warnings on, so the
    filter goes in after it."""
    original_init_logger = netsvc.init_logger

    def init_logger():
        original_init_logger()
        if os.environ.get(QUIET_WARNINGS_VARIABLE) == "1":
            # Raised at run time by Odoo's modules (the addon is not one of them)...
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning, module=r"odoo(\.(?!addons\.scada_plc_bridge)|$)"
            )
            # ...when Python compiles Odoo's files (attributed to the file's path), and by
            # Odoo's import hooks, which still use the old loader API.
            odoo_dir = os.path.dirname(os.path.abspath(netsvc.__file__))
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning, module=re.escape(odoo_dir + os.sep)
            )
            warnings.filterwarnings("ignore", r"the load_module\(\) method is deprecated", DeprecationWarning)

    netsvc.init_logger = init_logger


PATCHES = {SAFE_EVAL_MODULE: patch_safe_eval, QWEB_MODULE: patch_qweb, NETSVC_MODULE: patch_netsvc}


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the real loader of a patched module so the
    patch runs right after the module's code."""

    def find_spec(self, fullname, path, target=None):
        patch = PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        original_exec_module = spec.loader.exec_module

        def exec_module(module):
            original_exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


def install():
    """Apply the fixes to Odoo modules already imported and to those imported later."""
    if os.environ.get("ODOO_PY311_COMPAT") == "0" or sys.version_info < (3, 11):
        return
    if any(isinstance(finder, _PatchAfterImport) for finder in sys.meta_path):
        return
    for name, patch in PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    sys.meta_path.insert(0, _PatchAfterImport())
