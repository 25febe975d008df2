from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    scada_manual_weighing = fields.Boolean(
        string="Manual Weighing (not in BoM)",
        readonly=True,
        copy=False,
        help="A component weighed by hand at the scale station that the MO's bill of materials does "
        "not list: added to the MO by the SCADA bridge.",
    )
