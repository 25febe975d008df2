"""The Technician group (sees and resolves failures, acknowledges their
alarms; no batch operation), and the retention of requests and alarms."""

import datetime

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..plclib import memory_map
from .common import ScadaCase
from .test_equipment_failures import failure_event


@tagged("post_install", "-at_install")
class TestTechnician(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.technician = new_test_user(
            cls.env, "scada_technician", groups="base.group_user,scada_plc_bridge.group_scada_technician"
        )
        cls.production = cls.confirmed_mo(100)
        cls.env["scada.task.sync"]._sync_mo(cls.plc)
        cls.batch = cls.env["mo.batch"].search([("plc_id", "=", cls.plc.id)])

    def test_a_technician_resolves_failures_and_acknowledges_their_alarms(self):
        self.env["scada.plant.events"]._record_mailbox_event(self.plc.id, memory_map.FAILURE, failure_event())
        failure = self.env["scada.equipment.failure"].with_user(self.technician).search([])
        self.assertEqual(len(failure), 1)
        self.assertEqual(failure.equipment_id.code, "motor_pump_01")
        alarm = (
            self.env["scada.alarm"].with_user(self.technician).search([("kind", "=", "equipment_failure")])
        )
        alarm.action_acknowledge()
        self.assertEqual((alarm.state, alarm.acknowledged_by_id), ("acknowledged", self.technician))
        failure.action_resolve()
        self.assertEqual((failure.state, failure.resolved_by_id), ("resolved", self.technician))
        self.assertTrue(self.plc.with_user(self.technician).read(["failure_count", "failure_mttr"]))

    def test_a_technician_sees_the_equipment_alarms_only_a_manager_all(self):
        self.env["scada.plant.events"]._record_mailbox_event(self.plc.id, memory_map.FAILURE, failure_event())
        silent = self.env["scada.alarm"]._raise("plc_silent", self.plc, "no answer")
        alarms = self.env["scada.alarm"].with_user(self.technician).search([("plc_id", "=", self.plc.id)])
        self.assertEqual(set(alarms.mapped("kind")), {"equipment_failure"})
        silent.invalidate_cache()  # as a call over RPC reads it
        with self.assertRaises(AccessError):
            silent.with_user(self.technician).action_acknowledge()
        self.assertEqual(silent.state, "open")
        manager = new_test_user(
            self.env, "scada_manager_alarms", groups="scada_plc_bridge.group_scada_manager"
        )
        self.assertTrue(manager.has_group("scada_plc_bridge.group_scada_technician"))
        seen = self.env["scada.alarm"].with_user(manager).search([("plc_id", "=", self.plc.id)])
        self.assertEqual(set(seen.mapped("kind")), {"equipment_failure", "plc_silent"})

    def test_a_technician_may_not_cancel_reset_or_accept_a_batch(self):
        batch = self.batch.with_user(self.technician)
        for action in (batch.action_cancel, batch.action_reset, batch.action_accept_review):
            with self.assertRaises(AccessError, msg=action.__name__):
                action()
        with self.assertRaises(AccessError):
            self.env["mo.batch.cancel"].with_user(self.technician).with_context(
                active_ids=self.batch.ids
            ).create({"reason": "no"})
        self.assertFalse(self.batch.cancel_note)

    def test_a_technician_does_not_configure_equipment(self):
        with self.assertRaises(AccessError):
            self.plc.equipment_ids[:1].with_user(self.technician).write({"code": "other"})


@tagged("post_install", "-at_install")
class TestRetention(ScadaCase):
    def test_old_done_requests_and_seen_alarms_go_history_and_failures_stay(self):
        old = fields.Datetime.now() - datetime.timedelta(days=91)
        recent = fields.Datetime.now() - datetime.timedelta(days=10)
        requests = self.env["scada.plc.request"]
        for state, when in (("done", old), ("done", recent), ("failed", old)):
            request = requests.create({"plc_id": self.plc.id, "kind": "read"})
            request.write({"state": state, "date_done": when})
            requests |= request
        alarms = self.env["scada.alarm"]
        for state, when in (("acknowledged", old), ("cleared", old), ("acknowledged", recent), ("open", old)):
            alarm = alarms._raise("plc_silent", self.plc, "test %s" % state)
            alarm.write({"state": state, "date_acknowledged": when, "date_cleared": when, "date_first": when})
            alarms |= alarm
        self.env["scada.plant.events"]._record_mailbox_event(self.plc.id, memory_map.FAILURE, failure_event())
        failure = self.env["scada.equipment.failure"].search([("plc_id", "=", self.plc.id)])
        failure.write({"date_received": old})
        self.env["scada.retention"]._gc_scada_records()
        self.assertEqual(requests.exists(), requests[1:])
        self.assertEqual(alarms.exists(), alarms[2:])
        self.assertTrue(failure.exists())

    def test_the_retention_is_a_setting(self):
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.retention_days", "5")
        request = self.env["scada.plc.request"].create({"plc_id": self.plc.id, "kind": "read"})
        request.write({"state": "done", "date_done": fields.Datetime.now() - datetime.timedelta(days=6)})
        self.env["scada.retention"]._gc_scada_records()
        self.assertFalse(request.exists())
