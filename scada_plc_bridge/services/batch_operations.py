"""What the operators' buttons on a batch do (Send to PLC, Retry push,
Accept, Reset, Cancel), run as the user who pressed them.  None of them
talks to the PLC: what needs the PLC becomes a request row that the runner
carries out under the PLC's lock, and what the PLC reported is never
thrown away (a reset or a cancel scraps what was dosed).  The table of
states and actions is in docs/architecture.md."""

import logging

from odoo import _, api, models
from odoo.exceptions import UserError

from ..const import SILO_TAGS

_logger = logging.getLogger(__name__)

# What a reset clears: the batch starts over as if just queued.
RESET_VALUES = dict(
    {
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
        "date_plc_taken": False,
        "date_first_dosing": False,
        "date_plc_finished": False,
        "actual_weight_quantity_finished_goods": 0.0,
    },
    **{"actual_consumption_" + tag: 0.0 for tag in SILO_TAGS},
)


class ScadaBatchOperations(models.AbstractModel):
    _name = "scada.batch.operations"
    _description = "SCADA batch operations (the operators' buttons)"

    @api.model
    def _post_operation(self, batches, text):
        batches._post_note(_("%(operation)s by %(user)s.") % {"operation": text, "user": self.env.user.name})

    @api.model
    def _history_action(self, batch_ids):
        """Where batches went once archived: their history records."""
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.mo_history_action")
        action["domain"] = [("queue_batch_id", "in", list(batch_ids))]
        return action

    @api.model
    def _send_to_plc(self, batches):
        """Hand the write to the PLC's poller and return at once: the
        handshake writes each recipe once, however often this is pressed."""
        self._post_operation(batches, _("Send to PLC requested"))
        # Only a request: the batch row is the runtime's to write (a failed
        # write is tried again every cycle anyway); no collision with it.
        pending = batches.filtered(lambda b: b.plc_write_state != "written")
        self.env["scada.plc.request"]._request_per_plc("send", pending)
        return self.env["scada.plc"]._notify(
            _("%(count)s recipe(s) go to the PLC within a few seconds; the result shows here.")
            % {"count": len(pending)}
        )

    @api.model
    def _retry_push(self, batches):
        if not batches.exists():
            return self._history_action(batches.ids)  # finished meanwhile (by the poller)
        not_finished = batches.exists().filtered(lambda b: not b.status_manufacturing or b.status_operation)
        if not_finished:
            raise UserError(
                _("Only batches the PLC finished can be pushed: %s")
                % ", ".join(not_finished.mapped("mo_reference"))
            )
        finish = self.env["scada.task.finish"].sudo()
        locked = finish._lock_batches(batches.exists().ids).with_env(self.env)
        self._post_operation(locked, _("Retry push"))
        locked.filtered(lambda b: b.push_state == "parked").sudo().write({"push_state": "failed"})
        finish._finish_now(locked.ids)
        failed = batches.exists()
        if failed:
            # Refused again, or being finished by the poller right now.
            messages = [
                batch.last_error
                if batch in locked
                else _("%s is being finished right now.") % batch.mo_reference
                for batch in failed
            ]
            return self.env["scada.plc"]._notify("\n".join(messages), "danger", True)
        return self._history_action(batches.ids)  # archived now: show them where they went

    @api.model
    def _accept_review(self, batches):
        """A manager accepts held figures: they go to stock as the PLC
        reported them, with the acceptance in the chatter and the history."""
        self.env["scada.plc"]._check_manager()
        held = (
            self.env["scada.task.finish"]
            .sudo()
            ._lock_batches(batches.exists().ids)
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
        return self._finish_accepted(held)

    @api.model
    def _finish_accepted(self, batches):
        """Task 3 at once for batches a manager accepted or corrected; the
        form goes where they went (their history records), or says why not."""
        self.env["scada.plc"]._check_manager()
        self.env["scada.task.finish"].sudo()._finish_now(batches.ids)
        failed = batches.exists()
        if failed:
            return self.env["scada.plc"]._notify("\n".join(failed.mapped("last_error")), "danger", True)
        return self._history_action(batches.ids)

    @api.model
    def _reset_refusal(self, batch):
        """Why this batch may not be reset (None: it may).  A reset sends the
        recipe again under a new batch number, so it is offered only for a
        batch the PLC does not hold: never taken, finished or failed by the
        PLC, or lost by it (its READ slot wiped while it ran)."""
        if batch.cancel_note:
            return _("%s: a cancel is on its way to the PLC; a reset would undo it.") % batch.mo_reference
        if batch.replaces_plc_identity and batch.plc_write_state != "written":
            return _("%s: the previous reset has not reached the PLC yet.") % batch.mo_reference
        if batch.state == "running" and not batch.plc_lost_batch:
            return (
                _(
                    "%s: the line is dosing this batch. Wait for it to finish, or cancel it: what the line "
                    "dosed is then recorded. A reset would dose the recipe a second time."
                )
                % batch.mo_reference
            )
        return None

    @api.model
    def _reset(self, batches):
        """Back to the start for a batch the PLC does not hold: what the PLC
        reported as dosed is scrapped (it left the silos), the figures are
        cleared, and the recipe goes to the PLC again under a new batch
        number.  Should the PLC have taken the untaken recipe meanwhile, the
        poller finds it out before writing and undoes the reset."""
        batches = batches.exists()
        refusals = list(filter(None, (self._reset_refusal(batch) for batch in batches)))
        if refusals:
            raise UserError("\n".join(refusals))
        finish = self.env["scada.task.finish"]
        locked = finish.sudo()._lock_batches(batches.ids).with_env(self.env)
        if locked != batches:
            raise UserError(
                _(
                    "%s: Odoo is recording what the PLC reported for this batch right now; try again in a "
                    "moment."
                )
                % ", ".join((batches - locked).mapped("mo_reference"))
            )
        for batch in locked:
            scrapped = finish._scrap_dosed_material(batch)
            batch.sudo().write(
                dict(
                    RESET_VALUES,
                    batch_no=int(self.env["ir.sequence"].next_by_code("mo.batch")),
                    replaces_plc_identity="%d:%s" % (batch.batch_no, batch.plc_ref),
                )
            )
            batch.activity_ids.sudo().unlink()
            reset_note = _("Reset: the PLC will dose the recipe again as batch %s") % batch.batch_no
            self._post_operation(batch, "\n".join(filter(None, [reset_note, scrapped])))
            self.env["scada.plc.request"]._request_per_plc("send", batch)
        return True

    @api.model
    def _cancel(self, batches, notes=None):
        """Hand the cancel to the PLC's poller: under the PLC's lock it clears
        the WRITE slot if the PLC has not taken the recipe, then cancels the
        MO and archives the batch.  The plant's map has no abort word, so a
        batch the PLC runs already cannot be stopped from Odoo: its report
        (finished or failed) is still recorded, so dosed material reaches
        stock, and the batch is archived then."""
        notes = notes or _("Cancelled by %s.") % self.env.user.name
        batches = batches.exists()
        resetting = batches.filtered(lambda b: b.replaces_plc_identity and b.plc_write_state != "written")
        if resetting:
            raise UserError(
                _("%s: a reset is on its way to the PLC; cancel once the PLC has the new recipe.")
                % ", ".join(resetting.mapped("mo_reference"))
            )
        for batch in batches:
            _logger.info("[TASK 1] %s: cancel asked by %s: %s", batch.mo_reference, self.env.user.name, notes)
            batch.sudo().write({"cancel_note": notes})
            batch._post_note(notes)
        self.env["scada.plc.request"]._request_per_plc("cancel", batches)
        return self.env["scada.plc"]._notify(
            _(
                "Will be cancelled when Odoo reaches the PLC: it takes the recipe back first; "
                "a batch the line doses already is recorded when the PLC reports on it."
            )
        )
