"""Short transactions of their own for the runner and the crons.

Below both the runner and the task code (models and services import it,
it imports neither).

The task code never commits; whoever calls it chooses how.  The runner and
the crons run each step in a transaction of its own (`Transactions`), which
commits at the end and is retried when PostgreSQL reports a conflict with a
concurrent transaction (serialization failure, deadlock, lock not
available): such a conflict is never a failure of the batch, only a reason
to do the same work again on fresh data, as Odoo's RPC layer does for
requests."""

import logging
import random
import threading
import time

import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from psycopg2 import errorcodes

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


def is_transient(error):
    """A database conflict worth retrying, not a refusal."""
    return isinstance(error, psycopg2.OperationalError) and error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY


def lock_rows(cr, table, ids, condition="TRUE", skip_locked=False, strength="UPDATE"):
    """Row locks on the rows `ids` of `table` that meet `condition`, taken
    before they are written; returns the ids locked (all of them unless
    `skip_locked`).  `strength` "NO KEY UPDATE" leaves rows that reference
    them free to be inserted meanwhile.  A row that a concurrent transaction changed since this
    one began raises its serialization failure here, before any write, and
    without Odoo's "bad query" error in the log: the conflict is no error,
    and whoever retries it (`Transactions`, Odoo's RPC layer) says so."""
    ids = [id_ for id_ in ids if isinstance(id_, int)]
    if not ids:
        return []
    cr.execute(
        "SELECT id FROM {} WHERE id = ANY(%s) AND {} ORDER BY id FOR {}{}".format(
            table, condition, strength, " SKIP LOCKED" if skip_locked else ""
        ),
        (ids,),
        log_exceptions=False,
    )
    return [row[0] for row in cr.fetchall()]


class Transactions:
    """Calls `fn(env)` in a transaction of its own, committed when `fn`
    returns, retried on transient conflicts.  `gate` (a semaphore) bounds
    how many of them run at once, so database connections do not grow with
    the number of PLCs."""

    def __init__(self, registry, gate=None, uid=SUPERUSER_ID):
        self.registry, self.gate, self.uid = registry, gate or threading.BoundedSemaphore(1), uid

    def __call__(self, fn):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self.gate, api.Environment.manage(), self.registry.cursor() as cr:
                env = api.Environment(cr, self.uid, {})
                # Notes written by the runtime speak the plant's language.
                env = env(context=dict(env.context, lang=env.user.company_id.partner_id.lang or "en_US"))
                try:
                    result = fn(env)
                    # The runtime's one commit point: each step of a cycle is a unit of work.
                    cr.commit()  # pylint: disable=invalid-commit
                    return result
                except psycopg2.OperationalError as error:
                    cr.rollback()
                    if not is_transient(error) or attempt == MAX_ATTEMPTS:
                        raise
                    _logger.info(
                        "%s; retrying (%d/%d)", errorcodes.lookup(error.pgcode), attempt, MAX_ATTEMPTS
                    )
            time.sleep(random.uniform(0.05, 0.3) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover
