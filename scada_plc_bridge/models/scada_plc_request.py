import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..const import RUNNER_CHANNEL

_logger = logging.getLogger(__name__)

# Columns of scada_plc that the runtime writes as it polls (not configuration):
# changing only these wakes no runner.
RUNTIME_PLC_COLUMNS = (
    "state",
    "last_contact",
    "last_queued",
    "last_error",
    "slot_problems",
    "write_date",
    "write_uid",
    "message_main_attachment_id",
)

KINDS = [
    ("read", "Read now"),
    ("test", "Test connection"),
    ("send", "Send recipes"),
    ("clear_read_slot", "Clear result slot"),
    ("cancel", "Cancel batches"),
    ("slots", "Read slots"),
]


class ScadaPlcRequest(models.Model):
    """Something an operator asked of a PLC.  The button only records the
    request and returns; the PLC's poller carries it out once, under the
    PLC's lock, in its next cycle (at once when a runner polls the PLC,
    within the Task 2 cron's minute otherwise), and writes the result here."""

    _name = "scada.plc.request"
    _description = "SCADA PLC request"
    _order = "id desc"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(KINDS, required=True)
    batch_ids = fields.Many2many("mo.batch", string="Batches")
    slot = fields.Integer(help="Result slot, for clearing a slot.")
    state = fields.Selection(
        [("pending", "Waiting"), ("running", "In Progress"), ("done", "Done"), ("failed", "Failed")],
        default="pending",
        required=True,
        index=True,
    )
    result = fields.Text()
    # A "slots" request's reading: {"read": [...], "write": [...]}, each slot
    # as memory_map.SlotReading.as_dict() (the decoded words as the PLC showed them).
    slots_data = fields.Text(string="Slots Read", groups="scada_plc_bridge.group_scada_manager")
    date_done = fields.Datetime(string="Carried Out")
    company_id = fields.Many2one(related="plc_id.company_id", store=True)

    def init(self):
        """The triggers that wake the runners (LISTEN on RUNNER_CHANNEL), as
        OCA queue_job's do: whatever inserts a request or changes what a
        runner reads of a PLC (the ORM, SQL, another server), the NOTIFY is
        delivered when that transaction commits.  A PLC's update notifies
        when any column changed but those the runtime itself writes
        (RUNTIME_PLC_COLUMNS: state, heartbeat...): a new column counts as
        configuration until it is listed there.  A change of a batch, or an
        MO confirmed, says "queue": the next poll of a quiet PLC is a full
        one (it queues the MO, acknowledges what an operator finished)."""
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION scada_plc_runner_notify() RETURNS trigger AS $$
            DECLARE
                changed record;
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    changed := OLD;
                ELSE
                    changed := NEW;
                END IF;
                IF TG_TABLE_NAME = 'scada_plc_request' THEN
                    PERFORM pg_notify(%(channel)s, 'request:' || changed.plc_id);
                ELSIF TG_TABLE_NAME = 'mo_batch' THEN
                    PERFORM pg_notify(%(channel)s, 'queue:' || changed.plc_id);
                ELSIF TG_TABLE_NAME = 'mrp_production' THEN
                    PERFORM pg_notify(%(channel)s, 'queue:');
                ELSIF TG_TABLE_NAME = 'scada_plc' THEN
                    PERFORM pg_notify(%(channel)s, 'plc:' || changed.id);
                ELSE
                    PERFORM pg_notify(%(channel)s, 'plc:' || changed.plc_id);
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS scada_plc_runner_notify ON scada_plc_request;
            CREATE TRIGGER scada_plc_runner_notify AFTER INSERT ON scada_plc_request
                FOR EACH ROW EXECUTE PROCEDURE scada_plc_runner_notify();
            DROP TRIGGER IF EXISTS scada_plc_runner_notify ON scada_plc;
            CREATE TRIGGER scada_plc_runner_notify AFTER INSERT OR DELETE ON scada_plc
                FOR EACH ROW EXECUTE PROCEDURE scada_plc_runner_notify();
            DROP TRIGGER IF EXISTS scada_plc_runner_notify_config ON scada_plc;
            CREATE TRIGGER scada_plc_runner_notify_config AFTER UPDATE ON scada_plc
                FOR EACH ROW WHEN (
                    to_jsonb(OLD) - %(runtime_columns)s::text[]
                    IS DISTINCT FROM to_jsonb(NEW) - %(runtime_columns)s::text[]
                )
                EXECUTE PROCEDURE scada_plc_runner_notify();
            DROP TRIGGER IF EXISTS scada_plc_runner_notify ON mo_batch;
            CREATE TRIGGER scada_plc_runner_notify AFTER INSERT OR UPDATE OR DELETE ON mo_batch
                FOR EACH ROW EXECUTE PROCEDURE scada_plc_runner_notify();
            DROP TRIGGER IF EXISTS scada_plc_runner_notify ON mrp_production;
            CREATE TRIGGER scada_plc_runner_notify AFTER INSERT OR UPDATE OF state ON mrp_production
                FOR EACH ROW WHEN (NEW.state = 'confirmed')
                EXECUTE PROCEDURE scada_plc_runner_notify();
            DROP TRIGGER IF EXISTS scada_plc_runner_notify ON scada_memory_map;
            CREATE TRIGGER scada_plc_runner_notify AFTER INSERT OR UPDATE OR DELETE ON scada_memory_map
                FOR EACH ROW EXECUTE PROCEDURE scada_plc_runner_notify();
            """,
            {"channel": RUNNER_CHANNEL, "runtime_columns": list(RUNTIME_PLC_COLUMNS)},
        )

    @api.model
    def _check_slot_of(self, plc, slot):
        """A READ slot to clear must be one of the PLC's slots, 1..slot_count:
        any other number would address words outside its READ area (slot 11
        is WRITE slot 1's handshake on the plant's map)."""
        if not 1 <= (slot or 0) <= plc.slot_count:
            raise ValidationError(
                _("Slot %(slot)s is not a slot of %(plc)s: choose a slot from 1 to %(count)s.")
                % {"slot": slot, "plc": plc.display_name, "count": plc.slot_count}
            )

    @api.constrains("kind", "slot", "plc_id")
    def _check_request_slot(self):
        for request in self.filtered(lambda r: r.kind == "clear_read_slot" and r.state == "pending"):
            self._check_slot_of(request.plc_id, request.slot)

    @api.model
    def _request(self, plc, kind, batches=None, slot=0):
        if kind == "clear_read_slot":
            self._check_slot_of(plc, slot)
        if batches:
            batches._lock()
        request = self.sudo().create(
            {
                "plc_id": plc.id,
                "kind": kind,
                "batch_ids": [(6, 0, batches.ids if batches else [])],
                "slot": slot,
            }
        )
        self.env["scada.runner"]._wake()
        return request

    @api.model
    def _request_per_plc(self, kind, batches):
        """One request of this kind per PLC of these batches."""
        for plc in batches.plc_id:
            self._request(plc, kind, batches.filtered(lambda batch, plc=plc: batch.plc_id == plc))

    @api.model
    def _take_pending(self, plc_id):
        """The PLC's open requests, marked in progress.  A request left in
        progress by a server that died is taken again: what a request does
        is safe to repeat (reads, and writes that the handshake makes
        idempotent)."""
        requests = self.search([("plc_id", "=", plc_id), ("state", "in", ("pending", "running"))])
        # A request no cycle can carry out (a slot the PLC does not have, from
        # before slots were checked, or a PLC with fewer slots since) fails at once.
        for request in requests.filtered(
            lambda r: r.kind == "clear_read_slot" and not 1 <= r.slot <= r.plc_id.slot_count
        ):
            self._record_result(
                request.id,
                "failed",
                _("Slot %(slot)s is not a slot of %(plc)s (1 to %(count)s): nothing was sent to the PLC.")
                % {
                    "slot": request.slot,
                    "plc": request.plc_id.display_name,
                    "count": request.plc_id.slot_count,
                },
            )
            requests -= request
        requests.write({"state": "running"})
        return [{"id": r.id, "kind": r.kind, "slot": r.slot, "batch_ids": r.batch_ids.ids} for r in requests]

    @api.model
    def _record_result(self, request_id, state, result, slots=None):
        """`slots`: what a "slots" request read (plain data, stored as JSON)."""
        request = self.browse(request_id).exists()
        if not request:
            return
        # Written in the language of the person who pressed the button.
        request = request.with_context(lang=request.create_uid.lang or self.env.lang)
        state, result = request._outcome(state, result)
        values = {"state": state, "result": result, "date_done": fields.Datetime.now()}
        if slots is not None:
            values["slots_data"] = json.dumps(slots)
        request.write(values)
        if request.kind == "test":
            if state == "done":
                self.env["scada.plc.contact"]._record_contact(request.plc_id)
            else:
                self.env["scada.plc.contact"]._record_contact_error(request.plc_id, result)
        _logger.info("[TASK 2] %s: request %s %s: %s", request.plc_id.code, request.kind, state, result)
        # The person who pressed the button sees the outcome where they are.
        request.plc_id._notify_board(
            request.batch_ids.ids,
            request={
                "user_id": request.create_uid.id,
                "kind": dict(request._fields["kind"]._description_selection(request.env))[request.kind],
                "state": state,
                "result": result,
            },
        )

    def _outcome(self, state, result):
        """(state, words) of what the cycle did for this request."""
        self.ensure_one()
        if self.kind == "cancel":
            batches = self.batch_ids.exists()
            waiting = batches.filtered("cancel_waits_for_plc")
            if waiting:
                return state, _("%(count)s batch(es) run on the line: recorded when the PLC reports") % {
                    "count": len(waiting)
                }
            if batches:
                # Still asked: carried out by the first cycle that reaches the PLC.
                return state, _(
                    "not cancelled yet (%(why)s): the batch is cancelled when the PLC answers"
                ) % {"why": result if state == "failed" else _("the PLC's slot could not be cleared")}
            return state, _("cancelled")
        if self.kind == "send":
            failed = self.batch_ids.exists().filtered(lambda b: b.plc_write_state != "written")
            if failed:
                why = result if state == "failed" else _("the PLC did not take the write")
                return "failed", "\n".join(
                    _("%(mo)s: not in the PLC yet: %(why)s")
                    % {"mo": b.mo_reference, "why": b.last_error or why}
                    for b in failed
                )
            if state == "done":
                return state, _("%(count)s recipe(s) in the PLC") % {"count": len(self.batch_ids)}
        if self.kind == "read" and state == "done":
            return state, _("read")
        if self.kind == "slots" and state == "done":
            return state, _("slots read")
        return state, result
