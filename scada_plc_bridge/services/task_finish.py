"""Task 3: batches the PLC finished become done MOs, and batches it failed
cancelled ones; each batch in one transaction (finish or cancel the MO,
archive to mo.history, dequeue), so nothing is half done.

A refusal by Odoo (a UserError, a constraint, anything the MO raises) is
recorded on the batch and retried later; a conflict with a concurrent
transaction is not a refusal: it propagates, and the caller's transaction
is retried (the runner's `Transactions`, or Odoo's RPC layer for a button)."""

import logging

from odoo import _, api, models
from odoo.tools.misc import formatLang

from ..const import KG_DIGITS
from ..runner.transaction import is_transient

_logger = logging.getLogger(__name__)


class ScadaTaskFinish(models.AbstractModel):
    _name = "scada.task.finish"
    _description = "SCADA Task 3: finish or cancel batches in Odoo"

    @api.model
    def _lock_finished(self, batch_ids):
        """The finished batches among these that no other transaction is
        finishing right now (row locks, skipped when taken)."""
        if not batch_ids:
            return self.env["mo.batch"]
        self.env["mo.batch"].flush(["status_manufacturing", "status_operation", "push_state", "review_state"])
        self.env.cr.execute(
            "SELECT id FROM mo_batch WHERE id = ANY(%s) AND status_manufacturing"
            " AND status_operation IS NOT TRUE AND push_state != 'parked' AND review_state != 'needs_review'"
            " ORDER BY id FOR UPDATE SKIP LOCKED",
            (list(batch_ids),),
        )
        return self.env["mo.batch"].browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _lock_batches(self, batch_ids):
        """These batches, less those another transaction (the poller, another
        server) holds: a button touches only what it locked, so it never
        collides with the runtime finishing the same batch."""
        self.env.cr.execute(
            "SELECT id FROM mo_batch WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED",
            (list(batch_ids),),
        )
        return self.env["mo.batch"].browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _finish_now(self, batch_ids):
        """Task 3 in the caller's transaction (the buttons): the finished
        batches among these that no other transaction is finishing.
        Returns (finished, tried)."""
        locked = self._lock_finished(batch_ids)
        return sum(bool(self._push_to_odoo(batch)) for batch in locked), len(locked)

    @api.model
    def _finish_batch(self, batch_id):
        """Task 3 for one batch; True when its MO is done and it is archived."""
        batch = self._lock_finished([batch_id])
        return bool(batch) and self._push_to_odoo(batch)

    @api.model
    def _finished_batch_ids(self):
        self.env["mo.batch"].flush(["status_manufacturing", "status_operation", "push_state", "review_state"])
        self.env.cr.execute(
            "SELECT id FROM mo_batch WHERE status_manufacturing AND status_operation IS NOT TRUE"
            " AND push_state != 'parked' AND review_state != 'needs_review' ORDER BY id"
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _push_to_odoo(self, batch):
        """Finish the MO with the PLC's actuals, archive, dequeue: all or nothing."""
        mo_id, plc, batch_id = batch.mo_id, batch.plc_id, batch.id
        try:
            with self.env.cr.savepoint():
                batch._finish_production()
                # Numbers as the forms beside the note show them (the company's language).
                note = _("Finished by the PLC; %s kg produced.") % formatLang(
                    self.env, batch.actual_weight_quantity_finished_goods, digits=KG_DIGITS[1]
                )
                if batch.review_state == "accepted":
                    note += "\n" + batch.review_reasons
                if batch.cancel_note:
                    note += (
                        "\n" + _("Cancel asked while the PLC ran it, not carried out: %s") % batch.cancel_note
                    )
                batch._archive("completed", note)
        except Exception as error:  # any refusal of Odoo: this batch waits, the others go on
            if is_transient(error):
                raise
            batch._record_push_failure(error)
            batch.plc_id._notify_board(batch.ids)
            return False
        plc._notify_board([batch_id])
        _logger.info("[TASK 3] %s done in Odoo and archived", mo_id)
        return True

    @api.model
    def _carry_out_cancel(self, batch_id, outcome):
        """An operator's cancel, once the poller cleared the WRITE slot (or
        found the PLC running the batch)."""
        batch = self.env["mo.batch"].browse(batch_id).exists()
        if not batch:
            return False
        plc = batch.plc_id
        try:
            with self.env.cr.savepoint():
                done = batch._record_cancel(outcome)
        except Exception as error:
            if is_transient(error):
                raise
            message = _("Cancel refused by Odoo: %s") % error
            batch.write({"last_error": message, "cancel_note": False})
            batch._post_note(message)
            return False
        plc._notify_board([batch_id])
        return done

    @api.model
    def _auto_cancel_batch(self, batch_id):
        """status_operation 0 -> 1: cancel the MO and archive the batch; if
        Odoo refuses, the batch stays, with the reason, for an operator."""
        batch = self.env["mo.batch"].browse(batch_id).exists()
        if not batch or not batch.status_operation:
            return False
        self.env.cr.execute("SELECT id FROM mo_batch WHERE id = %s FOR UPDATE", (batch.id,))
        mo_id, plc, production, batch_id = batch.mo_id, batch.plc_id, batch.production_id, batch.id
        try:
            with self.env.cr.savepoint():
                batch._cancel_and_archive(batch._auto_cancel_note(), refuse_done=True)
                self.env["scada.alarm"]._raise(
                    "auto_cancel",
                    plc,
                    _("The PLC reported %(mo)s failed; the MO was cancelled.") % {"mo": mo_id},
                    production=production,
                )
        except Exception as error:
            if is_transient(error):
                raise
            message = _("Auto-cancel refused by Odoo: %s") % error
            if batch.last_error != message:
                _logger.warning("[TASK 2] %s: %s", mo_id, message)
                batch.write({"last_error": message})
                batch._post_note(message)
                self.env["scada.alarm"]._raise("plc_failure", batch.plc_id, message, batch=batch)
            return False
        plc._notify_board([batch_id], alarm=True)
        _logger.warning("[TASK 2] %s: auto-cancelled (status_operation=1 from the PLC)", mo_id)
        return True
