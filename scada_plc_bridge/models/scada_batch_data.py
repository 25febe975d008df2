from odoo import _, api, fields, models
from odoo.tools import html_escape
from odoo.tools.misc import formatLang

from ..const import KG_DIGITS, SILOS
from ..rules import TOLERANCE, sql_plant_tz

# Deviation levels (rules.TOLERANCE): within up to half the tolerance, warning
# up to the tolerance, outside beyond it (or any consumption that was not planned).
LEVEL_CLASSES = {
    "within": ("o_scada_within", "text-success"),
    "warning": ("o_scada_warning table-warning", "text-warning font-weight-bold"),
    "outside": ("o_scada_outside table-danger", "text-danger font-weight-bold"),
    "running": ("o_scada_running", "text-muted"),
}

# The timeline's durations: stored (a year of reports is a query), from the stored dates.
TIMELINE_MINUTES = {"digits": (16, 1), "compute": "_compute_timeline_minutes", "store": True}


def silo_float_fields(prefix, string, help_text, **options):
    """One kg Float per material point, named prefix + tag."""
    return {
        prefix + tag: fields.Float(string=string % label, digits=KG_DIGITS, help=help_text % label, **options)
        for tag, _silo_id, label in SILOS
    }


class ScadaBatchData(models.AbstractModel):
    """What a batch is, shared by the queue (mo.batch) and its archive
    (mo.history), so both hold exactly the same data."""

    _name = "scada.batch.data"
    _description = "SCADA batch data"

    batch_no = fields.Integer(
        string="Batch No.", readonly=True, index=True, help="Batch number sent to the PLC."
    )
    mo_reference = fields.Char(string="MO", readonly=True, index=True, help="Manufacturing order reference.")
    plc_ref = fields.Char(
        string="PLC Reference",
        readonly=True,
        index=True,
        help="The MO reference as the PLC shows it (16 characters at most).",
    )
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True, index=True)
    plc_id = fields.Many2one("scada.plc", string="PLC", readonly=True, index=True)
    equipment = fields.Char(readonly=True, help="Code of the PLC (line) that ran the batch.")
    slot = fields.Integer(
        readonly=True,
        help="The PLC's recipe slot (1-10) the batch was written to; its result comes back in the result "
        "slot of the same number.",
    )
    finished_goods = fields.Char(readonly=True)
    planned_quantity = fields.Float(
        string="Planned Quantity (kg)",
        digits=KG_DIGITS,
        readonly=True,
        help="Quantity of finished goods planned.",
    )
    locals().update(
        silo_float_fields("consumption_", "Planned %s (kg)", "Planned consumption of %s, from the BoM.")
    )
    locals().update(
        silo_float_fields("actual_consumption_", "Actual %s (kg)", "Consumption of %s reported by the PLC.")
    )
    actual_weight_quantity_finished_goods = fields.Float(
        string="Actual Weight (kg)",
        digits=KG_DIGITS,
        readonly=True,
        help="Finished weight reported by the PLC.",
    )
    status_manufacturing = fields.Boolean(
        string="Finished on PLC",
        readonly=True,
        help="The PLC reported the batch finished.",
    )
    status_operation = fields.Boolean(
        string="PLC Failure", readonly=True, help="The PLC reported the batch failed."
    )
    status_read_data = fields.Boolean(
        string="Result Taken",
        readonly=True,
        help="Odoo took the batch's result and told the PLC that it may use the slot again.",
    )
    last_read_from_plc = fields.Datetime(string="Last PLC Read", readonly=True)
    # Also declared by mo.batch; here so the history keeps when the batch started.
    date_plc_write = fields.Datetime(string="Written to PLC", readonly=True)
    # The batch's timeline: each date set once, at its event (services), never per poll.
    date_queued = fields.Datetime(string="Queued On", readonly=True, help="When Task 1 queued the batch.")
    date_plc_taken = fields.Datetime(
        string="Taken by PLC",
        readonly=True,
        help="When Odoo learnt that the PLC took the recipe: the handshake, or else the first result "
        "the PLC reported on the batch.",
    )
    date_first_dosing = fields.Datetime(
        string="First Seen Dosing", readonly=True, help="The first result the PLC reported on the batch."
    )
    date_plc_finished = fields.Datetime(
        string="PLC Finished On", readonly=True, help="When the PLC's finish (or failure) was confirmed."
    )
    date_done = fields.Datetime(string="Done in Odoo", readonly=True, help="When the batch was archived.")
    cycle_minutes = fields.Float(
        "Cycle Time (min)",
        help="Taken by the PLC (else first seen dosing) to finished on the PLC.",
        **TIMELINE_MINUTES,
    )
    wait_minutes = fields.Float("Wait Time (min)", help="Queued to taken by the PLC.", **TIMELINE_MINUTES)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    consumption_html = fields.Html(
        string="Consumption per Silo",
        compute="_compute_consumption_html",
        sanitize=False,
        help="The silos the recipe uses or the PLC reported, with the deviation coloured by the tolerance.",
    )

    @api.depends("date_queued", "date_plc_taken", "date_first_dosing", "date_plc_finished")
    def _compute_timeline_minutes(self):
        def minutes(start, end):
            return (end - start).total_seconds() / 60.0 if start and end else 0.0

        for record in self:
            started = record.date_plc_taken or record.date_first_dosing
            record.cycle_minutes = minutes(started, record.date_plc_finished)
            record.wait_minutes = minutes(record.date_queued, record.date_plc_taken)

    def _batch_data_values(self):
        """The shared fields of this record, ready for create()."""
        self.ensure_one()
        values = {}
        for name, field in self.env["scada.batch.data"]._fields.items():
            if field.store and name not in models.MAGIC_COLUMNS and name != "display_name":
                value = self[name]
                values[name] = value.id if field.type == "many2one" else value
        return values

    # -- what a supervisor reads: silos with material, deviation, tolerance --------
    @api.model
    def _tolerance_limit(self):
        """The limit of rules.TOLERANCE, from the SCADA settings."""
        return self.env["scada.settings"]._get(TOLERANCE.setting)

    @api.model
    def _plant_tz(self, company=None):
        """The plant's time zone (rules.sql_plant_tz, as the consumption view
        reads it): the company's (default: the current one), else the
        administrator's, else UTC."""
        self.env["res.partner"].flush(["tz"])
        self.env["res.company"].flush(["partner_id"])
        self.env.cr.execute("SELECT " + sql_plant_tz("%s"), [(company or self.env.company).id])
        return self.env.cr.fetchone()[0]

    def _consumption_is_final(self):
        """Actuals grow while the PLC doses: only a finished or failed batch deviates."""
        self.ensure_one()
        return bool(self.status_manufacturing or self.status_operation)

    def _silo_materials(self):
        """{tag: (silo name, material)}: the product the MO's BoM line feeds from
        each silo, else the silo's usual product."""
        self.ensure_one()
        silos = self.plc_id.with_context(active_test=False).silo_ids
        names = {silo.tag: (silo.name, silo.product_id) for silo in silos}
        fed = set()
        for line in self.production_id.bom_id.bom_line_ids:
            silo = line.scada_silo_id
            if silo.plc_id == self.plc_id and silo.tag in names and silo.tag not in fed:
                fed.add(silo.tag)  # the first BoM line of a silo names its material
                names[silo.tag] = (silo.name, line.product_id)
        return names

    def _consumption_lines(self):
        """One dict per silo the recipe uses or the PLC reported, in slot order."""
        self.ensure_one()
        tolerance = self._tolerance_limit()
        final = self._consumption_is_final()
        materials = self._silo_materials()
        lines = []
        for tag, _silo_id, label in SILOS:
            planned, actual = self["consumption_" + tag], self["actual_consumption_" + tag]
            if not (round(planned, KG_DIGITS[1]) or round(actual, KG_DIGITS[1])):
                continue
            silo_name, material = materials.get(tag, (label, None))
            lines.append(
                {
                    "tag": tag,
                    "silo": silo_name or label,
                    "material": material,
                    "planned": planned,
                    "actual": actual,
                    "deviation": actual - planned,
                    "percent": (actual - planned) * 100.0 / planned if planned else None,
                    "level": TOLERANCE.level(planned, actual, tolerance) if final else "running",
                }
            )
        return lines

    @api.depends_context("lang")
    def _compute_consumption_html(self):
        for record in self:
            record.consumption_html = record._render_consumption_html()

    def _render_consumption_html(self):
        self.ensure_one()
        env = self.env

        def kg(value, sign=False):
            text = formatLang(env, value, digits=KG_DIGITS[1])
            return ("+" + text) if sign and value > 0 else text

        rows = []
        for line in self._consumption_lines():
            row_class, cell_class = LEVEL_CLASSES[line["level"]]
            name = line["silo"]
            if line["material"]:
                name = "%s - %s" % (name, line["material"].display_name)
            percent = ""
            if line["percent"] is not None:
                percent = formatLang(env, line["percent"], digits=1) + " %"
                percent = ("+" + percent) if line["percent"] > 0 else percent
            rows.append(
                '<tr class="%s" data-silo="%s"><td>%s</td><td class="text-right">%s</td>'
                '<td class="text-right">%s</td><td class="text-right %s">%s</td>'
                '<td class="text-right %s">%s</td></tr>'
                % (
                    row_class,
                    line["tag"],
                    html_escape(name),
                    kg(line["planned"]),
                    kg(line["actual"]),
                    cell_class,
                    kg(line["deviation"], sign=True),
                    cell_class,
                    percent,
                )
            )
        if not rows:
            return '<p class="text-muted">%s</p>' % html_escape(_("No silo used."))
        tolerance = self._tolerance_limit()
        legend = _(
            "Within tolerance: up to %(half)s %%; warning: up to %(tolerance)s %%; outside: beyond it,"
            " or not planned (tolerance in the SCADA settings)."
        ) % {
            "half": formatLang(env, tolerance * TOLERANCE.warning_share, digits=1),
            "tolerance": formatLang(env, tolerance, digits=1),
        }
        header = "".join(
            '<th class="%s">%s</th>' % (css, html_escape(title))
            for css, title in (
                ("", _("Silo - Material")),
                ("text-right", _("Planned (kg)")),
                ("text-right", _("Actual (kg)")),
                ("text-right", _("Deviation (kg)")),
                ("text-right", _("Deviation (%)")),
            )
        )
        return (
            '<table class="table table-sm o_scada_consumption_table"><thead><tr>%s</tr></thead>'
            '<tbody>%s</tbody></table><p class="text-muted small">%s</p>'
            % (header, "".join(rows), html_escape(legend))
        )
