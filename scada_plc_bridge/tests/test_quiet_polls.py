"""An idle line costs the database nothing: a poll that reads what the last
full poll read, with no request waiting, opens no transaction, until the
readings change, a request waits, or a heartbeat has passed."""

from unittest.mock import patch

from ..runner.cycle import PlcCycle, queue_changed
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

    def test_a_queue_change_noticed_while_a_poll_runs_makes_the_next_poll_full(self):
        # The race a system test met on a loaded machine: the runner took an
        # MO's "queue" notice while a poll ran that had read the database
        # before it; that poll ended quiet, and the MO waited a heartbeat.
        batch = self.running_batch()
        cycle, units = self.counted_cycle()
        kept = cycle.plan()
        cycle.run(kept, take_requests=False)
        cycle.run(kept, take_requests=False)  # quiet from now on
        poll = type(self.env["scada.task.poll"])
        apply_readings = poll._apply_readings

        def notice_during_the_poll(model, *args):
            outcome = apply_readings(model, *args)
            queue_changed(kept)  # what the runner does on the notice, from its own thread
            return outcome

        kept.pop("quiet", None)  # a full poll, during which the notice comes
        with patch.object(poll, "_apply_readings", notice_during_the_poll):
            cycle.run(kept, take_requests=False)
        self.assertIn("quiet", kept, "the poll that read before the change ends quiet")
        before = len(units)
        cycle.run(kept, take_requests=False)
        self.assertGreater(len(units), before, "the next poll is a full one")
        before = len(units)
        cycle.run(kept, take_requests=False)
        self.assertEqual(len(units), before, "and quiet again after it")
        self.assertEqual(batch.state, "running")
