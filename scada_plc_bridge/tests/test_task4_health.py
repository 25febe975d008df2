from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestHealth(ScadaCase):
    def activities(self, batch):
        activity_type = self.env.ref("scada_plc_bridge.mail_activity_type_scada_health")
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "mo.batch"),
                ("res_id", "=", batch.id),
                ("activity_type_id", "=", activity_type.id),
            ]
        )

    def test_stale_batch_gets_one_activity_closed_when_reads_resume(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=10.0)
        self.cycle()
        batch.last_read_from_plc = fields.Datetime.now() - timedelta(minutes=30)
        self.assertEqual(self.env["scada.task.health"]._check_health(), 1)
        self.env["scada.task.health"]._check_health()  # still one activity, not two
        activity = self.activities(batch)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "SCADA: no PLC read for too long")
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))
        self.cycle()  # the PLC answers again
        self.assertEqual(self.env["scada.task.health"]._check_health(), 0)
        self.assertFalse(self.activities(batch))

    def test_implausible_consumption_is_held_and_reported(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.finish_on_plc(batch, corn=800.0, weight=1188.2)  # 600 kg planned
        self.cycle()
        self.cycle()
        self.assertEqual(batch.state, "needs_review")
        self.env["scada.task.health"]._check_health()  # the same rules: still one activity
        activity = self.activities(batch)
        self.assertEqual(activity.summary, "SCADA: implausible figures, held for review")
        self.assertIn("SILO D", activity.note)
        self.env["mo.batch"].browse(batch.ids).action_reset()
        self.assertEqual(self.env["scada.task.health"]._check_health(), 0)
        self.assertFalse(self.activities(batch))

    def test_failing_push_for_long_is_flagged(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        batch.write(
            {
                "push_state": "failed",
                "status_manufacturing": True,
                "last_error": "refused",
                "date_push_failed": fields.Datetime.now() - timedelta(hours=2),
            }
        )
        self.env["scada.task.health"]._check_health()
        self.assertIn("SCADA: failing to push to Odoo", self.activities(batch).mapped("summary"))

    def test_the_stale_filter_follows_the_setting(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=10.0)
        self.cycle()
        batch.sudo().write({"last_read_from_plc": fields.Datetime.now() - timedelta(minutes=7)})
        stale = self.env["mo.batch"].search([("is_stale", "=", True)])
        self.assertFalse(stale & batch)  # 10 minutes by default
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.health_stale_minutes", 5)
        self.assertEqual(self.env["mo.batch"].search([("is_stale", "=", True)]) & batch, batch)
        self.assertFalse(self.env["mo.batch"].search([("is_stale", "=", False)]) & batch)
