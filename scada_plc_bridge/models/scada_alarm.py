from odoo import api, fields, models
from odoo.tools.misc import format_datetime

KINDS = [
    ("plc_failure", "PLC reported a failure"),
    ("auto_cancel", "Auto-cancelled"),
    ("push_parked", "Odoo refuses to finish"),
    ("needs_review", "Held for review"),
    ("plc_silent", "PLC not answering"),
    ("slot_problem", "Unreadable result slot"),
    ("mo_refused", "MO the line cannot run"),
    ("batch_stalled", "Batch not advancing"),
    ("weighing_held", "Manual weighing held for review"),
    ("equipment_failure", "Equipment failure"),
    ("equipment_unknown", "Unknown equipment"),
    ("silo_negative", "Silo gave more than Odoo knew"),
    ("silo_low", "Silo below its low level"),
    ("lot_missing", "Material of no known lot"),
]


class ScadaAlarm(models.Model):
    """Something that went wrong on the line, kept until a person has seen
    it: raised (or counted again) by the task code, acknowledged from the
    board or the Alarms menu, with who and when."""

    _name = "scada.alarm"
    _description = "SCADA alarm"
    _order = "state, date_last desc, id desc"
    _rec_name = "reason"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    reason = fields.Text(required=True, readonly=True)
    batch_id = fields.Many2one("mo.batch", readonly=True, ondelete="set null")
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    mo_reference = fields.Char(string="MO", readonly=True)
    silo_id = fields.Many2one("scada.silo", readonly=True, index=True, ondelete="set null")
    date_first = fields.Datetime(
        string="First Seen", required=True, readonly=True, default=fields.Datetime.now
    )
    date_last = fields.Datetime(string="Last Seen", required=True, readonly=True, default=fields.Datetime.now)
    count = fields.Integer(default=1, readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("acknowledged", "Acknowledged"), ("cleared", "Cleared")],
        default="open",
        required=True,
        readonly=True,
        help="Cleared: its cause went away by itself (the PLC answers again, the slot is readable); "
        "kept in the alarm log.",
    )
    date_cleared = fields.Datetime(string="Cleared On", readonly=True)
    acknowledged_by_id = fields.Many2one("res.users", readonly=True)
    date_acknowledged = fields.Datetime(string="Acknowledged On", readonly=True)
    company_id = fields.Many2one(related="plc_id.company_id", store=True)

    @api.model
    def _raise(self, kind, plc, reason, batch=None, production=None, silo=None):
        """Raise an alarm, or count an open one of the same kind, PLC, MO and silo again."""
        production = production or (batch and batch.production_id) or self.env["mrp.production"]
        alarm = self.sudo().search(
            [
                ("state", "=", "open"),
                ("kind", "=", kind),
                ("plc_id", "=", plc.id),
                ("production_id", "=", production.id or False),
                ("silo_id", "=", silo.id if silo else False),
            ],
            limit=1,
        )
        now = fields.Datetime.now()
        if alarm:
            alarm.write({"count": alarm.count + 1, "date_last": now, "reason": reason})
            return alarm
        return self.sudo().create(
            {
                "kind": kind,
                "plc_id": plc.id,
                "reason": reason,
                "batch_id": batch.id if batch else False,
                "production_id": production.id or False,
                "mo_reference": production.name or (batch and batch.mo_reference) or False,
                "silo_id": silo.id if silo else False,
            }
        )

    @api.model
    def _clear(self, kind, plc, production=None, silo=None):
        """Alarms of this kind and PLC (and MO, and silo) whose cause is gone:
        off the board, kept in the log."""
        domain = [("state", "=", "open"), ("kind", "=", kind), ("plc_id", "=", plc.id)]
        if production is not None:
            domain.append(("production_id", "=", production.id))
        if silo is not None:
            domain.append(("silo_id", "=", silo.id))
        alarms = self.sudo().search(domain)
        alarms.write({"state": "cleared", "date_cleared": fields.Datetime.now()})
        return alarms

    @api.model
    def action_acknowledge_all(self):
        """Everything open that the reader may see, acknowledged at once."""
        return self.search([("state", "=", "open")]).action_acknowledge()

    def action_acknowledge(self):
        self.filtered(lambda alarm: alarm.state == "open").sudo().write(
            {
                "state": "acknowledged",
                "acknowledged_by_id": self.env.uid,
                "date_acknowledged": fields.Datetime.now(),
            }
        )
        return True

    @api.model
    def board_summary(self):
        """The open alarms, newest first, for the board's banner (in the
        reader's language; what the reader may read)."""
        return [
            {
                "id": alarm.id,
                "kind": dict(self._fields["kind"]._description_selection(self.env))[alarm.kind],
                "plc": alarm.plc_id.display_name,
                "mo": alarm.mo_reference or "",
                "production_id": alarm.production_id.id,
                "when": format_datetime(self.env, alarm.date_last, dt_format="short"),
                "reason": alarm.reason,
                "count": alarm.count,
            }
            for alarm in self.search([("state", "=", "open")], limit=20)
        ]
