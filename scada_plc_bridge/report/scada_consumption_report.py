from datetime import datetime, time, timedelta

from odoo import fields, models, tools
from odoo.osv import expression

from ..const import KG_DIGITS, SILOS
from ..models.mo_history import HISTORY_STATUSES
from ..rules import DAY_START, TOLERANCE, sql_plant_day, sql_plant_tz

# The history's silo lines (table and trigger of ScadaConsumptionReport._init_silo_lines).
LINES = "mo_history_silo_line"
# A plant's day d holds UTC instants within [d - 1 day, d + 2 days) (+ DAY_START)
# whatever the plant's time zone (offsets are within -15 h .. +15 h).
DAY_MARGIN = timedelta(days=1)


def _top_level_leaves(domain):
    """The leaves of a normalized domain that all its records satisfy (those
    under '&' only, from the root)."""
    leaves = []

    def walk(index, conjunct):
        item = domain[index]
        if item in (expression.AND_OPERATOR, expression.OR_OPERATOR):
            index = walk(index + 1, conjunct and item == expression.AND_OPERATOR)
            return walk(index, conjunct and item == expression.AND_OPERATOR)
        if item == expression.NOT_OPERATOR:
            return walk(index + 1, False)
        if conjunct and expression.is_leaf(item):
            leaves.append(item)
        return index + 1

    if domain:
        walk(0, True)
    return leaves


def archived_bounds(domain):
    """Leaves on date_archived implied by the domain's leaves on the plant's
    day (date): the same records, and the history's date_archived index can
    find them (the day is figured per row from the company's time zone)."""
    bounds = []
    for name, operator, value in _top_level_leaves(expression.normalize_domain(domain)):
        if name != "date" or operator not in ("=", ">=", ">", "<=", "<") or not value:
            continue
        try:
            day = fields.Date.to_date(value)
        except (TypeError, ValueError):
            continue
        start = datetime.combine(day, time.min) + DAY_START
        if operator in ("=", ">=", ">"):
            first = start + timedelta(days=1) if operator == ">" else start
            bounds.append(("date_archived", ">=", fields.Datetime.to_string(first - DAY_MARGIN)))
        if operator in ("=", "<=", "<"):
            last = start - timedelta(days=1) if operator == "<" else start
            bounds.append(
                ("date_archived", "<", fields.Datetime.to_string(last + timedelta(days=1) + DAY_MARGIN))
            )
    return bounds


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

    def _where_calc(self, domain, active_test=True):
        bounds = archived_bounds(domain or [])
        if bounds:
            domain = expression.AND([domain, bounds])
        return super()._where_calc(domain, active_test)

    def _silo_values(self, row="h"):
        return ",\n                ".join(
            "(%d, '%s', COALESCE(%s.consumption_%s, 0), COALESCE(%s.actual_consumption_%s, 0))"
            % (seq, tag, row, tag, row, tag)
            for seq, (tag, _silo_id, _label) in enumerate(SILOS, start=1)
        )

    def _init_silo_lines(self):
        """LINES: a history record's silos (planned or actual not 0), one row
        each, written by a trigger as the record is inserted (or its kg
        changed by SQL): the view reads them instead of unpivoting 15 silos
        of every record per query.  Filled from the history once, when made."""
        cr = self.env.cr
        cr.execute("SELECT to_regclass(%s)", [LINES])
        made = cr.fetchone()[0] is None
        cr.execute(  # pylint: disable=sql-injection
            """
            CREATE TABLE IF NOT EXISTS %(lines)s (
                history_id integer NOT NULL REFERENCES mo_history (id) ON DELETE CASCADE,
                seq integer NOT NULL,
                tag varchar NOT NULL,
                planned numeric NOT NULL,
                actual numeric NOT NULL,
                PRIMARY KEY (history_id, seq)
            )
            """
            % {"lines": LINES}
        )

        def rows(row):
            return (
                "SELECT %s.id, s.seq, s.tag, s.planned, s.actual FROM (VALUES %s)"
                " AS s (seq, tag, planned, actual) WHERE s.planned <> 0 OR s.actual <> 0"
                % (row, self._silo_values(row))
            )

        kg_columns = ", ".join(
            "%s%s" % (prefix, tag)
            for prefix in ("consumption_", "actual_consumption_")
            for tag, _i, _l in SILOS
        )
        cr.execute(  # pylint: disable=sql-injection
            """
            CREATE OR REPLACE FUNCTION %(lines)s_write() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    DELETE FROM %(lines)s WHERE history_id = OLD.id;
                END IF;
                INSERT INTO %(lines)s (history_id, seq, tag, planned, actual) %(rows)s;
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS %(lines)s_write ON mo_history;
            CREATE TRIGGER %(lines)s_write AFTER INSERT OR UPDATE OF %(kg_columns)s ON mo_history
                FOR EACH ROW EXECUTE FUNCTION %(lines)s_write();
            """
            % {"lines": LINES, "rows": rows("NEW"), "kg_columns": kg_columns}
        )
        if made:
            cr.execute(  # pylint: disable=sql-injection
                "INSERT INTO %s (history_id, seq, tag, planned, actual) SELECT l.* FROM mo_history h"
                " CROSS JOIN LATERAL (%s) AS l" % (LINES, rows("h"))
            )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self._init_silo_lines()
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
            -- The plant's time zone once per company (not a subquery per row).
            JOIN (SELECT c.id, %(tz)s AS tz FROM res_company c) AS plant ON plant.id = h.company_id
            JOIN %(lines)s s ON s.history_id = h.id
            LEFT JOIN mrp_production mp ON mp.id = h.production_id
            LEFT JOIN scada_silo silo ON silo.plc_id = h.plc_id AND silo.tag = s.tag
            -- The first BoM line (sequence, id) of each BoM and silo: one hash join, not a lookup per row.
            LEFT JOIN (
                SELECT DISTINCT ON (bl.bom_id, bl.scada_silo_id) bl.bom_id, bl.scada_silo_id, bl.product_id
                FROM mrp_bom_line bl
                WHERE bl.scada_silo_id IS NOT NULL
                ORDER BY bl.bom_id, bl.scada_silo_id, bl.sequence, bl.id
            ) AS line ON line.bom_id = mp.bom_id AND line.scada_silo_id = silo.id
            )
        """ % {
            "table": self._table,
            "tz": sql_plant_tz("c.id"),
            "date": sql_plant_day("h.date_archived", "plant.tz"),
            "lines": LINES,
        }
        self.env.cr.execute(query)  # pylint: disable=sql-injection
