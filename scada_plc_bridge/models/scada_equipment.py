from odoo import fields, models

KINDS = [
    ("silo", "Silo"),
    ("tank", "Liquid tank"),
    ("motor", "Motor"),
    ("mixer", "Mixer"),
    ("scale", "Scale station"),
    ("other", "Other"),
]


class ScadaEquipment(models.Model):
    """A piece of the line the PLC names in its failure events (D8000-D8007)."""

    _name = "scada.equipment"
    _description = "SCADA equipment"
    _order = "plc_id, kind, code"

    name = fields.Char(required=True)
    code = fields.Char(
        string="PLC Code",
        required=True,
        help="How the PLC names it in a failure event (ASCII, 16 characters), e.g. silo101, motor_pump_01.",
    )
    kind = fields.Selection(KINDS, required=True, default="other")
    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    silo_id = fields.Many2one("scada.silo", ondelete="set null", domain="[('plc_id', '=', plc_id)]")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(related="plc_id.company_id", store=True)
    failure_ids = fields.One2many("scada.equipment.failure", "equipment_id", string="Failures")
    failure_count = fields.Integer(string="Failures", compute="_compute_failure_stats")
    failure_mtbf = fields.Float(string="MTBF (h)", compute="_compute_failure_stats")
    failure_mttr = fields.Float(string="MTTR (h)", compute="_compute_failure_stats")

    _sql_constraints = [
        ("code_plc_uniq", "unique(plc_id, code)", "An equipment's PLC code must be unique on its PLC.")
    ]

    def _compute_failure_stats(self):
        self.env["scada.task.failures"]._compute_failure_stats(self, "equipment_id")

    def action_view_failures(self):
        return self.env["scada.task.failures"]._failures_action([("equipment_id", "in", self.ids)])
