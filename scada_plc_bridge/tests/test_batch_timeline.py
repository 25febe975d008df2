"""Issue 20: a batch's timeline (queued, written, taken, first dosing,
finished on the PLC, done in Odoo; wait and cycle minutes), driven through
the real cycle against the simulator."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

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
