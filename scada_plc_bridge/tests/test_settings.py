from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestSettings(ScadaCase):
    def test_settings_edit_the_crons_and_the_health_thresholds(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.scada_task2_interval, 1)
        self.assertEqual(settings.scada_default_plc_id, self.plc)
        settings.write(
            {
                "scada_task1_interval": 30,
                "scada_health_stale_minutes": 4,
                "scada_batch_limit": 3,
                "scada_scheduler_enabled": False,
            }
        )
        settings.execute()
        task1 = self.env.ref("scada_plc_bridge.ir_cron_task1_sync_mo")
        self.assertEqual((task1.interval_number, task1.interval_type), (30, "minutes"))
        self.assertFalse(self.env.ref("scada_plc_bridge.ir_cron_task2_plc_read").active)
        self.assertEqual(self.env["scada.settings"]._get("health_stale_minutes"), 4)
        self.assertEqual(self.plc.batch_limit, 3)
        self.assertFalse(self.env["res.config.settings"].create({}).scada_scheduler_enabled)

    def test_an_edited_memory_map_keeps_every_field_the_bridge_reads(self):
        status = self.plc.memory_map_ids.filtered(
            lambda row: row.area == "read" and row.name == "status_manufacturing"
        )
        with self.assertRaisesRegex(ValidationError, "lacks status_manufacturing"), self.env.cr.savepoint():
            status.unlink()
        with self.assertRaisesRegex(UserError, "overlaps"), self.env.cr.savepoint():
            status.offset = 73  # on top of status_operation
