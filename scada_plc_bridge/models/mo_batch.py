import json
import logging
import unicodedata
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero

from ..const import (
    KG_DIGITS,
    PLC_TEXT_CHARS,
    REVIEW_SUMMARY,
    SILO_TAGS,
    SILOS,
    plc_batch_word,
    plc_text,
)
from ..plclib import memory_map
from ..plclib.handshake import SlotIdentity
from ..runner.runner import cycle_plcs_not_polled
from ..runner.transaction import Transactions
from .mo_history import ARCHIVE_CONTEXT_KEY
from .scada_batch_data import silo_float_fields

_logger = logging.getLogger(__name__)


class MoBatch(models.Model):
    """The active queue: one batch per MO sent to a PLC slot."""

    _name = "mo.batch"
    _inherit = ["scada.batch.data", "mail.thread", "mail.activity.mixin"]
    _description = "SCADA batch queue"
    _order = "plc_id, slot, id"
    _rec_name = "mo_id"

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
        [("none", "Not Yet"), ("failed", "Failed"), ("parked", "Parked")],
        string="Odoo Push",
        default="none",
        readonly=True,
        tracking=True,
        help="Parked: failed too often; waits for an operator's Retry push.",
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
        help="A cancel asked by an operator: carried out by the PLC's poller, which first clears the "
        "WRITE slot; a batch the PLC runs already is recorded when the PLC reports on it.",
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
        help="The PLC's READ slot no longer shows this batch although it was dosing (PLC memory cleared, "
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
        "consumption",
        *["actual_consumption_" + t for t in SILO_TAGS],
    )
    def _compute_progress(self):
        for batch in self:
            actual = batch.actual_weight_quantity_finished_goods or sum(
                batch["actual_consumption_" + tag] for tag in SILO_TAGS
            )
            batch.progress = min(100.0, 100.0 * actual / batch.consumption) if batch.consumption else 0.0

    @api.depends(*["consumption_" + t for t in SILO_TAGS], *["actual_consumption_" + t for t in SILO_TAGS])
    def _compute_deviations(self):
        for batch in self:
            for tag in SILO_TAGS:
                batch["deviation_" + tag] = batch["actual_consumption_" + tag] - batch["consumption_" + tag]

    @api.model
    def _stale_before(self):
        return fields.Datetime.now() - timedelta(minutes=self._param("health_stale_minutes"))

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
        return super().write(vals)

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
                % ", ".join(self.mapped("mo_id"))
            )
        return super().unlink()

    def _post_note(self, body):
        """A chatter note from the bridge, authored by OdooBot, so that it
        needs no e-mail address of the user or the cron's user."""
        author = self.env.ref("base.partner_root")
        for batch in self:
            batch.sudo().message_post(body=body, author_id=author.id, subtype_xmlid="mail.mt_note")

    # -- Task 1's data: recipe and identity ---------------------------------------
    @api.model
    def _plc_ref_for(self, production, plc):
        """A reference the PLC can hold (16 ASCII characters) and unique
        among the PLC's batches: the MO name when it fits, else its end,
        where MO sequences keep the number."""
        ascii_name = unicodedata.normalize("NFKD", production.name).encode("ascii", "ignore").decode()
        ascii_name = "".join(char if 32 <= ord(char) < 127 else "?" for char in ascii_name)
        reference = ascii_name[-PLC_TEXT_CHARS:]
        if not self.search_count([("plc_id", "=", plc.id), ("plc_ref", "=", reference)]):
            return reference
        return ("%s#%d" % (ascii_name[-(PLC_TEXT_CHARS - 7) :], production.id))[-PLC_TEXT_CHARS:]

    @api.model
    def _values_from_production(self, production, plc, slot):
        kg = self.env.ref("uom.product_uom_kgm")
        values = {
            "batch_no": int(self.env["ir.sequence"].next_by_code("mo.batch")),
            "mo_id": production.name,
            "plc_ref": self._plc_ref_for(production, plc),
            "production_id": production.id,
            "plc_id": plc.id,
            "equipment": plc.code,
            "slot": slot,
            "finished_goods": production.product_id.display_name,
            "consumption": production.product_uom_id._compute_quantity(production.product_qty, kg),
            "company_id": production.company_id.id,
        }
        for move in production.move_raw_ids.filtered(lambda m: m.state != "cancel"):
            silo = move.bom_line_id.scada_silo_id
            if silo:
                key = "consumption_" + silo.tag
                values[key] = values.get(key, 0.0) + move.product_uom._compute_quantity(
                    move.product_uom_qty, kg
                )
        return values

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

    def _to_plc_values(self):
        """The recipe as the WRITE slot's fields (handshake 0: new recipe)."""
        self.ensure_one()
        silos = {silo.tag: silo.plc_silo_id for silo in self.plc_id.silo_ids}
        values = {
            "batch_no": plc_batch_word(self.batch_no),
            "mo_id": self.plc_ref,
            "bom": plc_text(self.production_id.bom_id.code or self.production_id.bom_id.display_name),
            "finished_goods": plc_text(self.finished_goods),
            "quantity": self.consumption,
            "status_read_data": False,
        }
        for tag, silo_id, _label in SILOS:
            values[memory_map.silo_id_key(tag)] = silos.get(tag, silo_id)
            values["consumption_" + tag] = self["consumption_" + tag]
        return values

    # -- Task 2's data: what the PLC reports -----------------------------------------
    def _record_plc_problem(self, problem):
        if not self:
            return
        self.ensure_one()
        if self.plc_read_error != problem:
            self.write({"plc_read_error": problem})

    def _apply_plc_reading(self, reading, now):
        """Take a valid READ slot into this batch.  Returns (result, changed):
        result is "finished" when the PLC's finish is confirmed now, "failed"
        when the PLC reports a failure (0 -> 1), else None; changed says
        whether the batch shows anything new.  A finished batch is never touched
        again; 'finished' is taken only when two reads agree, so a torn read
        of a value the PLC was still writing cannot finish an MO."""
        self.ensure_one()
        reported = reading.fields
        if self.status_manufacturing or self.status_operation:
            return None, False  # the result is recorded; acknowledging it is Task 2's
        values = {"actual_consumption_" + tag: reported["actual_consumption_" + tag] for tag in SILO_TAGS}
        values["actual_weight_quantity_finished_goods"] = reported["actual_weight_quantity_finished_goods"]
        values["plc_read_error"] = False  # the slot is readable again
        values["plc_lost_batch"] = False
        result = None
        self._mark_read(now)
        if reported["status_operation"]:
            values.update(status_operation=True)
            result = "failed"
            _logger.warning("[TASK 2] %s: %s failed on the PLC", self.equipment, self.mo_id)
        elif reported["status_manufacturing"]:
            signature = json.dumps(reported, sort_keys=True, default=str)
            if self.plc_finished_signature == signature:
                values.update(status_manufacturing=True, status_read_data=True)
                result = "finished"
                _logger.info("[TASK 2] %s: %s finished on the PLC", self.equipment, self.mo_id)
            else:
                values["plc_finished_signature"] = signature
        changed = self._write_changes(values, now)
        if result == "finished" and self.review_state != "accepted":
            reasons = self.env["scada.plausibility"]._reasons(self)
            if reasons:
                self._hold_for_review(reasons)
                return None, True
        return result, changed

    def _hold_for_review(self, reasons):
        """Implausible figures: kept in the queue, nothing posted, a manager asked."""
        text = "\n".join(reasons)
        self.write({"review_state": "needs_review", "review_reasons": text})
        _logger.warning("[TASK 2] %s: %s held for review: %s", self.equipment, self.mo_id, "; ".join(reasons))
        self._post_note(_("Held for review, nothing posted to stock:\n%s") % text)
        self.env["scada.alarm"]._raise("needs_review", self.plc_id, text, batch=self)
        managers = self.env.ref("scada_plc_bridge.group_scada_manager").users.filtered(lambda u: not u.share)
        user = self.plc_id.responsible_user_id or managers[:1] or self.env.user
        self.activity_schedule(
            activity_type_id=self.env.ref("scada_plc_bridge.mail_activity_type_scada_health").id,
            summary=REVIEW_SUMMARY,
            note=text,
            user_id=user.id,
        )

    def _write_changes(self, values, now):
        """Write what differs from the last read; the time of the read itself
        is set for the whole poll at once (`_mark_read`)."""
        changed = {}
        for name, value in values.items():
            field = self._fields[name]
            if field.type == "float":
                if float_compare(self[name], value, precision_digits=KG_DIGITS[1]):
                    changed[name] = value
            elif (self[name] or False) != (value or False):
                changed[name] = value
        if changed:
            self.write(dict(changed, date_last_progress=now))
        return bool(changed)

    def _mark_read(self, now):
        """The batches the PLC reported on in this poll: one plain UPDATE."""
        if self:
            self.flush(["last_read_from_plc"])
            self.env.cr.execute(
                "UPDATE mo_batch SET last_read_from_plc = %s WHERE id IN %s", (now, tuple(self.ids))
            )
            self.invalidate_cache(["last_read_from_plc", "state"], self.ids)
            self.modified(["last_read_from_plc"])

    # -- Task 3's data: finishing, cancelling, archiving ---------------------------------
    def _auto_cancel_note(self):
        return _("Auto-cancelled: the PLC reported the batch as failed")

    def _cancel_and_archive(self, notes, refuse_done=False):
        self.ensure_one()
        production = self.production_id
        if production.state == "done" and refuse_done:
            raise UserError(_("Manufacturing order %s is already done.") % production.name)
        if production.state not in ("done", "cancel"):
            production.with_context(scada_batch_cancel=True).action_cancel()
            if production.state != "cancel":
                raise UserError(_("Odoo did not cancel %s.") % production.name)
        notes = "\n".join(filter(None, [notes, self.cancel_note, self._scrap_dosed_material()]))
        self._archive("cancelled", notes)

    def _scrap_dosed_material(self):
        """What the line dosed into a batch that is cancelled (a PLC failure
        half-way) left the silos all the same: it is scrapped from the MO's
        source location, so stock says where it went.  Returns a note."""
        kg = self.env.ref("uom.product_uom_kgm")
        production = self.production_id
        scraps = self.env["stock.scrap"]
        for tag, _silo_id, _label in SILOS:
            dosed = self["actual_consumption_" + tag]
            move = production.move_raw_ids.filtered(
                lambda m, tag=tag: m.bom_line_id.scada_silo_id.tag == tag
            )[:1]
            if not dosed or not move:
                continue
            scraps |= scraps.create(
                {
                    "product_id": move.product_id.id,
                    "scrap_qty": kg._compute_quantity(dosed, move.product_uom),
                    "product_uom_id": move.product_uom.id,
                    "location_id": production.location_src_id.id,
                    # Not linked to the MO: a done move on a cancelled MO would make it done.
                    "origin": production.name,
                    "company_id": production.company_id.id,
                }
            )
        if not scraps:
            return ""
        scraps.do_scrap()
        return _("Dosed material scrapped: %s") % ", ".join(
            "%s %.2f %s" % (scrap.product_id.display_name, scrap.scrap_qty, scrap.product_uom_id.name)
            for scrap in scraps
        )

    def _archive(self, status, notes):
        """Move the batch to the history, in the caller's transaction."""
        history = self.env["mo.history"]
        for batch in self:
            values = dict(batch._batch_data_values(), status=status, notes=notes, queue_batch_id=batch.id)
            history |= history.with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo().create(values)
        # Archiving is the queue's own bookkeeping: users who may cancel or
        # retry a batch need not be allowed to delete batches by hand.
        self.sudo().with_context(**{ARCHIVE_CONTEXT_KEY: True}).unlink()
        return history.with_env(self.env)

    def _record_push_failure(self, error):
        message = _("Odoo refused to finish %(mo)s: %(error)s") % {"mo": self.mo_id, "error": error}
        _logger.warning("[TASK 3] %s", message, exc_info=not isinstance(error, UserError))
        retries = self.retry_count + 1
        parked = retries >= self._param("max_push_retries")
        if parked:
            self.env["scada.alarm"]._raise("push_parked", self.plc_id, message, batch=self)
        self.write(
            {
                "push_state": "parked" if parked else "failed",
                "retry_count": retries,
                "last_error": message,
                "date_push_failed": self.date_push_failed or fields.Datetime.now(),
            }
        )
        self._post_note(message)

    def _finish_production(self):
        production = self.production_id
        if production.state in ("done", "cancel"):
            raise UserError(
                _("Manufacturing order %(mo)s is already %(state)s.")
                % {"mo": production.name, "state": production.state}
            )
        kg = self.env.ref("uom.product_uom_kgm")
        produced = kg._compute_quantity(self.actual_weight_quantity_finished_goods, production.product_uom_id)
        if float_is_zero(produced, precision_rounding=production.product_uom_id.rounding):
            raise UserError(_("The PLC reports no finished weight."))
        production.qty_producing = produced
        production._set_qty_producing()
        dosed = set()
        for move in production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            silo = move.bom_line_id.scada_silo_id
            if not silo:
                quantity = move.product_uom_qty  # not dosed by the line: as planned
            elif silo.tag in dosed:
                quantity = 0.0  # a second move of the same silo: already counted
            else:
                dosed.add(silo.tag)
                quantity = kg._compute_quantity(self["actual_consumption_" + silo.tag], move.product_uom)
            move.move_line_ids.filtered(lambda line: line.state not in ("done", "cancel")).qty_done = 0
            move.move_line_ids = move._set_quantity_done_prepare_vals(quantity)
        result = production.with_context(
            skip_immediate=True, skip_backorder=True, skip_consumption=True, scada_batch_finish=True
        ).button_mark_done()
        if result is not True or production.state != "done":
            raise UserError(
                _("Odoo did not mark %(mo)s done (state %(state)s).")
                % {"mo": production.name, "state": production.state}
            )

    # -- crons: one-line entry points; each batch or PLC in a transaction of its own --
    @api.model
    def _cron_sync_mo(self):
        """Task 1: queue confirmed MOs (committed per PLC), then write the
        recipes of PLCs that no runner polls (a runner writes its own)."""
        plcs = self.env["scada.plc"].search([])
        transaction = Transactions(self.env.registry)
        created = 0
        for plc_id in plcs.ids:
            created += len(
                transaction(lambda env, plc_id=plc_id: env["scada.task.sync"]._queue_if_empty(plc_id))
            )
        cycle_plcs_not_polled(self.env.registry, plcs.ids, method="write_only")
        return created

    @api.model
    def _cron_process_completed(self):
        """Task 3: every finished batch not finished yet (a runner finishes
        them at once; this catches what a crash or a refusal left)."""
        transaction = Transactions(self.env.registry)
        batch_ids = transaction(lambda env: env["scada.task.finish"]._finished_batch_ids())
        done = sum(
            bool(transaction(lambda env, batch_id=batch_id: env["scada.task.finish"]._finish_batch(batch_id)))
            for batch_id in batch_ids
        )
        if batch_ids:
            _logger.info("[TASK 3] %d batch(es) finished in Odoo, %d not", done, len(batch_ids) - done)
        return done, len(batch_ids) - done

    @api.model
    def _cron_health(self):
        return self.env["scada.task.health"]._check_health()

    # -- operations (buttons and server actions) ----------------------------------------
    def _post_operation(self, text):
        self._post_note(_("%(operation)s by %(user)s.") % {"operation": text, "user": self.env.user.name})

    def action_send_to_plc(self):
        """Hand the write to the PLC's poller and return at once: the
        handshake writes each recipe once, however often this is pressed."""
        self._post_operation(_("Send to PLC requested"))
        # Only a request: the batch row is the runtime's to write (a failed
        # write is tried again every cycle anyway); no collision with it.
        pending = self.filtered(lambda b: b.plc_write_state != "written")
        self.env["scada.plc.request"]._request_per_plc("send", pending)
        return self.env["scada.plc"]._notify(
            _("%(count)s recipe(s) handed to the PLC's poller; the result shows here within a poll interval.")
            % {"count": len(pending)}
        )

    @api.model
    def _history_action(self, batch_ids):
        """Where batches went once archived: their history records."""
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.mo_history_action")
        action["domain"] = [("queue_batch_id", "in", list(batch_ids))]
        return action

    def action_retry_push(self):
        if not self.exists():
            return self._history_action(self.ids)  # finished meanwhile (by the poller)
        not_finished = self.exists().filtered(lambda b: not b.status_manufacturing or b.status_operation)
        if not_finished:
            raise UserError(
                _("Only batches the PLC finished can be pushed: %s") % ", ".join(not_finished.mapped("mo_id"))
            )
        finish = self.env["scada.task.finish"].sudo()
        locked = finish._lock_batches(self.exists().ids).with_env(self.env)
        locked._post_operation(_("Retry push"))
        locked.filtered(lambda b: b.push_state == "parked").sudo().write({"push_state": "failed"})
        finish._finish_now(locked.ids)
        failed = self.exists()
        if failed:
            # Refused again, or being finished by the poller right now.
            messages = [
                batch.last_error
                if batch in locked
                else _("%s is being finished by the poller.") % batch.mo_id
                for batch in failed
            ]
            return self.env["scada.plc"]._notify("\n".join(messages), "danger", True)
        return self._history_action(self.ids)  # archived now: show them where they went

    def action_accept_review(self):
        """A manager accepts held figures: they go to stock as the PLC
        reported them, with the acceptance in the chatter and the history."""
        self.env["scada.plc"]._check_manager()
        held = (
            self.env["scada.task.finish"]
            .sudo()
            ._lock_batches(self.exists().ids)
            .with_env(self.env)
            .filtered(lambda b: b.review_state == "needs_review")
        )
        for batch in held:
            note = _("Figures accepted by %(user)s despite: %(reasons)s") % {
                "user": self.env.user.name,
                "reasons": batch.review_reasons,
            }
            batch.sudo().write({"review_state": "accepted", "review_reasons": note})
            batch._post_note(note)
        return held.action_finish_accepted()

    def action_finish_accepted(self):
        """Task 3 at once for batches a manager accepted or corrected; the
        form goes where they went (their history records), or says why not."""
        self.env["scada.plc"]._check_manager()
        self.env["scada.task.finish"].sudo()._finish_now(self.ids)
        failed = self.exists()
        if failed:
            return self.env["scada.plc"]._notify("\n".join(failed.mapped("last_error")), "danger", True)
        return self._history_action(self.ids)

    def _reset_refusal(self):
        """Why this batch may not be reset (None: it may).  A reset sends the
        recipe again under a new batch number, so it is offered only for a
        batch the PLC does not hold: never taken, finished or failed by the
        PLC, or lost by it (its READ slot wiped while it ran)."""
        self.ensure_one()
        if self.cancel_note:
            return _("%s: a cancel is on its way to the PLC; a reset would undo it.") % self.mo_id
        if self.replaces_plc_identity and self.plc_write_state != "written":
            return _("%s: the previous reset has not reached the PLC yet.") % self.mo_id
        if self.state == "running" and not self.plc_lost_batch:
            return (
                _(
                    "%s: the line is dosing this batch. Wait for it to finish, or cancel it: what the line "
                    "dosed is then recorded. A reset would dose the recipe a second time."
                )
                % self.mo_id
            )
        return None

    @api.depends("state", "cancel_note", "replaces_plc_identity", "plc_write_state", "plc_lost_batch")
    def _compute_can_reset(self):
        for batch in self:
            batch.can_reset = batch.state != "queued" and not batch._reset_refusal()

    def action_reset(self):
        """Back to the start for a batch the PLC does not hold: what the PLC
        reported as dosed is scrapped (it left the silos), the figures are
        cleared, and the recipe goes to the PLC again under a new batch
        number.  Should the PLC have taken the untaken recipe meanwhile, the
        poller finds it out before writing and undoes the reset."""
        batches = self.exists()
        refusals = list(filter(None, (batch._reset_refusal() for batch in batches)))
        if refusals:
            raise UserError("\n".join(refusals))
        locked = self.env["scada.task.finish"].sudo()._lock_batches(batches.ids).with_env(self.env)
        if locked != batches:
            raise UserError(
                _("%s: the poller is recording this batch right now; try again in a moment.")
                % ", ".join((batches - locked).mapped("mo_id"))
            )
        for batch in locked:
            scrapped = batch._scrap_dosed_material()
            values = {
                "batch_no": int(self.env["ir.sequence"].next_by_code("mo.batch")),
                "replaces_plc_identity": "%d:%s" % (batch.batch_no, batch.plc_ref),
                "status_manufacturing": False,
                "status_operation": False,
                "status_read_data": False,
                "push_state": "none",
                "retry_count": 0,
                "last_error": False,
                "date_push_failed": False,
                "plc_finished_signature": False,
                "plc_read_error": False,
                "plc_lost_batch": False,
                "stalled": False,
                "date_last_progress": False,
                "review_state": "none",
                "review_reasons": False,
                "plc_write_state": "pending",
                "last_read_from_plc": False,
                "actual_weight_quantity_finished_goods": 0.0,
            }
            values.update({"actual_consumption_" + tag: 0.0 for tag in SILO_TAGS})
            batch.sudo().write(values)
            batch.activity_ids.sudo().unlink()
            batch._post_operation(
                "\n".join(
                    filter(
                        None,
                        [
                            _("Reset: the PLC will dose the recipe again as batch %s") % batch.batch_no,
                            scrapped,
                        ],
                    )
                )
            )
            self.env["scada.plc.request"]._request_per_plc("send", batch)
        return True

    def action_cancel(self, notes=None):
        """Hand the cancel to the PLC's poller: under the PLC's lock it clears
        the WRITE slot if the PLC has not taken the recipe, then cancels the
        MO and archives the batch.  The plant's map has no abort word, so a
        batch the PLC runs already cannot be stopped from Odoo: its report
        (finished or failed) is still recorded, so dosed material reaches
        stock, and the batch is archived then."""
        notes = notes or _("Cancelled by %s.") % self.env.user.name
        batches = self.exists()
        resetting = batches.filtered(lambda b: b.replaces_plc_identity and b.plc_write_state != "written")
        if resetting:
            raise UserError(
                _("%s: a reset is on its way to the PLC; cancel once the PLC has the new recipe.")
                % ", ".join(resetting.mapped("mo_id"))
            )
        for batch in batches:
            _logger.info("[TASK 1] %s: cancel asked by %s: %s", batch.mo_id, self.env.user.name, notes)
            batch.sudo().write({"cancel_note": notes})
            batch._post_note(notes)
        self.env["scada.plc.request"]._request_per_plc("cancel", batches)
        return self.env["scada.plc"]._notify(
            _(
                "Will be cancelled when the PLC's poller reaches the PLC: it takes the recipe back first; "
                "a batch the line doses already is recorded when the PLC reports on it."
            )
        )

    def _record_cancel(self, outcome):
        """The poller's answer to a cancel: the slot was cleared (or never
        held the recipe), or the PLC took it and runs it."""
        self.ensure_one()
        # A batch the PLC finished or failed is no longer on the line: its
        # cancel is carried out now (what was dosed is scrapped).
        if outcome == "taken" and not (self.status_manufacturing or self.status_operation):
            if not self.cancel_waits_for_plc:
                self.write({"cancel_waits_for_plc": True})
                self._post_note(
                    _(
                        "The PLC is running this batch and cannot be stopped from Odoo: what it reports "
                        "is recorded, and the batch archived then."
                    )
                )
            return False
        self._cancel_and_archive(None)
        return True
