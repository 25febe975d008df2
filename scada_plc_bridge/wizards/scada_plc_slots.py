from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html_escape
from odoo.tools.misc import formatLang

from ..plclib import memory_map
from ..plclib.exceptions import PlcError


class ScadaPlcSlots(models.TransientModel):
    """The decoded READ slots of a PLC, read on request."""

    _name = "scada.plc.slots"
    _description = "Decoded PLC slots"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, readonly=True)
    slots_html = fields.Html(string="READ Slots", readonly=True)  # sanitized: other users read it

    @api.model
    def _render(self, readings):
        rows = []
        for reading in readings:
            fields_ = reading.fields
            if reading.is_empty:
                status = _("empty")
            elif not reading.valid:
                status = _("INVALID: %s") % "; ".join(reading.errors)
            elif fields_.get("status_operation"):
                status = _("failed")
            elif fields_.get("status_manufacturing"):
                status = _("finished")
            else:
                status = _("running")
            rows.append(
                "<tr class='%s'><td>%s</td><td>%s</td><td>%s</td>"
                "<td class='text-right'>%s</td><td>%s</td></tr>"
                % (
                    "table-danger" if not reading.valid else "",
                    reading.slot,
                    html_escape(fields_.get("mo_id") or ""),
                    html_escape(fields_.get("finished_goods") or ""),
                    formatLang(
                        self.env, fields_.get("actual_weight_quantity_finished_goods") or 0.0, digits=2
                    ),
                    html_escape(status),
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
    def _action_show(self, plc):
        try:
            with plc._plc_client() as client:
                readings = memory_map.read_all_slots(
                    client,
                    plc._layout("read"),
                    base=plc.read_area_base,
                    count=plc.slot_count,
                    stride=plc.slot_stride,
                )
        except PlcError as error:
            raise UserError(
                _("Reading %(plc)s failed: %(error)s") % {"plc": plc.display_name, "error": error}
            )
        wizard = self.create({"plc_id": plc.id, "slots_html": self._render(readings)})
        return {
            "type": "ir.actions.act_window",
            "name": _("READ slots of %s") % plc.display_name,
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }
