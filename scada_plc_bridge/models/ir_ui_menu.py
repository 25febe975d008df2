import copy
from datetime import timedelta

from odoo import api, fields, models

FAILURE_DAYS = 7
# Menus that show a count: PLC failures of the last week, open alarms.
COUNTED_MENUS = {
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
    def load_menus(self, debug):
        """SCADA menus with a count show it in their name."""
        menus = super().load_menus(debug)
        if not self.env.user.has_group("scada_plc_bridge.group_scada_user"):
            return menus
        counts = {xmlid: count(self.env) for xmlid, count in COUNTED_MENUS.items()}
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
