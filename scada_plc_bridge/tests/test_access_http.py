"""Access as a logged-in browser session would use it: JSON-RPC calls of
`/web/dataset/call_kw` over real HTTP, for each group.  Every refusal must
come back as an AccessError (a message for the user), never as a
traceback; and nothing refused may change a batch, an MO or stock."""

import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestAccessOverHttp(HttpCase):
    def setUp(self):
        super().setUp()
        fixtures = type("AccessFixtures", (ScadaCase,), {})
        fixtures.env = self.env
        self.plc = self.env["scada.plc"].create({"name": "Access line", "code": "ACC01", "port": 9})
        fixtures.plc, fixtures.silo = self.plc, {silo.tag: silo for silo in self.plc.silo_ids}
        kg = self.env.ref("uom.product_uom_kgm")
        product = self.env["product.product"].create(
            {"name": "ACCESS FEED", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        corn = self.env["product.product"].create(
            {"name": "ACCESS CORN", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "scada_plc_id": self.plc.id,
                "bom_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": corn.id,
                            "product_qty": 1000,
                            "scada_silo_id": fixtures.silo["silo_a"].id,
                        },
                    )
                ],
            }
        )
        self.production = fixtures.confirmed_mo(1000, bom=bom)
        self.env["scada.task.sync"]._sync_mo(self.plc)
        self.batch = self.env["mo.batch"].search([("production_id", "=", self.production.id)])
        new_test_user(self.env, "http_user", groups="scada_plc_bridge.group_scada_user", password="http_user")
        new_test_user(
            self.env, "http_manager", groups="scada_plc_bridge.group_scada_manager", password="http_manager"
        )
        new_test_user(self.env, "http_mrp", groups="mrp.group_mrp_user", password="http_mrp")
        new_test_user(self.env, "http_portal", groups="base.group_portal", password="http_portal")

    def call(self, login, model, method, *args, **kwargs):
        self.authenticate(login, login)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, "a refusal is an answer, not an error page")
        return response.json()

    def assert_refused(self, login, model, method, *args, **kwargs):
        answer = self.call(login, model, method, *args, **kwargs)
        self.assertIn("error", answer, "%s.%s by %s was allowed" % (model, method, login))
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError", answer["error"])
        return answer["error"]["data"]["message"]

    def test_a_user_cannot_forge_a_finished_batch(self):
        forged = {
            "actual_consumption_silo_a": 4321.0,
            "actual_weight_quantity_finished_goods": 4321.0,
            "status_manufacturing": True,
        }
        self.assert_refused("http_user", "mo.batch", "write", self.batch.ids, forged)
        self.assert_refused("http_user", "scada.plc", "action_run_task3_process_completed", self.plc.ids)
        self.assertFalse(self.batch.status_manufacturing)
        self.assertEqual(self.production.state, "confirmed")

    def test_a_user_runs_no_task_and_sends_no_command(self):
        for method in (
            "action_run_task1_sync_mo",
            "action_run_task2_plc_read",
            "action_run_task3_process_completed",
            "action_run_task4_health",
            "action_test_connection",
            "action_read_slots",
        ):
            self.assert_refused("http_user", "scada.plc", method, self.plc.ids)
        self.assert_refused("http_user", "mo.batch", "action_accept_review", self.batch.ids)

    def test_plc_address_is_for_managers_only(self):
        for login in ("http_user", "http_mrp"):
            self.assert_refused(login, "scada.plc", "read", self.plc.ids, ["host", "port"])
        self.assert_refused("http_user", "scada.plc", "write", self.plc.ids, {"host": "127.0.0.2"})
        answer = self.call("http_manager", "scada.plc", "read", self.plc.ids, ["host", "port"])
        self.assertEqual(answer["result"][0]["host"], "127.0.0.1")

    def test_history_is_written_by_nobody(self):
        history = self.batch._archive("cancelled", "for the HTTP access test")
        for login in ("http_user", "http_manager"):
            self.assert_refused(login, "mo.history", "write", history.ids, {"notes": "changed"})
            self.assert_refused(login, "mo.history", "unlink", history.ids)
            self.assert_refused(login, "mo.history", "create", {"mo_id": "FORGED", "status": "completed"})
        self.assertEqual(history.notes, "for the HTTP access test")

    def test_portal_users_read_nothing_of_the_addon(self):
        for model in (
            "mo.batch",
            "mo.history",
            "scada.plc",
            "scada.silo",
            "scada.memory.map",
            "scada.plc.request",
        ):
            self.assert_refused("http_portal", model, "search_read", [], ["id"])

    def test_a_user_uses_the_operations(self):
        answer = self.call("http_user", "mo.batch", "action_send_to_plc", self.batch.ids)
        self.assertNotIn("error", answer, answer.get("error"))
        self.assertEqual(self.env["scada.plc.request"].search([("plc_id", "=", self.plc.id)]).kind, "send")
        answer = self.call("http_user", "scada.plc", "action_read_now", self.plc.ids)
        self.assertNotIn("error", answer, answer.get("error"))
