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
importing model modules."""

import logging

from ..plclib import handshake, memory_map
from ..plclib.client import FinsClient
from ..plclib.exceptions import PlcError

_logger = logging.getLogger(__name__)


class PlcCycle:
    def __init__(self, plc_id, transaction):
        self.plc_id, self.transaction = plc_id, transaction

    def _task(self, model, method, *args):
        return self.transaction(lambda env: getattr(env[model], method)(*args))

    def plan(self):
        """What the cycle needs to talk to the PLC (None: inactive or gone);
        a runner keeps it between cycles and refreshes it every few seconds."""
        return self._task("scada.task.poll", "_cycle_plan", self.plc_id)

    def run(self, plan=None, take_requests=True):
        """One full cycle; returns the plan it ran with (None for an
        inactive PLC).  `take_requests`: whether operators' requests may be
        waiting (a runner knows from its own cheap look-up)."""
        plan = dict(plan or self.plan() or {})
        if not plan:
            return None
        with FinsClient(**plan["client"]) as client:
            # The PLC is read before anything waits for the database, so a
            # round's reads all start at once whatever the other PLCs do.
            contact = self.read_and_apply(plan, client)
            requests = []
            if take_requests:
                requests = self._task("scada.plc.request", "_take_pending", self.plc_id)
            if contact:
                self.cancel(plan, client, plan["cancels"])
                # One transaction for what the PLC is to be told: acknowledgements
                # due, and the recipes to write (the queue refilled first if empty).
                due, recipes = self.transaction(lambda env: self._to_tell(env, plan))
                self.acknowledge(plan, client, due)
                self.write_recipes(plan, client, recipes)
            self.carry_out(plan, client, requests, contact)
        return plan

    def write_only(self):
        """Task 1's part: write the recipes of the queue (cron safety net)."""
        plan = self.plan()
        if plan is not None:
            recipes = self._task("scada.task.sync", "_recipes_to_write", self.plc_id)
            with FinsClient(**plan["client"]) as client:
                self.write_recipes(plan, client, recipes)

    # -- Task 2: read, apply; Task 3 for what changed -----------------------
    def read_and_apply(self, plan, client):
        try:
            readings = memory_map.read_all_slots(
                client, plan["read_layout"], plan["read_base"], plan["slot_count"], plan["stride"]
            )
            warning = client.last_warning
        except PlcError as error:
            plan["error"] = str(error)
            self._task("scada.task.poll", "_record_no_contact", self.plc_id, plan["error"])
            return None
        outcome = self._task("scada.task.poll", "_apply_readings", self.plc_id, readings, warning)
        for batch_id in outcome["failed"]:
            self._task("scada.task.finish", "_auto_cancel_batch", batch_id)
        for batch_id in outcome["finished"]:
            self._task("scada.task.finish", "_finish_batch", batch_id)
        plan["readings"] = readings
        plan["recheck"] = bool(outcome["unconfirmed"])
        plan["cancels"] = outcome["cancels"]
        return readings

    def _to_tell(self, env, plan):
        due = env["scada.task.poll"]._acknowledgements_due(self.plc_id, plan["readings"])
        env["scada.task.sync"]._queue_if_empty(self.plc_id)
        return due, env["scada.task.sync"]._recipes_to_write(self.plc_id)

    def acknowledge(self, plan, client, due):
        """READ slots whose result Odoo holds now (in the queue or in the
        history): acknowledged every cycle until the PLC shows it."""
        for slot, identity in due:
            try:
                handshake.acknowledge_read(
                    client, plan["read_layout"], slot, identity, plan["read_base"], plan["stride"]
                )
            except PlcError as error:
                # Not lost: the slot still shows unacknowledged and is tried next cycle.
                _logger.warning("[TASK 2] %s: acknowledging slot %s failed: %s", plan["code"], slot, error)

    # -- operators' cancels: the WRITE slot cleared before the MO is cancelled --
    def cancel(self, plan, client, cancels):
        for cancel in cancels:
            try:
                outcome = handshake.clear_write_slot(
                    client,
                    plan["write_layout"],
                    plan["read_layout"],
                    cancel["slot"],
                    cancel["identity"],
                    plan["write_base"],
                    plan["read_base"],
                    plan["stride"],
                )
            except PlcError as error:
                # Not lost: the cancel stays asked and is tried next cycle.
                _logger.warning(
                    "[TASK 1] %s: clearing slot %s failed: %s", plan["code"], cancel["slot"], error
                )
                continue
            self._task("scada.task.finish", "_carry_out_cancel", cancel["batch_id"], outcome)

    # -- Task 1: recipes into WRITE slots --------------------------------------
    def write_recipes(self, plan, client, recipes):
        for recipe in recipes:
            try:
                if recipe["replaces"] and self._reset_came_too_late(plan, client, recipe):
                    self._task("scada.task.sync", "_record_reset_undone", recipe["batch_id"])
                    continue
                outcome = handshake.write_recipe(
                    client,
                    plan["write_layout"],
                    plan["read_layout"],
                    recipe["slot"],
                    recipe["values"],
                    plan["write_base"],
                    plan["read_base"],
                    plan["stride"],
                )
            except PlcError as error:
                self._task("scada.task.sync", "_record_write_failure", recipe["batch_id"], str(error))
                continue
            self._task("scada.task.sync", "_record_write", recipe["batch_id"], outcome.status, outcome.detail)

    @staticmethod
    def _reset_came_too_late(plan, client, recipe):
        """A reset batch: its earlier recipe, if the PLC never took it, is
        cleared to make room.  True when the PLC took it and has not finished
        with it (no result of it acknowledged): the new recipe must not be
        written, or the line would dose the batch twice."""
        replaced, slot = recipe["replaces"], recipe["slot"]
        outcome = handshake.clear_write_slot(
            client,
            plan["write_layout"],
            plan["read_layout"],
            slot,
            replaced,
            plan["write_base"],
            plan["read_base"],
            plan["stride"],
        )
        if outcome != handshake.TAKEN:
            return False
        report = memory_map.read_slot(client, plan["read_layout"], plan["read_base"], slot, plan["stride"])
        finished_with = report.valid and handshake.slot_identity(report.fields) == replaced
        return not (finished_with and report.fields.get("status_read_data"))

    # -- operators' requests ----------------------------------------------------
    def carry_out(self, plan, client, requests, contact):
        """Requests taken at the start of the cycle: the cycle itself did
        reads and writes; what is left is asked of the PLC here."""
        for request in requests:
            try:
                result = self._request(plan, client, request, contact)
                state = "done"
            except PlcError as error:
                result, state = str(error), "failed"
            self._task("scada.plc.request", "_record_result", request["id"], state, result)

    def _request(self, plan, client, request, contact):
        kind = request["kind"]
        if kind == "test":
            data, status = client.controller_data_read(), client.controller_status_read()
            return "%s %s, mode %s" % (data["model"], data["version"], status["mode"])
        if kind == "clear_read_slot":
            reading = memory_map.read_slot(
                client, plan["read_layout"], plan["read_base"], request["slot"], plan["stride"]
            )
            identity = handshake.slot_identity(reading.fields)
            acknowledged = handshake.acknowledge_read(
                client, plan["read_layout"], request["slot"], identity, plan["read_base"], plan["stride"]
            )
            return "acknowledged" if acknowledged else "empty"
        if not contact:
            raise PlcError(plan["error"])
        return "ok"  # read, send: done by the cycle
