"""An idle line costs the database nothing: a poll that reads what the last
full poll read, with no request waiting, opens no transaction, until the
readings change, a request waits, or a heartbeat has passed."""

from ..runner.cycle import PlcCycle
from .common import ScadaCase, in_test_transaction


class TestQuietPolls(ScadaCase):
    def counted_cycle(self):
        """The production cycle, its units of work counted."""
        units = []
        unit_of_work = in_test_transaction(self.env)

        def transaction(fn):
            units.append(fn)
            return unit_of_work(fn)

        return PlcCycle(self.plc.id, transaction), units

    def running_batch(self):
        self.confirmed_mo()
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=100.0)
        return batch

    def test_the_same_readings_again_open_no_transaction(self):
        batch = self.running_batch()
        cycle, units = self.counted_cycle()
        kept = cycle.plan()
        cycle.run(kept, take_requests=False)  # the batch takes the reading
        cycle.run(kept, take_requests=False)  # nothing new: the poll is quiet
        before = len(units)
        cycle.run(kept, take_requests=False)
        cycle.run(kept, take_requests=False)
        self.assertEqual(len(units), before, "quiet polls of the same readings opened a transaction")
        self.assertEqual(batch.state, "running")

    def test_new_readings_a_waiting_request_or_a_passed_heartbeat_make_a_full_poll(self):
        batch = self.running_batch()
        cycle, units = self.counted_cycle()
        kept = cycle.plan()
        cycle.run(kept, take_requests=False)
        cycle.run(kept, take_requests=False)
        before = len(units)
        self.report(batch, actual_consumption_silo_d=150.0)
        cycle.run(kept, take_requests=False)
        self.assertGreater(len(units), before)
        self.assertEqual(batch.actual_consumption_silo_d, 150.0, "the new reading reached the batch")

        cycle.run(kept, take_requests=False)  # quiet again
        before = len(units)
        cycle.run(kept, take_requests=True)  # a request may wait: always a full poll
        self.assertGreater(len(units), before)

        cycle.run(kept, take_requests=False)
        seen, _until = kept["quiet"]
        kept["quiet"] = (seen, 0.0)  # a heartbeat later
        before = len(units)
        cycle.run(kept, take_requests=False)
        self.assertGreater(len(units), before, "the time-driven checks ran")

    def test_a_poll_with_something_to_tell_the_plc_is_never_quiet(self):
        batch = self.running_batch()
        cycle, units = self.counted_cycle()
        kept = cycle.plan()
        self.finish_on_plc(batch)
        for _poll in range(3):  # finished, confirmed by a second read, acknowledged
            cycle.run(kept, take_requests=False)
        self.assertFalse(batch.exists(), "Task 3 finished and archived the batch")
        self.assertEqual(self.simulator.read_slot_values("read", 1)["status_read_data"], True)
