"""The PLC trust boundary: only plausible figures of the right batch reach
stock; anything else is held, with the reason, for a manager."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestTrustBoundary(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "trust_user", groups="scada_plc_bridge.group_scada_user")
        cls.manager = new_test_user(cls.env, "trust_manager", groups="scada_plc_bridge.group_scada_manager")

    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)
        self.batch = self.queue()

    def assert_held(self, *reason_parts):
        self.cycle()
        self.cycle()
        self.assertEqual(self.batch.state, "needs_review")
        for part in reason_parts:
            self.assertIn(part, self.batch.review_reasons)
        self.assertEqual(self.production.state, "confirmed")
        self.assertFalse(self.production.move_raw_ids.filtered(lambda m: m.state == "done"))
        self.assertFalse(self.env["mo.history"].search([("production_id", "=", self.production.id)]))
        # The result is recorded in Odoo, so the PLC's slot is acknowledged all the same.
        self.assertTrue(self.simulator.read_slot_values("read", self.batch.slot)["status_read_data"])

    def test_absurd_silo_consumption_is_held(self):
        self.finish_on_plc(self.batch, copra=70000.0, weight=70641.7)
        self.assert_held("SILO B", "70000.00 kg")

    def test_no_consumption_with_a_finished_weight_is_held(self):
        self.finish_on_plc(self.batch, corn=0.0, copra=0.0, molasses=0.0, weight=1500.0)
        self.assert_held("no consumption")

    def test_finished_weight_far_from_what_was_consumed_is_held(self):
        self.finish_on_plc(self.batch, weight=99999.0)
        self.assert_held("99999.00 kg against 989.70 kg consumed", "against 1000.00 kg planned")

    def test_consumption_on_a_silo_the_recipe_does_not_use_is_held(self):
        self.report(self.batch, actual_consumption_silo_a=250.0)
        self.finish_on_plc(self.batch, weight=1239.7)
        self.assert_held("SILO A", "uses no")

    def test_a_silo_limit_of_its_own_is_used(self):
        self.silo["silo_d"].write({"max_deviation_percent": 1, "max_deviation_kg": 1})
        self.finish_on_plc(self.batch, corn=612.0, weight=1000.2)  # 2 % over: fine by the settings
        self.assert_held("SILO D")

    def test_a_manager_accepts_held_figures_with_a_note(self):
        self.finish_on_plc(self.batch, corn=800.0, weight=1188.2)
        self.assert_held("SILO D")
        with self.assertRaises(AccessError):
            self.batch.with_user(self.user).action_accept_review()
        self.batch.with_user(self.manager).action_accept_review()
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.consumed(self.production)[self.corn], 800.0, 2)
        history = self.env["mo.history"].search([("production_id", "=", self.production.id)])
        self.assertIn("accepted by trust_manager", history.notes.lower())

    def test_the_result_of_another_slot_and_batch_is_not_taken(self):
        # The MO of this batch (slot 1) reported in READ slot 2 with batch number 999.
        self.simulator.write_slot_values(
            "read",
            2,
            {
                "batch_no": 999,
                "mo_id": self.batch.plc_ref,
                "actual_consumption_silo_d": 600.0,
                "actual_weight_quantity_finished_goods": 990.0,
                "status_manufacturing": True,
                **{
                    "silo_id_" + tag.replace("silo_", ""): silo.plc_silo_id for tag, silo in self.silo.items()
                },
            },
        )
        self.cycle()
        self.cycle()
        self.assertEqual(self.batch.state, "sent")
        self.assertEqual(self.production.state, "confirmed")
        self.assertIn("Slot 2: batch 999", self.plc.slot_problems)
        # Reported, not acknowledged: the slot waits for an operator...
        self.assertFalse(self.simulator.read_slot_values("read", 2)["status_read_data"])
        alarm = self.env["scada.alarm"].search([("plc_id", "=", self.plc.id), ("kind", "=", "slot_problem")])
        self.assertEqual(alarm.count, 1, "reported once")
        # ...who clears it from the PLC form once the line is checked.
        wizard = (
            self.env["scada.plc.clear.slot"]
            .with_user(self.manager)
            .create({"plc_id": self.plc.id, "slot": 2})
        )
        action = wizard.action_clear()
        self.assertEqual(
            action["params"]["next"], {"type": "ir.actions.act_window_close"}, "the dialog closes"
        )
        self.cycle()
        self.assertTrue(self.simulator.read_slot_values("read", 2)["status_read_data"])
        self.cycle()
        self.assertFalse(self.plc.slot_problems)
        self.assertEqual(alarm.state, "cleared", "the slot is readable again: the alarm leaves the board")
        self.assertEqual(self.production.state, "confirmed")

    def test_plausible_figures_finish_without_review(self):
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")

    def test_the_plc_address_is_told_by_no_route(self):
        mrp_user = new_test_user(self.env, "trust_mrp", groups="mrp.group_mrp_user")
        exporters = self.user | mrp_user | self.manager  # exports are refused for the address only
        self.env.ref("base.group_allow_export").write({"users": [(4, user.id) for user in exporters]})
        port = self.simulator.port
        routes = (
            ("search", lambda env: env["scada.plc"].search([("host", "=", "127.0.0.1")])),
            ("search_count", lambda env: env["scada.plc"].search_count([("port", "=", port)])),
            ("order", lambda env: env["scada.plc"].search([], order="port desc")),
            ("name_search", lambda env: env["scada.plc"].name_search("", [("protocol", "=", "udp")])),
            ("group by", lambda env: env["scada.plc"].read_group([], ["name"], ["host"])),
            ("aggregate", lambda env: env["scada.plc"].read_group([], ["port:max"], ["state"])),
            (
                "group domain",
                lambda env: env["scada.plc"].read_group([("plc_node", "=", 0)], ["state"], ["state"]),
            ),
            ("export", lambda env: self.plc.with_env(env).export_data(["code", "client_node"])),
            ("path", lambda env: env["mo.batch"].search([("plc_id.host", "!=", False)])),
            ("export path", lambda env: self.batch.with_env(env).export_data(["plc_id/host"])),
        )
        for user in (self.user, mrp_user):
            env = self.env(user=user)
            for name, call in routes:
                with self.subTest(user=user.login, route=name), self.assertRaises(AccessError):
                    call(env)
            self.assertIn(self.plc, env["scada.plc"].search([("code", "=", self.plc.code)], order="code"))
            groups = env["scada.plc"].read_group([("id", "=", self.plc.id)], [], ["state"])
            self.assertFalse({"host", "port", "plc_node", "client_node"} & set(groups[0]))
        env = self.env(user=self.manager)
        for name, call in routes:
            with self.subTest(user=self.manager.login, route=name):
                call(env)
        self.assertEqual(env["scada.plc"].search([("port", "=", port)]), self.plc)
        self.assertEqual(self.plc.with_env(env).export_data(["host"])["datas"], [["127.0.0.1"]])

    def test_history_chatter_is_erased_by_nobody(self):
        history = self.env["scada.task.finish"]._archive(self.batch, "cancelled", "for the chatter test")
        for user in (self.user, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                history.with_user(user).write({"message_ids": [(5, 0, 0)]})
