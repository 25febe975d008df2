from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestProcessCompleted(ScadaCase):
    def finished_batch(self, production, **actuals):
        """The PLC finishes the batch; the cycle tries Task 3 at once."""
        batch = self.env["mo.batch"].search([("production_id", "=", production.id)])
        self.finish_on_plc(batch, **actuals)
        self.cycle()
        self.cycle()
        return batch

    def test_odoo_refusing_keeps_the_batch_and_retry_succeeds(self):
        # A lot-tracked component cannot be consumed without a lot: Odoo refuses.
        self.copra.tracking = "lot"
        refused = self.confirmed_mo(1000)
        corn_only = self.bom.copy()
        corn_only.bom_line_ids.filtered(lambda line: line.product_id != self.corn).unlink()
        corn_only.bom_line_ids.product_qty = 1000
        accepted = self.confirmed_mo(500, bom=corn_only)
        self.queue()
        refused_batch = self.finished_batch(refused)
        accepted_batch = self.finished_batch(accepted, corn=500.5, copra=0.0, molasses=0.0, weight=500.5)
        self.assertFalse(accepted_batch.exists())  # the other batch went on
        self.assertEqual(accepted.state, "done")
        self.assertEqual(refused.state, "confirmed")
        self.assertEqual(refused_batch.state, "push_failed")
        self.assertIn("Odoo refused", refused_batch.last_error)
        self.assertEqual(refused_batch.retry_count, 1)
        self.assertEqual(self.finish_all(), (0, 1))  # Task 3's cron tries again, refused again
        self.assertEqual(refused_batch.retry_count, 2)
        self.assertFalse(self.env["mo.history"].search([("production_id", "=", refused.id)]))
        self.assertIn("Lot/Serial", refused_batch.last_error)
        # The cause is fixed; the operator retries.
        self.copra.tracking = "none"
        refused_batch.action_retry_push()
        self.assertFalse(refused_batch.exists())
        self.assertEqual(refused.state, "done")
        self.assertEqual(len(self.env["mo.history"].search([("production_id", "=", refused.id)])), 1)

    def test_too_many_failures_park_the_batch(self):
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.max_push_retries", 2)
        production = self.confirmed_mo(1000)
        self.queue()
        self.copra.tracking = "lot"
        batch = self.finished_batch(production)  # refused once
        self.finish_all()  # and twice: parked
        self.assertEqual(batch.push_state, "parked")
        self.assertEqual(self.finish_all(), (0, 0))  # left for an operator

    def test_retry_push_refuses_a_running_batch(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        with self.assertRaises(UserError):
            batch.action_retry_push()

    def test_over_consumption_is_recorded_per_product(self):
        # Within the plausibility limits: 8 % over on corn, 5.5 kg under on copra.
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.finish_on_plc(batch, corn=650.0, copra=344.5, molasses=41.5, weight=1036.0)
        self.cycle()
        self.cycle()
        self.assertEqual(production.state, "done")
        consumed = self.consumed(production)
        self.assertAlmostEqual(consumed[self.corn], 650.0, 2)
        self.assertAlmostEqual(consumed[self.copra], 344.5, 2)
        self.assertAlmostEqual(consumed[self.molasses], 41.5, 2)
        self.assertFalse(
            self.env["mrp.production"].search(
                [("backorder_sequence", ">", 0), ("name", "like", production.name)]
            )
            - production
        )
