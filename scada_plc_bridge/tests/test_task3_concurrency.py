import threading

import odoo
import psycopg2
from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name

from ..transaction import is_transient
from .common import committed_line_mo, late_and_early, logged_failed_queries


@tagged("post_install", "-at_install")
class TestConcurrentProcessing(BaseCase):
    """Two transactions never finish the same batch: needs committed data and
    real concurrent PostgreSQL transactions, so this test commits (in the
    throw-away test database) instead of running in a savepoint."""

    def test_a_locked_batch_is_skipped_and_finished_once(self):
        registry = odoo.registry(get_db_name())
        with api.Environment.manage():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                batch_id, production_id = self._committed_finished_batch(env)
            first, second = registry.cursor(), registry.cursor()
            try:
                env_first = api.Environment(first, SUPERUSER_ID, {})
                locked = env_first["scada.task.finish"]._lock_finished([batch_id])
                self.assertEqual(locked.id, batch_id)
                # A concurrent Task 3 (or a Retry push button) skips the locked row.
                result = {}

                def concurrent_task3():
                    try:
                        with api.Environment.manage():
                            env = api.Environment(second, SUPERUSER_ID, {})
                            result["second"] = env["scada.task.finish"]._cron_process_completed()
                    except Exception as error:  # reported by the assertion below
                        result["second"] = error

                runner = threading.Thread(target=concurrent_task3)
                runner.start()
                runner.join(30)
                self.assertEqual(result["second"][0], 0)  # finished nothing: ours was locked
                self.assertTrue(
                    env_first["scada.task.finish"]._push_to_odoo(locked),
                    locked.exists() and locked.last_error,
                )
                first.commit()
                second.rollback()
                env_second = api.Environment(second, SUPERUSER_ID, {})
                self.assertEqual(env_second["scada.task.finish"]._cron_process_completed()[0], 0)
            finally:
                first.close()
                second.close()
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                self.assertEqual(env["mrp.production"].browse(production_id).state, "done")
                self.assertEqual(env["mo.history"].search_count([("production_id", "=", production_id)]), 1)
                self.assertFalse(env["mo.batch"].browse(batch_id).exists())

    def test_b_a_write_after_a_concurrent_change_is_a_quiet_retry(self):
        """The poller records a read while an operator's cancel of the same
        batch commits, or an operator opens the cancel dialog or asks for a
        send while the poller's record of it commits: the later transaction
        is to be retried (as the runtime and Odoo's RPC layer do), and the log
        shows no failed query, which would page plant staff for a conflict
        that is no error."""
        registry = odoo.registry(get_db_name())
        with api.Environment.manage():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                batch_id, _production_id = self._committed_finished_batch(env)
                env["mo.batch"].browse(batch_id).write({"status_manufacturing": False})

            def cancel(env, batch):
                env["scada.batch.operations"]._cancel(batch)

            def record_consumption(env, batch):
                batch.write({"actual_consumption_silo_a": batch.actual_consumption_silo_a + 1.5})

            with logged_failed_queries() as failed_queries:
                for committed_change, later in (
                    (
                        cancel,
                        lambda env, batch: env["scada.task.poll"]._mark_read(batch, fields.Datetime.now()),
                    ),
                    (cancel, record_consumption),
                    (
                        record_consumption,
                        lambda env, batch: env["mo.batch.cancel"].create(
                            {"batch_ids": [(6, 0, batch.ids)], "reason": "test"}
                        ),
                    ),
                    (
                        record_consumption,
                        lambda env, batch: env["scada.plc.request"]._request_per_plc("send", batch),
                    ),
                ):
                    with late_and_early(registry) as (env_late, env_early):
                        batch = env_late["mo.batch"].browse(batch_id)
                        self.assertTrue(batch.plc_ref)  # the later transaction has begun
                        committed_change(env_early, env_early["mo.batch"].browse(batch_id))
                        env_early.cr.commit()
                        with self.assertRaises(psycopg2.OperationalError) as raised:
                            later(env_late, batch)
                            env_late["base"].flush()
                        self.assertTrue(is_transient(raised.exception), raised.exception)
            self.assertEqual(failed_queries, [])

    def _committed_finished_batch(self, env):
        plc, production = committed_line_mo(env)
        batch = env["mo.batch"].create(
            dict(
                env["scada.task.sync"]._values_from_production(production, plc, 1),
                actual_consumption_silo_a=99.5,
                actual_weight_quantity_finished_goods=99.5,
                status_manufacturing=True,
                plc_write_state="written",
            )
        )
        return batch.id, production.id
