from odoo import fields, models, tools

from ..const import KG_DIGITS, SILOS
from ..models.mo_history import HISTORY_STATUSES
from ..rules import TOLERANCE, sql_plant_day, sql_plant_tz


class ScadaConsumptionReport(models.Model):
    """One row per archived batch and silo it used: what a supervisor sums
    (kg per material per day), read straight from mo.history."""

    _name = "scada.consumption.report"
    _description = "SCADA consumption per material"
    _auto = False
    _order = "date_archived desc, id"
    _rec_name = "mo_reference"

    date = fields.Date(readonly=True, help="Day the batch was archived, in the plant's time zone.")
    date_archived = fields.Datetime(string="Archived On", readonly=True)
    history_id = fields.Many2one("mo.history", string="Batch", readonly=True)
    plc_id = fields.Many2one("scada.plc", string="PLC", readonly=True)
    mo_reference = fields.Char(string="MO", readonly=True)
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    product_id = fields.Many2one("product.product", string="Finished Product", readonly=True)
    silo_tag = fields.Selection(
        [(tag, label) for tag, _silo_id, label in SILOS], string="Silo", readonly=True
    )
    silo_id = fields.Many2one("scada.silo", string="Silo Record", readonly=True)
    material_id = fields.Many2one("product.product", readonly=True)
    planned_kg = fields.Float(string="Planned (kg)", digits=KG_DIGITS, readonly=True)
    actual_kg = fields.Float(string="Actual (kg)", digits=KG_DIGITS, readonly=True)
    deviation_kg = fields.Float(string="Deviation (kg)", digits=KG_DIGITS, readonly=True)
    deviation_percent = fields.Float(
        string="Deviation (%)",
        digits=(16, 1),
        readonly=True,
        group_operator=False,
        help="Deviation against the plan of this batch; empty when nothing was planned.",
    )
    # Computed, not a column: the tolerance is a setting, read by the settings
    # reader as the forms read it, and judged by the same rule (rules.TOLERANCE).
    is_within_tolerance = fields.Boolean(
        string="Within Tolerance",
        compute="_compute_is_within_tolerance",
        search="_search_is_within_tolerance",
        help="The deviation is within the consumption tolerance of the SCADA settings.",
    )
    status = fields.Selection(HISTORY_STATUSES, readonly=True)
    status_operation = fields.Boolean(string="PLC Failure", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    def _compute_is_within_tolerance(self):
        limit = self.env["scada.batch.data"]._tolerance_limit()
        for row in self:
            row.is_within_tolerance = TOLERANCE.is_within(row.planned_kg, row.actual_kg, limit)

    def _search_is_within_tolerance(self, operator, value):
        if operator not in ("=", "!="):
            raise ValueError("is_within_tolerance supports = and != only, not %r" % operator)
        within = TOLERANCE.sql_is_within("planned_kg", "actual_kg", "%s")
        if bool(value) != (operator == "="):
            within = "NOT (%s)" % within
        limit = TOLERANCE.limit(self.env["scada.batch.data"]._tolerance_limit())
        return [("id", "inselect", ("SELECT id FROM %s WHERE %s" % (self._table, within), [limit]))]

    def _silo_values(self):
        return ",\n                ".join(
            "(%d, '%s', COALESCE(h.consumption_%s, 0), COALESCE(h.actual_consumption_%s, 0))"
            % (seq, tag, tag, tag)
            for seq, (tag, _silo_id, _label) in enumerate(SILOS, start=1)
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # The silo tags and columns come from SILOS, the day from rules (constants, not input).
        query = """
            CREATE OR REPLACE VIEW %(table)s AS (
            SELECT
                h.id * 100 + s.seq AS id,
                h.id AS history_id,
                %(date)s AS date,
                h.date_archived,
                h.plc_id,
                h.mo_reference,
                h.production_id,
                mp.product_id,
                s.tag AS silo_tag,
                silo.id AS silo_id,
                COALESCE(line.product_id, silo.product_id) AS material_id,
                s.planned AS planned_kg,
                s.actual AS actual_kg,
                s.actual - s.planned AS deviation_kg,
                CASE WHEN s.planned <> 0 THEN (s.actual - s.planned) * 100.0 / s.planned END
                    AS deviation_percent,
                h.status,
                h.status_operation,
                h.company_id
            FROM mo_history h
            CROSS JOIN LATERAL (VALUES
                %(silos)s
            ) AS s (seq, tag, planned, actual)
            LEFT JOIN mrp_production mp ON mp.id = h.production_id
            LEFT JOIN scada_silo silo ON silo.plc_id = h.plc_id AND silo.tag = s.tag
            LEFT JOIN LATERAL (
                SELECT bl.product_id FROM mrp_bom_line bl
                WHERE bl.bom_id = mp.bom_id AND bl.scada_silo_id = silo.id
                ORDER BY bl.sequence, bl.id LIMIT 1
            ) AS line ON TRUE
            WHERE s.planned <> 0 OR s.actual <> 0
            )
        """ % {
            "table": self._table,
            "date": sql_plant_day("h.date_archived", sql_plant_tz("h.company_id")),
            "silos": self._silo_values(),
        }
        self.env.cr.execute(query)  # pylint: disable=sql-injection
