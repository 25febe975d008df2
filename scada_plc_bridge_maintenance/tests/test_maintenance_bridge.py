"""Failures into Maintenance: a corrective request per failure (when the
PLC is set to), the request done ends the failure, the figures on the
maintenance equipment, technicians work the requests."""

from odoo.addons.scada_plc_bridge.plclib import memory_map
from odoo.addons.scada_plc_bridge.tests.common import ScadaCase
from odoo.addons.scada_plc_bridge.tests.test_equipment_failures import MOMENT, failure_event
from odoo.tests import new_test_user, tagged


@tagged("post_install", "-at_install")
class TestMaintenanceBridge(ScadaCase):
    def record(self, event):
        return self.env["scada.plant.events"]._record_mailbox_event(self.plc.id, memory_map.FAILURE, event)

    def failures(self):
        return self.env["scada.equipment.failure"].search([("plc_id", "=", self.plc.id)], order="id")

    def test_a_failure_opens_a_corrective_request_on_its_equipment(self):
        self.record(failure_event())
        failure = self.failures()
        request = failure.maintenance_request_id
        self.assertTrue(request)
        self.assertEqual(request.maintenance_type, "corrective")
        pump = failure.equipment_id
        self.assertTrue(pump.maintenance_equipment_id)
        self.assertEqual(request.equipment_id, pump.maintenance_equipment_id)
        self.assertIn("MOTOR_FAILURE", request.name)
        # The same event again (lost ack): no second request.
        self.record(failure_event())
        self.assertEqual(
            self.env["maintenance.request"].search_count([("equipment_id", "=", request.equipment_id.id)]), 1
        )

    def test_an_unknown_equipment_still_gets_a_request(self):
        self.record(failure_event("conveyor_99"))
        request = self.failures().maintenance_request_id
        self.assertTrue(request)
        self.assertFalse(request.equipment_id)
        self.assertIn("conveyor_99", request.description)

    def test_no_request_when_the_plc_is_not_set_to(self):
        self.plc.open_maintenance_requests = False
        self.record(failure_event())
        self.assertFalse(self.failures().maintenance_request_id)

    def test_the_request_done_resolves_the_failure(self):
        technician = new_test_user(
            self.env, "scada_tech_maint", groups="base.group_user,scada_plc_bridge.group_scada_technician"
        )
        self.assertTrue(technician.has_group("maintenance.group_equipment_manager"))
        self.record(failure_event())
        failure = self.failures()
        done = self.env["maintenance.stage"].search([("done", "=", True)], limit=1)
        failure.maintenance_request_id.with_user(technician).write({"stage_id": done.id})
        self.assertEqual((failure.state, failure.resolved_by_id), ("resolved", technician))
        self.assertIn(failure.maintenance_request_id.name, failure.resolution)

    def test_a_recovery_leaves_a_note_on_the_request(self):
        self.record(failure_event())
        request = self.failures().maintenance_request_id
        self.record(failure_event(info="MOTOR_OK", when=MOMENT.replace(minute=40)))
        self.assertEqual(self.failures().state, "resolved")
        self.assertIn("MOTOR_OK", request.message_ids[0].body)

    def test_figures_on_the_maintenance_equipment(self):
        self.plc.tz = "UTC"
        self.record(failure_event())
        self.record(failure_event(info="MOTOR_OK", when=MOMENT.replace(hour=22, minute=22)))
        self.record(failure_event(when=MOMENT.replace(hour=23, minute=22)))
        equipment = self.failures()[0].equipment_id.maintenance_equipment_id
        self.assertEqual(equipment.failure_count, 2)
        self.assertAlmostEqual(equipment.failure_mttr, 2.0)
        self.assertAlmostEqual(equipment.failure_mtbf, 3.0)
        self.assertEqual(
            equipment.action_view_scada_failures()["domain"],
            [("equipment_id.maintenance_equipment_id", "in", equipment.ids)],
        )
