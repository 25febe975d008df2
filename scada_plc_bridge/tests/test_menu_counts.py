"""The SCADA menus' counts as the web client re-reads them live: one small
RPC (`ir.ui.menu.scada_menu_counts`, what load_menus puts in the names)
that the menu bar calls when the runtime says on the bus that a batch or a
PLC changed.  The browser side (static/src/js/scada_live.js) rewrites the
labels; here the RPC and the names it feeds."""

from odoo.tests import new_test_user, tagged

from .common import ScadaCase


def menu_names(menus, xmlid):
    names, stack = [], [menus]
    while stack:
        menu = stack.pop()
        if menu.get("xmlid") == xmlid:
            names.append(menu["name"])
        stack.extend(menu.get("children", []))
    return names


COUNTED_MENUS = ("mo_batch_failed_to_push_menu", "scada_alarm_menu", "mo_history_failure_menu")
READERS = (("menu_operator", "scada_plc_bridge.group_scada_user"), ("menu_mrp_user", "mrp.group_mrp_user"))


@tagged("post_install", "-at_install")
class TestLiveMenuCounts(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator, cls.mrp_user = (new_test_user(cls.env, login, groups=group) for login, group in READERS)
        cls.failed_menu, cls.alarm_menu, cls.failure_menu = (
            cls.env.ref("scada_plc_bridge." + name) for name in COUNTED_MENUS
        )

    def counts(self, user=None):
        return self.env["ir.ui.menu"].with_user(user or self.operator).scada_menu_counts()

    def test_the_counts_follow_a_batch_odoo_refuses(self):
        before = self.counts()
        self.assertEqual(set(before), {self.failed_menu.id, self.alarm_menu.id, self.failure_menu.id})
        production = self.confirmed_mo(1000)
        batch = self.queue()
        # Odoo refuses to finish: the component is lot-tracked and the line knows no lots.
        self.copra.tracking = "lot"
        self.finish_on_plc(batch)
        self.cycle()
        self.cycle()
        self.assertEqual(batch.state, "push_failed")
        after = self.counts()
        self.assertEqual(after[self.failed_menu.id], before[self.failed_menu.id] + 1)
        # The same count as the name the menu got on the page's load.
        menus = self.env["ir.ui.menu"].with_user(self.operator).load_menus(False)
        self.assertEqual(
            menu_names(menus, "scada_plc_bridge.mo_batch_failed_to_push_menu"),
            ["Failed to push (%d)" % after[self.failed_menu.id]],
        )
        # The cause is fixed and the push retried: the count goes down again (0 is sent too).
        self.copra.tracking = "none"
        batch.action_retry_push()
        self.assertEqual(production.state, "done")
        self.assertEqual(self.counts()[self.failed_menu.id], before[self.failed_menu.id])

    def test_an_alarm_counts_until_acknowledged(self):
        before = self.counts()[self.alarm_menu.id]
        alarm = self.env["scada.alarm"]._raise("plc_silent", self.plc, "no answer for the menu test")
        self.assertEqual(self.counts()[self.alarm_menu.id], before + 1)
        alarm.with_user(self.operator).action_acknowledge()
        self.assertEqual(self.counts()[self.alarm_menu.id], before)

    def test_users_outside_scada_get_nothing(self):
        self.env["scada.alarm"]._raise("plc_silent", self.plc, "no answer for the menu test")
        self.assertEqual(self.counts(self.mrp_user), {})
        menus = self.env["ir.ui.menu"].with_user(self.mrp_user).load_menus(False)
        self.assertFalse(menu_names(menus, "scada_plc_bridge.scada_alarm_menu"))
