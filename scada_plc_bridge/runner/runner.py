"""The PLC runner: the loop that owns all PLC I/O in a running Odoo server.

Started with the server when the addon is a server-wide module (see
`runner/__init__.py`), like OCA queue_job's job runner.  For each database
with the addon installed it keeps ONE PostgreSQL connection of its own that
holds a session advisory lock per PLC it polls: exactly one runner polls a
PLC across all servers on the database, and when a server dies its
connection closes, the locks go, and another server's runner takes the PLC
within one pass.  PLC I/O runs in a thread pool (a dead PLC delays no
other); database work goes through a small fixed gate of transactions, so
connections do not grow with the number of PLCs.  It never touches
`ir_cron` and holds no cron thread."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import odoo
import psycopg2
from odoo import api

from ..const import POLL_LOCK_NAMESPACE
from .cycle import PlcCycle
from .transaction import Transactions

_logger = logging.getLogger(__name__)

ADDON = "scada_plc_bridge"
PASS_SECONDS = 0.2  # how often the runner looks for due PLCs and requests
RECHECK_SECONDS = 0.3  # a finish read once is confirmed by a read this soon after
REFRESH_SECONDS = 5.0  # how often it re-reads the PLC list and retries locks
DATABASES_SECONDS = 60.0  # how often it looks for new databases
DEFAULT_DB_CONNECTIONS = 4
DEFAULT_IO_THREADS = 64


def _config_int(name, default):
    try:
        return int(odoo.tools.config.get(name) or default)
    except ValueError:
        return default


class DatabasePoller:
    """The PLCs of one database that this runner polls."""

    def __init__(self, dbname, executor, gate):
        self.dbname, self.executor = dbname, executor
        self.registry = odoo.registry(dbname)
        self.transaction = Transactions(self.registry, gate)
        self.lock_connection = None
        self.intervals = {}  # plc id -> poll interval (s), of the active PLCs
        self.held = set()  # plc ids whose lock this runner holds
        self.due = {}  # plc id -> monotonic time of its next cycle
        self.running = {}  # plc id -> future of its cycle
        self.plans = {}  # plc id -> its cycle plan, refreshed with the PLC list
        self.refreshed = 0.0
        self.outage = None  # the database error of an outage under way (logged once)

    # -- the lock connection ---------------------------------------------------
    def _connection(self):
        if self.lock_connection is None or self.lock_connection.closed:
            _dbname, info = odoo.sql_db.connection_info_for(self.dbname)
            self.lock_connection = psycopg2.connect(application_name="scada_plc_runner", **info)
            self.lock_connection.autocommit = True
            self.held.clear()  # a new session holds no lock
        return self.lock_connection

    def _query(self, query, params=()):
        with self._connection().cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def close(self):
        if self.lock_connection is not None and not self.lock_connection.closed:
            self.lock_connection.close()  # releases every lock this runner held
        self.held.clear()

    # -- one pass ---------------------------------------------------------------
    def run_pass(self, now):
        try:
            if now - self.refreshed >= REFRESH_SECONDS:
                self._refresh()
                self.refreshed = now
            self._schedule(now)
        except psycopg2.Error as error:
            self._database_lost(error)
            self.close()
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

    def _refresh(self):
        self.registry = self.registry.check_signaling()
        rows = self._query("SELECT id, poll_interval FROM scada_plc WHERE active ORDER BY id")
        self.intervals = {plc_id: max(1, interval or 1) for plc_id, interval in rows}
        self.plans = {}  # configuration may have changed: each PLC's next cycle plans anew
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

    def _schedule(self, now):
        requested = set()
        if self.held:
            requested = {
                plc_id
                for (plc_id,) in self._query(
                    "SELECT DISTINCT plc_id FROM scada_plc_request WHERE state = 'pending'"
                    " AND plc_id = ANY(%s)",
                    (sorted(self.held),),
                )
            }
        for plc_id in sorted(self.held):
            future = self.running.get(plc_id)
            if future is not None and not future.done():
                continue
            if plc_id in requested or now >= self.due.get(plc_id, 0.0):
                self.due[plc_id] = now + self.intervals.get(plc_id, 5)
                self.running[plc_id] = self.executor.submit(self._cycle, plc_id, plc_id in requested)

    def _cycle(self, plc_id, take_requests=True):
        try:
            cycle = PlcCycle(plc_id, self.transaction)
            if plc_id not in self.plans:
                self.plans[plc_id] = cycle.plan()
            plan = cycle.run(self.plans[plc_id], take_requests)
            if plan and plan["recheck"]:
                self.due[plc_id] = time.monotonic() + RECHECK_SECONDS
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            self._database_lost(error)  # the cycle is run again once the database is back
        except Exception:  # one PLC's trouble never stops the runner
            _logger.exception("[TASK 2] %s: cycle of PLC %s failed", self.dbname, plc_id)


class PlcRunner:
    def __init__(self, db_names=None):
        self._db_names = db_names
        self.gate = threading.BoundedSemaphore(
            _config_int("scada_runner_db_connections", DEFAULT_DB_CONNECTIONS)
        )
        self.executor = ThreadPoolExecutor(
            max_workers=_config_int("scada_runner_io_threads", DEFAULT_IO_THREADS),
            thread_name_prefix="scada-plc-io",
        )
        self.pollers = {}
        self._stop = threading.Event()
        self._databases_checked = 0.0

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
        now = time.monotonic() if now is None else now
        if now - self._databases_checked >= DATABASES_SECONDS or not self.pollers:
            self._databases_checked = now
            for dbname in self.db_names():
                if dbname not in self.pollers:
                    with api.Environment.manage():
                        self.pollers[dbname] = DatabasePoller(dbname, self.executor, self.gate)
                    _logger.info("[TASK 2] PLC runner serves database %s", dbname)
        for poller in self.pollers.values():
            poller.run_pass(now)

    def run(self):
        _logger.info("[TASK 2] PLC runner started")
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                _logger.exception("[TASK 2] PLC runner pass failed")
            self._stop.wait(PASS_SECONDS)
        self.close()

    def stop(self):
        self._stop.set()

    def close(self):
        self.executor.shutdown(wait=True)
        for poller in self.pollers.values():
            poller.close()
        _logger.info("[TASK 2] PLC runner stopped")


def cycle_plcs_not_polled(registry, plc_ids, method="run"):
    """The crons' safety net: one cycle (or its write part) for each of these
    PLCs that no runner polls, each under a transaction-level advisory lock
    held on a cursor of its own while the cycle runs."""
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
