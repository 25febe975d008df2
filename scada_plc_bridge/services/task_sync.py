"""Task 1: confirmed MOs into the queue, and the queue's recipes into the
PLC's WRITE slots.

Queueing is database work only.  The recipe writes are done by the runner
(or the Task 1 cron where no runner polls the PLC) outside any transaction,
through plclib's handshake, which never writes a batch's recipe twice; what
each write did is recorded here in a short transaction of its own."""

import logging
import unicodedata

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..const import PLC_TEXT_CHARS, SILOS, plc_batch_word, plc_text
from ..plclib import handshake, memory_map
from ..transaction import Transactions, lock_rows

_logger = logging.getLogger(__name__)


class ScadaTaskSync(models.AbstractModel):
    _name = "scada.task.sync"
    _description = "SCADA Task 1: queue MOs and write recipes"

    @api.model
    def _cron_sync_mo(self):
        """The Task 1 cron: queue confirmed MOs (committed per PLC), then
        write the recipes of PLCs that no runner polls (a runner writes its
        own at once)."""
        plcs = self.env["scada.plc"].search([])
        transaction = Transactions(self.env.registry)
        created = 0
        for plc_id in plcs.ids:
            created += len(
                transaction(lambda env, plc_id=plc_id: env["scada.task.sync"]._queue_if_empty(plc_id))
            )
        self.env["scada.runner"]._write_recipes_not_polled(plcs.ids)
        return created

    @api.model
    def _queue_if_empty(self, plc_id):
        """The next confirmed MOs for a PLC whose queue has emptied, at once
        (the Task 1 cron stays the safety net)."""
        plc = self.env["scada.plc"].browse(plc_id)
        if self.env["mo.batch"].search_count(self._line_busy_domain(plc)):
            return self.env["mo.batch"]
        return self._sync_mo(plc)

    @api.model
    def _line_busy_domain(self, plc):
        """The batches that keep the queue from taking new MOs: all but those
        waiting for a person (held for review, parked after Odoo refused
        them), which the PLC has finished with; they keep their slot, and
        new recipes go to the free ones."""
        return [
            ("plc_id", "=", plc.id),
            ("review_state", "!=", "needs_review"),
            ("push_state", "!=", "parked"),
        ]

    @api.model
    def _sync_mo(self, plcs):
        """Queue confirmed MOs for each PLC whose queue is empty.

        The runner's poll, the Task 1 cron and the operator's button may
        queue one PLC at once, each seeing the queue empty: the PLC's row is
        locked first and stamped when MOs are queued, so the later one fails
        with a serialization error (retried on fresh data, the queue full
        then) instead of queueing the same MO into a slot already taken."""
        default_plc = self.env["scada.settings"]._default_plc()
        created = self.env["mo.batch"]
        for plc in plcs:
            lock_rows(self.env.cr, "scada_plc", plc.ids, strength="NO KEY UPDATE")
            queued = self.env["mo.batch"].search_count(self._line_busy_domain(plc))
            if queued:
                _logger.info("[TASK 1] %s: queue not empty (%d batches); no MO taken", plc.code, queued)
                continue
            waiting = self.env["mo.batch"].search([("plc_id", "=", plc.id)])
            free_slots = [slot for slot in range(1, plc.slot_count + 1) if slot not in waiting.mapped("slot")]
            free_slots = free_slots[: max(0, plc.batch_limit - len(waiting))]
            candidates = self.env["mrp.production"].search(
                [
                    ("state", "=", "confirmed"),
                    ("company_id", "=", plc.company_id.id),
                    ("scada_batch_ids", "=", False),
                    ("scada_history_ids", "=", False),
                ],
                order="date_planned_start, id",
            )
            values_list = []
            for production in candidates:
                if len(values_list) >= len(free_slots):
                    break
                # A line MO: routed to this PLC, with something for the line to dose.
                if (
                    production._scada_plc(default_plc) != plc
                    or not production.bom_id.bom_line_ids.scada_silo_id
                ):
                    continue
                try:
                    values_list.append(
                        self._values_from_production(production, plc, free_slots[len(values_list)])
                    )
                except UserError as error:
                    self._tell_refused(plc, production, error)
            batches = self.env["mo.batch"].create(values_list)
            if batches:
                plc.sudo().last_queued = fields.Datetime.now()
                _logger.info("[TASK 1] %s: queued %s", plc.code, ", ".join(batches.mapped("mo_reference")))
            created |= batches
        return created

    @api.model
    def _plc_ref_for(self, production, plc):
        """A reference the PLC can hold (16 ASCII characters) and unique
        among the PLC's batches: the MO name when it fits, else its end,
        where MO sequences keep the number."""
        ascii_name = unicodedata.normalize("NFKD", production.name).encode("ascii", "ignore").decode()
        ascii_name = "".join(char if 32 <= ord(char) < 127 else "?" for char in ascii_name)
        reference = ascii_name[-PLC_TEXT_CHARS:]
        if not self.env["mo.batch"].search_count([("plc_id", "=", plc.id), ("plc_ref", "=", reference)]):
            return reference
        return ("%s#%d" % (ascii_name[-(PLC_TEXT_CHARS - 7) :], production.id))[-PLC_TEXT_CHARS:]

    @api.model
    def _values_from_production(self, production, plc, slot):
        """A new batch's values: the MO's recipe in kg, per silo."""
        kg = self.env.ref("uom.product_uom_kgm")
        values = {
            "batch_no": int(self.env["ir.sequence"].next_by_code("mo.batch")),
            "mo_reference": production.name,
            "plc_ref": self._plc_ref_for(production, plc),
            "production_id": production.id,
            "plc_id": plc.id,
            "equipment": plc.code,
            "slot": slot,
            "finished_goods": production.product_id.display_name,
            "date_queued": fields.Datetime.now(),
            "planned_quantity": production.product_uom_id._compute_quantity(production.product_qty, kg),
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

    @api.model
    def _to_plc_values(self, batch):
        """The recipe as the WRITE slot's fields (handshake 0: new recipe)."""
        silos = {silo.tag: silo.plc_silo_id for silo in batch.plc_id.silo_ids}
        values = {
            "batch_no": plc_batch_word(batch.batch_no),
            "mo_id": batch.plc_ref,
            "bom": plc_text(batch.production_id.bom_id.code or batch.production_id.bom_id.display_name),
            "finished_goods": plc_text(batch.finished_goods),
            "quantity": batch.planned_quantity,
            "status_read_data": False,
        }
        for tag, silo_id, _label in SILOS:
            values[memory_map.silo_id_key(tag)] = silos.get(tag, silo_id)
            values["consumption_" + tag] = batch["consumption_" + tag]
        return values

    @api.model
    def _tell_refused(self, plc, production, error):
        """An MO the line cannot run (e.g. a product not in kg) is shown on
        the board with its reason, once, instead of a warning every poll."""
        alarms = self.env["scada.alarm"].sudo()
        if alarms.search_count(
            [("state", "=", "open"), ("kind", "=", "mo_refused"), ("production_id", "=", production.id)]
        ):
            return
        reason = _("%(mo)s cannot run on %(plc)s: %(error)s") % {
            "mo": production.name,
            "plc": plc.code,
            "error": error.args[0] if error.args else error,
        }
        _logger.warning("[TASK 1] %s", reason)
        alarms._raise("mo_refused", plc, reason, production=production)
        plc._notify_board(alarm=True)

    @api.model
    def _recipes_to_write(self, plc_id):
        """The recipes of the PLC's queue not yet in the PLC, as plain data."""
        batches = self.env["mo.batch"].search(
            [("plc_id", "=", plc_id), ("plc_write_state", "!=", "written"), ("cancel_note", "=", False)],
            order="slot",
        )
        return [
            {
                "batch_id": batch.id,
                "slot": batch.slot,
                "values": self._to_plc_values(batch),
                "replaces": batch._replaced_identity(),
            }
            for batch in batches
        ]

    @api.model
    def _cancels_due(self, plc_id):
        """Batches an operator cancelled whose WRITE slot is still to be cleared."""
        batches = self.env["mo.batch"].search(
            [("plc_id", "=", plc_id), ("cancel_note", "!=", False), ("cancel_waits_for_plc", "=", False)]
        )
        return [{"batch_id": b.id, "slot": b.slot, "identity": b._plc_identity()} for b in batches]

    @api.model
    def _record_write(self, batch_id, status, detail=""):
        """The handshake's outcome: written now, or found in the PLC already."""
        batch = self.env["mo.batch"].browse(batch_id).exists()
        if not batch or batch.plc_write_state == "written":
            return
        now = fields.Datetime.now()
        values = {
            "plc_write_state": "written",
            "date_plc_write": now,
            "last_error": False,
            "replaces_plc_identity": False,
        }
        if status in (handshake.TAKEN, handshake.REPORTED) and not batch.date_plc_taken:
            # The handshake itself shows the recipe taken: the earliest sign of it Odoo gets.
            values["date_plc_taken"] = now
        batch.write(values)
        if status == "written":
            note = _("Recipe written to %(plc)s slot %(slot)s as batch %(batch)s.")
        else:
            note = _("Recipe found in %(plc)s slot %(slot)s already (%(detail)s); not written again.")
        batch._post_note(
            note % {"plc": batch.plc_id.code, "slot": batch.slot, "batch": batch.batch_no, "detail": detail}
        )
        _logger.info(
            "[TASK 1] %s: %s %s in slot %s", batch.plc_id.code, batch.mo_reference, status, batch.slot
        )

    @api.model
    def _record_reset_undone(self, batch_id):
        """The poller found the PLC running the recipe a reset was to
        replace: the batch takes its old number back, so what the PLC
        reports on it is recorded, and nothing is dosed twice."""
        batch = self.env["mo.batch"].browse(batch_id).exists()
        if not batch or not batch.replaces_plc_identity:
            return
        batch_no, _sep, _reference = batch.replaces_plc_identity.partition(":")
        batch.write(
            {
                "batch_no": int(batch_no),
                "replaces_plc_identity": False,
                "plc_write_state": "written",
                "last_error": False,
            }
        )
        message = (
            _(
                "Reset not carried out: the PLC had taken batch %s before the reset reached it. It runs "
                "that batch, and what it reports is recorded."
            )
            % batch.batch_no
        )
        _logger.warning("[TASK 1] %s %s: %s", batch.plc_id.code, batch.mo_reference, message)
        batch._post_note(message)

    @api.model
    def _record_write_failure(self, batch_id, error):
        batch = self.env["mo.batch"].browse(batch_id).exists()
        if not batch:
            return
        message = _("Recipe not written to slot %(slot)s: %(error)s") % {"slot": batch.slot, "error": error}
        if batch.last_error != message or batch.plc_write_state != "failed":
            # Written once per new reason, not every cycle: the row stays free for operators.
            _logger.warning("[TASK 1] %s %s: %s", batch.plc_id.code, batch.mo_reference, message)
            batch._post_note(message)
            batch.write({"plc_write_state": "failed", "last_error": message})
