import time

from odoo.tests import tagged

from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestBatchCycle(ScadaCase):
    simulator_options = {"plant": True, "batch_seconds": 0.3}

    def test_confirmed_mo_becomes_done_with_the_plc_actuals(self):
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.assertEqual(batch.production_id, production)
        self.assertEqual(batch.state, "sent")
        self.assertEqual(
            (batch.consumption_silo_d, batch.consumption_silo_b, batch.consumption_lq114), (600, 350, 40)
        )
        # The recipe is in WRITE slot 1 of the PLC.
        recipe = self.simulator.read_slot_values("write", batch.slot)
        self.assertEqual(recipe["mo_id"], production.name)
        self.assertEqual(recipe["consumption_silo_d"], 600.0)
        self.assertEqual(recipe["quantity"], 1000.0)
        # The simulated line takes it, runs it and reports it finished.
        self.assertTrue(
            self._wait(lambda: self.simulator.read_slot_values("read", batch.slot)["status_manufacturing"])
        )
        actual = self.simulator.read_slot_values("read", batch.slot)
        self.cycle()  # first 'finished' read: remembered, not yet trusted
        self.assertEqual(batch.state, "running")
        self.assertAlmostEqual(batch.actual_consumption_silo_d, actual["actual_consumption_silo_d"], 2)
        self.cycle()  # the second agrees: finished, and Task 3 runs at once
        self.assertFalse(
            batch.exists(), batch.exists() and (batch.state, batch.last_error, batch.plc_read_error)
        )
        self.assertEqual(production.state, "done")
        consumed = self.consumed(production)
        self.assertAlmostEqual(consumed[self.corn], actual["actual_consumption_silo_d"], 2)
        self.assertAlmostEqual(consumed[self.copra], actual["actual_consumption_silo_b"], 2)
        self.assertAlmostEqual(consumed[self.molasses], actual["actual_consumption_lq114"], 2)
        self.assertAlmostEqual(consumed[self.premix], 10.0, 2)  # no silo: as planned
        self.assertAlmostEqual(production.qty_produced, actual["actual_weight_quantity_finished_goods"], 2)
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(len(history), 1)
        self.assertEqual(history.status, "completed")
        self.assertAlmostEqual(history.actual_consumption_silo_d, actual["actual_consumption_silo_d"], 2)
        # The READ slot is acknowledged after the batch's transaction, in the same cycle.
        self.assertTrue(self.simulator.read_slot_values("read", 1)["status_read_data"])
        # Nothing is left to queue again.
        self.assertFalse(self.queue())

    def test_a_lost_acknowledgement_is_sent_again_next_cycle(self):
        production = self.confirmed_mo(1000)
        slot = self.queue().slot
        self.assertTrue(
            self._wait(lambda: self.simulator.read_slot_values("read", slot)["status_manufacturing"])
        )
        self.cycle()
        self.cycle()
        self.assertEqual(production.state, "done")
        # The acknowledgement never reached the PLC (undone here in its memory):
        # the archived batch's slot is acknowledged again on the next cycle.
        self.simulator.write_slot_values("read", slot, {"status_read_data": False})
        self.cycle()
        self.assertTrue(self.simulator.read_slot_values("read", 1)["status_read_data"])
        self.assertFalse(self.plc.slot_problems)

    def _wait(self, predicate, seconds=5.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False


@tagged("post_install", "-at_install")
class TestLossyNetwork(ScadaCase):
    """A fifth of the datagrams lost (replies dropped after the PLC executed
    the command, and requests lost before it did): every batch still ends
    done once, and no READ slot is left unacknowledged (blocked) at the end."""

    simulator_options = {"plant": True, "batch_seconds": 0.3}

    def test_lost_datagrams_block_no_slot_and_run_no_batch_twice(self):
        self.plc.batch_limit = 10
        productions = [self.confirmed_mo(1000) for _n in range(10)]
        self.simulator.set_fault("drop", 0.1)
        self.simulator.set_fault("lost_request", 0.1)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(p.state != "done" for p in productions):
            self.cycle()
            time.sleep(0.1)
        self.simulator.clear_faults()
        self.cycle()  # what is still due is acknowledged on a quiet network
        self.assertEqual({p.state for p in productions}, {"done"})
        self.assertEqual(self.simulator.faults_injected.get("drop", 0) > 0, True)
        self.assertEqual(max(self.simulator.takes_by_mo.values()), 1, self.simulator.takes_by_mo)
        for slot in range(1, 11):
            report = self.simulator.read_slot_values("read", slot)
            self.assertTrue(not report["mo_id"] or report["status_read_data"], "slot %d blocked" % slot)
        for production in productions:
            self.assertEqual(self.env["mo.history"].search_count([("production_id", "=", production.id)]), 1)
