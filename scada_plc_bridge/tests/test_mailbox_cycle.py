"""The cycle and the PLC's mailboxes, against the simulator over real
sockets: failures raised by the PLC are recorded exactly once and
acknowledged (a lost acknowledgement included), an idle poll costs 2 FINS
round trips (slots + one 0104 of both flags), and a mailbox step that
fails leaves the slots' work alone."""

import datetime
import time

from odoo.tests import tagged

from ..plclib import memory_map
from .common import ScadaCase


@tagged("post_install", "-at_install")
class TestMailboxCycle(ScadaCase):
    def setUp(self):
        super().setUp()
        for mailbox in self.simulator.mailboxes.values():
            mailbox.queue.clear()
        self.simulator.deliver_mailboxes()

    def failures(self):
        return self.env["scada.equipment.failure"].search([("plc_id", "=", self.plc.id)])

    def failure_box(self):
        return self.simulator.mailboxes[memory_map.FAILURE]

    def cycles_until_delivered(self, most=40):
        """Cycles until the simulator has nothing left to deliver and its mailbox is acknowledged."""
        box = self.failure_box()
        for _cycle in range(most):
            self.cycle()
            time.sleep(0.06)  # the simulator's scan writes the next event
            flag = self.simulator.memory.read(memory_map.FAILURE_MAILBOX_BASE + 22, 1)[0]
            if not box.queue and flag == memory_map.MAILBOX_READ:
                return
        self.fail("the failure mailbox was not emptied")

    def test_an_idle_poll_costs_two_round_trips(self):
        self.cycle()
        served = self.simulator.requests_served
        self.cycle()
        self.assertEqual(self.simulator.requests_served - served, 2)

    def test_failures_raised_by_the_plc_are_recorded_once_and_acknowledged(self):
        start = datetime.datetime(2026, 3, 1, 8, 0, 0)
        hashes = [
            self.simulator.raise_equipment_failure(code, info, start + datetime.timedelta(seconds=n))
            for n, (code, info) in enumerate(
                [
                    ("motor_pump_01", "MOTOR_FAILURE"),
                    ("silo101", "SENSOR_ERROR"),
                    ("motor_pump_01", "MOTOR_OK"),
                    ("conveyor_99", "START_FAILURE"),
                    ("mixer_01", "START_FAILURE"),
                ]
            )
        ]
        self.cycles_until_delivered()
        failures = self.failures()
        self.assertEqual(len(failures), 4, "the recovery ends a failure, it opens none")
        recorded = set(failures.mapped("content_hash")) | set(failures.mapped("recovery_hash"))
        self.assertEqual(recorded - {False}, set(hashes))
        self.assertEqual(failures.filtered(lambda f: f.equipment_code == "motor_pump_01").state, "resolved")
        time.sleep(0.1)
        self.assertEqual(self.failure_box().acknowledged, self.failure_box().delivered)

    def test_an_event_whose_acknowledgement_is_lost_is_recorded_once(self):
        self.simulator.raise_equipment_failure("motor_pump_02", "MOTOR_FAILURE")
        time.sleep(0.1)
        # The flag's write never reaches the PLC: the event stays new.
        self.simulator.set_fault("lost_request", 1.0, command_codes=(0x0102,))
        self.cycle()
        self.assertEqual(len(self.failures()), 1)
        self.assertEqual(self.simulator.memory.read(memory_map.FAILURE_MAILBOX_BASE + 22, 1)[0], 0)
        self.simulator.clear_faults()
        self.cycle()
        self.assertEqual(len(self.failures()), 1)
        self.assertEqual(self.simulator.memory.read(memory_map.FAILURE_MAILBOX_BASE + 22, 1)[0], 1)

    def test_a_disabled_mailbox_is_not_read(self):
        self.plc.failure_mailbox = False
        self.simulator.raise_equipment_failure("motor_pump_01", "MOTOR_FAILURE")
        time.sleep(0.1)
        self.cycle()
        self.assertFalse(self.failures())
        self.assertEqual(self.simulator.memory.read(memory_map.FAILURE_MAILBOX_BASE + 22, 1)[0], 0)

    def test_a_failing_mailbox_step_leaves_the_slots_work_alone(self):
        production = self.confirmed_mo(1000)
        self.simulator.set_fault("end_code", 1.0, command_codes=(0x0104,))
        batch = self.queue()
        self.assertEqual(batch.production_id, production)
        self.assertEqual(batch.plc_write_state, "written")
