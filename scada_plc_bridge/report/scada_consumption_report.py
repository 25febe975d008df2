from datetime import datetime, time, timedelta

from odoo import fields, models, tools
from odoo.osv import expression

from ..const import KG_DIGITS, SILOS
from ..models.mo_history import HISTORY_STATUSES
from ..rules import DAY_START, TOLERANCE, plant_day_start, sql_plant_day, sql_plant_tz

# The history's silo lines (table and trigger of ScadaConsumptionReport._init_silo_lines).
LINES = "mo_history_silo_line"
# A plant's day d holds UTC instants within [d - 1 day, d + 2 days) (+ DAY_START)
# whatever the plant's time zone (offsets are within -15 h .. +15 h).
DAY_MARGIN = timedelta(days=1)


def _top_level_leaf_indexes(domain):
    """The indexes of a normalized domain's leaves that all its records
    satisfy (those under '&' only, from the root)."""
    indexes = []

    def walk(index, conjunct):
        item = domain[index]
        if item in (expression.AND_OPERATOR, expression.OR_OPERATOR):
            index = walk(index + 1, conjunct and item == expression.AND_OPERATOR)
            return walk(index, conjunct and item == expression.AND_OPERATOR)
        if item == expression.NOT_OPERATOR:
            return walk(index + 1, False)
        if conjunct and expression.is_leaf(item):
            indexes.append(index)
        return index + 1

    if domain:
        walk(0, True)
    return indexes


def _day_leaves(domain):
    """(index, operator, day) of the normalized domain's top-level leaves on
    the plant's day (date) that compare it with a day."""
    found = []
    for index in _top_level_leaf_indexes(domain):
        name, operator, value = domain[index]
        if name != "date" or operator not in ("=", ">=", ">", "<=", "<") or not value:
            continue
        try:
            found.append((index, operator, fields.Date.to_date(value)))
        except (TypeError, ValueError):
            continue
    return found


def archived_bounds(domain):
    """Leaves on date_archived implied by the domain's leaves on the plant's
    day (date), whatever the companies' time zones: the same records, and
    the date_archived index can find them."""
    bounds = []
    for _index, operator, day in _day_leaves(expression.normalize_domain(domain)):
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


def archived_range(domain, tz_name):
    """The domain with its top-level leaves on the plant's day replaced by
    the same condition on date_archived, for a plant in the time zone
    tz_name: the day of each row is not figured at all (a year is a million
    rows).  A plant's day only moves forward with the UTC clock (its clock
    changes do not step back across DAY_START), so day >= d is
    date_archived >= the first instant of d."""
    domain = expression.normalize_domain(domain)
    one_day = timedelta(days=1)
    since = {">=": 0, ">": 1, "=": 0}
    until = {"<=": 1, "<": 0, "=": 1}

    def first_instant(day):
        return fields.Datetime.to_string(plant_day_start(day, tz_name))

    for index, operator, day in reversed(_day_leaves(domain)):
        leaves = []
        if operator in since:
            leaves.append(("date_archived", ">=", first_instant(day + since[operator] * one_day)))
        if operator in until:
            leaves.append(("date_archived", "<", first_instant(day + until[operator] * one_day)))
        domain[index : index + 1] = [expression.AND_OPERATOR] * (len(leaves) - 1) + leaves
    return domain


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
        domain = domain or []
        self.env.cr.execute("SELECT DISTINCT %s FROM res_company c" % sql_plant_tz("c.id"))  # pylint: disable=sql-injection
        zones = [tz for (tz,) in self.env.cr.fetchall()]
        if len(zones) == 1:  # one plant's time zone: the day is an exact range of date_archived
            domain = archived_range(domain, zones[0])
        else:
            bounds = archived_bounds(domain)
            if bounds:
                domain = expression.AND([domain, bounds])
        return super()._where_calc(domain, active_test)

    def _read_group_raw(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """Groups by a many2one (material, product, PLC...) put in the
        comodel's order here, not in SQL: Odoo's SQL order joins the
        comodel (product and its template) onto every row and groups by its
        order columns too, three times the grouping itself over a year of
        batches.  The groups are few: the same order, from the grouped rows."""
        groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
        grouped = [name.split(":")[0] for name in (groupbys[:1] if lazy else groupbys)]
        relations = [name for name in grouped if self._fields[name].type == "many2one"]
        if orderby or limit or offset or not relations:
            return super()._read_group_raw(domain, fields, groupby, offset, limit, orderby, lazy)
        # "id" orders by the groups' min(id): no join (the order is set below).
        groups = super()._read_group_raw(domain, fields, groupby, offset, limit, "id", lazy)
        keys = groupbys[:1] if lazy else groupbys
        ranks = {}
        for name in relations:
            ids = {
                group[key][0] for group in groups for key in keys if key.split(":")[0] == name and group[key]
            }
            ordered = (
                self.env[self._fields[name].comodel_name]
                .with_context(active_test=False)
                .search([("id", "in", list(ids))])
            )
            ranks[name] = {record_id: rank for rank, record_id in enumerate(ordered.ids)}

        def sort_key(group):
            key = []
            for name in keys:
                value = group[name]
                field = name.split(":")[0]
                if not value:  # empty last, as PostgreSQL orders NULL
                    key.append((True, 0))
                elif field in ranks:
                    key.append((False, ranks[field].get(value[0], len(ranks[field]))))
                else:  # a date group is ("from/to", label)
                    key.append((False, value[0] if isinstance(value, tuple) else value))
            return key

        return sorted(groups, key=sort_key)

    def _silo_values(self, row="h"):
        return ",\n                ".join(
            "(%d, '%s', COALESCE(%s.consumption_%s, 0), COALESCE(%s.actual_consumption_%s, 0))"
            % (seq, tag, row, tag, row, tag)
            for seq, (tag, _silo_id, _label) in enumerate(SILOS, start=1)
        )

    def _init_silo_lines(self):
        """LINES: a history record's silos (planned or actual not 0), one row
        each, written by a trigger as the record is inserted (or changed by
        SQL): the view reads them instead of unpivoting 15 silos of every
        record per query.  Each line keeps what the report filters and groups
        on (the record's day, PLC, company, status, and the silo and material
        as they were when the batch was archived: what was dosed, whatever
        the silo holds later), so a year by material reads the lines alone.
        Filled from the history when made, or remade when its columns change."""
        cr = self.env.cr
        cr.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [LINES, "material_id"],
        )
        if not cr.fetchone()[0]:  # new, or of a version without the report's columns
            cr.execute("DROP TABLE IF EXISTS %s" % LINES)  # pylint: disable=sql-injection
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
                date_archived timestamp,
                plc_id integer,
                company_id integer,
                status varchar,
                silo_id integer,
                material_id integer,
                PRIMARY KEY (history_id, seq)
            );
            CREATE INDEX IF NOT EXISTS %(lines)s_date_archived_index ON %(lines)s (date_archived);
            """
            % {"lines": LINES}
        )

        def rows(row):
            # The material: the first BoM line (sequence, id) of the MO's BoM on that silo, else the silo's.
            return (
                "SELECT %(row)s.id, s.seq, s.tag, s.planned, s.actual, %(row)s.date_archived, %(row)s.plc_id,"
                " %(row)s.company_id, %(row)s.status, silo.id, COALESCE(line.product_id, silo.product_id)"
                " FROM (VALUES %(values)s) AS s (seq, tag, planned, actual)"
                " LEFT JOIN scada_silo silo ON silo.plc_id = %(row)s.plc_id AND silo.tag = s.tag"
                " LEFT JOIN LATERAL (SELECT bl.product_id FROM mrp_bom_line bl"
                " JOIN mrp_production mp ON mp.bom_id = bl.bom_id"
                " WHERE mp.id = %(row)s.production_id AND bl.scada_silo_id = silo.id"
                " ORDER BY bl.sequence, bl.id LIMIT 1) AS line ON true"
                " WHERE s.planned <> 0 OR s.actual <> 0" % {"row": row, "values": self._silo_values(row)}
            )

        columns = ["date_archived", "plc_id", "company_id", "status", "production_id"]
        columns += [
            "%s%s" % (prefix, tag)
            for prefix in ("consumption_", "actual_consumption_")
            for tag, _i, _l in SILOS
        ]
        cr.execute(  # pylint: disable=sql-injection
            """
            CREATE OR REPLACE FUNCTION %(lines)s_write() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    DELETE FROM %(lines)s WHERE history_id = OLD.id;
                END IF;
                INSERT INTO %(lines)s %(rows)s;
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS %(lines)s_write ON mo_history;
            CREATE TRIGGER %(lines)s_write AFTER INSERT OR UPDATE OF %(columns)s ON mo_history
                FOR EACH ROW EXECUTE FUNCTION %(lines)s_write();
            """
            % {"lines": LINES, "rows": rows("NEW"), "columns": ", ".join(columns)}
        )
        if made:
            cr.execute(  # pylint: disable=sql-injection
                "INSERT INTO %s SELECT l.* FROM mo_history h CROSS JOIN LATERAL (%s) AS l"
                % (LINES, rows("h"))
            )
            cr.execute("ANALYZE %s" % LINES)  # pylint: disable=sql-injection

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self._init_silo_lines()
        # The silo tags and columns come from SILOS, the day from rules (constants, not input).
        # Left joins on unique keys: a query that needs no column of theirs skips them.
        query = """
            CREATE OR REPLACE VIEW %(table)s AS (
            SELECT
                s.history_id * 100 + s.seq AS id,
                s.history_id,
                %(date)s AS date,
                s.date_archived,
                s.plc_id,
                h.mo_reference,
                h.production_id,
                mp.product_id,
                s.tag AS silo_tag,
                s.silo_id,
                s.material_id,
                s.planned AS planned_kg,
                s.actual AS actual_kg,
                s.actual - s.planned AS deviation_kg,
                CASE WHEN s.planned <> 0 THEN (s.actual - s.planned) * 100.0 / s.planned END
                    AS deviation_percent,
                s.status,
                h.status_operation,
                s.company_id
            FROM %(lines)s s
            -- The plant's time zone once per company (not a subquery per row).
            LEFT JOIN (SELECT c.id, %(tz)s AS tz FROM res_company c) AS plant ON plant.id = s.company_id
            LEFT JOIN mo_history h ON h.id = s.history_id
            LEFT JOIN mrp_production mp ON mp.id = h.production_id
            )
        """ % {
            "table": self._table,
            "tz": sql_plant_tz("c.id"),
            "date": sql_plant_day("s.date_archived", "plant.tz"),
            "lines": LINES,
        }
        self.env.cr.execute(query)  # pylint: disable=sql-injection
