"""The bench itself: the addon installs on Odoo 14 with mrp, the Python
3.11 fixes (bench/odoo_py311_compat.py) are in force and needed, and the
idle benchmark runs."""

import os
import subprocess
import sys
import textwrap
from unittest import TestCase

from odoo.tests.common import TransactionCase
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval

# An expression a server action or a domain would use: arithmetic, a call
# with keywords, a comprehension with a condition, an f-string.
EXPRESSION = "sum(x * 2 for x in values if x) + round(1.26, ndigits=1) and f'{len(values)} items'"
# The loop must not be on the first line: QWeb numbers its generated
# function after the element's source line, which is what 3.11 checks.
TEMPLATE = '<t t-name="probe">\n<t t-foreach="values" t-as="v"><b t-esc="v"/></t></t>'


def run_without_fixes(code):
    """Run `code` in a fresh interpreter of the venv with the fixes disabled."""
    env = dict(os.environ, ODOO_PY311_COMPAT="0")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestBench(TransactionCase):
    def test_addon_installed_with_mrp(self):
        modules = self.env["ir.module.module"].search([("name", "in", ("mrp", "scada_plc_bridge"))])
        self.assertEqual(
            {m.name: m.state for m in modules},
            {"mrp": "installed", "scada_plc_bridge": "installed"},
        )

    def test_safe_eval_accepts_python311_bytecode(self):
        self.assertEqual(safe_eval(EXPRESSION, {"values": [1, 0, 3]}), "3 items")

    def test_safe_eval_still_refuses_what_it_refused(self):
        for forbidden in (
            "().__class__",  # dunder access
            "(lambda x: (lambda: x))(1)()",  # closures stay forbidden
            "__import__('os')",
        ):
            with self.assertRaises((ValueError, NameError), msg=forbidden):
                safe_eval(forbidden, {})
        with self.assertRaises(ValueError):
            safe_eval("import os", {}, mode="exec")

    def test_qweb_compiles_python311(self):
        html = self.env["ir.qweb"]._render(self._template_view().id, {"values": ["a", "b"]})
        self.assertEqual(html.decode().strip(), "<b>a</b><b>b</b>")

    def _template_view(self):
        return self.env["ir.ui.view"].create({"name": "probe", "type": "qweb", "arch": TEMPLATE})


class TestFixesAreNeeded(TransactionCase):
    """Without the fixes the same calls fail on Python 3.11: proof that each
    fix does something, so a future Odoo or Python that no longer needs one
    shows up here."""

    def test_safe_eval_fails_without_fix(self):
        if sys.version_info < (3, 11):
            self.skipTest("the fixes only apply on Python 3.11+")
        result = run_without_fixes(
            f"""
            from odoo.tools.safe_eval import safe_eval
            safe_eval({EXPRESSION!r}, {{"values": [1]}})
            """
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("forbidden opcode", result.stderr)

    def test_qweb_fails_without_fix(self):
        if sys.version_info < (3, 11):
            self.skipTest("the fixes only apply on Python 3.11+")
        result = run_without_fixes(
            f"""
            import odoo
            import odoo.tools.safe_eval
            import odoo_py311_compat
            # Only the safe_eval fix: QWeb's expressions go through it.
            odoo_py311_compat.patch_safe_eval(odoo.tools.safe_eval)
            odoo.tools.config.parse_config(
                ["-c", {config.rcfile!r}, "-d", {self.cr.dbname!r}, "--log-level=critical"]
            )
            with odoo.api.Environment.manage():
                registry = odoo.registry({self.cr.dbname!r})
                with registry.cursor() as cr:
                    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {{}})
                    view = env["ir.ui.view"].create(
                        {{"name": "probe", "type": "qweb", "arch": {TEMPLATE!r}}}
                    )
                    try:
                        env["ir.qweb"]._render(view.id, {{"values": [1]}})
                    finally:
                        cr.rollback()
            """
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("line range", result.stderr)


def run_benchmark(case, script, *options):
    """Run benchmarks/<script> briefly; its printed output (it must succeed)."""
    result = subprocess.run(
        [sys.executable, os.path.join("benchmarks", script), *options],
        cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
        capture_output=True,
        text=True,
        timeout=300,
    )
    case.assertEqual(result.returncode, 0, result.stderr[-3000:])
    return result.stdout


class TestIdleBenchmarkRuns(TestCase):
    """benchmarks/bench_idle.py, briefly (about 40 s): it sets up, measures
    and prints its table, goals and idle-poll inventory.  No figure is
    asserted: a loaded machine makes them what it makes them."""

    def test_bench_idle_smoke_run(self):
        output = run_benchmark(
            self, "bench_idle.py", "--seconds", "2", "--warm-up", "1", "--trace-seconds", "2"
        )
        for line in ("commits_per_s", "fins_round_trips_per_poll", "goals:", "one idle poll"):
            self.assertIn(line, output)


class TestReportsBenchmarkRuns(TestCase):
    """benchmarks/bench_reports.py at 2 000 batches (about 10 s): it fills its
    database, times each report query and prints its table and goal.  No
    figure is asserted."""

    def test_bench_reports_smoke_run(self):
        output = run_benchmark(self, "bench_reports.py", "--rows", "2000", "--failures", "200", "--runs", "1")
        for line in ("consumption pivot, year by material", "day report data", "goal: each < 1 s"):
            self.assertIn(line, output)
