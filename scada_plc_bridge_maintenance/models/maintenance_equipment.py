from odoo import fields, models


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    scada_equipment_ids = fields.One2many(
        "scada.equipment", "maintenance_equipment_id", string="SCADA Equipment"
    )
    failure_count = fields.Integer(string="PLC Failures", compute="_compute_failure_stats")
    failure_mtbf = fields.Float(string="MTBF (h)", compute="_compute_failure_stats")
    failure_mttr = fields.Float(string="MTTR (h)", compute="_compute_failure_stats")

    def _compute_failure_stats(self):
        self.env["scada.task.failures"]._compute_failure_stats(self, "equipment_id.maintenance_equipment_id")

    def action_view_scada_failures(self):
        domain = [("equipment_id.maintenance_equipment_id", "in", self.ids)]
        return self.env["scada.task.failures"]._failures_action(domain)
