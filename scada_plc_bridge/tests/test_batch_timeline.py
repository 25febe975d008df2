"""Issue 20: a batch's timeline (queued, written, taken, first dosing,
finished on the PLC, done in Odoo; wait and cycle minutes), driven through
the real cycle against the simulator."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..rules import GRADE, exact_kg
from ..services.batch_operations import RESET_VALUES
from .common import ScadaCase

TIMELINE = (
    "date_queued",
    "date_plc_write",
    "date_plc_taken",
    "date_first_dosing",
    "date_plc_finished",
)


@tagged("post_install", "-at_install")
class TestBatchTimeline(ScadaCase):
    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)
        self.batch = self.queue()  # queued and written to the PLC: the first two dates

    def history(self):
        """The batch's record in the archive (once Task 3 or a cancel moved it)."""
        return self.env["mo.history"].search([("production_id", "=", self.production.id)])

    def dates(self, record):
        return {name: record[name] for name in TIMELINE}

    def backdate(self, **minutes_ago):
        """Move timeline dates into the past (as the runtime, superuser): a
        date set again by a later poll would show as 'now'."""
        now = fields.Datetime.now()
        self.batch.write({name: now - timedelta(minutes=ago) for name, ago in minutes_ago.items()})
        return now

    def test_each_date_is_set_once_at_its_event_and_in_order(self):
        batch = self.batch
        self.assertTrue(batch.date_queued and batch.date_plc_write)
        self.assertFalse(batch.date_plc_taken or batch.date_first_dosing or batch.date_plc_finished)
        self.cycle()  # nothing reported: nothing taken yet
        self.assertFalse(batch.date_plc_taken or batch.date_first_dosing)
        # The line takes the recipe and doses: the first READ slot showing the batch.
        self.simulator.write_slot_values("write", batch.slot, {"status_read_data": True})
        self.report(batch, actual_consumption_silo_d=100.0)
        self.cycle()
        self.assertEqual(batch.state, "running")
        self.assertTrue(batch.date_first_dosing)
        self.assertEqual(batch.date_plc_taken, batch.date_first_dosing)
        self.assertFalse(batch.date_plc_finished)
        # Backdated: later polls (new figures, a heartbeat later) leave them as they are.
        self.backdate(date_queued=40, date_plc_write=39, date_plc_taken=30, date_first_dosing=29)
        before = self.dates(batch)
        self.report(batch, actual_consumption_silo_d=300.0)
        self.cycle()
        batch.sudo().write({"last_read_from_plc": fields.Datetime.now() - timedelta(minutes=5)})
        self.report(batch, actual_consumption_silo_d=500.0)
        self.cycle()
        self.assertAlmostEqual(batch.actual_consumption_silo_d, 500.0, 2)
        self.assertEqual(self.dates(batch), before)
        self.assertAlmostEqual(batch.wait_minutes, 10.0, 1)
        self.assertFalse(batch.cycle_minutes, "not finished yet")
        # Finished on the PLC (confirmed by the second read), done in Odoo.
        self.finish_on_plc(batch)
        self.cycle()
        self.assertTrue(batch.exists() and not batch.date_plc_finished, "first 'finished' read not trusted")
        self.cycle()
        self.assertFalse(batch.exists())
        history = self.history()
        self.assertEqual(history.status, "completed")
        for name, value in before.items():
            if name != "date_plc_finished":
                self.assertEqual(history[name], value, name)
        self.assertTrue(history.date_plc_finished and history.date_done)
        order = [history[name] for name in TIMELINE + ("date_done",)]
        self.assertEqual(order, sorted(order), list(zip(TIMELINE + ("date_done",), order)))
        self.assertLessEqual(history.date_done, history.date_archived)
        self.assertAlmostEqual(history.wait_minutes, 10.0, 1)
        expected = (history.date_plc_finished - history.date_plc_taken).total_seconds() / 60.0
        self.assertAlmostEqual(history.cycle_minutes, expected, 1)
        self.assertGreaterEqual(history.cycle_minutes, 30.0)

    def test_cycle_falls_back_to_first_dosing_when_taken_is_unknown(self):
        self.report(self.batch, actual_consumption_silo_d=100.0)
        self.cycle()
        now = fields.Datetime.now()
        self.batch.write(
            {
                "date_plc_taken": False,
                "date_first_dosing": now - timedelta(minutes=12),
                "date_plc_finished": now,
            }
        )
        self.assertAlmostEqual(self.batch.cycle_minutes, 12.0, 1)
        self.assertFalse(self.batch.wait_minutes)
        self.batch.write(
            {"date_plc_taken": now - timedelta(minutes=20), "date_queued": now - timedelta(minutes=25)}
        )
        self.assertAlmostEqual(self.batch.cycle_minutes, 20.0, 1)
        self.assertAlmostEqual(self.batch.wait_minutes, 5.0, 1)

    def test_a_cancel_the_plc_took_dates_the_taking_from_the_handshake(self):
        self.simulator.write_slot_values("write", self.batch.slot, {"status_read_data": True})
        self.batch.action_cancel("changed")
        self.cycle()
        self.assertTrue(self.batch.cancel_waits_for_plc)
        self.assertTrue(self.batch.date_plc_taken, "the handshake said 'taken'")
        self.assertFalse(self.batch.date_first_dosing)
        taken = self.backdate(date_plc_taken=15) - timedelta(minutes=15)
        self.report(self.batch, actual_consumption_silo_d=50.0)
        self.cycle()
        self.assertTrue(self.batch.date_first_dosing)
        self.assertEqual(self.batch.date_plc_taken, taken, "the handshake's date is kept")

    def test_a_failed_batch_keeps_its_timeline_in_the_history(self):
        self.report(self.batch, actual_consumption_silo_d=80.0, status_operation=True)
        self.cycle()
        history = self.history()
        self.assertEqual(history.status, "cancelled")
        self.assertTrue(history.date_first_dosing and history.date_plc_finished and history.date_done)
        self.assertTrue(history.date_queued <= history.date_plc_taken <= history.date_plc_finished)

    def test_a_reset_starts_the_timeline_again(self):
        self.report(self.batch, actual_consumption_silo_d=80.0)
        self.cycle()
        self.assertTrue(self.batch.date_first_dosing)
        queued = self.batch.date_queued
        self.batch.write(dict(RESET_VALUES))
        self.assertFalse(self.batch.date_plc_taken or self.batch.date_first_dosing)
        self.assertEqual(self.batch.date_queued, queued)


@tagged("post_install", "-at_install")
class TestBatchAccuracy(ScadaCase):
    """Yield and material accuracy (rules.GRADE), stored on the history at archive time."""

    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)  # plans 600 silo D, 350 silo B, 40 LQ114
        self.batch = self.queue()

    def figures(self, weight=1000.0, **actuals):
        """What Task 3 stores on the history for these actuals (kg per silo tag)."""
        values = dict({"silo_d": 600.0, "silo_b": 350.0, "lq114": 40.0}, **actuals)
        self.batch.write(
            dict(
                {"actual_consumption_" + tag: kg for tag, kg in values.items()},
                actual_weight_quantity_finished_goods=weight,
            )
        )
        return self.env["scada.batch.accuracy"]._values(self.batch)

    def sql_grade(self, planned, actual, warning=2, critical=5):
        planned, actual = exact_kg(planned), exact_kg(actual)
        # planned and actual appear more than once in the expression: spelled out, not placeholders.
        sql = GRADE.sql_grade("(%s)::numeric" % planned, "(%s)::numeric" % actual, "%s", "%s")
        self.env.cr.execute("SELECT " + sql, [GRADE.warning.limit(warning), GRADE.critical.limit(critical)])
        return self.env.cr.fetchone()[0]

    def test_grades_at_the_boundaries_python_and_sql_agree(self):
        cases = [
            (350.0, 350.0, "normal"),
            (350.0, 357.0, "normal"),  # exactly 2 %: normal
            (350.0, 357.01, "warning"),  # just above
            (350.0, 343.0, "normal"),  # -2 %
            (350.0, 342.99, "warning"),
            (350.0, 367.5, "warning"),  # exactly 5 %: warning
            (350.0, 367.51, "critical"),  # just above
            (0.0, 0.01, "critical"),  # not planned
            (0.0, 0.0, "normal"),
            (350.0, 0.0, "critical"),  # nothing dosed
        ]
        for planned, actual, grade in cases:
            self.assertEqual(GRADE.grade(planned, actual, 2, 5), grade, (planned, actual))
            self.assertEqual(self.sql_grade(planned, actual), grade, (planned, actual, "SQL"))

    def test_a_silo_at_the_limits_grades_the_batch(self):
        for copra, grade in (
            (357.0, "normal"),
            (357.01, "warning"),
            (367.5, "warning"),
            (367.51, "critical"),
        ):
            values = self.figures(silo_b=copra)
            self.assertEqual(values["accuracy_grade_silo_b"], grade, copra)
            self.assertEqual(values["accuracy_grade_silo_d"], "normal")
            self.assertFalse(values["accuracy_grade_silo_a"], "a silo neither planned nor used has no grade")
            self.assertEqual(values["accuracy_grade"], grade, copra)
            self.assertAlmostEqual(values["deviation_percent"], (copra - 350.0) * 100.0 / 990.0, 6)
            self.assertAlmostEqual(values["yield_percent"], 1000.0 * 100.0 / (640.0 + copra), 6)

    def test_a_silo_not_planned_is_critical(self):
        values = self.figures(silo_a=1.0)
        self.assertEqual(values["accuracy_grade_silo_a"], "critical")
        self.assertEqual(values["accuracy_grade"], "critical")

    def test_nothing_consumed_yields_zero_and_is_critical(self):
        values = self.figures(weight=0.0, silo_d=0.0, silo_b=0.0, lq114=0.0)
        self.assertEqual(values["yield_percent"], 0.0)
        self.assertAlmostEqual(values["deviation_percent"], -100.0, 6)
        self.assertEqual(values["accuracy_grade"], "critical")

    def test_settings_and_a_silos_own_limits(self):
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.accuracy_warning_percent", "1")
        self.assertEqual(self.figures(silo_d=606.01)["accuracy_grade_silo_d"], "warning")
        self.assertEqual(self.figures(silo_d=606.0)["accuracy_grade_silo_d"], "normal")
        self.silo["silo_d"].write({"accuracy_warning_percent": 3.0, "accuracy_critical_percent": 4.0})
        self.assertEqual(self.figures(silo_d=618.0)["accuracy_grade_silo_d"], "normal")
        self.assertEqual(self.figures(silo_d=624.0)["accuracy_grade_silo_d"], "warning")
        self.assertEqual(self.figures(silo_d=624.01)["accuracy_grade_silo_d"], "critical")

    def test_the_history_stores_them_when_the_batch_is_done(self):
        self.finish_on_plc(self.batch, corn=612.0, copra=350.0, molasses=40.0, weight=1000.0)
        self.cycle()
        self.cycle()
        history = self.env["mo.history"].search([("production_id", "=", self.production.id)])
        self.assertEqual(history.status, "completed")
        self.assertAlmostEqual(history.yield_percent, 1000.0 * 100.0 / 1002.0, 2)
        self.assertAlmostEqual(history.deviation_percent, 12.0 * 100.0 / 990.0, 2)
        self.assertEqual((history.accuracy_grade_silo_d, history.accuracy_grade), ("normal", "normal"))
        self.assertEqual(
            self.env["mo.history"].search_count(
                [("id", "=", history.id), ("accuracy_grade", "in", ("warning", "critical"))]
            ),
            0,
        )

    def test_a_cancelled_batch_has_no_figures(self):
        self.batch.action_cancel("not needed")
        self.cycle()
        history = self.env["mo.history"].search([("production_id", "=", self.production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertFalse(history.accuracy_grade or history.yield_percent)
