from odoo import _, fields, models


class MoBatchCancel(models.TransientModel):
    """Asks the reason of a cancellation; it becomes the history note."""

    _name = "mo.batch.cancel"
    _description = "Cancel SCADA batches"

    batch_ids = fields.Many2many(
        "mo.batch", string="Batches", default=lambda self: self.env.context.get("active_ids"), required=True
    )
    reason = fields.Text(required=True, help="Why the batch is cancelled; kept in the history.")

    def action_cancel(self):
        self.ensure_one()
        self.batch_ids.action_cancel(
            _("Cancelled by %(user)s: %(reason)s") % {"user": self.env.user.name, "reason": self.reason}
        )
        return {"type": "ir.actions.act_window_close"}  # the form shows the cancel waiting for the poller
