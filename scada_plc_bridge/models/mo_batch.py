import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from ..plclib import memory_map
from ..plclib.exceptions import PlcError
from .mo_history import ARCHIVE_CONTEXT_KEY
from .scada_batch_data import KG_DIGITS, SILO_TAGS, SILOS, silo_float_fields
from .scada_plc import in_test_mode, rearm_cron

_logger = logging.getLogger(__name__)

AUTO_CANCEL_NOTE = "Auto-cancelled: status_operation=1 (failed) detected from PLC"
PLC_TEXT_CHARS = 16  # ASCII fields of the slot: 8 words
PLC_BATCH_WORD_MODULO = 32768  # the BATCH word is a 16-bit INT; Odoo keeps the full number
PARAM_PREFIX = "scada_plc_bridge."
HEALTH_DEFAULTS = {
    "health_stale_minutes": 10,
    "health_tolerance_percent": 10,
    "health_push_failed_minutes": 30,
    "max_push_retries": 5,
}


def plc_text(text):
    """What fits the PLC's 16-character ASCII fields."""
    return (text or "").encode("ascii", "replace").decode("ascii")[:PLC_TEXT_CHARS]


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
    last_error = fields.Text(readonly=True, tracking=True)
    plc_read_error = fields.Text(
        string="PLC Read Problem", readonly=True, help="Why the last read of this batch's slot was not used."
    )
    plc_finished_signature = fields.Char(
        readonly=True, copy=False, help="What the PLC reported at the first 'finished' read, to confirm it."
    )
    product_id = fields.Many2one(related="production_id.product_id", string="Product")
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
        ("slot_uniq", "unique(plc_id, slot)", "A PLC slot holds one batch."),
    ]

    @api.depends(
        "plc_write_state", "last_read_from_plc", "status_manufacturing", "status_operation", "push_state"
    )
    def _compute_state(self):
        for batch in self:
            if batch.status_operation:
                batch.state = "plc_failure"
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

    @api.model
    def _param(self, key):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        try:
            return float(value) if value else HEALTH_DEFAULTS[key]
        except ValueError:
            return HEALTH_DEFAULTS[key]

    # -- Task 1: confirmed MOs into the queue and the PLC -------------------------
    @api.model
    def _default_plc(self):
        param = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + "default_plc_id")
        plc = self.env["scada.plc"].browse(int(param)).exists() if param and param.isdigit() else None
        return plc or self.env["scada.plc"].search([], limit=1)

    @api.model
    def _cron_sync_mo(self):
        created = self._sync_mo(self.env["scada.plc"].search([]), send=False)
        if not in_test_mode():
            # The queue is committed before the PLC can start a recipe, so Task 2
            # never reads a batch that Odoo does not know yet.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.search([("plc_write_state", "!=", "written")])._action_send_to_plc()
        return created

    @api.model
    def _sync_mo(self, plcs, send=True):
        """Queue confirmed MOs for each PLC whose queue is empty (and send them)."""
        default_plc = self._default_plc()
        created = self.browse()
        for plc in plcs:
            queued = self.search_count([("plc_id", "=", plc.id)])
            if queued:
                _logger.info("[TASK 1] %s: queue not empty (%d batches); no MO taken", plc.code, queued)
                continue
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
                if len(values_list) >= plc.batch_limit:
                    break
                # A line MO: routed to this PLC, with something for the line to dose.
                if (
                    production._scada_plc(default_plc) != plc
                    or not production.bom_id.bom_line_ids.scada_silo_id
                ):
                    continue
                try:
                    values_list.append(self._values_from_production(production, plc, len(values_list) + 1))
                except UserError as error:
                    _logger.warning("[TASK 1] %s: %s skipped: %s", plc.code, production.name, error)
            batches = self.create(values_list)
            if batches:
                _logger.info("[TASK 1] %s: queued %s", plc.code, ", ".join(batches.mapped("mo_id")))
            created |= batches
        if send:
            created._action_send_to_plc()
        return created

    @api.model
    def _values_from_production(self, production, plc, slot):
        kg = self.env.ref("uom.product_uom_kgm")
        values = {
            "batch_no": int(self.env["ir.sequence"].next_by_code("mo.batch")),
            "mo_id": production.name,
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

    def _to_plc_values(self):
        """The recipe as the WRITE slot's fields (handshake 0: new recipe)."""
        self.ensure_one()
        silos = {silo.tag: silo.plc_silo_id for silo in self.plc_id.silo_ids}
        values = {
            "batch_no": self.batch_no % PLC_BATCH_WORD_MODULO,
            "mo_id": plc_text(self.mo_id),
            "bom": plc_text(self.production_id.bom_id.code or self.production_id.bom_id.display_name),
            "finished_goods": plc_text(self.finished_goods),
            "quantity": self.consumption,
            "status_read_data": False,
        }
        for tag, silo_id, _label in SILOS:
            values[memory_map.silo_id_key(tag)] = silos.get(tag, silo_id)
            values["consumption_" + tag] = self["consumption_" + tag]
        return values

    def _action_send_to_plc(self):
        """Write each recipe into its WRITE slot once the PLC took the previous
        one, and verify by reading it back.  What cannot be written stays
        queued with the reason, and is retried by Task 1."""
        sent = self.browse()
        for batch in self:
            plc = batch.plc_id
            layout = plc._layout("write")
            try:
                with plc._plc_client() as client:
                    current = memory_map.read_slot(
                        client, layout, plc.write_area_base, batch.slot, plc.slot_stride
                    )
                    if not (
                        current.is_empty
                        or current.fields.get("status_read_data") is True
                        or current.fields.get("mo_id") == plc_text(batch.mo_id)
                    ):
                        raise UserError(
                            _("Slot %(slot)s still holds MO %(mo)s, not yet taken by the PLC.")
                            % {"slot": batch.slot, "mo": current.fields.get("mo_id")}
                        )
                    words = memory_map.write_slot(
                        client,
                        layout,
                        plc.write_area_base,
                        batch.slot,
                        batch._to_plc_values(),
                        plc.slot_stride,
                    )
                    address = memory_map.slot_address(plc.write_area_base, batch.slot, plc.slot_stride)
                    echo = client.read_words("D%d" % address, len(words))
                # The PLC may already have set the handshake word: compare the rest.
                handshake = layout.by_name["status_read_data"].offset
                if [w for i, w in enumerate(echo) if i != handshake] != [
                    w for i, w in enumerate(words) if i != handshake
                ]:
                    raise UserError(_("Reading the slot back does not show the recipe just written."))
            except (PlcError, UserError) as error:
                message = _("Recipe not written to slot %(slot)s: %(error)s") % {
                    "slot": batch.slot,
                    "error": error,
                }
                if batch.last_error != message:
                    _logger.warning("[TASK 1] %s %s: %s", plc.code, batch.mo_id, message)
                    batch.message_post(body=message)
                batch.write({"plc_write_state": "failed", "last_error": message})
                continue
            batch.write(
                {"plc_write_state": "written", "date_plc_write": fields.Datetime.now(), "last_error": False}
            )
            batch.message_post(
                body=_("Recipe written to %(plc)s slot %(slot)s.") % {"plc": plc.code, "slot": batch.slot}
            )
            _logger.info("[TASK 1] %s: %s written to slot %s", plc.code, batch.mo_id, batch.slot)
            sent |= batch
        return sent

    # -- Task 2: what the PLC reports -----------------------------------------------
    def _record_plc_problem(self, problem):
        self.ensure_one()
        if self.plc_read_error != problem:
            self.write({"plc_read_error": problem})

    def _apply_plc_reading(self, reading, now):
        """Take a valid READ slot into this batch.  Returns (acknowledge the
        READ slot, became finished now).  A finished batch is never touched
        again; 'finished' is taken only when two reads agree, so a torn read
        of a value the PLC was still writing cannot finish an MO."""
        self.ensure_one()
        reported = reading.fields
        if self.status_manufacturing:
            return not reported.get("status_read_data"), False
        values = {"actual_consumption_" + tag: reported["actual_consumption_" + tag] for tag in SILO_TAGS}
        values["actual_weight_quantity_finished_goods"] = reported["actual_weight_quantity_finished_goods"]
        values["status_read_data"] = reported["status_read_data"]
        values["plc_read_error"] = False  # the slot is readable again
        if reported["status_operation"] and not self.status_operation:
            values["status_operation"] = True
            self._write_changes(values, now)
            self._auto_cancel()
            return True, False
        if reported["status_manufacturing"]:
            signature = json.dumps(reported, sort_keys=True, default=str)
            if self.plc_finished_signature == signature:
                values["status_manufacturing"] = True
            else:
                values["plc_finished_signature"] = signature
        self._write_changes(values, now)
        finished = bool(values.get("status_manufacturing"))
        if finished:
            _logger.info("[TASK 2] %s: %s finished on the PLC", self.equipment, self.mo_id)
            rearm_cron(self.env, "scada_plc_bridge.ir_cron_task3_process_completed")
        return finished, finished

    def _write_changes(self, values, now):
        changed = {}
        for name, value in values.items():
            field = self._fields[name]
            if field.type == "float":
                if float_compare(self[name], value, precision_digits=KG_DIGITS[1]):
                    changed[name] = value
            elif (self[name] or False) != (value or False):
                changed[name] = value
        changed["last_read_from_plc"] = now
        self.write(changed)

    def _auto_cancel(self):
        """status_operation 0 -> 1: cancel the MO and archive the batch in one
        transaction; if Odoo refuses, the batch stays for an operator."""
        self.ensure_one()
        mo_id = self.mo_id
        try:
            with self.env.cr.savepoint():
                self._cancel_and_archive(AUTO_CANCEL_NOTE, refuse_done=True)
        except UserError as error:
            message = _("Auto-cancel refused by Odoo: %s") % error
            _logger.warning("[TASK 2] %s: %s", mo_id, message)
            self.write({"status_operation": True, "last_error": message})
            self.message_post(body=message)
            return False
        _logger.warning("[TASK 2] %s: %s", mo_id, AUTO_CANCEL_NOTE)
        return True

    def _cancel_and_archive(self, notes, refuse_done=False):
        self.ensure_one()
        production = self.production_id
        if production.state == "done" and refuse_done:
            raise UserError(_("Manufacturing order %s is already done.") % production.name)
        if production.state not in ("done", "cancel"):
            production.action_cancel()
            if production.state != "cancel":
                raise UserError(_("Odoo did not cancel %s.") % production.name)
        self._archive("cancelled", notes)

    def _archive(self, status, notes):
        """Move the batch to the history, in the caller's transaction."""
        history = self.env["mo.history"]
        for batch in self:
            values = dict(batch._batch_data_values(), status=status, notes=notes)
            history |= history.with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo().create(values)
        # Archiving is the queue's own bookkeeping: users who may cancel or
        # retry a batch need not be allowed to delete batches by hand.
        self.sudo().unlink()
        return history.with_env(self.env)

    # -- Task 3: finished batches into done MOs ---------------------------------------
    @api.model
    def _cron_process_completed(self):
        """Each finished batch in its own transaction (savepoint in tests)."""
        done = failed = 0
        tried = []
        while True:
            batch = self._lock_next_finished(tried)
            if not batch:
                break
            tried.append(batch.id)
            if batch._push_to_odoo():
                done += 1
            else:
                failed += 1
            if not in_test_mode():
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if done or failed:
            _logger.info("[TASK 3] %d batch(es) finished in Odoo, %d failed", done, failed)
        return done, failed

    def _lock_next_finished(self, exclude, only=None):
        """Lock one finished batch no other transaction is working on."""
        self.flush(["status_manufacturing", "status_operation", "push_state"])
        query = (
            "SELECT id FROM mo_batch WHERE status_manufacturing AND status_operation IS NOT TRUE"
            " AND push_state != 'parked' AND NOT (id = ANY(%s))"
        )
        params = [exclude or [0]]
        if only is not None:
            query += " AND id = ANY(%s)"
            params.append(only)
        self.env.cr.execute(query + " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", params)
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    def _process_completed(self):
        """Task 3 for these batches only (Task 2 and Retry push)."""
        done = self.browse()
        for batch in self:
            locked = self._lock_next_finished([], only=[batch.id])
            if locked and locked._push_to_odoo():
                done |= batch
            if not in_test_mode():
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    def _push_to_odoo(self):
        """Finish the MO with the PLC's actuals, archive, dequeue: all or nothing."""
        self.ensure_one()
        mo_id = self.mo_id
        try:
            with self.env.cr.savepoint():
                self._finish_production()
                self._archive(
                    "completed",
                    _("Finished by the PLC; %s kg produced.") % self.actual_weight_quantity_finished_goods,
                )
        except Exception as error:  # any refusal of Odoo: this batch waits, the others go on
            self._record_push_failure(error)
            return False
        _logger.info("[TASK 3] %s done in Odoo and archived", mo_id)
        return True

    def _record_push_failure(self, error):
        message = _("Odoo refused to finish %(mo)s: %(error)s") % {"mo": self.mo_id, "error": error}
        _logger.warning("[TASK 3] %s", message, exc_info=not isinstance(error, UserError))
        retries = self.retry_count + 1
        self.write(
            {
                "push_state": "parked" if retries >= self._param("max_push_retries") else "failed",
                "retry_count": retries,
                "last_error": message,
                "date_push_failed": self.date_push_failed or fields.Datetime.now(),
            }
        )
        self.message_post(body=message)

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
            skip_immediate=True, skip_backorder=True, skip_consumption=True
        ).button_mark_done()
        if result is not True or production.state != "done":
            raise UserError(
                _("Odoo did not mark %(mo)s done (state %(state)s).")
                % {"mo": production.name, "state": production.state}
            )

    # -- Task 4: health -----------------------------------------------------------
    @api.model
    def _cron_health(self):
        """Open one activity per problem for the SCADA managers, close it when
        the problem is gone.  Returns the number of open problems."""
        now = fields.Datetime.now()
        stale_before = now - timedelta(minutes=self._param("health_stale_minutes"))
        push_failed_before = now - timedelta(minutes=self._param("health_push_failed_minutes"))
        tolerance = self._param("health_tolerance_percent")
        problems = {}
        for batch in self.search([]):
            if (
                batch.state in ("sent", "running")
                and (batch.last_read_from_plc or batch.date_plc_write) < stale_before
            ):
                problems[(batch.id, _("SCADA: no PLC read for too long"))] = _("Last PLC read: %s") % (
                    batch.last_read_from_plc or _("never")
                )
            off = batch._consumption_outside_tolerance(tolerance)
            if off:
                problems[(batch.id, _("SCADA: consumption outside tolerance"))] = "\n".join(off)
            if (
                batch.push_state != "none"
                and batch.date_push_failed
                and batch.date_push_failed < push_failed_before
            ):
                problems[(batch.id, _("SCADA: failing to push to Odoo"))] = batch.last_error
        self._sync_health_activities(problems)
        return len(problems)

    def _consumption_outside_tolerance(self, tolerance):
        if not self.status_manufacturing:
            return []  # while running, actuals are still growing
        off = []
        for tag, _silo_id, label in SILOS:
            planned, actual = self["consumption_" + tag], self["actual_consumption_" + tag]
            if planned and abs(actual - planned) * 100.0 / planned > tolerance:
                off.append(
                    _("%(silo)s: %(planned).2f kg planned, %(actual).2f kg actual")
                    % {"silo": label, "planned": planned, "actual": actual}
                )
            elif not planned and actual:
                off.append(
                    _("%(silo)s: not planned, %(actual).2f kg actual") % {"silo": label, "actual": actual}
                )
        return off

    @api.model
    def _sync_health_activities(self, problems):
        activity_type = self.env.ref("scada_plc_bridge.mail_activity_type_scada_health")
        open_activities = self.env["mail.activity"].search(
            [("res_model", "=", self._name), ("activity_type_id", "=", activity_type.id)]
        )
        existing = {(activity.res_id, activity.summary): activity for activity in open_activities}
        for key, activity in existing.items():
            if key not in problems:
                activity.action_feedback(feedback=_("Resolved."))
        managers = self.env.ref("scada_plc_bridge.group_scada_manager").users.filtered(lambda u: not u.share)
        for (batch_id, summary), detail in problems.items():
            if (batch_id, summary) in existing:
                continue
            batch = self.browse(batch_id)
            user = batch.plc_id.responsible_user_id or managers[:1] or self.env.user
            _logger.warning("[TASK 4] %s: %s", batch.mo_id, summary)
            batch.activity_schedule(
                activity_type_id=activity_type.id, summary=summary, note=detail, user_id=user.id
            )

    # -- operations (buttons and server actions) ----------------------------------------
    def _post_operation(self, text):
        for batch in self:
            batch.message_post(
                body=_("%(operation)s by %(user)s.") % {"operation": text, "user": self.env.user.name}
            )

    def action_send_to_plc(self):
        self._post_operation(_("Send to PLC requested"))
        failed = self - self._action_send_to_plc()
        if failed:
            raise UserError("\n".join(failed.mapped("last_error")))
        return True

    def action_retry_push(self):
        not_finished = self.filtered(lambda b: not b.status_manufacturing or b.status_operation)
        if not_finished:
            raise UserError(
                _("Only batches the PLC finished can be pushed: %s") % ", ".join(not_finished.mapped("mo_id"))
            )
        self._post_operation(_("Retry push"))
        self.filtered(lambda b: b.push_state == "parked").write({"push_state": "failed"})
        productions = self.production_id
        done = self._process_completed()
        failed = (self - done).exists()
        if failed:
            return self.env["scada.plc"]._notify("\n".join(failed.mapped("last_error")), "danger", True)
        # The batches are archived now: show them where they went.
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.mo_history_action")
        action["domain"] = [("production_id", "in", productions.ids)]
        return action

    def action_reset(self, clear_actuals=False):
        """Back to running: statuses and errors cleared, the recipe rewritten."""
        clear_actuals = clear_actuals or self.env.context.get("scada_clear_actuals")
        values = {
            "status_manufacturing": False,
            "status_operation": False,
            "push_state": "none",
            "retry_count": 0,
            "last_error": False,
            "date_push_failed": False,
            "plc_finished_signature": False,
            "plc_write_state": "pending",
        }
        if clear_actuals:
            values.update({"actual_consumption_" + tag: 0.0 for tag in SILO_TAGS})
            values["actual_weight_quantity_finished_goods"] = 0.0
        self._post_operation(_("Reset") + (_(" (actuals cleared)") if clear_actuals else ""))
        self.write(values)
        self._action_send_to_plc()
        return True

    def action_cancel(self, notes=None):
        """Archive as cancelled with the notes; the MO is cancelled unless done."""
        notes = notes or _("Cancelled by %s.") % self.env.user.name
        for batch in self:
            _logger.info("[TASK 1] %s cancelled by %s: %s", batch.mo_id, self.env.user.name, notes)
            batch._cancel_and_archive(notes)
        return True
