"""One cycle of one PLC: all the bridge does with a PLC, in order, with every
exchange with the PLC outside any transaction.

    read the READ slots -> apply (Task 2) -> requests taken -> auto-cancel
    and finish (Task 3), one transaction per batch -> operators' cancels ->
    acknowledge READ slots -> queue MOs if the queue is empty (Task 1) ->
    write recipes -> requests done

The caller holds the PLC's lock (a runner's advisory lock, or a cron's) and
passes `transaction`, a callable that runs `fn(env)` in a transaction of
its own (`Transactions`): nothing here commits or opens cursors itself.
The task code is reached by model name (`env["scada.task.poll"]`), never by
importing model modules.

A step that fails fails alone: a PLC error is the step's outcome (retried
next cycle); any other exception in one step (one batch's finish, one
request, one recipe) is logged once, with its traceback, and the rest of
the cycle goes on; a request whose execution raises ends "failed" with the
reason in its result, never left "running".  Database errors of the
connection (OperationalError, InterfaceError) still stop the cycle: the
runner runs it again once the database is back.  Text that reaches the
database or a log passes memory_map.clean_text (no NUL, no control
characters: PostgreSQL refuses NUL)."""

import logging
import threading
import time

import psycopg2

from ..const import HEARTBEAT_SECONDS
from ..plclib import handshake, memory_map
from ..plclib.client import FinsClient
from ..plclib.exceptions import PlcError

_logger = logging.getLogger(__name__)

# (plc_id, step) -> the reason last logged: a step failing every cycle (2
# cycles a second) is logged once, again when the reason changes, and its
# recovery once.
_FAILING = {}
_FAILING_LOCK = threading.Lock()


class RequestRefused(Exception):
    """A request that cannot be carried out as asked (e.g. a slot the PLC
    does not have): the request fails with this reason, nothing is sent."""


def _reason(error):
    """A failure's reason for the database and the logs: clean text."""
    text = (
        str(error)
        if isinstance(error, (PlcError, RequestRefused))
        else "%s: %s" % (type(error).__name__, error)
    )
    return memory_map.clean_text(text)


def queue_changed(kept):
    """A batch or an MO of the PLC changed (the runner's "queue" notice): its
    next poll is a full one.  Flagged, not only unmarked quiet: a poll
    running now may have read the database before the change and would
    mark the plan quiet as it ends, and a new MO would wait a heartbeat."""
    kept["queue_changed"] = True
    kept.pop("quiet", None)


def _geometry(plan):
    """The slot geometry of a plan (from scada.task.poll's _cycle_plan)."""
    return memory_map.SlotGeometry(
        plan["read_layout"],
        plan["write_layout"],
        plan["read_base"],
        plan["write_base"],
        plan["stride"],
        plan["slot_count"],
    )


class PlcCycle:
    def __init__(self, plc_id, transaction):
        self.plc_id, self.transaction = plc_id, transaction

    def _task(self, model, method, *args):
        return self.transaction(lambda env: getattr(env[model], method)(*args))

    def _guarded(self, step, fn, *args, **kwargs):
        """fn(*args) as one step of the cycle: (True, result), or (False,
        reason) when it raised (any exception: logged once, not raised)."""
        code = kwargs.pop("code", self.plc_id)
        key = (self.plc_id, step)
        try:
            result = fn(*args)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            # The database is gone (or conflicts outlasted the retries): the whole
            # cycle stops and the runner runs it again once the database is back.
            raise
        except Exception as error:  # one step's failure never stops the cycle
            reason = _reason(error)
            with _FAILING_LOCK:
                news = _FAILING.get(key) != reason
                _FAILING[key] = reason
            if news and isinstance(error, PlcError):
                _logger.warning("[TASK 2] %s: %s failed: %s", code, step, reason)
            elif news:
                _logger.exception("[TASK 2] %s: %s failed: %s", code, step, reason)
            return False, reason
        if key in _FAILING:
            with _FAILING_LOCK:
                known = _FAILING.pop(key, None)
            if known is not None:
                _logger.info("[TASK 2] %s: %s works again", code, step)
        return True, result

    def plan(self):
        """What the cycle needs to talk to the PLC (None: inactive or gone),
        with its slot geometry; a runner keeps it between cycles and
        refreshes it every few seconds."""
        plan = self._task("scada.task.poll", "_cycle_plan", self.plc_id)
        if plan is not None:
            plan["geometry"] = _geometry(plan)
        return plan

    def run(self, plan=None, take_requests=True):
        """One full cycle; returns the plan it ran with (None for an
        inactive PLC).  `take_requests`: whether operators' requests may be
        waiting (a runner knows from its own cheap look-up)."""
        # The runner's plan outlives the cycle (until the PLC's data changes:
        # then the runner drops it); the cycle works on a copy.
        kept = plan
        plan = dict(plan or self.plan() or {})
        if not plan:
            return None
        if "geometry" not in plan:
            plan["geometry"] = _geometry(plan)
        code = plan["code"]
        unworkable = self._unworkable(plan)
        if unworkable:
            # Settings saved before they were checked (slots overlapping...): nothing
            # is read or written, or a recipe could land in another slot's words.
            self._no_contact(plan, "the memory map settings cannot work: %s" % "; ".join(unworkable))
            self.carry_out(plan, None, self._take_requests(take_requests, code), None)
            return plan
        with FinsClient(**plan["client"]) as client:
            # The PLC is read before anything waits for the database, so a
            # round's reads all start at once whatever the other PLCs do.
            contact = self.read_and_apply(plan, client, kept, take_requests)
            requests = self._take_requests(take_requests, code)
            if contact:
                self.cancel(plan, client, plan["cancels"])
                told = plan["to_tell"]
                if told is None:  # Task 3 or a cancel changed the queue since the poll
                    ok, told = self._guarded(
                        "choosing what to tell the PLC",
                        self._task,
                        "scada.task.poll",
                        "_what_to_tell",
                        self.plc_id,
                        plan["readings"],
                        code=code,
                    )
                    told = told if ok else ([], [])
                due, recipes = told
                self.acknowledge(plan, client, due)
                self.write_recipes(plan, client, recipes)
                self.take_events(plan, client)
            self.carry_out(plan, client, requests, contact)
        return plan

    @staticmethod
    def _unworkable(plan):
        """Why the plan's memory-map settings cannot work (empty: they can)."""
        return plan["geometry"].problems()

    def _take_requests(self, take_requests, code):
        """Operators' requests waiting for this PLC, marked in progress ([] when none may wait)."""
        if not take_requests:
            return []
        ok, requests = self._guarded(
            "taking requests", self._task, "scada.plc.request", "_take_pending", self.plc_id, code=code
        )
        return requests if ok else []

    def write_only(self):
        """Task 1's part: write the recipes of the queue (cron safety net)."""
        plan = self.plan()
        if plan is not None and not self._unworkable(plan):
            recipes = self._task("scada.task.sync", "_recipes_to_write", self.plc_id)
            with FinsClient(**plan["client"]) as client:
                self.write_recipes(plan, client, recipes)

    # -- Task 2: read, apply; Task 3 for what changed -----------------------
    def _no_contact(self, plan, error):
        """The PLC cannot be worked with this cycle: the reason on the PLC (and its requests)."""
        plan["error"] = error
        self._guarded(
            "recording no contact",
            self._task,
            "scada.task.poll",
            "_record_no_contact",
            self.plc_id,
            error,
            code=plan["code"],
        )

    def read_and_apply(self, plan, client, kept=None, take_requests=True):
        """Read the READ slots and take them into the queue.  `kept`: the
        runner's plan, which remembers a quiet poll: the same readings again,
        no request waiting, within a heartbeat of the last full poll, are
        known to change nothing, and cost no transaction."""
        kept = kept if kept is not None else {}
        # Taken before the database is read: a change noticed after it flags the next poll.
        queue_changed = kept.pop("queue_changed", False)
        try:
            readings = plan["geometry"].read_all(client, "read")
            warning = client.last_warning
        except PlcError as error:
            kept.pop("quiet", None)
            self._no_contact(plan, _reason(error))
            return None
        warning = memory_map.clean_text(warning) if warning else warning
        seen = (warning, [(reading.slot, reading.fields, reading.errors) for reading in readings])
        quiet_seen, quiet_until = kept.get("quiet", (None, 0.0))
        if not (take_requests or queue_changed) and seen == quiet_seen and time.monotonic() < quiet_until:
            plan.update(readings=readings, recheck=False, cancels=[], to_tell=([], []))
            return readings
        kept.pop("quiet", None)
        ok, outcome = self._guarded(
            "applying the READ slots",
            self._task,
            "scada.task.poll",
            "_apply_readings",
            self.plc_id,
            readings,
            warning,
            code=plan["code"],
        )
        if not ok:
            # Nothing is acknowledged or written on a reading Odoo could not take.
            plan["error"] = outcome
            return None
        for method, batch_ids in (
            ("_auto_cancel_batch", outcome["failed"]),
            ("_finish_batch", outcome["finished"]),
        ):
            for batch_id in batch_ids:
                self._guarded(
                    "%s of batch %s" % (method.strip("_").replace("_", " "), batch_id),
                    self._task,
                    "scada.task.finish",
                    method,
                    batch_id,
                    code=plan["code"],
                )
        plan["readings"] = readings
        plan["recheck"] = bool(outcome["unconfirmed"])
        plan["cancels"] = outcome["cancels"]
        plan["to_tell"] = outcome.get("to_tell")
        if outcome["quiet"] and plan["to_tell"] == ([], []) and not (plan["recheck"] or plan["cancels"]):
            # Time-driven checks (a batch not advancing, the heartbeat) run at least this often.
            kept["quiet"] = (seen, time.monotonic() + HEARTBEAT_SECONDS)
        return readings

    def acknowledge(self, plan, client, due):
        """READ slots whose result Odoo holds now (in the queue or in the
        history): acknowledged every cycle until the PLC shows it."""
        for slot, identity in due:
            # A PLC error is not lost: the slot still shows unacknowledged and is tried next cycle.
            self._guarded(
                "acknowledging READ slot %s" % slot,
                handshake.acknowledge_read,
                client,
                plan["geometry"],
                slot,
                identity,
                code=plan["code"],
            )

    # -- plant events: the failure and weighing mailboxes ------------------------
    def take_events(self, plan, client):
        """After the slots' work: ONE 0104 read of the mailboxes' flags (the
        body only of a new event), each new event recorded in a transaction
        of its own, then acknowledged to the PLC (after the commit).  An
        event Odoo did not record stays unacknowledged and reads again next
        cycle: it is recorded once (by its content hash)."""
        mailboxes = plan.get("mailboxes") or ()
        if not mailboxes:
            return
        ok, events = self._guarded(
            "reading the mailboxes", handshake.poll_mailboxes, client, mailboxes, code=plan["code"]
        )
        for mailbox in mailboxes if ok else ():
            event = events.get(mailbox.area)
            if event is not None:
                self._guarded(
                    "the %s mailbox" % mailbox.area,
                    self._take_event,
                    client,
                    mailbox,
                    event,
                    code=plan["code"],
                )

    def _take_event(self, client, mailbox, event):
        recorded = self._task(
            "scada.plant.events", "_record_mailbox_event", self.plc_id, mailbox.area, event.as_dict()
        )
        if recorded:
            # A PLC error here is not lost: the event reads again, already recorded.
            handshake.acknowledge_mailbox(client, mailbox, event)

    # -- operators' cancels: the WRITE slot cleared before the MO is cancelled --
    def cancel(self, plan, client, cancels):
        for cancel in cancels:
            self._guarded(
                "cancelling batch %s" % cancel["batch_id"],
                self._cancel_one,
                plan,
                client,
                cancel,
                code=plan["code"],
            )

    def _cancel_one(self, plan, client, cancel):
        # One cancel: a PLC error leaves it asked, tried again next cycle.
        try:
            outcome = handshake.clear_write_slot(client, plan["geometry"], cancel["slot"], cancel["identity"])
        except PlcError as error:
            # Not lost: the cancel stays asked and is tried next cycle.
            _logger.warning(
                "[TASK 1] %s: clearing slot %s failed: %s", plan["code"], cancel["slot"], _reason(error)
            )
            return
        self._task("scada.task.finish", "_carry_out_cancel", cancel["batch_id"], outcome)

    # -- Task 1: recipes into WRITE slots --------------------------------------
    def write_recipes(self, plan, client, recipes):
        for recipe in recipes:
            step = "writing the recipe of batch %s" % recipe["batch_id"]
            ok, reason = self._guarded(step, self._write_one, plan, client, recipe, code=plan["code"])
            if not ok:
                # Not a PLC error (those are recorded by _write_one): the batch says why.
                self._guarded(
                    step + " (recording its failure)",
                    self._task,
                    "scada.task.sync",
                    "_record_write_failure",
                    recipe["batch_id"],
                    reason,
                    code=plan["code"],
                )

    def _write_one(self, plan, client, recipe):
        # One recipe: a PLC error is its outcome, recorded on the batch.
        try:
            if recipe["replaces"] and self._reset_came_too_late(plan, client, recipe):
                self._task("scada.task.sync", "_record_reset_undone", recipe["batch_id"])
                return
            outcome = handshake.write_recipe(client, plan["geometry"], recipe["slot"], recipe["values"])
        except PlcError as error:
            self._task("scada.task.sync", "_record_write_failure", recipe["batch_id"], _reason(error))
            return
        self._task(
            "scada.task.sync",
            "_record_write",
            recipe["batch_id"],
            outcome.status,
            memory_map.clean_text(outcome.detail),
        )

    @staticmethod
    def _reset_came_too_late(plan, client, recipe):
        """A reset batch: its earlier recipe, if the PLC never took it, is
        cleared to make room.  True when the PLC took it and has not finished
        with it (no result of it acknowledged): the new recipe must not be
        written, or the line would dose the batch twice."""
        replaced, slot = recipe["replaces"], recipe["slot"]
        outcome = handshake.clear_write_slot(client, plan["geometry"], slot, replaced)
        if outcome != handshake.TAKEN:
            return False
        report = plan["geometry"].read_slot(client, "read", slot)
        finished_with = report.valid and handshake.slot_identity(report.fields) == replaced
        return not (finished_with and report.fields.get("status_read_data"))

    # -- operators' requests ----------------------------------------------------
    def carry_out(self, plan, client, requests, contact):
        """Requests taken at the start of the cycle: the cycle itself did
        reads and writes; what is left is asked of the PLC here."""
        for request in requests:
            step = "request %s (%s)" % (request["id"], request["kind"])
            slots = None
            try:
                result, slots = self._request(plan, client, request, contact)
                result, state = memory_map.clean_text(result), "done"
            except (PlcError, RequestRefused) as error:
                result, state = _reason(error), "failed"
            except Exception as error:  # a bug or a refusal of Odoo: this request fails, the others go on
                _logger.exception("[TASK 2] %s: %s failed", plan["code"], step)
                result, state = _reason(error), "failed"
            ok, _unused = self._guarded(
                step + " (recording its result)",
                self._task,
                "scada.plc.request",
                "_record_result",
                request["id"],
                state,
                result,
                slots,
                code=plan["code"],
            )
            if not ok and state == "done":
                # The result itself could not be recorded: the request fails with that reason.
                self._guarded(
                    step + " (recording its failure)",
                    self._task,
                    "scada.plc.request",
                    "_record_result",
                    request["id"],
                    "failed",
                    _unused,
                    code=plan["code"],
                )

    def _request(self, plan, client, request, contact):
        """(result, slots): what the request did, in words, and for a
        "slots" request the slots it read (None for the other kinds)."""
        kind = request["kind"]
        if client is None:
            raise RequestRefused(plan["error"])
        if kind == "clear_read_slot" and not 1 <= (request["slot"] or 0) <= plan["slot_count"]:
            raise RequestRefused(
                "slot %s is not a slot of this PLC (1..%d): nothing sent"
                % (request["slot"], plan["slot_count"])
            )
        if kind == "test":
            data, status = client.controller_data_read(), client.controller_status_read()
            return "%s %s, mode %s" % (data["model"], data["version"], status["mode"]), None
        if kind == "slots":
            # Read now, after what the cycle wrote: the slots as the PLC shows them.
            geometry = plan["geometry"]
            slots = {
                area: [reading.as_dict() for reading in geometry.read_all(client, area)]
                for area in memory_map.AREAS
            }
            return "slots read", slots
        if kind == "clear_read_slot":
            reading = plan["geometry"].read_slot(client, "read", request["slot"])
            identity = handshake.slot_identity(reading.fields)
            acknowledged = handshake.acknowledge_read(client, plan["geometry"], request["slot"], identity)
            return ("acknowledged" if acknowledged else "empty"), None
        if not contact:
            raise PlcError(plan["error"] or "no contact with the PLC")
        return "ok", None  # read, send: done by the cycle
