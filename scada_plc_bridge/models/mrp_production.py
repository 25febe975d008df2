from odoo import _, fields, models
from odoo.exceptions import UserError


class MrpProduction(models.Model):
    _inherit = "mrp.production"

    scada_batch_ids = fields.One2many("mo.batch", "production_id", string="SCADA Batches")
    scada_history_ids = fields.One2many("mo.history", "production_id", string="SCADA History")

    def action_cancel(self):
        """An MO whose batch is queued for or on the line is cancelled through
        its batch (SCADA > Batches), which clears the PLC's slot first; the
        batch's own cancel comes back here with the context key."""
        if not self.env.context.get("scada_batch_cancel"):
            queued = self.filtered("scada_batch_ids")
            if queued:
                raise UserError(
                    _(
                        "%(mos)s: the batch is queued for or running on the line. Cancel the batch in "
                        "SCADA > Batches: the PLC's slot is cleared first, and a batch the line runs is "
                        "recorded when the PLC reports on it."
                    )
                    % {"mos": ", ".join(queued.mapped("name"))}
                )
        return super().action_cancel()

    def _scada_plc(self, default_plc):
        """The line that runs this MO: its BoM's PLC, else a work centre's, else the default."""
        self.ensure_one()
        workcenter_plcs = self.bom_id.operation_ids.mapped("workcenter_id.scada_plc_id")
        return self.bom_id.scada_plc_id or workcenter_plcs[:1] or default_plc
