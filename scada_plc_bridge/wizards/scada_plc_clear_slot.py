from odoo import _, api, fields, models


class ScadaPlcClearSlot(models.TransientModel):
    """A READ slot holding a result no batch of Odoo claims (an unknown batch)
    stays unacknowledged, so the PLC never reuses it; a manager who has
    checked the line clears it from the PLC form: the poller acknowledges it."""

    _name = "scada.plc.clear.slot"
    _description = "Clear a PLC READ slot"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True)
    slot = fields.Integer(string="READ Slot", required=True, default=1)
    slot_problems = fields.Text(related="plc_id.slot_problems")

    @api.constrains("plc_id", "slot")
    def _check_slot(self):
        for wizard in self:
            wizard.env["scada.plc.request"]._check_slot_of(wizard.plc_id, wizard.slot)

    def action_clear(self):
        self.ensure_one()
        self.plc_id._check_manager()
        self._check_slot()
        self.env["scada.plc.request"]._request(self.plc_id, "clear_read_slot", slot=self.slot)
        return self.plc_id._notify(
            _("Slot %(slot)s will be acknowledged by the poller within a poll interval.")
            % {"slot": self.slot},
            close=True,
        )
