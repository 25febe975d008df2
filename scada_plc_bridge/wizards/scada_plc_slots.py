import json

from odoo import _, api, fields, models
from odoo.tools import html_escape
from odoo.tools.misc import formatLang

# The weight column of each area: what the PLC weighed (READ), what the recipe asks (WRITE).
WEIGHT_FIELD = {
    "read": "actual_weight_quantity_finished_goods",
    "write": "weight_quantity_finished_goods",
}


class ScadaPlcSlots(models.TransientModel):
    """The decoded READ and WRITE slots of a PLC, as a "slots" request read
    them: the PLC's poller reads them (under the PLC's lock, in its cycle);
    this view only shows what it stored, and that it is still waiting."""

    _name = "scada.plc.slots"
    _description = "Decoded PLC slots"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, readonly=True)
    request_id = fields.Many2one("scada.plc.request", readonly=True)
    state = fields.Selection(related="request_id.state")
    # Sanitized (computed values too): the PLC's text is escaped, and markup never comes back.
    slots_html = fields.Html(
        string="Slots",
        compute="_compute_slots_html",
        groups="scada_plc_bridge.group_scada_manager",
    )

    @api.depends("request_id.state", "request_id.slots_data", "request_id.result")
    @api.depends_context("lang")
    def _compute_slots_html(self):
        for wizard in self:
            request = wizard.request_id.sudo()
            if request.state == "done" and request.slots_data:
                slots = json.loads(request.slots_data)
                wizard.slots_html = "".join(
                    "<h3>%s</h3>%s" % (html_escape(title), wizard._render(area, slots.get(area) or []))
                    for area, title in (
                        ("read", _("Result slots (PLC to Odoo)")),
                        ("write", _("Recipe slots (Odoo to PLC)")),
                    )
                )
            elif request.state in ("done", "failed"):
                wizard.slots_html = "<p class='text-danger'>%s</p>" % html_escape(
                    _("Reading %(plc)s failed: %(error)s")
                    % {"plc": wizard.plc_id.display_name, "error": request.result or ""}
                )
            else:
                wizard.slots_html = "<p class='text-muted'>%s</p>" % html_escape(
                    _("Waiting for the PLC to be read: press Refresh in a moment.")
                )

    def _status(self, area, reading):
        fields_ = reading["fields"]
        if not fields_.get("mo_id"):
            return _("empty")
        if not reading["valid"]:
            return _("INVALID: %s") % "; ".join(reading["errors"])
        if area == "write":
            return _("taken by the PLC") if fields_.get("status_read_data") else _("not taken yet")
        if fields_.get("status_operation"):
            return _("failed")
        if fields_.get("status_manufacturing"):
            return _("finished")
        return _("running")

    def _render(self, area, readings):
        """One area's slots as a table (each slot: SlotReading.as_dict())."""
        rows = []
        for reading in readings:
            fields_ = reading["fields"]
            rows.append(
                "<tr class='%s'><td>%s</td><td>%s</td><td>%s</td>"
                "<td class='text-right'>%s</td><td>%s</td></tr>"
                % (
                    "table-danger" if not reading["valid"] else "",
                    reading["slot"],
                    html_escape(fields_.get("mo_id") or ""),
                    html_escape(fields_.get("finished_goods") or ""),
                    formatLang(self.env, fields_.get(WEIGHT_FIELD[area]) or 0.0, digits=2),
                    html_escape(self._status(area, reading)),
                )
            )
        header = "<tr><th>%s</th><th>%s</th><th>%s</th><th class='text-right'>%s</th><th>%s</th></tr>" % (
            _("Slot"),
            _("MO"),
            _("Finished Goods"),
            _("Weight (kg)"),
            _("Status"),
        )
        return "<table class='table table-sm'><thead>%s</thead><tbody>%s</tbody></table>" % (
            header,
            "".join(rows),
        )

    @api.model
    def _action_show(self, request):
        """The view of a "slots" request: its slots once the poller has read them."""
        wizard = self.create({"plc_id": request.plc_id.id, "request_id": request.id})
        return wizard._action()

    def _action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Slots of %s") % self.plc_id.display_name,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_refresh(self):
        """Show the request as it is now (the poller may have carried it out)."""
        return self._action()
