from odoo import fields, models


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    scada_plc_id = fields.Many2one(
        "scada.plc", string="SCADA Line", help="PLC of the line this work centre is."
    )
