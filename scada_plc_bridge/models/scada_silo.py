from odoo import fields, models

from ..const import SILOS


class ScadaSilo(models.Model):
    _name = "scada.silo"
    _description = "SCADA silo or liquid tank"
    _order = "plc_id, plc_silo_id"

    name = fields.Char(required=True, help="Name on the line, e.g. SILO A or LQ114.")
    code = fields.Char(required=True, help="Equipment code, e.g. silo101.")
    tag = fields.Selection(
        [(tag, label) for tag, _silo_id, label in SILOS],
        required=True,
        help="Which consumption fields of the PLC slot belong to this material point.",
    )
    plc_silo_id = fields.Integer(
        string="PLC ID", required=True, help="Id word the PLC reports for this material point (101-115)."
    )
    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    product_id = fields.Many2one(
        "product.product", string="Usual Product", help="The material it usually holds."
    )
    company_id = fields.Many2one(related="plc_id.company_id", store=True)
    active = fields.Boolean(default=True)
    max_deviation_percent = fields.Float(
        string="Max Deviation (%)", help="Plausibility limit of this silo; 0: the SCADA setting."
    )
    max_deviation_kg = fields.Float(
        string="Max Deviation (kg)", help="Plausibility limit of this silo; 0: the SCADA setting."
    )
    accuracy_warning_percent = fields.Float(
        string="Accuracy Warning Above (%)", help="Accuracy grade limit of this silo; 0: the SCADA setting."
    )
    accuracy_critical_percent = fields.Float(
        string="Accuracy Critical Above (%)", help="Accuracy grade limit of this silo; 0: the SCADA setting."
    )

    _sql_constraints = [
        ("tag_plc_uniq", "unique(plc_id, tag)", "Each material point appears once per PLC."),
    ]
