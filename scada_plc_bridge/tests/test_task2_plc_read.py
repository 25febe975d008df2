from datetime import timedelta

from odoo.tests import tagged

from .common import ScadaCase, free_udp_port


@tagged("post_install", "-at_install")
class TestPlcRead(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.production = cls.confirmed_mo(1000)

    def setUp(self):
        super().setUp()
        self.batch = self.queue()
        self.assertEqual(len(self.batch), 1)

    def snapshot(self):
        fields = [
            "actual_consumption_silo_d",
            "actual_weight_quantity_finished_goods",
            "status_manufacturing",
            "status_operation",
            "last_read_from_plc",
            "state",
        ]
        return self.batch.read(fields)[0]

    def test_running_actuals_are_taken(self):
        self.report(self.batch, actual_consumption_silo_d=120.5, actual_consumption_lq114=3.25)
        self.cycle()
        self.assertEqual(self.batch.state, "running")
        self.assertEqual(
            (self.batch.actual_consumption_silo_d, self.batch.actual_consumption_lq114), (120.5, 3.25)
        )
        self.assertTrue(self.batch.last_read_from_plc)
        self.assertEqual(self.batch.last_read_age, "just now")
        self.assertEqual(self.plc.state, "connected")
        self.batch.last_read_from_plc -= timedelta(minutes=7)
        self.assertEqual(self.batch.last_read_age, "7 min ago")

    def test_invalid_slot_changes_nothing(self):
        before = self.snapshot()
        # A read shifted by a word at the plant: the silo id words no longer match.
        self.report(self.batch, actual_consumption_silo_d=500, silo_id_a=0, status_manufacturing=True)
        self.cycle()
        self.cycle()
        self.assertEqual(self.snapshot(), before)
        self.assertIn("SILO ID 101", self.plc.slot_problems)
        self.assertIn("SILO ID 101", self.batch.plc_read_error)
        self.assertEqual(self.production.state, "confirmed")

    def test_torn_value_beyond_bounds_changes_nothing(self):
        before = self.snapshot()
        self.report(self.batch, actual_consumption_silo_d=1.0)
        words = self.simulator.memory.read(6037, 2)
        self.simulator.memory.write(6037, [0xFFFF, words[1]])  # high word of another scan
        self.cycle()
        self.assertEqual(self.snapshot(), before)
        self.assertIn("above the maximum", self.plc.slot_problems)

    def test_unknown_mo_id_changes_nothing(self):
        before = self.snapshot()
        self.report(self.batch, mo_id="WH/MO/99999", status_manufacturing=True, actual_consumption_silo_d=10)
        self.cycle()
        self.assertEqual(self.snapshot(), before)
        self.assertIn("WH/MO/99999", self.plc.slot_problems)

    def test_unknown_mo_id_is_told_to_the_batch_of_that_slot(self):
        self.report(self.batch, mo_id="WH/MO/99999", status_manufacturing=True, actual_consumption_silo_d=10)
        self.cycle()
        self.assertIn("WH/MO/99999", self.batch.plc_read_error)
        self.report(self.batch, mo_id=self.batch.plc_ref, status_manufacturing=False)
        self.cycle()
        self.assertFalse(self.batch.plc_read_error)

    def test_finished_and_failed_at_once_is_refused(self):
        # Contradictory flags: neither cancelling nor finishing the MO would be right.
        self.finish_on_plc(self.batch)
        self.report(self.batch, status_operation=True)
        self.cycle()
        self.cycle()
        self.assertTrue(self.batch.exists())
        self.assertEqual(self.production.state, "confirmed")
        self.assertFalse(self.batch.status_operation or self.batch.status_manufacturing)
        self.assertIn("both finished and failed", self.batch.plc_read_error)
        self.assertIn("both finished and failed", self.plc.slot_problems)
        self.assertEqual(self.simulator.read_slot_values("read", self.batch.slot)["status_read_data"], 0)
        self.report(self.batch, status_operation=False)  # sane again: finishes
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")

    def test_a_failure_recorded_before_a_crash_is_cancelled_next_cycle(self):
        # Task 2 recorded the failure; the server died before Task 3 cancelled the MO.
        self.batch.write({"status_operation": True})
        self.report(self.batch, status_operation=True, status_read_data=True)
        self.cycle()
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "cancel")

    def test_a_finish_recorded_before_a_crash_is_pushed_next_cycle(self):
        self.finish_on_plc(self.batch)
        self.batch.write(
            {
                "status_manufacturing": True,
                "status_read_data": True,
                "actual_consumption_silo_d": 601.5,
                "actual_consumption_silo_b": 348.0,
                "actual_consumption_lq114": 40.2,
                "actual_weight_quantity_finished_goods": 989.7,
            }
        )
        self.report(self.batch, status_read_data=True)
        self.cycle()
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "done")

    def test_finished_needs_two_agreeing_reads(self):
        self.finish_on_plc(self.batch, weight=900)
        self.cycle()
        self.assertFalse(self.batch.status_manufacturing)
        self.finish_on_plc(self.batch, weight=950)  # still changing: not final yet
        self.cycle()
        self.assertFalse(self.batch.status_manufacturing)
        self.cycle()  # agrees with the last: finished, and Task 3 at once
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.production.qty_produced, 950, 2)

    def test_a_finished_batch_is_never_touched_again(self):
        self.copra.tracking = "lot"  # Odoo refuses to finish: the batch stays in the queue
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.batch.state, "push_failed")
        before = self.snapshot()
        self.report(self.batch, actual_consumption_silo_d=1.0, status_manufacturing=False)
        self.cycle()
        self.assertEqual(
            {k: v for k, v in self.snapshot().items() if k != "last_read_from_plc"},
            {k: v for k, v in before.items() if k != "last_read_from_plc"},
        )

    def test_dead_plc_leaves_batches_and_marks_the_plc(self):
        before = self.snapshot()
        self.plc.port = free_udp_port()
        self.plc.timeout = 0.1
        self.cycle()
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.plc.state, "error")
        self.assertIn("no reply", self.plc.last_error)

    def test_plc_error_end_code_is_shown_on_the_plc(self):
        self.simulator.set_fault("end_code", 1.0)
        self.addCleanup(self.simulator.clear_faults)
        self.cycle()
        self.assertEqual(self.plc.state, "error")
        self.assertIn("2201", self.plc.last_error)
