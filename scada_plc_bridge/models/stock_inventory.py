from odoo import models


class StockInventory(models.Model):
    _inherit = "stock.inventory"

    def _action_done(self):
        result = super()._action_done()
        self.env["scada.silo.stock"]._after_count(self)  # a silo's count closes its gap, with a note
        return result
