from odoo import api, fields, models

from ..report.scada_day_report import plant_today
from ..rules import plant_day


class ScadaDayReportWizard(models.TransientModel):
    """Asks the PLC and the plant's days of the day report."""

    _name = "scada.day.report.wizard"
    _description = "SCADA day report"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True)
    date_from = fields.Date(string="From", required=True)
    date_to = fields.Date(string="To", required=True)
    per_shift = fields.Boolean(
        help="Add the figures of each shift of the days (shift times in the SCADA settings).",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        today = plant_today(self.env)
        values.setdefault("date_from", today)
        values.setdefault("date_to", today)
        if context.get("active_model") == "scada.plc" and context.get("active_id"):
            values["plc_id"] = context["active_id"]
        elif context.get("active_model") == "mo.history" and context.get("active_ids"):
            histories = self.env["mo.history"].browse(context["active_ids"])
            tz = self.env["scada.batch.data"]._plant_tz(histories.plc_id[:1].company_id)
            days = [plant_day(value, tz) for value in histories.mapped("date_archived")]
            values.update({"plc_id": histories.plc_id[:1].id, "date_from": min(days), "date_to": max(days)})
        if not values.get("plc_id"):
            values["plc_id"] = self.env["scada.settings"]._default_plc().id
        return values

    def action_print(self):
        self.ensure_one()
        data = {
            # The web client sends the data but no ids (the URL of a report
            # with data carries none): the PLC travels in the data.
            "plc_id": self.plc_id.id,
            "date_from": fields.Date.to_string(min(self.date_from, self.date_to)),
            "date_to": fields.Date.to_string(max(self.date_from, self.date_to)),
            "per_shift": self.per_shift,
        }
        action = self.env.ref("scada_plc_bridge.action_report_scada_day_sheet").report_action(
            self.plc_id,
            data=data,
            config=False,  # internal layout: no company layout to configure
        )
        action["close_on_report_download"] = True
        return action
