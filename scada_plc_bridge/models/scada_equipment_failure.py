from odoo import _, api, fields, models


class ScadaEquipmentFailure(models.Model):
    """An equipment failure the PLC reported in its failure mailbox
    (D8000-D8022): open until the PLC reports the equipment's recovery, a
    person marks it resolved, or (with Maintenance) its request is done.
    Recorded by services/task_failures.py; never removed by the retention."""

    _name = "scada.equipment.failure"
    _description = "SCADA equipment failure"
    _inherit = ["mail.thread"]
    _order = "date_start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    equipment_id = fields.Many2one("scada.equipment", ondelete="set null", index=True)
    equipment_code = fields.Char(
        string="PLC Equipment Code",
        readonly=True,
        help="As the PLC reported it (kept when no equipment has it).",
    )
    info = fields.Char(readonly=True, help="What the PLC reported, e.g. MOTOR_FAILURE, SENSOR_ERROR.")
    date_plc = fields.Datetime(
        string="PLC Time", readonly=True, help="The PLC's timestamp, read in the PLC's time zone."
    )
    date_received = fields.Datetime(string="Received", readonly=True, default=fields.Datetime.now)
    date_start = fields.Datetime(
        string="Start", compute="_compute_date_start", store=True, help="The PLC's time, else when received."
    )
    batch_id = fields.Many2one("mo.batch", readonly=True, ondelete="set null")
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
    )
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    date_resolved = fields.Datetime(string="Resolved On", readonly=True)
    resolution = fields.Char(readonly=True, help="How it ended: the PLC's recovery, a person, maintenance.")
    duration = fields.Float(
        string="Duration (h)",
        compute="_compute_duration",
        store=True,
        group_operator="sum",
        help="From the start to the end of a resolved failure, any length.",
    )
    duration_text = fields.Char(string="Down For", compute="_compute_duration_text")
    content_hash = fields.Char(readonly=True, help="The event's identity: it is recorded once.")
    recovery_hash = fields.Char(readonly=True, help="The identity of the PLC's recovery event that ended it.")
    raw_words = fields.Char(
        readonly=True, help="The mailbox's words as read, when they could not be decoded."
    )
    decode_errors = fields.Text(readonly=True)
    company_id = fields.Many2one(related="plc_id.company_id", store=True)

    _sql_constraints = [
        (
            "content_hash_plc_uniq",
            "unique(plc_id, content_hash)",
            "A failure event of a PLC is recorded once.",
        )
    ]

    @api.depends("equipment_id.name", "equipment_code", "info")
    def _compute_name(self):
        for failure in self:
            failure.name = "%s: %s" % (
                failure.equipment_id.name or failure.equipment_code or _("unknown equipment"),
                failure.info or _("no information"),
            )

    @api.depends("date_plc", "date_received")
    def _compute_date_start(self):
        for failure in self:
            failure.date_start = failure.date_plc or failure.date_received

    @api.depends("date_start", "date_resolved")
    def _compute_duration(self):
        for failure in self:
            failure.duration = self.env["scada.task.failures"]._hours(
                failure.date_start, failure.date_resolved
            )

    def _compute_duration_text(self):
        for failure in self:
            failure.duration_text = self.env["scada.task.failures"]._duration_text(failure)

    def action_resolve(self):
        return self.env["scada.task.failures"]._resolve(self, _("resolved by %s") % self.env.user.name)
