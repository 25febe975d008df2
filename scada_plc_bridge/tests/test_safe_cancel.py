"""Operators' actions that are safe to press: a cancel never lets the PLC
start a recipe Odoo dropped, a batch on the line is never lost, a button
pressed again writes nothing twice."""

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestSafeCancel(ScadaCase):
    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)
        self.batch = self.queue()
        self.assertEqual(self.batch.state, "sent")

    def history(self):
        return self.env["mo.history"].search([("production_id", "=", self.production.id)])

    def test_cancel_of_a_recipe_the_plc_has_not_taken_clears_its_slot(self):
        self.assertEqual(self.simulator.read_slot_values("write", 1)["mo_id"], self.batch.plc_ref)
        self.batch.action_cancel("wrong recipe")
        self.assertTrue(self.batch.exists(), "nothing happens before the poller cleared the slot")
        self.assertEqual(self.simulator.read_slot_values("write", 1)["mo_id"], self.batch.plc_ref)
        self.cycle()
        self.assertFalse(self.simulator.read_slot_values("write", 1)["mo_id"])  # the PLC never starts it
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "cancel")
        self.assertEqual(self.history().status, "cancelled")
        self.assertIn("wrong recipe", self.history().notes)

    def test_a_running_batch_is_recorded_when_the_plc_reports(self):
        # The line took the recipe and doses.
        self.simulator.write_slot_values("write", 1, {"status_read_data": True})
        self.report(self.batch, actual_consumption_silo_d=300.0)
        self.cycle()
        self.assertEqual(self.batch.state, "running")
        self.batch.action_cancel("customer changed the order")
        self.cycle()
        self.assertTrue(self.batch.cancel_waits_for_plc)
        self.assertEqual(self.production.state, "confirmed")
        # The PLC runs it to the end: what it dosed reaches stock.
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.consumed(self.production)[self.corn], 601.5, 2)
        self.assertEqual(self.history().status, "completed")
        self.assertIn("customer changed the order", self.history().notes)
        self.assertTrue(self.simulator.read_slot_values("read", 1)["status_read_data"])

    def test_material_dosed_before_a_plc_failure_is_scrapped(self):
        self.simulator.write_slot_values("write", 1, {"status_read_data": True})
        self.report(
            self.batch, actual_consumption_silo_d=250.0, actual_consumption_lq114=12.5, status_operation=True
        )
        self.cycle()
        self.assertEqual(self.production.state, "cancel")
        scraps = self.env["stock.scrap"].search([("origin", "=", self.production.name)])
        self.assertEqual(
            sorted((scrap.product_id.id, scrap.scrap_qty, scrap.state) for scrap in scraps),
            sorted([(self.corn.id, 250.0, "done"), (self.molasses.id, 12.5, "done")]),
        )
        self.assertIn("scrapped", self.history().notes)

    def test_mrp_refuses_to_cancel_an_mo_whose_batch_is_on_the_line(self):
        with self.assertRaisesRegex(UserError, "Cancel the batch"):
            self.production.action_cancel()
        self.assertEqual(self.production.state, "confirmed")

    def test_send_pressed_again_writes_the_recipe_once(self):
        # The write's reply was lost: Odoo does not know the recipe is in the PLC.
        self.batch.sudo().write({"plc_write_state": "failed"})
        for _press in range(3):
            self.batch.action_send_to_plc()
        served = self.simulator.requests_served
        self.cycle()
        # One read of all READ slots, the handshake's two checking reads, no write, and
        # the mailboxes' flags (one 0104 read).
        self.assertEqual(self.simulator.requests_served - served, 4)
        self.assertEqual(self.batch.plc_write_state, "written")
        requests = self.env["scada.plc.request"].search([("plc_id", "=", self.plc.id), ("kind", "=", "send")])
        self.assertEqual(set(requests.mapped("state")), {"done"}, requests.mapped("result"))

    def test_operations_work_for_a_user_without_an_email_address(self):
        user = new_test_user(self.env, "no_mail_operator", groups="scada_plc_bridge.group_scada_user")
        user.partner_id.email = False
        self.batch.with_user(user).action_send_to_plc()
        self.batch.with_user(user).action_cancel("no e-mail needed")
        self.cycle()
        self.assertEqual(self.history().status, "cancelled")
        self.assertIn("no e-mail needed", self.history().notes)
