"""Task 2: what the PLC reports, applied to the queue.

Plain data in (decoded SlotReadings from plclib), records out; no PLC I/O
and no commit here: the runner (or a cron) reads the PLC, then calls these
in a short transaction of its own."""

import json
import logging

from odoo import _, api, fields, models
from odoo.tools import float_compare

from ..const import HEARTBEAT_SECONDS, KG_DIGITS, REVIEW_SUMMARY, SILO_TAGS, plc_batch_word
from ..plclib.handshake import SlotIdentity
from ..transaction import is_transient, lock_rows

_logger = logging.getLogger(__name__)


class ScadaTaskPoll(models.AbstractModel):
    _name = "scada.task.poll"
    _description = "SCADA Task 2: apply PLC readings"

    @api.model
    def _cycle_plan(self, plc_id):
        """What a cycle needs to talk to the PLC (plain Python, no records),
        or None for a PLC that is gone or inactive."""
        plc = self.env["scada.plc"].browse(plc_id).exists()
        if not plc or not plc.active:
            return None
        return {
            "code": plc.code,
            "client": self.env["scada.plc.contact"]._client_options(plc),
            "read_layout": plc._layout("read"),
            "write_layout": plc._layout("write"),
            "read_base": plc.read_area_base,
            "write_base": plc.write_area_base,
            "stride": plc.slot_stride,
            "slot_count": plc.slot_count,
            "mailboxes": self.env["scada.plant.events"]._plan_mailboxes(plc),
            "error": None,
            "readings": [],
            "recheck": False,  # a finish awaits its confirming read: read again soon
        }

    @api.model
    def _record_no_contact(self, plc_id, error):
        plc = self.env["scada.plc"].browse(plc_id)
        if self.env["scada.plc.contact"]._record_contact_error(plc, error):
            plc._notify_board()

    @api.model
    def _batches_by_identity(self, plc):
        batches = self.env["mo.batch"].search([("plc_id", "=", plc.id)])
        return {(batch.slot, batch._plc_identity()): batch for batch in batches}

    @api.model
    def _apply_readings(self, plc_id, readings, warning=None):
        """Take one poll into the queue.  Returns the ids of the batches that
        the PLC reports finished (confirmed by two agreeing reads) and failed,
        for Task 3 to handle, each in a transaction of its own."""
        # The PLC's row first: a write of it meanwhile (Task 1 queueing from
        # the cron or a button, an operator's edit) makes the poll a quiet
        # retry on fresh data, not a failed write of its contact.
        lock_rows(self.env.cr, "scada_plc", [plc_id], strength="NO KEY UPDATE")
        plc = self.env["scada.plc"].browse(plc_id)
        plc_changed = self.env["scada.plc.contact"]._record_contact(plc, warning)
        now = fields.Datetime.now()
        queue = self._batches_by_identity(plc)
        # The batch each slot is to show (one per slot): told when its slot shows something else.
        by_slot = {batch.slot: batch for batch in queue.values()}
        by_identity = {identity: batch for (_slot, identity), batch in queue.items()}
        problems = []
        outcome = {"finished": [], "failed": [], "unconfirmed": []}
        changed = []
        for reading in readings:
            if reading.is_empty:
                if self._lost_by_plc(by_slot.get(reading.slot)):
                    changed.append(by_slot[reading.slot].id)
                continue
            identity = SlotIdentity(reading.fields.get("batch_no"), reading.fields.get("mo_id"))
            batch = queue.get((reading.slot, identity))
            errors = self._reading_errors(reading)
            if errors:
                problem = _("Slot %(slot)s: invalid data ignored: %(errors)s") % {
                    "slot": reading.slot,
                    "errors": "; ".join(errors),
                }
                problems.append(problem)
                self._record_plc_problem(batch or self._waiting_in_slot(by_slot, reading.slot), problem)
                continue
            if not batch:
                if not reading.fields["status_read_data"] and not self._archived(plc, reading.slot, identity):
                    elsewhere = by_identity.get(identity)
                    if elsewhere:
                        problem = _(
                            "Slot %(slot)s: shows batch %(batch)s of MO %(mo)s, which is queued for slot"
                            " %(other)s; ignored."
                        ) % {
                            "slot": reading.slot,
                            "batch": identity.batch_no,
                            "mo": identity.mo_ref,
                            "other": elsewhere.slot,
                        }
                    else:
                        problem = _(
                            "Slot %(slot)s: batch %(batch)s of MO %(mo)s is not in the queue; ignored."
                        ) % {
                            "slot": reading.slot,
                            "batch": identity.batch_no,
                            "mo": identity.mo_ref,
                        }
                    problems.append(problem)
                    self._record_plc_problem(self._waiting_in_slot(by_slot, reading.slot), problem)
                continue
            if reading.fields["status_read_data"] and not (
                batch.status_manufacturing or batch.status_operation
            ):
                # Only Odoo sets the READ handshake, once it holds the result: a PLC
                # that presets it would have its result never taken, silently.
                problem = _(
                    "Slot %(slot)s: the PLC shows batch %(batch)s of MO %(mo)s as taken already although Odoo"
                    " has not taken its result; the PLC program (or its memory-map settings) must be checked."
                    " Nothing is recorded until the slot is right."
                ) % {"slot": reading.slot, "batch": batch.batch_no, "mo": batch.mo_reference}
                problems.append(problem)
                self._record_plc_problem(batch, problem)
                continue
            result, batch_changed = self._apply_plc_reading(batch, reading, now)
            if batch_changed:
                changed.append(batch.id)
            if result:
                outcome[result].append(batch.id)
            elif batch.plc_finished_signature and not batch.status_manufacturing:
                outcome["unconfirmed"].append(batch.id)  # its confirming read is due at once
        self._left_over(queue.values(), outcome)
        changed += self._watch_progress(queue.values(), now, changed)
        problems_changed = self.env["scada.plc.contact"]._record_slot_problems(plc, problems)
        # Quiet: the poll changed nothing; the same readings may skip the database for a while.
        outcome["quiet"] = not (problems_changed or plc_changed or changed)
        if problems_changed or plc_changed or changed:
            # Open boards re-read only when something shows; ages tick in the browser.
            plc._notify_board(changed)
        # Operators' cancels whose WRITE slot is to be cleared, in the same transaction.
        outcome["cancels"] = self.env["scada.task.sync"]._cancels_due(plc_id)
        if not (outcome["finished"] or outcome["failed"] or outcome["cancels"]):
            # Nothing for Task 3 or a cancel to change first: what the PLC is to be
            # told is known now, and an idle poll costs one transaction.
            try:
                with self.env.cr.savepoint():
                    outcome["to_tell"] = self._what_to_tell(plc_id, readings)
            except Exception as error:  # the cycle's own step for it tries again, and reports it
                if is_transient(error):
                    raise
        return outcome

    @api.model
    def _what_to_tell(self, plc_id, readings):
        """What the PLC is to be told after a poll: the READ slots whose
        acknowledgement is due, and the recipes to write (the queue refilled
        first if it emptied)."""
        due = self._acknowledgements_due(plc_id, readings)
        self.env["scada.task.sync"]._queue_if_empty(plc_id)
        return due, self.env["scada.task.sync"]._recipes_to_write(plc_id)

    @api.model
    def _lost_by_plc(self, batch):
        """A batch the PLC was dosing whose READ slot reads empty now: the
        PLC's memory was cleared (a cold start).  The line stops on it with
        nothing to say so; an alarm says it at once, and the batch may be
        reset (what it dosed so far is scrapped then).  True when newly lost."""
        if (
            not batch
            or batch.plc_lost_batch
            or not batch.last_read_from_plc
            or batch.status_manufacturing
            or batch.status_operation
        ):
            return False
        message = _(
            "Slot %(slot)s no longer shows batch %(batch)s of %(mo)s, which the line was dosing: the PLC's "
            "memory was cleared (cold start?). The line will not finish it; reset it to dose it again "
            "(what was dosed so far is scrapped), or cancel it."
        ) % {"slot": batch.slot, "batch": batch.batch_no, "mo": batch.mo_reference}
        _logger.warning("[TASK 2] %s: %s", batch.plc_id.code, message)
        batch.write({"plc_lost_batch": True, "plc_read_error": message})
        batch._post_note(message)
        self.env["scada.alarm"]._raise("slot_problem", batch.plc_id, message, batch=batch)
        return True

    @api.model
    def _expected_minutes(self, batch):
        """How long a batch may go without advancing, from its recipe: the
        BoM's operation times scaled to the MO's quantity, with a margin;
        for a BoM without times, the stale setting."""
        production = batch.production_id
        bom = production.bom_id
        minutes = sum(bom.operation_ids.mapped("time_cycle_manual"))
        if minutes and bom.product_qty:
            return 1.5 * minutes * production.product_qty / bom.product_qty + 1.0
        return self.env["scada.settings"]._get("health_stale_minutes")

    @api.model
    def _watch_progress(self, batches, now, changed_ids):
        """A batch written to the PLC that is not seen dosing, or stops
        advancing, for longer than its recipe takes while the PLC answers:
        an alarm at once (cleared when it advances again).  Returns the ids
        of the batches whose flag changed."""
        flagged = []
        for batch in batches:
            if batch.id in changed_ids:
                if batch.stalled:
                    batch.write({"stalled": False})
                    self.env["scada.alarm"]._clear("batch_stalled", batch.plc_id, batch.production_id)
                    flagged.append(batch.id)
                continue
            since = batch.date_last_progress or batch.date_plc_write
            if (
                batch.stalled
                or not since
                or batch.plc_write_state != "written"
                or batch.status_manufacturing
                or batch.status_operation
                or batch.plc_lost_batch
            ):
                continue
            minutes = self._expected_minutes(batch)
            if (now - since).total_seconds() < minutes * 60:
                continue
            if batch.last_read_from_plc:
                message = _(
                    "%(mo)s has not advanced on the line for %(minutes)d min (its recipe takes less)."
                )
            else:
                message = _("%(mo)s was written to the PLC %(minutes)d min ago and is not seen dosing.")
            message %= {"mo": batch.mo_reference, "minutes": (now - since).total_seconds() // 60}
            _logger.warning("[TASK 2] %s: %s", batch.plc_id.code, message)
            batch.write({"stalled": True})
            self.env["scada.alarm"]._raise("batch_stalled", batch.plc_id, message, batch=batch)
            flagged.append(batch.id)
        return flagged

    @api.model
    def _left_over(self, batches, outcome):
        """Results recorded in an earlier cycle whose Task 3 step never ran:
        the server died between the two transactions (the PLC's slot no
        longer changes, so no reading reports them again).  A failure not
        yet cancelled, or a finish never pushed, goes to Task 3 again at
        once, instead of waiting for an operator (failures: no cron takes
        them) or for the Task 3 cron (finishes: minutes, the queue blocked
        meanwhile).  A refusal by Odoo leaves its reason in last_error or
        push_state, and is not retried here."""
        for batch in batches:
            if batch.id in outcome["failed"] or batch.id in outcome["finished"] or batch.last_error:
                continue
            if batch.status_operation:
                outcome["failed"].append(batch.id)
            elif (
                batch.status_manufacturing
                and batch.status_read_data
                and batch.push_state == "none"
                and batch.review_state != "needs_review"
            ):
                outcome["finished"].append(batch.id)

    @api.model
    def _reading_errors(self, reading):
        """Why a READ slot cannot be used: the codec's errors, and flags
        that contradict each other (finished and failed at once: neither
        finishing nor cancelling the MO would be right)."""
        errors = list(reading.errors)
        if (
            reading.valid
            and reading.fields.get("status_manufacturing")
            and reading.fields.get("status_operation")
        ):
            errors.append(_("the PLC reports the batch both finished and failed"))
        return errors

    @api.model
    def _waiting_in_slot(self, by_slot, slot):
        """The batch whose recipe is in the PLC for `slot` and that has no
        result yet (empty recordset if none): its slot shows something else."""
        batch = by_slot.get(slot) or self.env["mo.batch"]
        if batch.plc_write_state != "written" or batch.status_manufacturing or batch.status_operation:
            return self.env["mo.batch"]
        return batch

    @api.model
    def _archived(self, plc, slot, identity):
        return bool(self._history_of(plc, slot, identity))

    @api.model
    def _history_of(self, plc, slot, identity):
        candidates = self.env["mo.history"].search(
            [("plc_id", "=", plc.id), ("slot", "=", slot), ("plc_ref", "=", identity.mo_ref)],
            order="id desc",
            limit=20,
        )
        return candidates.filtered(lambda h: plc_batch_word(h.batch_no) == identity.batch_no)[:1]

    @api.model
    def _acknowledgements_due(self, plc_id, readings):
        """READ slots whose result Odoo holds (the batch recorded it, or it is
        in the history) and that the PLC does not show acknowledged yet:
        [(slot, identity)].  Derived from the database every cycle, so a lost
        acknowledgement is simply due again."""
        plc = self.env["scada.plc"].browse(plc_id)
        queue = self._batches_by_identity(plc)
        due = []
        for reading in readings:
            fields_ = reading.fields
            if reading.is_empty or self._reading_errors(reading) or fields_["status_read_data"]:
                continue
            if not (fields_["status_manufacturing"] or fields_["status_operation"]):
                continue
            identity = SlotIdentity(fields_["batch_no"], fields_["mo_id"])
            batch = queue.get((reading.slot, identity))
            if batch:
                recorded = batch.status_operation or (batch.status_manufacturing and batch.status_read_data)
            else:
                recorded = self._archived(plc, reading.slot, identity)
            if recorded:
                due.append((reading.slot, identity))
        return due

    # -- one valid READ slot into its batch ------------------------------------
    @api.model
    def _record_plc_problem(self, batch, problem):
        if batch and batch.plc_read_error != problem:
            batch.write({"plc_read_error": problem})

    @api.model
    def _apply_plc_reading(self, batch, reading, now):
        """Take a valid READ slot into its batch.  Returns (result, changed):
        result is "finished" when the PLC's finish is confirmed now, "failed"
        when the PLC reports a failure (0 -> 1), else None; changed says
        whether the batch shows anything new.  A finished batch is never touched
        again; 'finished' is taken only when two reads agree, so a torn read
        of a value the PLC was still writing cannot finish an MO."""
        reported = reading.fields
        if batch.status_manufacturing or batch.status_operation:
            return None, False  # the result is recorded; acknowledging it is the cycle's
        values = {"actual_consumption_" + tag: reported["actual_consumption_" + tag] for tag in SILO_TAGS}
        values["actual_weight_quantity_finished_goods"] = reported["actual_weight_quantity_finished_goods"]
        values["plc_read_error"] = False  # the slot is readable again
        values["plc_lost_batch"] = False
        result = None
        self._mark_read(batch, now)
        if reported["status_operation"]:
            values.update(status_operation=True, date_plc_finished=now)
            result = "failed"
            _logger.warning("[TASK 2] %s: %s failed on the PLC", batch.equipment, batch.mo_reference)
        elif reported["status_manufacturing"]:
            signature = json.dumps(reported, sort_keys=True, default=str)
            if batch.plc_finished_signature == signature:
                values.update(status_manufacturing=True, status_read_data=True, date_plc_finished=now)
                result = "finished"
                _logger.info("[TASK 2] %s: %s finished on the PLC", batch.equipment, batch.mo_reference)
            else:
                values["plc_finished_signature"] = signature
        changed = self._write_changes(batch, values, now)
        if result == "finished" and batch.review_state != "accepted":
            reasons = self.env["scada.plausibility"]._reasons(batch)
            if reasons:
                self._hold_for_review(batch, reasons)
                return None, True
        return result, changed

    @api.model
    def _hold_for_review(self, batch, reasons):
        """Implausible figures: kept in the queue, nothing posted, a manager asked."""
        text = "\n".join(reasons)
        batch.write({"review_state": "needs_review", "review_reasons": text})
        _logger.warning(
            "[TASK 2] %s: %s held for review: %s", batch.equipment, batch.mo_reference, "; ".join(reasons)
        )
        batch._post_note(_("Held for review, nothing posted to stock:\n%s") % text)
        self.env["scada.alarm"]._raise("needs_review", batch.plc_id, text, batch=batch)
        managers = self.env.ref("scada_plc_bridge.group_scada_manager").users.filtered(lambda u: not u.share)
        user = batch.plc_id.responsible_user_id or managers[:1] or self.env.user
        batch.activity_schedule(
            activity_type_id=self.env.ref("scada_plc_bridge.mail_activity_type_scada_health").id,
            summary=REVIEW_SUMMARY,
            note=text,
            user_id=user.id,
        )

    @api.model
    def _write_changes(self, batch, values, now):
        """Write what differs from the last read; the time of the read itself
        is set apart (`_mark_read`)."""
        changed = {}
        for name, value in values.items():
            field = batch._fields[name]
            if field.type == "float":
                if float_compare(batch[name], value, precision_digits=KG_DIGITS[1]):
                    changed[name] = value
            elif (batch[name] or False) != (value or False):
                changed[name] = value
        if changed:
            batch.write(dict(changed, date_last_progress=now))
        return bool(changed)

    @api.model
    def _mark_read(self, batches, now):
        """The batches the PLC reported on: one plain UPDATE, no tracking;
        at most once a heartbeat for a batch read before (its state is
        "running" from the first read on)."""
        batches = batches.filtered(
            lambda b: (
                not b.last_read_from_plc or (now - b.last_read_from_plc).total_seconds() >= HEARTBEAT_SECONDS
            )
        )
        if batches:
            # The timeline, in the same UPDATE, set once: the first READ slot that shows
            # the batch is its first sign of dosing, and of the recipe taken when no
            # handshake said so before.  The cycle never reads a written WRITE slot
            # again (an idle line costs no I/O), so this is the one sign every batch
            # gives; a handshake that answers "taken" (a write tried again, a cancel)
            # comes first when there is one (task_sync._record_write, task_finish._record_cancel).
            timeline = ["date_first_dosing", "date_plc_taken"]
            first = batches.filtered(lambda b: not b.date_first_dosing or not b.date_plc_taken)
            batches.flush(["last_read_from_plc"] + timeline)
            lock_rows(self.env.cr, "mo_batch", batches.ids)
            self.env.cr.execute(
                "UPDATE mo_batch SET last_read_from_plc = %s,"
                " date_first_dosing = COALESCE(date_first_dosing, %s),"
                " date_plc_taken = COALESCE(date_plc_taken, %s) WHERE id IN %s",
                (now, now, now, tuple(batches.ids)),
            )
            batches.invalidate_cache(["last_read_from_plc", "state"] + timeline, batches.ids)
            batches.modified(["last_read_from_plc"])
            if first:
                first.modified(timeline)
