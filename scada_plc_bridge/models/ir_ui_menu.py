import copy
from datetime import timedelta

from odoo import api, fields, models

FAILURE_MENU_XMLID = "scada_plc_bridge.mo_history_failure_menu"
FAILURE_DAYS = 7


class IrUiMenu(models.Model):
    _inherit = "ir.ui.menu"

    @api.model
    def load_menus(self, debug):
        """The PLC failures menu shows how many batches failed in the last week."""
        menus = super().load_menus(debug)
        if not self.env.user.has_group("scada_plc_bridge.group_scada_user"):
            return menus
        count = self.env["mo.history"]._failure_count(fields.Datetime.now() - timedelta(days=FAILURE_DAYS))
        if not count:
            return menus
        menus = copy.deepcopy(menus)  # the parent's result is cached: never change it
        stack = list(menus.get("children", []))
        while stack:
            menu = stack.pop()
            if menu.get("xmlid") == FAILURE_MENU_XMLID:
                menu["name"] = "%s (%d)" % (menu["name"], count)
                break
            stack.extend(menu.get("children", []))
        return menus
