from odoo import fields, models


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    scada_silo_id = fields.Many2one(
        "scada.silo",
        string="Silo",
        help="Silo or tank that doses this component; its PLC consumption replaces the planned quantity.",
    )
