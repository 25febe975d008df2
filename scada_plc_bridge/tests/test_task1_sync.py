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
        self.cycle()
        production.state = "confirmed"  # e.g. re-confirmed by hand afterwards
        self.assertFalse(self.queue())

    def test_unwritable_recipe_stays_queued_and_is_retried(self):
        self.confirmed_mo(100)
        batch = self.env["scada.task.sync"]._sync_mo(self.plc)  # queued by the Task 1 cron
        self.plc.port = free_udp_port()
        self.plc.timeout = 0.1
        self.cycle()  # the PLC does not answer: nothing is written, the PLC shows why
        self.assertEqual((batch.state, batch.plc_write_state), ("queued", "pending"))
        self.assertEqual(self.plc.state, "error")
        self.assertIn("no reply", self.plc.last_error)
        self.plc.port = self.simulator.port
        self.cycle()
        self.assertEqual((batch.state, batch.plc_write_state), ("sent", "written"), batch.last_error)
        self.assertEqual(self.simulator.read_slot_values("write", batch.slot)["mo_id"], batch.mo_reference)

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

    def test_long_mo_name_is_recognised_as_the_plc_holds_it(self):
        production = self.confirmed_mo(1000)
        production.name = "PLANT-A/MO/2026/00001"  # 21 characters; the PLC's field holds 16
        batch = self.queue()
        self.assertEqual(batch.mo_reference, "PLANT-A/MO/2026/00001")  # Odoo keeps the full name
        self.assertEqual(batch.plc_ref, "-A/MO/2026/00001")
        self.assertEqual(self.simulator.read_slot_values("write", batch.slot)["mo_id"], batch.plc_ref)
        self.report(batch, actual_consumption_silo_d=42.5)
        self.cycle()
        self.assertEqual(batch.actual_consumption_silo_d, 42.5)
        self.assertFalse(self.plc.slot_problems)
        self.finish_on_plc(batch)
        self.cycle()
        self.cycle()
        self.assertEqual(production.state, "done")
        self.assertEqual(
            self.env["mo.history"].search([("production_id", "=", production.id)]).plc_ref, "-A/MO/2026/00001"
        )

    def test_two_long_names_with_the_same_end_get_distinct_references(self):
        first, second = self.confirmed_mo(100), self.confirmed_mo(100)
        first.name, second.name = "LINE-ONE/MO/2026/00001", "LINE-TWO/MO/2026/00001"
        batches = self.queue()
        self.assertEqual(len(set(batches.mapped("plc_ref"))), 2)
        self.assertTrue(all(len(ref) <= 16 for ref in batches.mapped("plc_ref")))

    def test_non_ascii_name_reaches_the_plc_as_ascii(self):
        production = self.confirmed_mo(100)
        production.name = "PÄKAN/MO/00007"
        batch = self.queue()
        self.assertEqual(batch.plc_ref, "PAKAN/MO/00007")
        self.assertEqual(self.simulator.read_slot_values("write", batch.slot)["mo_id"], "PAKAN/MO/00007")
