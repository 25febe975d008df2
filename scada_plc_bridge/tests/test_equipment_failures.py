"""Equipment failures from the PLC's failure mailbox (D8000-D8022): each
event recorded once (by its content hash), hostile contents recorded with
their raw words and an alarm, the PLC's time read in the PLC's time zone,
recoveries ending the open failure, and the figures of the PLC."""

import datetime
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..plclib import memory_map
from .common import ScadaCase

FAILURE_BOX = memory_map.default_failure_mailbox()
MOMENT = datetime.datetime(2026, 2, 23, 20, 22, 35)


def failure_event(equipment="motor_pump_01", info="MOTOR_FAILURE", when=MOMENT, patch=None):
    """What the cycle hands over for one failure event: MailboxEvent.as_dict()."""
    values = {"equipment_code": equipment, "info": info, memory_map.HANDSHAKE_FIELD: False}
    values.update({name: getattr(when, name) for name in memory_map.TIMESTAMP_FIELDS})
    words = FAILURE_BOX.layout.encode(values)
    for offset, word in (patch or {}).items():
        words[offset] = word
    return FAILURE_BOX.decode(words).as_dict()


@tagged("post_install", "-at_install")
class TestEquipmentFailures(ScadaCase):
    def record(self, event):
        return self.env["scada.plant.events"]._record_mailbox_event(self.plc.id, memory_map.FAILURE, event)

    def failures(self):
        return self.env["scada.equipment.failure"].search([("plc_id", "=", self.plc.id)], order="id")

    def alarms(self, kind):
        return self.env["scada.alarm"].search([("plc_id", "=", self.plc.id), ("kind", "=", kind)])

    def equipment(self, code):
        return self.env["scada.equipment"].search([("plc_id", "=", self.plc.id), ("code", "=", code)])

    def test_a_new_plc_gets_the_plants_equipment(self):
        codes = set(self.plc.equipment_ids.mapped("code"))
        self.assertTrue({"silo101", "silo113", "lq114", "lq115", "motor_pump_01", "mixer_01"} <= codes)
        self.assertEqual(self.equipment("silo104").silo_id, self.silo["silo_d"])
        self.assertEqual(self.equipment("lq114").kind, "tank")

    def test_the_default_line_has_its_silos_as_equipment(self):
        plc = self.env.ref("scada_plc_bridge.scada_plc_default")
        codes = set(plc.equipment_ids.mapped("code"))
        self.assertTrue({"silo101", "silo113", "lq115", "motor_screw_01", "scale_02"} <= codes)
        self.assertEqual(len(codes), len(plc.equipment_ids), "each code once")

    def test_a_new_plc_takes_the_users_time_zone(self):
        self.env.user.tz = "Asia/Makassar"
        plc = self.env["scada.plc"].create({"name": "Line 2", "code": "TZ02"})
        self.assertEqual(plc.tz, "Asia/Makassar")

    def test_a_failure_is_recorded_with_the_plcs_time_in_utc(self):
        self.plc.tz = "Asia/Jakarta"  # UTC+7
        self.assertTrue(self.record(failure_event()))
        failure = self.failures()
        self.assertEqual(len(failure), 1)
        self.assertEqual(failure.equipment_id, self.equipment("motor_pump_01"))
        self.assertEqual((failure.info, failure.state), ("MOTOR_FAILURE", "open"))
        self.assertEqual(failure.date_plc, datetime.datetime(2026, 2, 23, 13, 22, 35))
        self.assertEqual(failure.date_start, failure.date_plc)
        self.assertFalse(failure.decode_errors)
        alarm = self.alarms("equipment_failure")
        self.assertEqual(alarm.state, "open")
        self.assertIn("MOTOR_FAILURE", alarm.reason)

    def test_the_same_event_read_again_after_a_lost_ack_is_recorded_once(self):
        event = failure_event()
        self.assertTrue(self.record(event))
        self.assertTrue(self.record(dict(event)), "already recorded: acknowledge it")
        self.assertEqual(len(self.failures()), 1)
        self.assertEqual(self.alarms("equipment_failure").count, 1)

    def test_bad_bcd_is_recorded_with_its_raw_words_and_an_alarm(self):
        event = failure_event(patch={17: 0x001A})  # month: nibble A
        self.assertTrue(event["errors"])
        self.assertTrue(self.record(event))
        failure = self.failures()
        self.assertEqual(len(failure), 1)
        self.assertFalse(failure.date_plc)
        self.assertEqual(failure.date_start, failure.date_received)
        self.assertIn("month", failure.decode_errors)
        self.assertIn("001A", failure.raw_words)
        self.assertEqual(failure.equipment_id, self.equipment("motor_pump_01"))
        self.assertIn("raw words", self.alarms("equipment_failure").reason)

    def test_an_unknown_equipment_is_kept_with_its_code_and_an_alarm(self):
        self.assertTrue(self.record(failure_event("conveyor_99", "START_FAILURE")))
        failure = self.failures()
        self.assertFalse(failure.equipment_id)
        self.assertEqual(failure.equipment_code, "conveyor_99")
        self.assertIn("conveyor_99", failure.name)
        self.assertIn("conveyor_99", self.alarms("equipment_unknown").reason)
        self.assertEqual(len(self.alarms("equipment_failure")), 1)

    def test_garbage_text_is_recorded_as_clean_text_with_an_alarm(self):
        event = failure_event(patch={0: 0x0102, 1: 0x7F00, 8: 0x1B5B})
        self.assertTrue(self.record(event))
        failure = self.failures()
        self.assertEqual(len(failure), 1)
        self.assertNotIn("\x00", failure.equipment_code + failure.info)
        self.assertIn(memory_map.NOT_TEXT, failure.equipment_code)
        self.assertTrue(failure.decode_errors)
        self.assertTrue(failure.raw_words)
        self.assertFalse(failure.equipment_id)
        self.assertTrue(self.alarms("equipment_unknown"))

    def test_a_recovery_ends_the_open_failure_any_length(self):
        self.plc.tz = "UTC"
        self.record(failure_event())
        later = MOMENT + datetime.timedelta(hours=27, minutes=5)
        self.assertTrue(self.record(failure_event(info="MOTOR_OK", when=later)))
        failure = self.failures()
        self.assertEqual(len(failure), 1, "a recovery opens no failure")
        self.assertEqual(failure.state, "resolved")
        self.assertEqual(failure.date_resolved, later)
        self.assertAlmostEqual(failure.duration, 27 + 5 / 60.0, places=4)
        self.assertEqual(failure.duration_text, "27 h 05 min")
        self.assertIn("MOTOR_OK", failure.resolution)
        self.assertFalse(failure.resolved_by_id)
        self.assertEqual(self.alarms("equipment_failure").state, "cleared")
        # The recovery read again (its acknowledgement lost): nothing changes.
        self.assertTrue(self.record(failure_event(info="MOTOR_OK", when=later)))
        self.assertEqual(len(self.failures()), 1)

    def test_a_recovery_of_another_equipment_leaves_a_failure_open(self):
        self.record(failure_event())
        self.record(failure_event("silo101", "RECOVERED", MOMENT + datetime.timedelta(minutes=3)))
        self.assertEqual(self.failures().state, "open")

    def test_the_recovery_words_are_a_setting(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "scada_plc_bridge.failure_recovery_patterns", "*_BACK"
        )
        self.record(failure_event())
        self.record(failure_event(info="MOTOR_OK", when=MOMENT + datetime.timedelta(minutes=1)))
        self.record(failure_event(info="MOTOR_BACK", when=MOMENT + datetime.timedelta(minutes=2)))
        self.assertEqual(self.failures().mapped("state"), ["resolved", "resolved"])
        self.assertEqual(self.failures().mapped("info"), ["MOTOR_FAILURE", "MOTOR_OK"])

    def test_resolved_by_a_person(self):
        self.record(failure_event())
        failure = self.failures()
        failure.action_resolve()
        self.assertEqual((failure.state, failure.resolved_by_id), ("resolved", self.env.user))
        self.assertTrue(failure.date_resolved)
        self.assertGreaterEqual(failure.duration, 0)

    def test_figures_of_the_plc_and_the_equipment(self):
        self.plc.tz = "UTC"
        hour = datetime.timedelta(hours=1)
        for start, hours in ((MOMENT, 2), (MOMENT + 10 * hour, 4)):
            self.record(failure_event(when=start))
            self.record(failure_event(info="MOTOR_OK", when=start + hours * hour))
        self.record(failure_event("mixer_01", when=MOMENT + 30 * hour))
        self.plc.invalidate_cache()
        self.assertEqual(self.plc.failure_count, 3)
        self.assertAlmostEqual(self.plc.failure_mtbf, 15.0)  # starts 0 h, 10 h, 30 h
        self.assertAlmostEqual(self.plc.failure_mttr, 3.0)  # 2 h and 4 h; one still open
        pump = self.equipment("motor_pump_01")
        self.assertEqual((pump.failure_count, pump.failure_mtbf, pump.failure_mttr), (2, 10.0, 3.0))
        self.assertEqual(self.plc.action_view_failures()["domain"], [("plc_id", "in", self.plc.ids)])

    def test_the_failure_of_a_running_batch_names_it(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch)  # the line doses it
        self.cycle()
        self.assertEqual(batch.state, "running")
        self.record(failure_event())
        self.assertEqual(self.failures().batch_id, batch)
        self.assertEqual(self.failures().production_id, batch.production_id)

    def test_an_empty_mailbox_is_acknowledged_and_records_nothing(self):
        event = FAILURE_BOX.decode([0] * FAILURE_BOX.size_words).as_dict()
        self.assertTrue(self.record(event))
        self.assertFalse(self.failures())

    def test_an_event_nothing_records_is_left_in_the_plc(self):
        events = self.env["scada.plant.events"]
        event = memory_map.default_weighing_mailbox().decode([1] + [0] * 13).as_dict()
        with patch.dict(type(events).RECORDERS, {memory_map.WEIGHING: "scada.task.not.installed"}):
            self.assertFalse(events._record_mailbox_event(self.plc.id, memory_map.WEIGHING, event))
        self.assertFalse(events._record_mailbox_event(0, memory_map.FAILURE, failure_event()), "no such PLC")

    def test_mailbox_settings_that_cannot_work_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot work"):
            self.plc.failure_mailbox_base = memory_map.READ_AREA_BASE  # inside the READ slots
        with self.assertRaisesRegex(ValidationError, "cannot work"):
            self.plc.weighing_mailbox_base = memory_map.FAILURE_MAILBOX_BASE + 10
        self.plc.failure_mailbox_base = 8100
        self.assertEqual(self.env["scada.plant.events"]._mailboxes(self.plc)[0].flag_address, 8122)
