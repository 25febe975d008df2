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
        self.assertEqual(self.env["mo.batch"]._cron_health(), 1)
        self.env["mo.batch"]._cron_health()  # still one activity, not two
        activity = self.activities(batch)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "SCADA: no PLC read for too long")
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))
        self.cycle()  # the PLC answers again
        self.assertEqual(self.env["mo.batch"]._cron_health(), 0)
        self.assertFalse(self.activities(batch))

    def test_consumption_outside_tolerance_is_flagged(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.copra.tracking = "lot"  # refused by Odoo: the batch stays in the queue
        self.finish_on_plc(batch, corn=800.0)  # 600 kg planned
        self.cycle()
        self.cycle()
        self.env["mo.batch"]._cron_health()
        activity = self.activities(batch)
        self.assertEqual(activity.summary, "SCADA: consumption outside tolerance")
        self.assertIn("Silo D", activity.note)

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
        self.env["mo.batch"]._cron_health()
        self.assertIn("SCADA: failing to push to Odoo", self.activities(batch).mapped("summary"))
