from odoo import _, api, models
from odoo.tools import html2plaintext
from odoo.tools.misc import format_datetime, formatLang

# The batch's timeline, in the order it happens.
TIMELINE = (
    "date_queued",
    "date_plc_write",
    "date_plc_taken",
    "date_first_dosing",
    "date_plc_finished",
    "date_done",
)


def shown(tracking_value, which):
    """A tracked change's old or new value as Odoo's chatter shows it: an
    emptied field (a selection set to nothing) is blank, not 0.0."""
    value = tracking_value.get_display_value(which)[0]
    return "" if value is None or (value is False and tracking_value.field_type != "boolean") else value


class ReportScadaBatchTicket(models.AbstractModel):
    """One page per batch: recipe, actuals per silo, deviations and grades,
    times, manual weighings and who did what; printed from a batch in the
    queue or from its history record (the same page)."""

    _name = "report.scada_plc_bridge.report_batch_ticket"
    _description = "SCADA batch ticket"
    _ticket_model = "mo.batch"  # the records the report is printed from

    @api.model
    def _grades(self, record):
        """Yield, deviation and grades: stored on a history record, figured now
        for a batch the PLC finished; none for a batch still dosing (its part
        doses are short of the plan, not inaccurate)."""
        if record._name == "mo.history":
            names = ["yield_percent", "deviation_percent"]
            names += [name for name in record._fields if name.startswith("accuracy_grade")]
            return {name: record[name] for name in names}
        if not record.status_manufacturing:
            return {}
        return self.env["scada.batch.accuracy"]._values(record)

    @api.model
    def _who_did_what(self, record):
        """(when, who, what): a batch's chatter; for a history record, its archiving and its MO's chatter."""
        if record._name == "mo.history":
            entries = [(record.date_archived, record.archived_by_id.name, record.notes or "")]
            messages = record.production_id.message_ids
        else:
            entries, messages = [], record.message_ids
        for message in messages.sorted("date"):
            text = html2plaintext(message.body or "").strip()
            changes = [
                "%s: %s -> %s" % (value.field_desc, shown(value, "old"), shown(value, "new"))
                for value in message.sudo().tracking_value_ids
            ]
            what = "; ".join(filter(None, [text] + changes))
            if what:
                entries.append((message.date, message.author_id.name or "", what))
        return sorted(entries, key=lambda entry: entry[0])

    @api.model
    def _ticket(self, record):
        tz = (
            self.env.context.get("tz")
            or self.env.user.tz
            or self.env["scada.batch.data"]._plant_tz(record.company_id)
        )

        def when(value):
            return format_datetime(self.env, value, tz=tz, dt_format="short") if value else ""

        # Kilograms and percentages written as the day report writes them.
        sheet = self.env["report.scada_plc_bridge.report_scada_day_sheet"]
        kg = sheet._kg

        grades = self._grades(record)
        labels = dict(self.env["mo.history"]._fields["accuracy_grade"]._description_selection(self.env))
        lines = [
            {
                "silo": line["silo"],
                "material": line["material"].display_name if line["material"] else "",
                "planned": kg(line["planned"]),
                "actual": kg(line["actual"]),
                "deviation": kg(line["deviation"], sign=True),
                "percent": "" if line["percent"] is None else sheet._percent(line["percent"]),
                "grade": labels.get(grades.get("accuracy_grade_" + line["tag"]), ""),
            }
            for line in record._consumption_lines()
        ]
        weighings = self.env["scada.manual.weighing"].search(
            [("production_id", "=", record.production_id.id)] if record.production_id else [("id", "=", 0)]
        )
        states = dict(weighings._fields["state"]._description_selection(self.env))
        return {
            "record": record,
            "tz": tz,
            "product": record.production_id.product_id.display_name or record.finished_goods or "",
            "status": self._status(record),
            "lines": lines,
            "planned_quantity": kg(record.planned_quantity),
            "finished_weight": kg(record.actual_weight_quantity_finished_goods),
            "yield": formatLang(self.env, grades["yield_percent"] or 0.0, digits=1) + " %" if grades else "-",
            "deviation": sheet._percent(grades["deviation_percent"] or 0.0) if grades else "-",
            "grade": labels.get(grades.get("accuracy_grade"), "") if grades else _("still dosing"),
            "timeline": [
                (record._fields[name]._description_string(self.env), when(record[name])) for name in TIMELINE
            ],
            "cycle": formatLang(self.env, record.cycle_minutes, digits=1),
            "wait": formatLang(self.env, record.wait_minutes, digits=1),
            "weighings": [
                {
                    "product": weighing.product_id.display_name or "",
                    "kg": kg(weighing.quantity_kg),
                    "state": states.get(weighing.state, weighing.state),
                    "time": when(weighing.date_received),
                }
                for weighing in weighings
            ],
            "log": [(when(date), who, what) for date, who, what in self._who_did_what(record)],
        }

    @api.model
    def _status(self, record):
        field = record._fields["status" if record._name == "mo.history" else "state"]
        label = dict(field._description_selection(self.env)).get(record[field.name], record[field.name])
        return _("%s (PLC failure)") % label if record.status_operation else label

    @api.model
    def _get_report_values(self, docids, data=None):
        records = self.env[self._ticket_model].browse(docids)
        return {
            "doc_ids": records.ids,
            "doc_model": records._name,
            "docs": records,
            "tickets": [self._ticket(record) for record in records],
        }


class ReportScadaHistoryTicket(models.AbstractModel):
    _name = "report.scada_plc_bridge.report_history_ticket"
    _inherit = "report.scada_plc_bridge.report_batch_ticket"
    _description = "SCADA batch ticket (history)"
    _ticket_model = "mo.history"
