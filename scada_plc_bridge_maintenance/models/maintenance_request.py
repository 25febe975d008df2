from odoo import models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    def write(self, vals):
        result = super().write(vals)
        if "stage_id" in vals:
            self.env["scada.task.failures"]._requests_done(
                self.filtered(lambda request: request.stage_id.done)
            )
        return result
