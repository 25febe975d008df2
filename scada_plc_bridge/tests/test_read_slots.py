"""Read slots: the PLC form's button hands a "slots" request to the PLC's
poller and opens its view; the cycle reads the READ and WRITE slots under
the PLC's lock and stores them on the request; the view shows them (or why
the read failed) in the reader's language, escaped, to managers only."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ScadaCase, free_udp_port


@tagged("post_install", "-at_install")
class TestReadSlots(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("id_ID")
        cls.manager = new_test_user(cls.env, "slots_manager", groups="scada_plc_bridge.group_scada_manager")
        cls.user = new_test_user(cls.env, "slots_user", groups="scada_plc_bridge.group_scada_user")

    def read_slots(self, user=None):
        """Press Read slots as `user` (the manager): (its request, its view)."""
        action = self.plc.with_user(user or self.manager).action_read_slots()
        view = self.env["scada.plc.slots"].browse(action["res_id"])
        return view.request_id, view.with_user(user or self.manager)

    def test_the_button_hands_the_read_to_the_poller(self):
        requests = self.env["scada.plc.request"].search([("plc_id", "=", self.plc.id)])
        served = self.simulator.requests_served
        action = self.plc.with_user(self.manager).action_read_slots()
        self.assertEqual(self.simulator.requests_served, served, "the button itself never talks to the PLC")
        request = self.env["scada.plc.request"].search([("plc_id", "=", self.plc.id)]) - requests
        self.assertEqual(len(request), 1)
        self.assertEqual((request.kind, request.state), ("slots", "pending"))
        self.assertEqual(request.create_uid, self.manager)
        self.assertEqual((action["res_model"], action["target"]), ("scada.plc.slots", "new"))
        view = self.env["scada.plc.slots"].with_user(self.manager).browse(action["res_id"])
        self.assertEqual(view.request_id, request)
        self.assertIn("Waiting for the PLC to be read", view.slots_html)
        self.assertEqual(view.action_refresh()["res_id"], view.id)

        self.cycle()
        self.assertGreater(self.simulator.requests_served, served)
        self.assertEqual((request.state, request.result), ("done", "slots read"))
        view.invalidate_cache()
        html = view.slots_html
        self.assertNotIn("Waiting", html)
        self.assertIn("Result slots", html)
        self.assertIn("Recipe slots", html)
        self.assertEqual(html.count("<tr"), 2 * (1 + self.plc.slot_count))

    def test_the_view_shows_the_read_and_write_slots_as_the_plc_shows_them(self):
        self.confirmed_mo(1000)
        batch = self.queue()  # its recipe written into WRITE slot 1
        self.report(batch, actual_weight_quantity_finished_goods=1234.5, finished_goods="<img src=x>")
        request, view = self.read_slots()
        self.cycle()
        self.assertEqual(request.state, "done")
        html = view.with_context(lang="id_ID").slots_html
        self.assertIn("1.234,50", html)  # the reader's language
        _before, read_part, write_part = html.split("<h3>")
        self.assertIn(batch.plc_ref, read_part)
        self.assertIn(batch.plc_ref, write_part)
        self.assertNotIn("<img", html)
        self.assertIn("&lt;img src=x&gt;", read_part)
        for markup in (
            '<table class="table table-sm">',
            "<th>",
            '<th class="text-right">',
            '<td class="text-right">',
        ):
            self.assertIn(markup, html)

    def test_an_invalid_slot_is_marked_and_stored_markup_never_comes_back(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, silo_id_a=999)  # a wrong SILO ID word: the slot is not valid
        request, view = self.read_slots()
        self.cycle()
        self.assertIn('<tr class="table-danger">', view.slots_html)
        self.assertIn("INVALID", view.slots_html)
        # Whatever the request holds, the view escapes it and the field is sanitized.
        request.slots_data = (
            '{"read": [{"slot": 1, "valid": false, "errors": ["<script>alert(2)</script>"],'
            ' "fields": {"mo_id": "MO/1<img src=x onerror=alert(1)>"}}], "write": []}'
        )
        view.invalidate_cache()
        self.assertNotIn("<script", view.slots_html)
        self.assertNotIn("<img", view.slots_html)
        self.assertIn("MO/1&lt;img", view.slots_html)

    def test_a_dead_plc_shows_why(self):
        self.plc.port = free_udp_port()
        request, view = self.read_slots()
        self.cycle()
        self.assertEqual(request.state, "failed")
        self.assertTrue(request.result)
        self.assertIn("Reading %s failed" % self.plc.display_name, view.slots_html)
        self.assertIn(request.result.split(":")[0], view.slots_html)
        self.assertFalse(request.sudo().slots_data)

    def test_slots_are_for_managers_only(self):
        with self.assertRaises(AccessError):
            self.plc.with_user(self.user).action_read_slots()
        request, view = self.read_slots()
        self.cycle()
        with self.assertRaises(AccessError):
            request.with_user(self.user).read(["slots_data"])
        with self.assertRaises(AccessError):
            self.env["scada.plc.slots"].with_user(self.user).browse(view.id).read(["slots_html"])
