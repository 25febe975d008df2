from odoo import fields, models


class ScadaPlc(models.Model):
    _inherit = "scada.plc"

    open_maintenance_requests = fields.Boolean(
        default=True,
        help="Each equipment failure this PLC reports opens a corrective maintenance request.",
    )
