"""OEE where Odoo already looks for it: the time logs
(`mrp.workcenter.productivity`) of the work centre a PLC line maps to
(`mrp.workcenter.scada_plc_id`), so Odoo's own OEE, blocked and productive
time, performance and productivity reports read the line's real day.

- a finished batch: productive time from the PLC taking the recipe to the
  PLC's finish, cut at the ideal cycle time; what runs longer is a
  performance loss (as Odoo's tablet splits a work order's timeline,
  `mrp.workorder.end_previous`);
- a cancelled batch (quality loss "Batch cancelled") and a batch the PLC
  failed, a rejected one (quality loss "Batch failed on the PLC"): the time
  it ran, from its start to the cancel;
- an equipment failure: an availability loss from its start to its end,
  written while it is open (at the poller's heartbeat, once a minute, as
  far as then) and when it is resolved, so Odoo's OEE sees a line that is
  down now, not only once it is repaired;
- the PLC not answering while work was queued: an availability loss from
  its last answer to the answer that ended the outage.

An availability loss covers only the time the line has no other log for and
ran no batch in (rules.uncovered_intervals): Odoo never logs a work centre
blocked and working at once, so two failures at once, a batch dosing
through a failure of the scale station, or a failure while the PLC is silent
count the line's time once, and OEE stays productive / elapsed time.

The ideal cycle time is Odoo's own expected duration of the MO's work order
on the line's work centre (`duration_expected`: setup + cleanup + the
operation's `time_cycle` per cycle, cycles = quantity / the work centre's
capacity rounded up, over its time efficiency).  Odoo's `performance`
figure compares exactly that to the work orders' durations, so a setting of
the bridge's own could only make the two disagree.  A BoM without an
operation on the line has no work order and no ideal: its batches' whole
run is productive.

Each row is written once, in the transaction that archives the batch,
records the failure's time so far or resolves it, or ends the outage: a row
knows its history record, failure or outage.
Rows are the bridge's (OdooBot's), whoever pressed the button.  Odoo counts
availability and quality losses in the work centre's working hours only
(its calendar), productive and performance time as it passed."""

import datetime

from odoo import SUPERUSER_ID, _, api, fields, models

from ..rules import uncovered_intervals
from ..transaction import lock_rows

# The batch states that wait for the PLC: work queued on the line.
WAITING_STATES = ("queued", "sent", "running")


class ScadaLinePerformance(models.AbstractModel):
    _name = "scada.line.performance"
    _description = "SCADA line performance: the work centre's time logs"

    @api.model
    def _now(self):
        return fields.Datetime.now()

    @api.model
    def _workcenter(self, plc):
        if not plc:
            return self.env["mrp.workcenter"]
        return self.env["mrp.workcenter"].sudo().search([("scada_plc_id", "=", plc.id)], limit=1)

    @api.model
    def _loss(self, xmlid):
        return self.env.ref(xmlid)

    @api.model
    def _row(self, workcenter, loss, start, end, description, **links):
        """Values of one closed time log of the bridge."""
        return dict(
            links,
            workcenter_id=workcenter.id,
            company_id=workcenter.company_id.id,
            loss_id=loss.id,
            date_start=start,
            date_end=end,
            description=description,
            user_id=SUPERUSER_ID,
        )

    @api.model
    def _create(self, values):
        return self.env["mrp.workcenter.productivity"].sudo().create(values)

    @api.model
    def _written(self, domain):
        return bool(self.env["mrp.workcenter.productivity"].sudo().search_count(domain))

    # -- batches ------------------------------------------------------------
    @api.model
    def _batch_start(self, batch):
        """When the line started the batch: the PLC took it, else it was first
        seen dosing, else written to the PLC."""
        return batch.date_plc_taken or batch.date_first_dosing or batch.date_plc_write

    @api.model
    def _batch_end(self, batch):
        """When the PLC finished the batch, else now (it is being archived)."""
        if batch.status == "completed" and batch.date_plc_finished:
            return batch.date_plc_finished
        return self._now()

    @api.model
    def _record_batch(self, histories):
        """The time logs of archived batches (mo.history), once each."""
        rows = []
        for history in histories.sudo():
            workcenter = self._workcenter(history.plc_id)
            start = self._batch_start(history)
            if not workcenter or not start or self._written([("scada_history_id", "=", history.id)]):
                continue
            end = max(start, self._batch_end(history))
            workorder = history.production_id.workorder_ids.filtered(
                lambda order, workcenter=workcenter: order.workcenter_id == workcenter
            )[:1]
            description = _("Batch %(batch)s of %(mo)s on %(line)s") % {
                "batch": history.batch_no,
                "mo": history.mo_reference,
                "line": history.plc_id.display_name,
            }
            links = {"scada_history_id": history.id, "workorder_id": workorder.id}
            if history.status != "completed":
                loss = self._loss(
                    "scada_plc_bridge.loss_batch_failed"
                    if history.status_operation
                    else "scada_plc_bridge.loss_batch_cancelled"
                )
                rows.append(self._row(workcenter, loss, start, end, description, **links))
                continue
            ideal = workorder.duration_expected
            cut = min(end, start + datetime.timedelta(minutes=ideal)) if ideal else end
            rows.append(
                self._row(workcenter, self._loss("mrp.block_reason7"), start, cut, description, **links)
            )
            if cut < end:
                slow = self._loss("scada_plc_bridge.loss_slow_batch")
                rows.append(self._row(workcenter, slow, cut, end, description, **links))
        return self._create(rows)

    # -- the line down ---------------------------------------------------------
    @api.model
    def _line_time_taken(self, workcenter, plc, start, end, now=None):
        """The time of [start, end) the line already has a log for, or ran a
        batch in that is not archived yet (its log comes at its archiving)."""
        rows = (
            self.env["mrp.workcenter.productivity"]
            .sudo()
            .search(
                [
                    ("workcenter_id", "=", workcenter.id),
                    ("date_start", "<", end),
                    ("date_end", ">", start),
                ]
            )
        )
        taken = [(row.date_start, row.date_end) for row in rows]
        batches = (
            self.env["mo.batch"]
            .sudo()
            .search(
                [
                    ("plc_id", "=", plc.id),
                    "|",
                    ("date_plc_finished", "=", False),
                    ("date_plc_finished", ">", start),
                    "|",
                    ("date_plc_taken", "!=", False),
                    ("date_first_dosing", "!=", False),
                ]
            )
        )
        now = now or self._now()
        for batch in batches:
            taken.append((batch.date_plc_taken or batch.date_first_dosing, batch.date_plc_finished or now))
        return taken

    @api.model
    def _line_down(self, workcenter, plc, start, end, now=None):
        """The parts of [start, end) that count as the line down (availability)."""
        return uncovered_intervals(start, end, self._line_time_taken(workcenter, plc, start, end, now))

    @api.model
    def _record_failures(self, failures, now=None):
        """The availability losses of equipment failures: a resolved one to
        its end, an open one until now.  Each call adds only the time since
        the failure's last log (an open one is logged once a minute), and
        none the line already has a log for."""
        failures = failures.sudo().filtered("date_start")
        # The poller's heartbeat and a person resolving the failure: one at a time.
        lock_rows(self.env.cr, "scada_equipment_failure", failures.ids, strength="NO KEY UPDATE")
        now = now or self._now()
        rows = self.env["mrp.workcenter.productivity"].sudo()
        loss = self._loss("scada_plc_bridge.loss_equipment_failure")
        for failure in failures.sorted("date_start"):  # each sees the rows of the one before
            plc = failure.equipment_id.plc_id or failure.plc_id
            workcenter = self._workcenter(plc)
            if not workcenter:
                continue
            end = failure.date_resolved if failure.state == "resolved" else now
            last = (
                self.env["mrp.workcenter.productivity"]
                .sudo()
                .search([("scada_failure_id", "=", failure.id)], order="date_end desc", limit=1)
            )
            since = max(failure.date_start, last.date_end or failure.date_start)
            description = _("Failure of %(equipment)s: %(info)s") % {
                "equipment": failure.equipment_id.display_name or failure.equipment_code or "?",
                "info": failure.info or "",
            }
            rows |= self._create(
                [
                    self._row(
                        workcenter, loss, down_start, down_end, description, scada_failure_id=failure.id
                    )
                    for down_start, down_end in self._line_down(workcenter, plc, since, end, now)
                ]
            )
        return rows

    @api.model
    def _record_open_failures(self, plc, now):
        """The line's open failures as far as now (the poller's heartbeat)."""
        failures = (
            self.env["scada.equipment.failure"]
            .sudo()
            .search([("plc_id", "=", plc.id), ("state", "=", "open")])
        )
        return self._record_failures(failures, now)

    @api.model
    def _record_outage(self, plc, start, end):
        """The PLC answers again after not answering since `start` (its last
        answer): an availability loss when work waited for it meanwhile."""
        workcenter = self._workcenter(plc)
        if not workcenter or not start or not end or end <= start:
            return self._create([])
        loss = self._loss("scada_plc_bridge.loss_plc_silent")
        # The batches waiting now waited through the outage: the contact is
        # recorded before Task 1 may queue anything in this cycle.
        waiting = (
            self.env["mo.batch"]
            .sudo()
            .search_count([("plc_id", "=", plc.id), ("state", "in", WAITING_STATES)])
        )
        if not waiting or self._written(
            [
                ("scada_plc_id", "=", plc.id),
                ("loss_id", "=", loss.id),
                ("date_start", ">=", start),
                ("date_start", "<", end),
            ]
        ):
            return self._create([])
        description = _("%(line)s did not answer; %(count)d batch(es) waited") % {
            "line": plc.display_name,
            "count": waiting,
        }
        return self._create(
            [
                self._row(workcenter, loss, down_start, down_end, description, scada_plc_id=plc.id)
                for down_start, down_end in self._line_down(workcenter, plc, start, end, now=end)
            ]
        )


class ScadaTaskFailures(models.AbstractModel):
    _inherit = "scada.task.failures"

    @api.model
    def _resolved(self, failures):
        result = super()._resolved(failures)
        self.env["scada.line.performance"]._record_failures(failures)
        return result
