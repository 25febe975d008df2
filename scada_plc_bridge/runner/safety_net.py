"""The crons' safety net: where no runner polls a PLC (the addon not loaded
server-wide, or its server down), the Task 1 and Task 2 crons run the
runner's cycle for it, under the same per-PLC advisory lock, so a PLC is
never worked by two at once."""

from odoo import api, models

from ..const import POLL_LOCK_NAMESPACE
from ..transaction import Transactions
from .cycle import PlcCycle


def cycle_plcs_not_polled(registry, plc_ids, method="run"):
    """One cycle (or its write part) for each of these PLCs that no runner
    polls, each under a transaction-level advisory lock held on a cursor of
    its own while the cycle runs.  Returns the PLCs cycled."""
    transaction = Transactions(registry)
    done = []
    for plc_id in plc_ids:
        with registry.cursor() as lock_cr:
            lock_cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))
            if not lock_cr.fetchone()[0]:
                continue  # a runner (or another cron worker) has it
            getattr(PlcCycle(plc_id, transaction), method)()
            done.append(plc_id)
    return done


class ScadaRunner(models.AbstractModel):
    """The runner's entry points for the crons (no storage)."""

    _name = "scada.runner"
    _description = "SCADA PLC runner (cron safety net)"

    @api.model
    def _cron_plc_read(self):
        """Task 2: one cycle for each active PLC that no runner polls right now."""
        return cycle_plcs_not_polled(self.env.registry, self.env["scada.plc"].search([]).ids)

    @api.model
    def _write_recipes_not_polled(self, plc_ids):
        """Task 1's second half: the recipe writes of PLCs no runner polls
        (a runner writes its own at once)."""
        return cycle_plcs_not_polled(self.env.registry, plc_ids, method="write_only")

    @api.model
    def _wake(self):
        """Where no runner polls, the Task 2 cron carries out requests: make
        it due once this transaction has committed.  In a cursor of its own,
        so the caller's snapshot (older than the cron runner's last write of
        the row) cannot fail the caller with a serialization error, and the
        cron wakes to a request it can already see."""
        cron = self.env.ref("scada_plc_bridge.ir_cron_task2_plc_read", raise_if_not_found=False)
        if cron:
            registry, cron_id = self.env.registry, cron.id
            self.env.cr.postcommit.add(lambda: make_cron_due(registry, cron_id))


def make_cron_due(registry, cron_id):
    """The cron due now, unless the cron runner holds its row (it is running,
    and its cycle takes the requests); a concurrent write of the row is
    retried like any conflict of the runtime, not logged as a failed query."""
    Transactions(registry)(
        lambda env: env.cr.execute(
            "UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') WHERE id IN ("
            " SELECT id FROM ir_cron WHERE id = %s AND active FOR UPDATE SKIP LOCKED)",
            (cron_id,),
            log_exceptions=False,
        )
    )
