from odoo.tests import tagged

from .common import ScadaCase, free_udp_port


@tagged("post_install", "-at_install")
class TestSyncMo(ScadaCase):
    def test_oldest_planned_first_up_to_the_batch_limit(self):
        self.plc.batch_limit = 2
        productions = [self.confirmed_mo(100 * n) for n in range(1, 4)]
        productions[0].date_planned_start = "2030-01-03 08:00:00"
        productions[1].date_planned_start = "2030-01-01 08:00:00"
        productions[2].date_planned_start = "2030-01-02 08:00:00"
        batches = self.queue()
        self.assertEqual(batches.mapped("production_id"), productions[1] | productions[2])
        self.assertEqual(sorted(batches.mapped("slot")), [1, 2])

    def test_queue_not_empty_takes_nothing(self):
        self.confirmed_mo(100)
        first = self.queue()
        self.confirmed_mo(200)
        self.assertEqual(self.queue(), first)

    def test_mo_of_another_line_is_not_taken(self):
        other = self.env["scada.plc"].create({"name": "Other", "code": "OTHER", "port": free_udp_port()})
        self.bom.scada_plc_id = other
        self.confirmed_mo(100)
        self.assertFalse(self.queue())

    def test_archived_mo_is_never_queued_again(self):
        production = self.confirmed_mo(100)
        self.queue().action_cancel("operator stop")
        production.state = "confirmed"  # e.g. re-confirmed by hand afterwards
        self.assertFalse(self.queue())

    def test_unwritable_recipe_stays_queued_and_is_retried(self):
        self.plc.port = free_udp_port()
        self.plc.timeout = 0.1
        self.confirmed_mo(100)
        batch = self.queue()
        self.assertEqual((batch.state, batch.plc_write_state), ("queued", "failed"))
        self.assertIn("no reply", batch.last_error)
        self.plc.port = self.simulator.port
        self.env["mo.batch"]._cron_sync_mo()
        self.assertEqual((batch.state, batch.plc_write_state), ("sent", "written"), batch.last_error)
        self.assertEqual(self.simulator.read_slot_values("write", batch.slot)["mo_id"], batch.mo_id)

    def test_slot_not_yet_taken_by_the_plc_is_not_overwritten(self):
        self.simulator.write_slot_values("write", 1, {"mo_id": "OTHER/MO/42", "status_read_data": False})
        self.confirmed_mo(100)
        batch = self.queue()
        self.assertEqual(batch.plc_write_state, "failed")
        self.assertIn("OTHER/MO/42", batch.last_error)
        self.assertEqual(self.simulator.read_slot_values("write", 1)["mo_id"], "OTHER/MO/42")

    def test_batch_numbers_beyond_the_plc_word_still_reach_the_plc(self):
        self.env.ref("scada_plc_bridge.seq_mo_batch").number_next_actual = 40000
        production = self.confirmed_mo(100)
        batch = self.queue()
        self.assertEqual((batch.batch_no, batch.plc_write_state), (40000, "written"))
        recipe = self.simulator.read_slot_values("write", batch.slot)
        self.assertEqual((recipe["batch_no"], recipe["mo_id"]), (40000 - 32768, production.name))
