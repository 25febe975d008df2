import threading
import time

import odoo
import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name

from ..transaction import Transactions, is_transient
from .common import committed_line_mo, late_and_early, logged_failed_queries


@tagged("post_install", "-at_install")
class TestConcurrentQueueing(BaseCase):
    """The runner's poll, the Task 1 cron and the operator's button may each
    find a PLC's queue empty at the same moment (the CI saw the cron and the
    runner queue one MO together: the cron's insert refused, a failed query
    in the log).  Real concurrent PostgreSQL transactions on committed data,
    so this test commits (in the throw-away test database)."""

    def setUp(self):
        super().setUp()
        self.registry = odoo.registry(get_db_name())
        with api.Environment.manage(), self.registry.cursor() as cr:
            plc, production = committed_line_mo(api.Environment(cr, SUPERUSER_ID, {}))
            self.plc_id, self.production_id = plc.id, production.id

    def queue(self, env):
        return env["scada.task.sync"]._queue_if_empty(self.plc_id)

    def test_a_queueing_after_another_committed_is_a_quiet_retry_and_the_mo_is_queued_once(self):
        with api.Environment.manage(), logged_failed_queries() as failed_queries:
            with late_and_early(self.registry) as (late, early):
                self.assertFalse(late["scada.plc"].browse(self.plc_id).last_queued)  # begun
                self.assertEqual(len(self.queue(early)), 1)
                early.cr.commit()
                with self.assertRaises(psycopg2.OperationalError) as raised:
                    self.queue(late)
                self.assertTrue(is_transient(raised.exception), raised.exception)
            # Retried as the runtime does: on fresh data the queue is full.
            self.assertFalse(Transactions(self.registry)(self.queue))
        self.assertEqual(failed_queries, [])
        self.assertQueuedOnce()

    def test_b_queueing_while_another_queues_waits_for_it_then_retries(self):
        with api.Environment.manage(), logged_failed_queries() as failed_queries:
            with late_and_early(self.registry) as (late, early):
                self.assertFalse(late["scada.plc"].browse(self.plc_id).last_queued)  # begun
                self.assertEqual(len(self.queue(early)), 1)
                result = {}

                def concurrent_queueing():
                    try:
                        with api.Environment.manage():
                            result["late"] = self.queue(late)
                    except Exception as error:  # reported by the assertion below
                        result["late"] = error

                thread = threading.Thread(target=concurrent_queueing)
                thread.start()
                self.wait_until_blocked(thread)
                early.cr.commit()
                thread.join(30)
                self.assertIsInstance(result.get("late"), psycopg2.OperationalError, result)
                self.assertTrue(is_transient(result["late"]), result["late"])
        self.assertEqual(failed_queries, [])
        self.assertQueuedOnce()

    def test_c_a_poll_meeting_a_committed_queueing_is_a_quiet_retry(self):
        """The poll's record of its contact with the PLC (a write of the PLC's
        row) after Task 1 queued on that PLC from the cron."""
        with api.Environment.manage(), logged_failed_queries() as failed_queries:
            with late_and_early(self.registry) as (late, early):
                self.assertEqual(late["scada.plc"].browse(self.plc_id).state, "unknown")  # begun
                self.queue(early)
                early.cr.commit()
                with self.assertRaises(psycopg2.OperationalError) as raised:
                    late["scada.task.poll"]._apply_readings(self.plc_id, [])
                    late["base"].flush()
                self.assertTrue(is_transient(raised.exception), raised.exception)
        self.assertEqual(failed_queries, [])

    def wait_until_blocked(self, thread):
        """Until the thread's transaction waits for a lock (or ended)."""
        deadline = time.time() + 30
        with self.registry.cursor() as cr:
            while thread.is_alive() and time.time() < deadline:
                cr.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cr.fetchone()[0]:
                    return
                cr.rollback()
                time.sleep(0.05)

    def assertQueuedOnce(self):
        with api.Environment.manage(), self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(env["mo.batch"].search_count([("production_id", "=", self.production_id)]), 1)
            self.assertTrue(env["scada.plc"].browse(self.plc_id).last_queued)
