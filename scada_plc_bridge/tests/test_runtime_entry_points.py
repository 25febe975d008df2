"""The runtime's entry points as a live server runs them: committed
transactions of their own, PostgreSQL locks between connections, the cron
runner's row lock.  These tests commit in the throw-away test database
(as test_task3_concurrency does), because what they check only exists
between real, separate transactions."""

import logging
import logging.handlers
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import odoo
import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name

from ..const import POLL_LOCK_NAMESPACE
from ..plclib.simulator import PlcSimulator
from ..runner.runner import DatabasePoller
from ..runner.safety_net import cycle_plcs_not_polled
from ..transaction import Transactions


@tagged("post_install", "-at_install")
class TestRuntimeEntryPoints(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = odoo.registry(get_db_name())
        cls.simulator = PlcSimulator(seed=5).start()
        cls.addClassCleanup(cls.simulator.stop)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cls.plc_id = env.ref("scada_plc_bridge.scada_plc_default").id
            cr.execute("SELECT id FROM scada_plc WHERE active AND id != %s", (cls.plc_id,))
            cls.other_plc_ids = [row[0] for row in cr.fetchall()]
            cr.execute("UPDATE scada_plc SET active = false WHERE id = ANY(%s)", (cls.other_plc_ids,))
            cr.execute(
                "UPDATE scada_plc SET port = %s, timeout = 0.5, state = 'unknown' WHERE id = %s",
                (cls.simulator.port, cls.plc_id),
            )

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            cr.execute("UPDATE scada_plc SET active = true WHERE id = ANY(%s)", (cls.other_plc_ids,))
            cr.execute("UPDATE scada_plc SET port = 9600, state = 'unknown' WHERE id = %s", (cls.plc_id,))
        super().tearDownClass()

    def plc_state(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT state FROM scada_plc WHERE id = %s", (self.plc_id,))
            return cr.fetchone()[0]

    def test_a_plc_polled_elsewhere_is_skipped_then_taken_over(self):
        other_server = self.registry.cursor()
        try:
            other_server.execute("SELECT pg_advisory_lock(%s, %s)", (POLL_LOCK_NAMESPACE, self.plc_id))
            started = time.monotonic()
            self.assertEqual(cycle_plcs_not_polled(self.registry, [self.plc_id]), [])
            self.assertLess(time.monotonic() - started, 2, "the safety net must not wait for the lock")
            self.assertEqual(self.plc_state(), "unknown")  # not polled
        finally:
            other_server.execute("SELECT pg_advisory_unlock(%s, %s)", (POLL_LOCK_NAMESPACE, self.plc_id))
            other_server.close()
        # The other server is gone: the safety net polls, and commits what it read.
        self.assertEqual(cycle_plcs_not_polled(self.registry, [self.plc_id]), [self.plc_id])
        self.assertEqual(self.plc_state(), "connected")

    def test_the_cron_runner_runs_task2_without_waiting_on_its_own_row(self):
        """As Odoo 14's runner does it: the ir_cron row locked on one cursor,
        the job on another.  Task 2 returns and the runner schedules it."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cron_id = env.ref("scada_plc_bridge.ir_cron_task2_plc_read").id
            cr.execute(
                "UPDATE ir_cron SET active = true,"
                " nextcall = (now() at time zone 'UTC') - interval '30 seconds' WHERE id = %s RETURNING *",
                (cron_id,),
            )
            job = cr.dictfetchone()
        cron_cr, job_cr = self.registry.cursor(), self.registry.cursor()
        try:
            cron_cr.execute("SELECT id FROM ir_cron WHERE id = %s FOR UPDATE NOWAIT", (cron_id,))
            runner = threading.Thread(
                target=self.registry["ir.cron"]._process_job, args=(job_cr, job, cron_cr), daemon=True
            )
            runner.start()
            runner.join(20)
            self.assertFalse(runner.is_alive(), "Task 2 is stuck behind the runner's lock on its cron row")
            cron_cr.commit()
        finally:
            cron_cr.rollback()  # frees a stuck job, if any, before the cursors close
            runner.join(5)
            job_cr.close()
            cron_cr.close()
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT nextcall > (now() at time zone 'UTC'), lastcall IS NOT NULL"
                " FROM ir_cron WHERE id = %s",
                (cron_id,),
            )
            self.assertEqual(cr.fetchone(), (True, True))
        self.assertEqual(self.plc_state(), "connected")

    def test_the_runtime_writes_in_the_plants_language(self):
        """Notes of the runner and the crons are read by the plant: they are
        written in the company's language, whatever the cron user's."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.lang"]._activate_lang("id_ID")
            env["ir.translation"]._load_module_terms(["scada_plc_bridge"], ["id_ID"])
            company_partner = env.ref("base.main_company").partner_id
            before = company_partner.lang
            company_partner.lang = "id_ID"
        try:
            note = Transactions(self.registry)(lambda env: env["scada.task.finish"]._auto_cancel_note())
            english = "Auto-cancelled: the PLC reported the batch as failed"
            self.assertNotEqual(note, english)
            self.assertTrue(note)
        finally:
            with self.registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {}).ref("base.main_company").partner_id.lang = before

    def test_a_serialization_conflict_is_retried_not_reported(self):
        """Two transactions change the same PLC row: the later one gets
        'could not serialize access' and is run again on fresh data."""
        calls = []

        def rename(env):
            calls.append(1)
            plc = env["scada.plc"].browse(self.plc_id)
            plc.write({"name": plc.name + "+"})
            env["scada.plc"].flush()
            return plc.name

        with self.registry.cursor() as cr:
            cr.execute("SELECT name FROM scada_plc WHERE id = %s", (self.plc_id,))
            name = cr.fetchone()[0]
        blocker = self.registry.cursor()
        result = {}
        try:
            blocker.execute("UPDATE scada_plc SET name = name || '!' WHERE id = %s", (self.plc_id,))

            def transaction():
                with api.Environment.manage():
                    result["name"] = Transactions(self.registry)(rename)

            worker = threading.Thread(target=transaction)
            worker.start()
            time.sleep(0.5)  # the worker now waits on the blocker's row lock
            blocker.commit()
            worker.join(30)
        finally:
            blocker.close()
        self.assertEqual(result.get("name"), name + "!+")
        self.assertEqual(len(calls), 2)
        with self.registry.cursor() as cr:
            cr.execute("UPDATE scada_plc SET name = %s WHERE id = %s", (name, self.plc_id))

    def test_a_request_wakes_task2_even_when_the_cron_runner_just_wrote_its_row(self):
        """Where no runner polls, a request makes the Task 2 cron due.  The
        operator's transaction may have started before the cron runner last
        wrote the cron's row: the press still commits, no query fails in the
        log, and the cron is due for the committed request."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cron_id = env.ref("scada_plc_bridge.ir_cron_task2_plc_read").id
            cr.execute("SELECT active, nextcall FROM ir_cron WHERE id = %s", (cron_id,))
            was_active, was_due = cr.fetchone()
        self.addCleanup(self.restore_cron, cron_id, was_active, was_due)
        operator = self.registry.cursor()
        try:
            operator.execute("SELECT count(*) FROM scada_plc_request")  # its snapshot is taken
            with self.registry.cursor() as cron_runner:  # Odoo's runner, after a run of Task 2
                cron_runner.execute(
                    "UPDATE ir_cron SET active = true,"
                    " nextcall = (now() at time zone 'UTC') + interval '1 hour' WHERE id = %s",
                    (cron_id,),
                )
            env = api.Environment(operator, SUPERUSER_ID, {})
            failed_queries = logging.handlers.BufferingHandler(100)
            failed_queries.setLevel(logging.ERROR)
            logging.getLogger("odoo.sql_db").addHandler(failed_queries)
            try:
                request = env["scada.plc.request"]._request(env["scada.plc"].browse(self.plc_id), "read")
                operator.commit()
            finally:
                logging.getLogger("odoo.sql_db").removeHandler(failed_queries)
        finally:
            operator.close()
        self.assertEqual([r.getMessage() for r in failed_queries.buffer], [])
        with self.registry.cursor() as cr:
            cr.execute("SELECT nextcall <= (now() at time zone 'UTC') FROM ir_cron WHERE id = %s", (cron_id,))
            self.assertTrue(cr.fetchone()[0], "Task 2 is not due for the request")
            cr.execute("SELECT state FROM scada_plc_request WHERE id = %s", (request.id,))
            self.assertEqual(cr.fetchone()[0], "pending")
            cr.execute("DELETE FROM scada_plc_request WHERE id = %s", (request.id,))

    def restore_cron(self, cron_id, active, nextcall):
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE ir_cron SET active = %s, nextcall = %s WHERE id = %s", (active, nextcall, cron_id)
            )


@tagged("post_install", "-at_install")
class TestDatabaseOutage(BaseCase):
    """A database outage is logged once when it starts and once when it ends.
    The outage itself is simulated (a query raising psycopg2's connection
    error): stopping the shared test cluster would stop the test run too."""

    def test_an_outage_is_told_once_and_its_end_once(self):
        executor = ThreadPoolExecutor(max_workers=1)
        self.addCleanup(executor.shutdown)
        poller = DatabasePoller(get_db_name(), executor, threading.BoundedSemaphore(1))
        self.addCleanup(poller.close)
        real_query = poller._query

        def down(*_args):
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

        poller._query = down
        with self.assertLogs("odoo.addons.scada_plc_bridge.runner.runner", "WARNING") as logs:
            for second in range(20):
                poller.run_pass(1000.0 + second)
            poller._query = real_query
            for second in range(20, 25):
                poller.run_pass(1000.0 + second)
        self.assertEqual(len(logs.records), 2, logs.output)
        self.assertIn("lost its database connection", logs.output[0])
        self.assertIn("database connection back", logs.output[1])
