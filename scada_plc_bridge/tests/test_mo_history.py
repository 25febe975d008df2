from odoo.exceptions import AccessError
from odoo.tests import tagged

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
            self.env["mo.history"].sudo().create({"status": "completed", "mo_id": "X"})
