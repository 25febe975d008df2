from odoo.exceptions import AccessError
from odoo.modules.migration import load_script
from odoo.modules.module import get_module_path
from odoo.tests import tagged

from ..models.mo_history import ARCHIVE_CONTEXT_KEY
from ..runner.cycle import PlcCycle
from .common import ScadaCase, in_test_transaction


@tagged("post_install", "-at_install")
class TestHistoryIsImmutable(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.production = cls.confirmed_mo(100)
        cls.env["scada.task.sync"]._sync_mo(cls.plc)
        cls.env["mo.batch"].search([("plc_id", "=", cls.plc.id)]).action_cancel("test")
        PlcCycle(cls.plc.id, in_test_transaction(cls.env)).run()
        cls.history = cls.env["mo.history"].search([("production_id", "=", cls.production.id)])

    def test_history_refuses_write_even_for_the_superuser(self):
        with self.assertRaises(AccessError):
            self.history.sudo().write({"notes": "changed"})
        self.assertEqual(self.history.notes, "test")

    def test_history_refuses_unlink(self):
        with self.assertRaises(AccessError):
            self.history.sudo().unlink()
        self.assertTrue(self.history.exists())

    def test_history_is_created_by_the_queue_only(self):
        with self.assertRaises(AccessError):
            self.env["mo.history"].sudo().create({"status": "completed", "mo_reference": "X"})


@tagged("post_install", "-at_install")
class TestHistoryStatuses(ScadaCase):
    """A batch the PLC failed is archived as cancelled with status_operation:
    no "failed" status, and the migration turns an old "failed" row into that."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        archive = cls.env["mo.history"].with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo()
        cls.history = archive.create(
            {"mo_reference": "WH/MO/00042", "status": "cancelled", "plc_id": cls.plc.id}
        )

    def test_no_failed_status_and_plc_failures_by_status_operation(self):
        statuses = dict(self.env["mo.history"]._fields["status"].selection)
        self.assertEqual(set(statuses), {"completed", "cancelled"})
        report_statuses = dict(self.env["scada.consumption.report"]._fields["status"].selection)
        self.assertEqual(report_statuses, statuses)
        self.assertEqual(self.env["mo.history"]._failure_domain(), [("status_operation", "=", True)])

    def test_migration_turns_failed_rows_into_plc_failures(self):
        path = get_module_path("scada_plc_bridge") + "/migrations/14.0.1.1.0/post-migrate-history-status.py"
        migration = load_script(path, "scada_plc_bridge_post_migrate_history_status")
        self.env.cr.execute(
            "UPDATE mo_history SET status = 'failed', status_operation = FALSE WHERE id = %s",
            [self.history.id],
        )
        migration.migrate(self.env.cr, None)  # a fresh install: nothing to do
        self.env.cr.execute("SELECT status FROM mo_history WHERE id = %s", [self.history.id])
        self.assertEqual(self.env.cr.fetchone()[0], "failed")
        migration.migrate(self.env.cr, "14.0.1.0.0")
        self.history.invalidate_cache()
        self.assertEqual((self.history.status, self.history.status_operation), ("cancelled", True))
        self.assertIn(self.history, self.env["mo.history"].search(self.env["mo.history"]._failure_domain()))
