from odoo import fields, models, tools

from ..models.mo_history import HISTORY_STATUSES
from ..models.scada_batch_data import DEFAULT_TOLERANCE_PERCENT, KG_DIGITS, SILOS, TOLERANCE_PARAM


class ScadaConsumptionReport(models.Model):
    """One row per archived batch and silo it used: what a supervisor sums
    (kg per material per day), read straight from mo.history."""

    _name = "scada.consumption.report"
    _description = "SCADA consumption per material"
    _auto = False
    _order = "date_archived desc, id"
    _rec_name = "mo_id"

    date = fields.Date(readonly=True, help="Day the batch was archived, in the plant's time zone.")
    date_archived = fields.Datetime(string="Archived On", readonly=True)
    history_id = fields.Many2one("mo.history", string="Batch", readonly=True)
    plc_id = fields.Many2one("scada.plc", string="PLC", readonly=True)
    mo_id = fields.Char(string="MO", readonly=True)
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
    is_within_tolerance = fields.Boolean(
        string="Within Tolerance",
        readonly=True,
        help="The deviation is within the consumption tolerance of the SCADA settings.",
    )
    status = fields.Selection(HISTORY_STATUSES, readonly=True)
    status_operation = fields.Boolean(string="PLC Failure", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    def _silo_values(self):
        return ",\n                ".join(
            "(%d, '%s', COALESCE(h.consumption_%s, 0), COALESCE(h.actual_consumption_%s, 0))"
            % (seq, tag, tag, tag)
            for seq, (tag, _silo_id, _label) in enumerate(SILOS, start=1)
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # The silo tags and columns come from SILOS (constants, not input).
        query = """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH tolerance AS (
                SELECT COALESCE(
                    (SELECT value::numeric FROM ir_config_parameter
                      WHERE key = '%(param)s' AND value ~ '^[0-9]+(\\.[0-9]+)?$'),
                    %(default)s) AS percent
            ), admin_tz AS (
                SELECT p.tz FROM ir_model_data d
                JOIN res_users u ON u.id = d.res_id
                JOIN res_partner p ON p.id = u.partner_id
                WHERE d.module = 'base' AND d.name = 'user_admin' AND d.model = 'res.users'
            )
            SELECT
                h.id * 100 + s.seq AS id,
                h.id AS history_id,
                (h.date_archived AT TIME ZONE 'UTC' AT TIME ZONE
                    COALESCE(NULLIF(cp.tz, ''), NULLIF((SELECT tz FROM admin_tz), ''), 'UTC'))::date AS date,
                h.date_archived,
                h.plc_id,
                h.mo_id,
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
                CASE WHEN s.planned <> 0
                    THEN abs(s.actual - s.planned) * 100.0 / s.planned <= tolerance.percent
                    ELSE s.actual = 0 END AS is_within_tolerance,
                h.status,
                h.status_operation,
                h.company_id
            FROM mo_history h
            CROSS JOIN tolerance
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
            LEFT JOIN res_company c ON c.id = h.company_id
            LEFT JOIN res_partner cp ON cp.id = c.partner_id
            WHERE s.planned <> 0 OR s.actual <> 0
            )
        """ % {
            "table": self._table,
            "param": TOLERANCE_PARAM,
            "default": DEFAULT_TOLERANCE_PERCENT,
            "silos": self._silo_values(),
        }
        self.env.cr.execute(query)  # pylint: disable=sql-injection
