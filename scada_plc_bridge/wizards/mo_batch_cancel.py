from odoo import _, api, fields, models


class MoBatchCancel(models.TransientModel):
    """Asks the reason of a cancellation; it becomes the history note."""

    _name = "mo.batch.cancel"
    _description = "Cancel SCADA batches"

    batch_ids = fields.Many2many(
        "mo.batch", string="Batches", default=lambda self: self.env.context.get("active_ids"), required=True
    )
    reason = fields.Text(required=True, help="Why the batch is cancelled; kept in the history.")

    @api.model_create_multi
    def create(self, vals_list):
        # Linking the batches locks their rows: locked first, quietly (mo.batch._lock).
        batch_ids = [
            batch_id
            for vals in vals_list
            for command in vals.get("batch_ids") or ()
            for batch_id in (command[2] if command[0] == 6 else [command[1]] if command[0] == 4 else ())
        ]
        self.env["mo.batch"].browse(batch_ids)._lock()
        return super().create(vals_list)

    def action_cancel(self):
        self.ensure_one()
        self.batch_ids.action_cancel(
            _("Cancelled by %(user)s: %(reason)s") % {"user": self.env.user.name, "reason": self.reason}
        )
        return {"type": "ir.actions.act_window_close"}  # the form shows the cancel waiting for the poller
