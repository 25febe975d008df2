from odoo.tests import tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestAutoCancel(ScadaCase):
    def test_plc_failure_cancels_the_mo_and_archives_the_batch(self):
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=250.0, status_operation=True)
        self.cycle()
        self.assertFalse(batch.exists())
        self.assertEqual(production.state, "cancel")
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertTrue(
            history.notes.startswith("Auto-cancelled: the PLC reported the batch as failed"),
            history.notes,
        )
        self.assertIn("Dosed material scrapped: JAGUNG GILING 250.00 kg", history.notes)
        self.assertEqual(history.actual_consumption_silo_d, 250.0)
        self.assertTrue(history.status_operation)

    def test_refused_cancel_leaves_the_batch_for_an_operator(self):
        production = self.confirmed_mo(1000)
        batch = self.queue()
        # The MO is done meanwhile (by hand is refused now; the bridge's own
        # route stands for any way an MO ends up done): Odoo cannot cancel it.
        production.qty_producing = 1000
        production._set_qty_producing()
        production.with_context(
            skip_immediate=True, skip_backorder=True, skip_consumption=True, scada_batch_finish=True
        ).button_mark_done()
        self.report(batch, status_operation=True)
        self.cycle()
        self.assertTrue(batch.exists())
        self.assertEqual(batch.state, "plc_failure")
        self.assertIn("already done", batch.last_error)
        self.assertFalse(self.env["mo.history"].search([("production_id", "=", production.id)]))
