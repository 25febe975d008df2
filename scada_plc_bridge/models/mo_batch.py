from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import ARCHIVE_CONTEXT_KEY, SILO_TAGS, plc_batch_word
from ..plclib.handshake import SlotIdentity
from ..transaction import lock_rows
from .scada_batch_data import silo_float_fields


class MoBatch(models.Model):
    """The active queue: one batch per MO sent to a PLC slot."""

    _name = "mo.batch"
    _inherit = ["scada.batch.data", "mail.thread", "mail.activity.mixin"]
    _description = "SCADA batch queue"
    _order = "plc_id, slot, id"
    _rec_name = "mo_reference"

    production_id = fields.Many2one(required=True, ondelete="restrict")
    plc_id = fields.Many2one(required=True, ondelete="restrict")
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent to PLC"),
            ("running", "Running"),
            ("finished", "Finished"),
            ("needs_review", "Needs Review"),
            ("push_failed", "Failed to Push"),
            ("plc_failure", "PLC Failure"),
        ],
        compute="_compute_state",
        store=True,
        group_expand="_expand_states",
        help="Where the batch is: a kanban column.",
    )
    plc_write_state = fields.Selection(
        [("pending", "Pending"), ("written", "Written"), ("failed", "Failed")],
        string="PLC Write",
        default="pending",
        readonly=True,
        tracking=True,
    )
    date_plc_write = fields.Datetime(string="Written to PLC", readonly=True)
    push_state = fields.Selection(
        [("none", "Not Yet"), ("failed", "Failed"), ("parked", "Waiting for Retry")],
        string="Odoo Push",
        default="none",
        readonly=True,
        tracking=True,
        help="Waiting for retry: Odoo refused too often; it waits for an operator's Retry push.",
    )
    date_push_failed = fields.Datetime(string="Failing Since", readonly=True)
    retry_count = fields.Integer(string="Push Retries", readonly=True)
    review_state = fields.Selection(
        [("none", "Not Needed"), ("needs_review", "Needs Review"), ("accepted", "Accepted")],
        string="Review",
        default="none",
        readonly=True,
        tracking=True,
        help="Needs review: the PLC's figures are outside the plausibility limits; nothing reaches "
        "stock until a SCADA manager accepts them (or resets the batch).",
    )
    review_reasons = fields.Text(string="Why Held", readonly=True)
    cancel_note = fields.Text(
        readonly=True,
        copy=False,
        help="A cancel asked by an operator: Odoo first takes the recipe back from the PLC's recipe slot; "
        "a batch the line runs already is recorded when the PLC reports on it.",
    )
    cancel_waits_for_plc = fields.Boolean(
        string="Cancel Waits for the PLC",
        readonly=True,
        copy=False,
        help="The PLC had taken the recipe: the line cannot be stopped from Odoo, so what the PLC "
        "reports is recorded (dosed material reaches stock) and the batch archived then.",
    )
    replaces_plc_identity = fields.Char(
        readonly=True,
        copy=False,
        help="After a reset: the batch number and reference this batch had in the PLC before "
        "(batch_no:reference), so its untaken recipe can be replaced.",
    )
    plc_lost_batch = fields.Boolean(
        string="Lost by the PLC",
        readonly=True,
        copy=False,
        help="The PLC's result slot no longer shows this batch although it was dosing (PLC memory cleared, "
        "a cold start): the PLC does not hold it any more, so it may be reset.",
    )
    can_reset = fields.Boolean(compute="_compute_can_reset")
    date_last_progress = fields.Datetime(
        string="Last Progress",
        readonly=True,
        copy=False,
        help="When the PLC's figures of this batch last changed.",
    )
    stalled = fields.Boolean(
        string="Not Advancing",
        readonly=True,
        copy=False,
        help="The PLC answers, but this batch has not advanced for longer than its recipe takes.",
    )
    last_error = fields.Text(readonly=True, tracking=True)
    plc_read_error = fields.Text(
        string="PLC Read Problem", readonly=True, help="Why the last read of this batch's slot was not used."
    )
    plc_finished_signature = fields.Char(
        readonly=True, copy=False, help="What the PLC reported at the first 'finished' read, to confirm it."
    )
    product_id = fields.Many2one(related="production_id.product_id", string="Product")
    plc_heartbeat = fields.Selection(related="plc_id.heartbeat")
    is_stale = fields.Boolean(
        string="Stale",
        compute="_compute_is_stale",
        search="_search_is_stale",
        help="Sent or running, and no PLC read for longer than the stale setting.",
    )
    locals().update(
        silo_float_fields(
            "deviation_",
            "Deviation %s (kg)",
            "Actual minus planned consumption of %s.",
            compute="_compute_deviations",
        )
    )
    progress = fields.Float(
        compute="_compute_progress", help="Actual weight against the planned quantity, in %."
    )
    manual_weighing_ids = fields.One2many("scada.manual.weighing", "batch_id", string="Manual Weighings")
    last_read_age = fields.Char(
        string="Since Last PLC Read",
        compute="_compute_last_read_age",
        help="Time since the PLC last reported.",
    )

    _sql_constraints = [
        ("production_uniq", "unique(production_id)", "A manufacturing order is queued once."),
        ("batch_no_uniq", "unique(batch_no)", "Batch numbers are unique."),
        ("plc_ref_uniq", "unique(plc_id, plc_ref)", "The PLC reference of a batch is unique on its PLC."),
        ("slot_uniq", "unique(plc_id, slot)", "A PLC slot holds one batch."),
    ]

    @api.depends(
        "plc_write_state",
        "last_read_from_plc",
        "status_manufacturing",
        "status_operation",
        "push_state",
        "review_state",
    )
    def _compute_state(self):
        for batch in self:
            if batch.status_operation:
                batch.state = "plc_failure"
            elif batch.status_manufacturing and batch.review_state == "needs_review":
                batch.state = "needs_review"
            elif batch.status_manufacturing:
                batch.state = "push_failed" if batch.push_state != "none" else "finished"
            elif batch.last_read_from_plc:
                batch.state = "running"
            elif batch.plc_write_state == "written":
                batch.state = "sent"
            else:
                batch.state = "queued"

    def _expand_states(self, states, domain, order):
        return [key for key, _label in self._fields["state"].selection]

    @api.depends(
        "actual_weight_quantity_finished_goods",
        "planned_quantity",
        *["actual_consumption_" + t for t in SILO_TAGS],
    )
    def _compute_progress(self):
        for batch in self:
            actual = batch.actual_weight_quantity_finished_goods or sum(
                batch["actual_consumption_" + tag] for tag in SILO_TAGS
            )
            batch.progress = (
                min(100.0, 100.0 * actual / batch.planned_quantity) if batch.planned_quantity else 0.0
            )

    @api.depends(*["consumption_" + t for t in SILO_TAGS], *["actual_consumption_" + t for t in SILO_TAGS])
    def _compute_deviations(self):
        for batch in self:
            for tag in SILO_TAGS:
                batch["deviation_" + tag] = batch["actual_consumption_" + tag] - batch["consumption_" + tag]

    @api.model
    def _stale_before(self):
        return fields.Datetime.now() - timedelta(
            minutes=self.env["scada.settings"]._get("health_stale_minutes")
        )

    @api.depends("state", "last_read_from_plc", "date_plc_write")
    def _compute_is_stale(self):
        stale_before = self._stale_before()
        for batch in self:
            batch.is_stale = batch.state in ("sent", "running") and (
                (batch.last_read_from_plc or batch.date_plc_write or stale_before) < stale_before
            )

    @api.model
    def _search_is_stale(self, operator, value):
        stale = [
            ("state", "in", ("sent", "running")),
            "|",
            ("last_read_from_plc", "<", self._stale_before()),
            "&",
            ("last_read_from_plc", "=", False),
            ("date_plc_write", "<", self._stale_before()),
        ]
        if (operator == "=") == bool(value):
            return stale
        return [("id", "not in", self.search(stale).ids)]

    @api.depends("last_read_from_plc")
    def _compute_last_read_age(self):
        now = fields.Datetime.now()
        for batch in self:
            if not batch.last_read_from_plc:
                batch.last_read_age = _("never")
                continue
            minutes = int((now - batch.last_read_from_plc).total_seconds() // 60)
            if minutes < 1:
                batch.last_read_age = _("just now")
            elif minutes < 120:
                batch.last_read_age = _("%(minutes)s min ago") % {"minutes": minutes}
            else:
                batch.last_read_age = _("%(hours)s h ago") % {"hours": minutes // 60}

    def write(self, vals):
        """What the PLC reported and where the batch is are the bridge's to
        write (the runner and the operations run as superuser); users change
        a batch only through the operations (retry, reset, cancel), never by
        writing its fields, whatever route they take (as queue_job protects
        its jobs).  The chatter's own fields stay open."""
        if not self.env.su:
            # Following and activities stay open; the chatter's messages are the batch's record.
            protected = [
                name
                for name in vals
                if not name.startswith(("message_", "activity_"))
                or name in ("message_ids", "message_main_attachment_id")
            ]
            if protected:
                raise AccessError(
                    _("Batches are changed by the PLC and the operations only, not by writing %s.")
                    % ", ".join(sorted(protected))
                )
        self._lock()
        return super().write(vals)

    def _lock(self):
        """Row locks on these batches, before a write of them or a link to them
        (a foreign key's check locks the row too).  The runner, the crons and
        the buttons write the same rows: a concurrent change shows here, as a
        quiet retry of the whole transaction, not as a failed query."""
        lock_rows(self.env.cr, self._table, self.ids)

    @api.model_create_multi
    def create(self, vals_list):
        """Batches are made by Task 1 from confirmed MOs (the runtime runs as
        superuser): a user who could create one could make up a batch the
        PLC never ran, and finish its MO with figures of their own."""
        if not self.env.su:
            raise AccessError(_("Batches are made by the bridge from confirmed manufacturing orders only."))
        return super().create(vals_list)

    def unlink(self):
        """Only the archive removes a batch (its history record holds it
        then): a batch deleted by hand would leave what the PLC doses
        unbooked and queue its MO again."""
        if not self.env.context.get(ARCHIVE_CONTEXT_KEY):
            raise UserError(
                _(
                    "Batches leave the queue only through the bridge (finished, or cancelled with the "
                    "Cancel button), never by deleting them: %s"
                )
                % ", ".join(self.mapped("mo_reference"))
            )
        return super().unlink()

    def _post_note(self, body):
        """A chatter note from the bridge, authored by OdooBot, so that it
        needs no e-mail address of the user or the cron's user."""
        author = self.env.ref("base.partner_root")
        for batch in self:
            batch.sudo().message_post(body=body, author_id=author.id, subtype_xmlid="mail.mt_note")

    def _plc_identity(self):
        """How the PLC's slots name this batch: BATCH word and NO-MO text."""
        self.ensure_one()
        return SlotIdentity(plc_batch_word(self.batch_no), self.plc_ref)

    def _replaced_identity(self):
        self.ensure_one()
        if not self.replaces_plc_identity:
            return None
        batch_no, _sep, reference = self.replaces_plc_identity.partition(":")
        return SlotIdentity(plc_batch_word(int(batch_no)), reference)

    # -- buttons: each hands off to the operations (services/batch_operations.py) --
    def action_send_to_plc(self):
        return self.env["scada.batch.operations"]._send_to_plc(self)

    def action_retry_push(self):
        return self.env["scada.batch.operations"]._retry_push(self)

    def action_accept_review(self):
        return self.env["scada.batch.operations"]._accept_review(self)

    def action_finish_accepted(self):
        return self.env["scada.batch.operations"]._finish_accepted(self)

    @api.depends("state", "cancel_note", "replaces_plc_identity", "plc_write_state", "plc_lost_batch")
    def _compute_can_reset(self):
        operations = self.env["scada.batch.operations"]
        for batch in self:
            batch.can_reset = batch.state != "queued" and not operations._reset_refusal(batch)

    def action_reset(self):
        return self.env["scada.batch.operations"]._reset(self)

    def action_cancel(self, notes=None):
        return self.env["scada.batch.operations"]._cancel(self, notes)
