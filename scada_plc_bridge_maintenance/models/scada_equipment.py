from odoo import fields, models


class ScadaEquipment(models.Model):
    _inherit = "scada.equipment"

    maintenance_equipment_id = fields.Many2one(
        "maintenance.equipment",
        ondelete="set null",
        help="Where its failures' corrective requests go (created with the first failure when empty).",
    )
