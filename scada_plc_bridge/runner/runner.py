"""The PLC runner: the loop that owns all PLC I/O in a running Odoo server.

Started with the server when the addon is a server-wide module (see
`runner/__init__.py`), like OCA queue_job's job runner.  For each database
with the addon installed it keeps ONE PostgreSQL connection of its own that
holds a session advisory lock per PLC it polls: exactly one runner polls a
PLC across all servers on the database.  A runner that stops releases its
PLCs and says so (NOTIFY "released"): another server's runner takes them at
once.  When a server dies, its connection closes and the locks go; another
server's runner takes the PLC when it next tries the lock, within
REFRESH_SECONDS.  PLC I/O runs in a thread pool (a dead PLC delays no
other); database work goes through a small fixed gate of transactions, so
connections do not grow with the number of PLCs.  It never touches
`ir_cron` and holds no cron thread.

It sleeps until something is to be done, as queue_job's runner does: the
same connection LISTENs on RUNNER_CHANNEL, on which database triggers (see
`scada.plc.request`'s `init()`) announce a request inserted and a PLC's
configuration changed, and the runner waits in `select()` on its
connections and a self-pipe (a cycle ending, `stop()`), until the next PLC
is due or the next lock retry."""

import contextlib
import logging
import os
import select
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import odoo
import psycopg2
from odoo import api
from psycopg2 import sql

from ..const import POLL_LOCK_NAMESPACE, RUNNER_CHANNEL
from ..transaction import Transactions
from .cycle import PlcCycle, queue_changed

_logger = logging.getLogger(__name__)

ADDON = "scada_plc_bridge"
RECHECK_SECONDS = 0.3  # a finish read once is confirmed by a read this soon after
REFRESH_SECONDS = 5.0  # how often the locks of PLCs polled elsewhere are tried
CHECK_SECONDS = 60.0  # with every lock held: how often the PLC list and plans are read anyway
OUTAGE_SECONDS = 1.0  # how often a lost database connection is tried again
DATABASES_SECONDS = 60.0  # how often it looks for new databases
ERROR_PAUSE_SECONDS = 1.0  # after a pass that failed unexpectedly
DEFAULT_DB_CONNECTIONS = 4
DEFAULT_IO_THREADS = 64


def _config_int(name, default):
    try:
        return int(odoo.tools.config.get(name) or default)
    except ValueError:
        return default


class DatabasePoller:
    """The PLCs of one database that this runner polls.  `clock` gives the
    time all its schedule is counted in (time.monotonic); `wake` is called
    when a cycle ends, so that a waiting runner schedules again."""

    def __init__(self, dbname, executor, gate, clock=time.monotonic, wake=None):
        self.dbname, self.executor, self.clock = dbname, executor, clock
        self.wake = wake or (lambda: None)
        self.registry = odoo.registry(dbname)
        self.transaction = Transactions(self.registry, gate)
        self.lock_connection = None
        self.intervals = {}  # plc id -> poll interval (s), of the active PLCs
        self.held = set()  # plc ids whose lock this runner holds
        self.due = {}  # plc id -> clock time of its next cycle
        self.running = {}  # plc id -> future of its cycle
        self.asked = set()  # held plc ids whose requests wait for a cycle
        self.plans = {}  # plc id -> its cycle plan, until its configuration changes
        self.plans_version = 0  # bumped when plans are dropped: a plan read before is not kept
        self.refresh_at = 0.0  # clock time of the next read of the PLC list (and lock retry)
        self.stale = True  # the PLC list is to be read at the next pass
        self.outage = None  # the database error of an outage under way (logged once)

    # -- the lock (and LISTEN) connection --------------------------------------
    def _connection(self):
        if self.lock_connection is None or self.lock_connection.closed:
            _dbname, info = odoo.sql_db.connection_info_for(self.dbname)
            connection = psycopg2.connect(application_name="scada_plc_runner", **info)
            try:
                connection.autocommit = True
                with connection.cursor() as cr:
                    cr.execute(sql.SQL("LISTEN {}").format(sql.Identifier(RUNNER_CHANNEL)))
            except psycopg2.Error:
                connection.close()
                raise
            self.lock_connection = connection
            # A new session holds no lock and heard nothing of what happened meanwhile.
            self.held.clear()
            self.stale = True
            self._drop_plans()
        return self.lock_connection

    def _drop_plans(self, plc_id=None):
        """Plans are read again (all, or this PLC's); one being read now is not kept."""
        self.plans_version += 1
        if plc_id is None:
            self.plans = {}
        else:
            self.plans.pop(plc_id, None)

    def _query(self, query, params=()):
        with self._connection().cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def listening(self):
        """The connection to wait on (None while there is none)."""
        connection = self.lock_connection
        return connection if connection is not None and not connection.closed else None

    def _drop_connection(self):
        if self.listening():
            self.lock_connection.close()  # releases every lock this runner held
        self.held.clear()

    def close(self):
        """Release this runner's PLCs and tell the other runners, which take
        them at once (a server that dies cannot: its locks are taken at the
        others' next lock retry)."""
        if self.listening() and self.held:
            with contextlib.suppress(psycopg2.Error):  # closing the connection releases them all the same
                self._query("SELECT pg_advisory_unlock_all(), pg_notify(%s, 'released')", (RUNNER_CHANNEL,))
        self._drop_connection()

    # -- notifications ---------------------------------------------------------
    def _take_notifications(self):
        """What the triggers (and stopping runners) said since the last pass."""
        connection = self.listening()
        if connection is None:
            return
        connection.poll()  # reads what arrived on the socket into connection.notifies
        while connection.notifies:
            kind, _sep, plc_id = connection.notifies.pop(0).payload.partition(":")
            plc_id = int(plc_id) if plc_id.isdigit() else None
            if kind == "request":
                if plc_id in self.held:
                    self.asked.add(plc_id)
            elif kind == "queue":  # a batch or an MO changed: the next poll is a full one
                for held_id, plan in self.plans.items():
                    if plan and plc_id in (None, held_id):
                        queue_changed(plan)
            else:  # "plc" (its configuration changed) or "released" (locks to take)
                self.stale = True
                if plc_id is not None:
                    self._drop_plans(plc_id)
                    if plc_id in self.due:
                        self.due[plc_id] = 0.0  # cycled at once with what changed

    def next_wake(self):
        """Clock time of the next pass that has something to do, however a
        cycle ends (a running cycle wakes the runner when it ends)."""
        connection = self.listening()
        if self.stale or (connection is not None and connection.notifies):
            return self.clock()
        times = [self.refresh_at]
        for plc_id in self.held:
            future = self.running.get(plc_id)
            if future is None or future.done():
                times.append(self.clock() if plc_id in self.asked else self.due.get(plc_id, 0.0))
        return min(times)

    # -- one pass ---------------------------------------------------------------
    def run_pass(self, now=None):
        now = self.clock() if now is None else now
        try:
            self._take_notifications()
            if self.stale or now >= self.refresh_at:
                self._refresh(now)
            self._schedule(now)
        except psycopg2.Error as error:
            self._database_lost(error)
            self._drop_connection()
            # Tried again in a while (a new connection marks everything stale).
            self.stale, self.refresh_at = False, now + OUTAGE_SECONDS
            return
        if self.outage is not None:
            self.outage = None
            _logger.warning("[TASK 2] runner on %s: database connection back", self.dbname)

    def _database_lost(self, error):
        """An outage is told once when it starts (and once when it ends), not
        by every pass and every cycle while it lasts."""
        if self.outage is None:
            self.outage = str(error).strip()
            _logger.warning(
                "[TASK 2] runner on %s lost its database connection: %s", self.dbname, self.outage
            )

    def _refresh(self, now):
        """Read the active PLCs (with whether requests wait for them: one
        statement), let go of those no longer active, try the others' locks."""
        self.registry = self.transaction.registry = self.registry.check_signaling()
        self._connection()  # first: a new one marks everything stale
        if not self.stale:  # the periodic check: plans are read again too
            self._drop_plans()
        self.stale = False
        rows = self._query(
            "SELECT plc.id, plc.poll_interval, EXISTS (SELECT 1 FROM scada_plc_request request"
            "  WHERE request.plc_id = plc.id AND request.state = 'pending')"
            " FROM scada_plc plc WHERE plc.active ORDER BY plc.id"
        )
        self.intervals = {plc_id: max(1, interval or 1) for plc_id, interval, _pending in rows}
        for plc_id in self.held - set(self.intervals):
            self._query("SELECT pg_advisory_unlock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))
            self.held.discard(plc_id)
            _logger.info("[TASK 2] %s: PLC %s no longer active; released", self.dbname, plc_id)
        wanted = sorted(set(self.intervals) - self.held)
        if wanted:
            taken = self._query(
                "SELECT plc_id FROM unnest(%s::int[]) plc_id WHERE pg_try_advisory_lock(%s, plc_id)",
                (wanted, POLL_LOCK_NAMESPACE),
            )
            for (plc_id,) in taken:
                self.held.add(plc_id)
                self.due[plc_id] = 0.0
                _logger.info("[TASK 2] %s: this server polls PLC %s", self.dbname, plc_id)
        self.asked = {plc_id for plc_id in self.asked if plc_id in self.held}
        self.asked.update(plc_id for plc_id, _interval, pending in rows if pending and plc_id in self.held)
        # PLCs polled elsewhere: their locks are tried again soon; else a check now and then.
        self.refresh_at = now + (REFRESH_SECONDS if len(self.held) < len(self.intervals) else CHECK_SECONDS)

    def _schedule(self, now):
        for plc_id in sorted(self.held):
            future = self.running.get(plc_id)
            if future is not None and not future.done():
                continue
            asked = plc_id in self.asked
            if asked or now >= self.due.get(plc_id, 0.0):
                self.asked.discard(plc_id)
                self.due[plc_id] = now + self.intervals.get(plc_id, 5)
                future = self.executor.submit(self._cycle, plc_id, asked)
                self.running[plc_id] = future
                future.add_done_callback(lambda _future: self.wake())

    def _cycle(self, plc_id, take_requests=True):
        try:
            cycle = PlcCycle(plc_id, self.transaction)
            plan = self.plans.get(plc_id)
            if plan is None:
                version = self.plans_version
                plan = cycle.plan()
                if version == self.plans_version:  # not changed while it was read
                    self.plans[plc_id] = plan
            plan = cycle.run(plan, take_requests)
            if plan and plan["recheck"]:
                self.due[plc_id] = self.clock() + RECHECK_SECONDS
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            self._database_lost(error)  # the cycle is run again once the database is back
        except Exception:  # one PLC's trouble never stops the runner
            _logger.exception("[TASK 2] %s: cycle of PLC %s failed", self.dbname, plc_id)


class PlcRunner:
    poller_class = DatabasePoller

    def __init__(self, db_names=None, clock=time.monotonic, executor=None):
        self._db_names, self.clock = db_names, clock
        self.gate = threading.BoundedSemaphore(
            _config_int("scada_runner_db_connections", DEFAULT_DB_CONNECTIONS)
        )
        self.executor = executor or ThreadPoolExecutor(
            max_workers=_config_int("scada_runner_io_threads", DEFAULT_IO_THREADS),
            thread_name_prefix="scada-plc-io",
        )
        self.pollers = {}
        self._stop = threading.Event()
        self._databases_checked = None
        # The self-pipe: a byte written wakes wait() (a cycle ended, stop()).
        self._pipe = os.pipe()
        for fd in self._pipe:
            os.set_blocking(fd, False)

    def db_names(self):
        if self._db_names is not None:
            return self._db_names
        if odoo.tools.config["db_name"]:
            names = odoo.tools.config["db_name"].split(",")
        else:
            names = odoo.service.db.list_dbs(True)
        return [name for name in names if self._has_addon(name)]

    @staticmethod
    def _has_addon(dbname):
        try:
            with odoo.sql_db.db_connect(dbname).cursor() as cr:
                cr.execute("SELECT 1 FROM ir_module_module WHERE name = %s AND state = 'installed'", (ADDON,))
                return bool(cr.fetchone())
        except psycopg2.Error:
            return False

    def run_once(self, now=None):
        now = self.clock() if now is None else now
        if (
            self._databases_checked is None
            or now - self._databases_checked >= DATABASES_SECONDS
            or not self.pollers
        ):
            self._databases_checked = now
            for dbname in self.db_names():
                if dbname not in self.pollers:
                    with api.Environment.manage():
                        self.pollers[dbname] = self.poller_class(
                            dbname, self.executor, self.gate, clock=self.clock, wake=self.wake
                        )
                    _logger.info("[TASK 2] PLC runner serves database %s", dbname)
        for poller in self.pollers.values():
            poller.run_pass(now)

    def wake(self):
        """Make wait() return at once (from any thread)."""
        with contextlib.suppress(OSError):  # full (it wakes anyway) or closed (stopped)
            os.write(self._pipe[1], b".")

    def next_wake(self):
        times = [poller.next_wake() for poller in self.pollers.values()]
        if self._databases_checked is not None:
            times.append(self._databases_checked + DATABASES_SECONDS)
        return min(times) if times else self.clock() + OUTAGE_SECONDS

    def wait(self, max_seconds=None):
        """Sleep until the next pass has something to do: a notification on
        a database connection, a cycle ending, stop(), or the next PLC due
        (the next lock retry, database scan), at most `max_seconds`."""
        timeout = max(0.0, self.next_wake() - self.clock())
        if max_seconds is not None:
            timeout = min(timeout, max_seconds)
        if timeout <= 0 or self._stop.is_set():
            return
        connections = [poller.listening() for poller in self.pollers.values()]
        readable, _unused, _unused = select.select(
            [self._pipe[0]] + [connection for connection in connections if connection], [], [], timeout
        )
        if self._pipe[0] in readable:
            with contextlib.suppress(BlockingIOError):  # drained
                while os.read(self._pipe[0], 512):
                    continue

    def run(self):
        _logger.info("[TASK 2] PLC runner started")
        while not self._stop.is_set():
            try:
                self.run_once()
                self.wait()
            except Exception:
                _logger.exception("[TASK 2] PLC runner pass failed")
                self._stop.wait(ERROR_PAUSE_SECONDS)
        self.close()

    def stop(self):
        self._stop.set()
        self.wake()

    def close(self):
        self.executor.shutdown(wait=True)
        for poller in self.pollers.values():
            poller.close()
        for fd in self._pipe:
            with contextlib.suppress(OSError):
                os.close(fd)
        _logger.info("[TASK 2] PLC runner stopped")
