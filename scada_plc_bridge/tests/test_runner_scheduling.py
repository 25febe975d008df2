"""The runner's scheduling, lock handling and wake-up, without a server and
without waiting for real poll intervals (as OCA queue_job tests its job
runner): a fake clock drives `run_pass(now)`, a recording executor stands
for the PLC I/O, and the database is the real one, with real advisory locks
between connections and real LISTEN/NOTIFY from the triggers.  What the
triggers announce only exists once a transaction commits, so these tests
commit (on cursors of their own, in the throw-away test database, as
test_runtime_entry_points does) and undo what they committed."""

import threading
import time
from concurrent.futures import Future

import odoo
import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name

from ..const import POLL_LOCK_NAMESPACE
from ..plclib.simulator import PlcSimulator
from ..runner.runner import REFRESH_SECONDS, DatabasePoller, PlcRunner

START = 1000.0  # the fake clock's first reading
INTERVAL = 2  # the PLC's poll interval (s)
WAKE_WITHIN = 2.0  # real seconds a notification may take to wake a runner (a loaded CI box)


class FakeClock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


class RecordingExecutor:
    """Runs no cycle: records the cycles the runner starts, as
    (plc_id, take_requests), and hands back a finished future."""

    def __init__(self):
        self.cycles = []

    def submit(self, _fn, plc_id, take_requests):
        self.cycles.append((plc_id, take_requests))
        future = Future()
        future.set_result(None)
        return future

    def shutdown(self, wait=True):
        pass


class StillRunningExecutor(RecordingExecutor):
    """Its cycles run until the test ends them (self.future)."""

    def __init__(self):
        super().__init__()
        self.future = Future()

    def submit(self, _fn, plc_id, take_requests):
        self.cycles.append((plc_id, take_requests))
        return self.future


@tagged("post_install", "-at_install")
class TestRunnerScheduling(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = get_db_name()
        cls.registry = odoo.registry(cls.dbname)
        cls.simulator = PlcSimulator(seed=7).start()
        cls.addClassCleanup(cls.simulator.stop)
        with cls.registry.cursor() as cr:
            cls.plc_id = api.Environment(cr, SUPERUSER_ID, {}).ref("scada_plc_bridge.scada_plc_default").id
            # The test's PLC alone is active, on the simulator, polled every INTERVAL s.
            cr.execute(
                "UPDATE scada_plc SET active = false WHERE active AND id != %s RETURNING id", (cls.plc_id,)
            )
            cls.other_plc_ids = [plc_id for (plc_id,) in cr.fetchall()]
            cr.execute(
                "SELECT port, timeout, poll_interval, active FROM scada_plc WHERE id = %s", (cls.plc_id,)
            )
            cls.saved = cr.fetchone()
            cr.execute(
                "UPDATE scada_plc SET port = %s, timeout = 0.5, poll_interval = %s, active = true,"
                " state = 'unknown' WHERE id = %s",
                (cls.simulator.port, INTERVAL, cls.plc_id),
            )

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            cr.execute("DELETE FROM scada_plc_request WHERE plc_id = %s", (cls.plc_id,))
            cr.execute("UPDATE scada_plc SET active = true WHERE id = ANY(%s)", (cls.other_plc_ids,))
            cr.execute(
                "UPDATE scada_plc SET port = %s, timeout = %s, poll_interval = %s, active = %s,"
                " state = 'unknown' WHERE id = %s",
                cls.saved + (cls.plc_id,),
            )
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.executor = RecordingExecutor()

    # -- helpers ------------------------------------------------------------
    def committed(self, query, params=()):
        """Run `query` in a transaction of its own, committed (as another
        server, a button, a psql session would)."""
        with self.registry.cursor() as cr:
            cr.execute(query, params)

    def poller(self):
        poller = DatabasePoller(self.dbname, self.executor, threading.BoundedSemaphore(1), clock=self.clock)
        self.addCleanup(poller.close)
        return poller

    def runner(self):
        runner = PlcRunner([self.dbname], clock=self.clock, executor=self.executor)
        self.addCleanup(runner.close)
        runner.run_once()  # takes the PLC and starts its first cycle
        self.assertEqual(self.executor.cycles, [(self.plc_id, False)])
        self.executor.cycles.clear()
        return runner, runner.pollers[self.dbname]

    def later(self, seconds, fn, *args):
        """fn(*args) from another thread in `seconds` (done before the cleanups registered so far)."""
        timer = threading.Timer(seconds, fn, args)
        timer.start()
        self.addCleanup(timer.join)

    def wait_for_news(self, runner, settle=True):
        """Real seconds the waiting runner slept, with nothing due for an hour
        (`settle`: what woke it already, the first cycle's end, taken first)."""
        if settle:
            runner.wait(max_seconds=0.05)
        for poller in runner.pollers.values():
            poller.due = dict.fromkeys(poller.due, self.clock.now + 3600)
            poller.refresh_at = self.clock.now + 3600
        started = time.monotonic()
        runner.wait(max_seconds=30)
        return time.monotonic() - started

    def request_in(self, seconds, kind="read"):
        """A request row inserted (by the ORM, committed) in `seconds`."""

        def insert():
            time.sleep(seconds)
            with api.Environment.manage(), self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["scada.plc.request"].create({"plc_id": self.plc_id, "kind": kind})

        thread = threading.Thread(target=insert)
        thread.start()
        self.addCleanup(self.committed, "DELETE FROM scada_plc_request WHERE plc_id = %s", (self.plc_id,))
        self.addCleanup(thread.join)

    def other_session(self):
        """A PostgreSQL session of its own, as another server's runner has."""
        _dbname, info = odoo.sql_db.connection_info_for(self.dbname)
        connection = psycopg2.connect(**info)
        connection.autocommit = True
        self.addCleanup(connection.close)
        return connection

    def lock_released(self, plc_id):
        """Wait until no session holds the PLC's lock: a closed session's
        server process releases its locks as it ends, just after close()."""
        deadline = time.monotonic() + 10
        with self.registry.cursor() as cr:
            while True:
                cr.execute(
                    "SELECT l.pid, a.application_name FROM pg_locks l"
                    " LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND l.classid = %s AND l.objid = %s AND l.objsubid = 2",
                    (POLL_LOCK_NAMESPACE, plc_id),
                )
                holders = cr.fetchall()
                if not holders:
                    return
                self.assertLess(time.monotonic(), deadline, "the closed session kept its lock: %s" % holders)
                time.sleep(0.05)

    # -- scheduling -----------------------------------------------------------
    def test_a_plc_is_cycled_when_due_and_not_before(self):
        poller = self.poller()
        poller.run_pass(START)
        self.assertEqual(poller.held, {self.plc_id})
        self.assertEqual(self.executor.cycles, [(self.plc_id, False)], "a PLC just taken is cycled at once")
        self.assertEqual(poller.next_wake(), START + INTERVAL, "it sleeps until the PLC is due")
        for now in (START + 0.5, START + 1.0, START + INTERVAL - 0.01):
            poller.run_pass(now)
        self.assertEqual(len(self.executor.cycles), 1, "not cycled before it is due")
        poller.run_pass(START + INTERVAL)
        self.assertEqual(len(self.executor.cycles), 2, "cycled when due")
        self.assertEqual(poller.next_wake(), START + 2 * INTERVAL)

    def test_a_running_cycle_is_not_started_twice_and_its_end_wakes_the_runner(self):
        self.executor = StillRunningExecutor()
        woken = []
        poller = self.poller()
        poller.wake = lambda: woken.append(True)
        poller.run_pass(START)
        poller.run_pass(START + 10 * INTERVAL)  # long overdue, but its cycle still runs
        self.assertEqual(len(self.executor.cycles), 1)
        self.assertEqual(poller.next_wake(), poller.refresh_at, "a running PLC sets no wake-up time")
        self.executor.future.set_result(None)
        self.assertEqual(woken, [True], "a cycle's end wakes the runner")
        poller.run_pass(START + 10 * INTERVAL)
        self.assertEqual(len(self.executor.cycles), 2)

    # -- wake-up --------------------------------------------------------------
    def test_a_request_row_wakes_the_waiting_runner_at_once(self):
        runner, _poller = self.runner()
        self.request_in(0.2)
        slept = self.wait_for_news(runner)
        self.assertLess(slept, 0.2 + WAKE_WITHIN, "the request's NOTIFY did not wake the runner")
        runner.run_once()  # the same fake time: nothing else is due
        self.assertEqual(self.executor.cycles, [(self.plc_id, True)], "a cycle that takes the request")

    def test_stop_wakes_the_waiting_runner(self):
        runner, _poller = self.runner()
        self.later(0.2, runner.stop)
        slept = self.wait_for_news(runner)
        self.assertLess(slept, 0.2 + WAKE_WITHIN, "stop() did not wake the runner")

    def test_a_configuration_change_is_picked_up_at_once(self):
        runner, poller = self.runner()
        self.assertEqual(poller.intervals[self.plc_id], INTERVAL)
        poller.plans[self.plc_id] = {"code": "as it was"}
        self.addCleanup(
            self.committed, "UPDATE scada_plc SET poll_interval = %s WHERE id = %s", (INTERVAL, self.plc_id)
        )
        # By SQL, not the ORM: the trigger tells whatever route changed the row.
        self.later(
            0.2, self.committed, "UPDATE scada_plc SET poll_interval = 7 WHERE id = %s", (self.plc_id,)
        )
        slept = self.wait_for_news(runner)
        self.assertLess(slept, 0.2 + WAKE_WITHIN, "the configuration change did not wake the runner")
        runner.run_once()  # the same fake time: long before the next periodic check
        self.assertEqual(poller.intervals[self.plc_id], 7)
        self.assertNotIn(self.plc_id, poller.plans, "its plan is read again")
        self.assertEqual(self.executor.cycles, [(self.plc_id, False)], "and the PLC cycled with it at once")

    def test_a_plc_deactivated_is_released_at_once(self):
        runner, poller = self.runner()
        self.addCleanup(self.committed, "UPDATE scada_plc SET active = true WHERE id = %s", (self.plc_id,))
        self.later(0.2, self.committed, "UPDATE scada_plc SET active = false WHERE id = %s", (self.plc_id,))
        self.wait_for_news(runner)
        runner.run_once()
        self.assertEqual(poller.held, set())
        with self.other_session().cursor() as cr:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (POLL_LOCK_NAMESPACE, self.plc_id))
            self.assertTrue(cr.fetchone()[0], "the lock is free for another server")

    def test_the_runtimes_own_writes_to_a_plc_wake_nobody(self):
        """The heartbeat and state a cycle writes are no configuration: the
        update trigger stays silent (else each cycle would wake every runner)."""
        _runner, poller = self.runner()
        self.addCleanup(
            self.committed, "UPDATE scada_plc SET last_error = NULL WHERE id = %s", (self.plc_id,)
        )
        self.committed(
            "UPDATE scada_plc SET last_contact = now() at time zone 'UTC', state = 'connected',"
            " last_error = 'x' WHERE id = %s",
            (self.plc_id,),
        )
        self.request_in(0)  # the marker: delivered after anything the update sent
        connection = poller.listening()
        deadline = time.monotonic() + 10
        while not any(n.payload.startswith("request:") for n in connection.notifies):
            self.assertLess(time.monotonic(), deadline, "the request's NOTIFY never came")
            time.sleep(0.05)
            connection.poll()
        self.assertEqual([n.payload for n in connection.notifies], ["request:%d" % self.plc_id])

    # -- locks ------------------------------------------------------------------
    def test_a_plc_locked_elsewhere_is_not_cycled_then_taken_when_that_session_ends(self):
        other_server = self.other_session()
        with other_server.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", (POLL_LOCK_NAMESPACE, self.plc_id))
        poller = self.poller()
        poller.run_pass(START)
        self.assertEqual(poller.held, set())
        self.assertEqual(self.executor.cycles, [], "a PLC another server polls is not cycled")
        self.assertEqual(poller.next_wake(), START + REFRESH_SECONDS, "its lock is tried again then")
        poller.run_pass(START + REFRESH_SECONDS - 0.1)
        self.assertEqual(self.executor.cycles, [])
        other_server.close()  # that server dies: PostgreSQL releases its locks when its session ends
        self.lock_released(self.plc_id)
        poller.run_pass(START + REFRESH_SECONDS)
        self.assertEqual(poller.held, {self.plc_id})
        self.assertEqual(self.executor.cycles, [(self.plc_id, False)])

    def test_a_runner_that_stops_hands_its_plcs_over_at_once(self):
        first = self.poller()
        first.run_pass(START)
        self.assertEqual(first.held, {self.plc_id})
        self.executor.cycles.clear()
        runner = PlcRunner([self.dbname], clock=self.clock, executor=RecordingExecutor())
        self.addCleanup(runner.close)
        runner.run_once()
        second = runner.pollers[self.dbname]
        self.assertEqual(second.held, set(), "only one runner polls a PLC")
        self.later(0.2, first.close)
        slept = self.wait_for_news(runner)
        self.assertLess(slept, 0.2 + WAKE_WITHIN, "the stopping runner's NOTIFY did not wake the other")
        runner.run_once()  # the same fake time: no lock retry is due
        self.assertEqual(second.held, {self.plc_id})
        self.assertEqual(runner.executor.cycles, [(self.plc_id, False)])

    # -- a real cycle -------------------------------------------------------------
    def test_the_runner_cycles_the_plc_for_real(self):
        """With the production executor: the cycle reads the simulator and
        commits, and its end wakes the waiting runner."""
        runner = PlcRunner([self.dbname], clock=self.clock)
        self.addCleanup(runner.close)
        runner.run_once()
        poller = runner.pollers[self.dbname]
        poller.running[self.plc_id].result(timeout=30)
        self.assertLess(
            self.wait_for_news(runner, settle=False), WAKE_WITHIN, "the cycle's end did not wake the runner"
        )
        with self.registry.cursor() as cr:
            cr.execute("SELECT state FROM scada_plc WHERE id = %s", (self.plc_id,))
            self.assertEqual(cr.fetchone()[0], "connected")
