from odoo import fields, models


class ScadaEquipmentFailure(models.Model):
    _inherit = "scada.equipment.failure"

    maintenance_request_id = fields.Many2one(
        "maintenance.request",
        readonly=True,
        ondelete="set null",
        help="The corrective request this failure opened; done, it ends the failure.",
    )
