import time

import odoo
from odoo.tests import tagged
from odoo.tests.common import BaseCase, get_db_name

from ..models.scada_plc import POLL_LOCK_NAMESPACE, poll_plc_until


@tagged("post_install", "-at_install")
class TestPollingLock(BaseCase):
    """Task 2's per-PLC lock lives in PostgreSQL, so a second cron worker or
    another Odoo server on the same database never polls the same PLC.  This
    runs real, committing transactions on the throw-away test database."""

    def test_a_plc_polled_elsewhere_is_skipped(self):
        registry = odoo.registry(get_db_name())
        with registry.cursor() as cr:
            plc_id = (
                odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}).ref("scada_plc_bridge.scada_plc_default").id
            )
            cr.execute("SELECT last_contact FROM scada_plc WHERE id = %s", (plc_id,))
            contact_before = cr.fetchone()[0]
        other_worker = registry.cursor()
        try:
            other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))
            started = time.monotonic()
            poll_plc_until(get_db_name(), plc_id, time.monotonic() + 30)
            self.assertLess(time.monotonic() - started, 5, "the poll should not wait for the lock")
            with registry.cursor() as cr:
                cr.execute("SELECT last_contact, state FROM scada_plc WHERE id = %s", (plc_id,))
                self.assertEqual(cr.fetchone()[0], contact_before)  # not polled
        finally:
            other_worker.execute("SELECT pg_advisory_unlock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))
            other_worker.close()
        # Once the other worker is gone, this one polls (and records the outcome).
        with registry.cursor() as cr:
            cr.execute("UPDATE scada_plc SET state = 'unknown', timeout = 0.1 WHERE id = %s", (plc_id,))
        poll_plc_until(get_db_name(), plc_id, time.monotonic() + 0.5)
        with registry.cursor() as cr:
            cr.execute("SELECT state FROM scada_plc WHERE id = %s", (plc_id,))
            self.assertNotEqual(cr.fetchone()[0], "unknown")
