from odoo import fields, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    scada_plc_id = fields.Many2one(
        "scada.plc",
        string="SCADA Line",
        help="PLC that runs this BoM's manufacturing orders; empty: the default PLC.",
    )
