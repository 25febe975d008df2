from odoo import _, api, fields, models
from odoo.tools.misc import format_date, format_datetime, formatLang

from ..const import KG_DIGITS
from ..rules import plant_day, plant_day_bounds


def plant_today(env):
    """Today in the plant's time zone."""
    return plant_day(fields.Datetime.now(), env["scada.batch.data"]._plant_tz())


class ReportScadaDaySheet(models.AbstractModel):
    """The shift supervisor's sheet: a PLC's batches, consumption per
    material and failures over a range of the plant's days."""

    _name = "report.scada_plc_bridge.report_scada_day_sheet"
    _description = "SCADA day report"

    @api.model
    def _kg(self, value, sign=False):
        text = formatLang(self.env, value, digits=KG_DIGITS[1])
        return ("+" + text) if sign and value > 0 else text

    @api.model
    def _percent(self, value):
        text = formatLang(self.env, value, digits=1) + " %"
        return ("+" + text) if value > 0 else text

    @api.model
    def _line_figures(self, plc, start, end):
        """The dashboard's figures of the line over [start, end), formatted."""
        dashboard = self.env["scada.line.dashboard"]
        return dashboard._formatted(dashboard._figures(plc, start, end))

    @api.model
    def _shift_rows(self, plc, date_from, date_to):
        """The per-shift variant: each shift of the days, with its figures."""
        return [
            dict(self._line_figures(plc, start, end), day=format_date(self.env, day), label=label)
            for day, label, start, end in self.env["scada.line.dashboard"]._shifts(plc, date_from, date_to)
        ]

    @api.model
    def _sheet(self, plc, date_from, date_to, per_shift=False):
        plant_tz = self.env["scada.batch.data"]._plant_tz(plc.company_id)
        reader_tz = self.env.context.get("tz") or self.env.user.tz or plant_tz
        start, end = plant_day_bounds(date_from, date_to, plant_tz)
        histories = self.env["mo.history"].search(
            [("plc_id", "=", plc.id), ("date_archived", ">=", start), ("date_archived", "<", end)],
            order="date_archived, id",
        )
        statuses = dict(self.env["mo.history"]._fields["status"]._description_selection(self.env))

        def when(value):
            return format_datetime(self.env, value, tz=reader_tz, dt_format="short") if value else ""

        def status(history):
            label = statuses.get(history.status, history.status)
            return _("%s (PLC failure)") % label if history.status_operation else label

        batches = [
            {
                "mo": history.mo_reference,
                "product": history.production_id.product_id.display_name or history.finished_goods or "",
                "start": when(history.date_plc_write),
                "end": when(history.date_archived),
                "status": status(history),
                "weight": self._kg(history.actual_weight_quantity_finished_goods),
            }
            for history in histories
        ]
        completed = histories.filtered(lambda h: h.status == "completed")
        groups = self.env["scada.consumption.report"].read_group(
            [("history_id", "in", completed.ids)],
            ["planned_kg", "actual_kg", "deviation_kg"],
            ["material_id", "silo_tag"],
            orderby="silo_tag",
            lazy=False,
        )
        silo_labels = dict(
            self.env["scada.consumption.report"]._fields["silo_tag"]._description_selection(self.env)
        )
        consumption = []
        for group in groups:
            planned, deviation = group["planned_kg"] or 0.0, group["deviation_kg"] or 0.0
            silo = silo_labels.get(group["silo_tag"], "")
            consumption.append(
                {
                    "material": group["material_id"] and group["material_id"][1] or _("(no material)"),
                    "silo": silo,
                    "planned": self._kg(planned),
                    "actual": self._kg(group["actual_kg"] or 0.0),
                    "deviation": self._kg(deviation, sign=True),
                    "percent": self._percent(deviation * 100.0 / planned) if planned else "",
                }
            )
        failures = [
            {
                "mo": history.mo_reference,
                "time": when(history.date_archived),
                "status": status(history),
                "notes": history.notes or "",
            }
            for history in histories - completed
        ]
        return {
            "plc": plc,
            "date_from": date_from,
            "date_to": date_to,
            "period": _("%(start)s to %(end)s")
            % {
                "start": format_date(self.env, date_from),
                "end": format_date(self.env, date_to),
            },
            "tz": reader_tz,
            "batches": batches,
            "completed_count": len(completed),
            "finished_weight": self._kg(sum(completed.mapped("actual_weight_quantity_finished_goods"))),
            "consumption": consumption,
            "failures": failures,
            "figures": self._line_figures(plc, start, end),
            "shifts": self._shift_rows(plc, date_from, date_to) if per_shift else [],
        }

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        plcs = self.env["scada.plc"].browse(docids)
        if not plcs and data.get("plc_id"):
            # Printed from the wizard: the web client's URL has the data, not the ids.
            plcs = self.env["scada.plc"].browse(int(data["plc_id"])).exists()
        date_from = fields.Date.to_date(data.get("date_from")) or plant_today(self.env)
        date_to = fields.Date.to_date(data.get("date_to")) or date_from
        if date_to < date_from:
            date_from, date_to = date_to, date_from
        return {
            "doc_ids": plcs.ids,
            "doc_model": "scada.plc",
            "docs": plcs,
            "sheets": [self._sheet(plc, date_from, date_to, bool(data.get("per_shift"))) for plc in plcs],
        }
