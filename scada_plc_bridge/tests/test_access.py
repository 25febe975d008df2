from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestAccess(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "scada_user", groups="scada_plc_bridge.group_scada_user")
        cls.manager = new_test_user(cls.env, "scada_manager", groups="scada_plc_bridge.group_scada_manager")
        cls.portal = new_test_user(cls.env, "scada_portal", groups="base.group_portal")
        cls.production = cls.confirmed_mo(100)
        cls.env["scada.task.sync"]._sync_mo(cls.plc)
        cls.batch = cls.env["mo.batch"].search([("plc_id", "=", cls.plc.id)])
        other = cls.confirmed_mo(200)
        cls.history_batch = cls.env["mo.batch"].create(
            cls.env["scada.task.sync"]._values_from_production(other, cls.plc, 2)
        )
        cls.history = cls.env["scada.task.finish"]._archive(
            cls.history_batch, "cancelled", "for the access test"
        )

    def test_user_sees_batches_and_history(self):
        self.assertEqual(
            self.batch.with_user(self.user).read(["mo_reference"])[0]["mo_reference"], self.production.name
        )
        self.assertTrue(self.history.with_user(self.user).read(["notes"]))

    def test_user_cannot_edit_a_plc(self):
        with self.assertRaises(AccessError):
            self.plc.with_user(self.user).write({"host": "127.0.0.2"})
        self.assertEqual(self.plc.host, "127.0.0.1")

    def test_user_cannot_edit_or_delete_history(self):
        with self.assertRaises(AccessError):
            self.history.with_user(self.user).write({"notes": "changed"})
        with self.assertRaises(AccessError):
            self.history.with_user(self.user).unlink()

    def test_user_may_cancel_a_batch(self):
        wizard = (
            self.env["mo.batch.cancel"]
            .with_user(self.user)
            .with_context(active_ids=self.batch.ids)
            .create({"reason": "silo blocked"})
        )
        wizard.action_cancel()
        self.cycle()  # the poller clears the PLC's slot, then cancels and archives
        history = self.env["mo.history"].search([("production_id", "=", self.production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertIn("silo blocked", history.notes)
        self.assertEqual(self.production.state, "cancel")

    def test_manager_configures_plcs_and_the_memory_map(self):
        self.plc.with_user(self.manager).write({"poll_interval": 3})
        self.plc.memory_map_ids[:1].with_user(self.manager).write({"label": "BATCH word"})
        self.assertEqual(self.plc.poll_interval, 3)

    def test_nobody_edits_history_not_even_a_manager(self):
        with self.assertRaises(AccessError):
            self.history.with_user(self.manager).write({"notes": "changed"})

    def test_portal_users_see_nothing(self):
        for model in ("mo.batch", "mo.history", "scada.plc", "scada.silo", "scada.memory.map"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.portal).search([])

    def test_other_company_does_not_see_this_queue(self):
        company = self.env["res.company"].create({"name": "Other plant"})
        outsider = new_test_user(
            self.env,
            "scada_outsider",
            groups="scada_plc_bridge.group_scada_user",
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )
        self.assertFalse(self.env["mo.batch"].with_user(outsider).search([]))
        self.assertFalse(self.env["scada.plc"].with_user(outsider).search([("id", "=", self.plc.id)]))
