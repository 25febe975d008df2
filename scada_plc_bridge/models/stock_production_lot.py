from odoo import fields, models


class StockProductionLot(models.Model):
    _inherit = "stock.production.lot"

    scada_unlotted = fields.Boolean(
        string="Material of No Known Lot",
        readonly=True,
        copy=False,
        index=True,
        help="Made by the SCADA bridge for what a silo gave beyond the lots Odoo knows in it. Its stock is "
        "what is left to correct: receive or count the real lots into the silo, then count this one to zero.",
    )

    def action_scada_recall(self):
        return self.env["scada.lot.recall"]._open_for(self)
