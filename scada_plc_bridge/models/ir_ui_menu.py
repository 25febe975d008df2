import copy
from datetime import timedelta

from odoo import api, fields, models

FAILURE_DAYS = 7
# Menus that show a count: batches Odoo refused to finish, PLC failures of
# the last week, open alarms.  Counted as the reader may see them.
COUNTED_MENUS = {
    "scada_plc_bridge.mo_batch_failed_to_push_menu": lambda env: env["mo.batch"].search_count(
        [("state", "=", "push_failed")]
    ),
    "scada_plc_bridge.mo_history_failure_menu": lambda env: env["mo.history"]._failure_count(
        fields.Datetime.now() - timedelta(days=FAILURE_DAYS)
    ),
    "scada_plc_bridge.scada_alarm_menu": lambda env: env["scada.alarm"].search_count(
        [("state", "=", "open")]
    ),
}


class IrUiMenu(models.Model):
    _inherit = "ir.ui.menu"

    @api.model
    def _scada_counts(self):
        """{xmlid: count} of the counted menus; empty for users outside SCADA."""
        if not self.env.user.has_group("scada_plc_bridge.group_scada_user"):
            return {}
        return {xmlid: count(self.env) for xmlid, count in COUNTED_MENUS.items()}

    @api.model
    def scada_menu_counts(self):
        """{menu id: count} of the counted menus (0 included, so a count that
        went away is taken off): what the web client re-reads when the
        runtime says on the bus that a batch or a PLC changed."""
        counts = self._scada_counts()
        menus = {}
        for xmlid, count in counts.items():
            menu = self.env.ref(xmlid, raise_if_not_found=False)
            if menu:
                menus[menu.id] = count
        return menus

    @api.model
    def load_menus(self, debug):
        """SCADA menus with a count show it in their name."""
        menus = super().load_menus(debug)
        counts = self._scada_counts()
        if not any(counts.values()):
            return menus
        menus = copy.deepcopy(menus)  # the parent's result is cached: never change it
        stack = list(menus.get("children", []))
        while stack:
            menu = stack.pop()
            if counts.get(menu.get("xmlid")):
                menu["name"] = "%s (%d)" % (menu["name"], counts[menu["xmlid"]])
            stack.extend(menu.get("children", []))
        return menus
