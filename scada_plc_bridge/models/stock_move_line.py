from odoo import models, tools


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    def init(self):
        # A recall finds a lot's lines among a year of batches' (about 13 a batch): Odoo has no index on it.
        tools.create_index(self._cr, "stock_move_line_scada_lot_id_index", self._table, ["lot_id"])
