"""Task 3: batches the PLC finished become done MOs, and batches it failed
cancelled ones; each batch in one transaction (finish or cancel the MO,
archive to mo.history, dequeue), so nothing is half done.

A refusal by Odoo (a UserError, a constraint, anything the MO raises) is
recorded on the batch and retried later; a conflict with a concurrent
transaction is not a refusal: it propagates, and the caller's transaction
is retried (the runner's `Transactions`, or Odoo's RPC layer for a button)."""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero
from odoo.tools.misc import formatLang

from ..const import ARCHIVE_CONTEXT_KEY, KG_DIGITS, SILOS
from ..transaction import Transactions, is_transient, lock_rows

_logger = logging.getLogger(__name__)


class ScadaTaskFinish(models.AbstractModel):
    _name = "scada.task.finish"
    _description = "SCADA Task 3: finish or cancel batches in Odoo"

    @api.model
    def _cron_process_completed(self):
        """The Task 3 cron: every finished batch not finished yet (a runner
        finishes them at once; this catches what a crash or a refusal left),
        each in a transaction of its own."""
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
    def _lock_finished(self, batch_ids):
        """The finished batches among these that no other transaction is
        finishing right now (row locks, skipped when taken)."""
        if not batch_ids:
            return self.env["mo.batch"]
        self.env["mo.batch"].flush(["status_manufacturing", "status_operation", "push_state", "review_state"])
        condition = (
            "status_manufacturing AND status_operation IS NOT TRUE AND push_state != 'parked'"
            " AND review_state != 'needs_review'"
        )
        return self.env["mo.batch"].browse(
            lock_rows(self.env.cr, "mo_batch", batch_ids, condition, skip_locked=True)
        )

    @api.model
    def _lock_batches(self, batch_ids):
        """These batches, less those another transaction (the poller, another
        server) holds: a button touches only what it locked, so it never
        collides with the runtime finishing the same batch."""
        return self.env["mo.batch"].browse(lock_rows(self.env.cr, "mo_batch", batch_ids, skip_locked=True))

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
    def _finished_batch_ids(self, plc_ids=None):
        """The batches the PLC finished that wait for Task 3 (of these PLCs only)."""
        self.env["mo.batch"].flush(
            ["status_manufacturing", "status_operation", "push_state", "review_state", "plc_id"]
        )
        self.env.cr.execute(
            "SELECT id FROM mo_batch WHERE status_manufacturing AND status_operation IS NOT TRUE"
            " AND push_state != 'parked' AND review_state != 'needs_review'"
            " AND (%s IS NULL OR plc_id = ANY(%s)) ORDER BY id",
            (plc_ids and list(plc_ids), plc_ids and list(plc_ids)),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _push_to_odoo(self, batch):
        """Finish the MO with the PLC's actuals, archive, dequeue: all or nothing."""
        mo_reference, plc, batch_id = batch.mo_reference, batch.plc_id, batch.id
        try:
            with self.env.cr.savepoint():
                self._finish_production(batch)
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
                self._archive(batch, "completed", note)
        except Exception as error:  # any refusal of Odoo: this batch waits, the others go on
            if is_transient(error):
                raise
            self._record_push_failure(batch, error)
            batch.plc_id._notify_board(batch.ids)
            return False
        plc._notify_board([batch_id])
        _logger.info("[TASK 3] %s done in Odoo and archived", mo_reference)
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
                done = self._record_cancel(batch, outcome)
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
        lock_rows(self.env.cr, "mo_batch", batch.ids)
        mo_reference, plc, production, batch_id = (
            batch.mo_reference,
            batch.plc_id,
            batch.production_id,
            batch.id,
        )
        try:
            with self.env.cr.savepoint():
                self._cancel_and_archive(batch, self._auto_cancel_note(), refuse_done=True)
                self.env["scada.alarm"]._raise(
                    "auto_cancel",
                    plc,
                    _("The PLC reported %(mo)s failed; the MO was cancelled.") % {"mo": mo_reference},
                    production=production,
                )
        except Exception as error:
            if is_transient(error):
                raise
            message = _("Auto-cancel refused by Odoo: %s") % error
            if batch.last_error != message:
                _logger.warning("[TASK 2] %s: %s", mo_reference, message)
                batch.write({"last_error": message})
                batch._post_note(message)
                self.env["scada.alarm"]._raise("plc_failure", batch.plc_id, message, batch=batch)
            return False
        plc._notify_board([batch_id], alarm=True)
        _logger.warning("[TASK 2] %s: auto-cancelled (status_operation=1 from the PLC)", mo_reference)
        return True

    # -- the MO and the archive ------------------------------------------------
    @api.model
    def _auto_cancel_note(self):
        return _("Auto-cancelled: the PLC reported the batch as failed")

    @api.model
    def _record_cancel(self, batch, outcome):
        """The poller's answer to an operator's cancel: the slot was cleared
        (or never held the recipe), or the PLC took it and runs it."""
        # A batch the PLC finished or failed is no longer on the line: its
        # cancel is carried out now (what was dosed is scrapped).
        if outcome == "taken" and not (batch.status_manufacturing or batch.status_operation):
            if not batch.cancel_waits_for_plc:
                # The handshake says the PLC took the recipe (the timeline's date, once).
                batch.write(
                    {
                        "cancel_waits_for_plc": True,
                        "date_plc_taken": batch.date_plc_taken or fields.Datetime.now(),
                    }
                )
                batch._post_note(
                    _(
                        "The PLC is running this batch and cannot be stopped from Odoo: what it reports "
                        "is recorded, and the batch archived then."
                    )
                )
            return False
        self._cancel_and_archive(batch, None)
        return True

    @api.model
    def _cancel_and_archive(self, batch, notes, refuse_done=False):
        production = batch.production_id
        if production.state == "done" and refuse_done:
            raise UserError(_("Manufacturing order %s is already done.") % production.name)
        if production.state not in ("done", "cancel"):
            production.with_context(scada_batch_cancel=True).action_cancel()
            if production.state != "cancel":
                raise UserError(_("Odoo did not cancel %s.") % production.name)
        notes = "\n".join(filter(None, [notes, batch.cancel_note, self._scrap_dosed_material(batch)]))
        notes = "\n".join(filter(None, [notes, self.env["scada.task.weighings"]._hold_for_cancelled(batch)]))
        self._archive(batch, "cancelled", notes)

    @api.model
    def _scrap_dosed_material(self, batch):
        """What the line dosed into a batch that is cancelled or reset (a PLC
        failure half-way) left the silos all the same: it is scrapped from
        where each silo's dose is taken (its own location when the PLC keeps
        silo stock, else the MO's source location), so stock says where it
        went.  Returns a note."""
        kg = self.env.ref("uom.product_uom_kgm")
        production = batch.production_id
        scraps = self.env["stock.scrap"]
        silo_stock = self.env["scada.silo.stock"]
        lot_tracking = self.env["scada.lot.tracking"]
        silo_stock._lock_quants(production)
        for tag, _silo_id, _label in SILOS:
            dosed = batch["actual_consumption_" + tag]
            move = production.move_raw_ids.filtered(
                lambda m, tag=tag: m.bom_line_id.scada_silo_id.tag == tag
            )[:1]
            if not dosed or not move:
                continue
            location = silo_stock._dosing_location(production, move.bom_line_id.scada_silo_id)
            unit = move.product_id.uom_id  # the silo's unit: no rounding to a BoM's tonnes
            quantity = kg._compute_quantity(dosed, unit, round=False)
            for lot, lot_quantity in lot_tracking._scrap_parts(
                move.product_id, location, quantity, unit, batch.plc_id
            ):
                scraps |= scraps.create(
                    {
                        "product_id": move.product_id.id,
                        "lot_id": lot.id,
                        "scrap_qty": lot_quantity,
                        "product_uom_id": unit.id,
                        "location_id": location.id,
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

    @api.model
    def _archive(self, batches, status, notes):
        """Move the batches to the history, in the caller's transaction."""
        history = self.env["mo.history"]
        for batch in batches:
            values = dict(batch._batch_data_values(), status=status, notes=notes, queue_batch_id=batch.id)
            # The timeline's last date, and the archive's: one instant.
            values["date_done"] = values["date_archived"] = fields.Datetime.now()
            if status == "completed":
                values.update(self.env["scada.batch.accuracy"]._values(batch))  # yield and grades
            history |= history.with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo().create(values)
        # Archiving is the queue's own bookkeeping: users who may cancel or
        # retry a batch need not be allowed to delete batches by hand.
        batches.sudo().with_context(**{ARCHIVE_CONTEXT_KEY: True}).unlink()
        self.env["scada.line.performance"]._record_batch(history)  # the work centre's time logs (OEE)
        return history.with_env(batches.env)

    @api.model
    def _record_push_failure(self, batch, error):
        message = _("Odoo refused to finish %(mo)s: %(error)s") % {"mo": batch.mo_reference, "error": error}
        _logger.warning("[TASK 3] %s", message, exc_info=not isinstance(error, UserError))
        retries = batch.retry_count + 1
        parked = retries >= self.env["scada.settings"]._get("max_push_retries")
        if parked:
            self.env["scada.alarm"]._raise("push_parked", batch.plc_id, message, batch=batch)
        batch.write(
            {
                "push_state": "parked" if parked else "failed",
                "retry_count": retries,
                "last_error": message,
                "date_push_failed": batch.date_push_failed or fields.Datetime.now(),
            }
        )
        batch._post_note(message)

    @api.model
    def _finish_production(self, batch):
        """The MO done with the PLC's actuals: the finished weight produced,
        each silo's dosed kg on its raw move, without the UI's wizards."""
        production = batch.production_id
        if production.state in ("done", "cancel"):
            raise UserError(
                _("Manufacturing order %(mo)s is already %(state)s.")
                % {"mo": production.name, "state": production.state}
            )
        kg = self.env.ref("uom.product_uom_kgm")
        produced = kg._compute_quantity(
            batch.actual_weight_quantity_finished_goods, production.product_uom_id
        )
        if float_is_zero(produced, precision_rounding=production.product_uom_id.rounding):
            raise UserError(_("The PLC reports no finished weight."))
        silo_stock = self.env["scada.silo.stock"]
        lot_tracking = self.env["scada.lot.tracking"]
        silo_stock._lock_quants(production)
        production.qty_producing = produced
        production._set_qty_producing()
        silo_stock._take_from_silos(production)
        dosed = set()
        for move in production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            silo = move.bom_line_id.scada_silo_id
            if not silo:
                quantity = move.product_uom_qty  # not dosed by the line: as planned
            elif silo.tag in dosed:
                quantity = 0.0  # a second move of the same silo: already counted
            else:
                dosed.add(silo.tag)
                quantity = kg._compute_quantity(
                    batch["actual_consumption_" + silo.tag], move.product_uom, round=False
                )
            move.move_line_ids.filtered(lambda line: line.state not in ("done", "cancel")).qty_done = 0
            lot_tracking._consume(move, quantity, batch.plc_id)
        self.env["scada.task.weighings"]._apply_to_production(batch, production)
        lot_tracking._assign_finished_lot(batch, production)
        result = production.with_context(
            skip_immediate=True, skip_backorder=True, skip_consumption=True, scada_batch_finish=True
        ).button_mark_done()
        if result is not True or production.state != "done":
            raise UserError(
                _("Odoo did not mark %(mo)s done (state %(state)s).")
                % {"mo": production.name, "state": production.state}
            )
        silo_stock._check_levels(production, batch.plc_id)
        lot_tracking._check_unlotted(production, batch.plc_id)
