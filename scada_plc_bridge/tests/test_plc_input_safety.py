"""Safe control (issue 17): what the PLC shows, what an operator asks and what
an integrator configures can never stop the poller.  Text from the PLC
with NUL or control characters is reported, never stored; memory-map
settings that cannot work are refused on save; a clear-slot request takes
only the PLC's own slots, and a request (or any step of a cycle) that
raises fails alone.  The PLC is the simulator over UDP on 127.0.0.1."""

from unittest import mock

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from ..plclib import memory_map
from ..runner import cycle as cycle_module
from .common import ScadaCase

# "OL" "D\0" "XX" "\0\0": an embedded NUL, as an old PLC program leaves it.
NUL_TEXT = [0x4F4C, 0x4400, 0x5858, 0x0000]


def no_nul(*texts):
    return not any("\x00" in (text or "") for text in texts)


@tagged("post_install", "-at_install")
class TestPlcInputSafety(ScadaCase):
    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)

    def requests(self, *kinds, **values):
        return self.env["scada.plc.request"].concat(
            *(self.env["scada.plc.request"]._request(self.plc, kind, **values) for kind in kinds)
        )

    def notes(self, batch):
        return batch.message_ids.mapped("body")

    # -- NUL bytes in PLC text ---------------------------------------------------------
    def test_an_untaken_write_slot_with_nul_in_its_mo_text_fails_the_write_not_the_poll(self):
        self.simulator.memory.write(7000, [5] + NUL_TEXT)  # an old recipe, handshake 0: not taken
        read = self.requests("read")
        batch = self.queue()
        self.assertEqual(len(batch), 1)
        self.assertEqual(batch.slot, 1)
        self.assertEqual(batch.plc_write_state, "failed")
        self.assertIn("OLD%sXX" % memory_map.NOT_TEXT, batch.last_error)
        self.assertEqual(read.state, "done", "the operator's request is carried out")
        self.cycle()
        self.assertTrue(
            no_nul(batch.last_error, self.plc.slot_problems, self.plc.last_error, *self.notes(batch))
        )
        self.assertEqual(self.simulator.memory.read(7001, 4), NUL_TEXT, "someone else's recipe is left alone")
        # Once the PLC clears its slot the recipe goes in.
        self.simulator.memory.write(7000, [0] * 77)
        self.cycle()
        self.assertEqual(batch.plc_write_state, "written")

    def test_a_read_slot_with_nul_in_its_mo_text_is_reported_without_nul(self):
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=10.0)
        self.simulator.memory.write(6001, NUL_TEXT)
        self.cycle()
        self.assertIn("NO-MO: not printable text", self.plc.slot_problems)
        self.assertIn("0x00 at character 4", self.plc.slot_problems)
        self.assertIn("NO-MO: not printable text", batch.plc_read_error)
        self.assertEqual(batch.actual_consumption_silo_d, 0.0, "nothing is taken from an invalid slot")
        alarms = self.env["scada.alarm"].search([("plc_id", "=", self.plc.id)])
        self.assertTrue(no_nul(self.plc.slot_problems, batch.plc_read_error, *alarms.mapped("reason")))
        self.assertEqual(self.plc.state, "connected")

    # -- memory-map settings that cannot work ------------------------------------------
    def test_a_stride_smaller_than_the_slot_is_refused(self):
        with self.assertRaisesRegex(ValidationError, r"stride \(50 words\) is smaller than the READ slot"):
            self.plc.slot_stride = 50

    def test_a_read_area_overlapping_the_write_area_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "overlaps the WRITE area"):
            self.plc.write_area_base = 6500
        with self.assertRaisesRegex(ValidationError, "share DM words"):
            self.env["scada.plc"].create(
                {"name": "Overlap", "code": "OVL", "read_area_base": 7000, "write_area_base": 7050}
            )
        self.plc.write_area_base = 6977  # right after the READ area: fine

    def test_overlapping_slots_saved_before_the_check_are_not_polled(self):
        self.env.cr.execute("UPDATE scada_plc SET slot_stride = 50 WHERE id = %s", (self.plc.id,))
        self.plc.invalidate_cache()
        read = self.requests("read")
        self.cycle()
        self.assertEqual(self.plc.state, "error")
        self.assertIn("stride (50 words) is smaller than the READ slot", self.plc.last_error)
        self.assertEqual(read.state, "failed")
        self.assertIn("memory map settings cannot work", read.result)
        self.assertFalse(
            self.env["mo.batch"]
            .search([("plc_id", "=", self.plc.id)])
            .filtered(lambda b: b.plc_write_state == "written")
        )
        self.assertEqual(self.simulator.memory.read(7000, 200), [0] * 200, "nothing written")

    def test_an_area_outside_dm_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "outside DM"):
            self.plc.write_area_base = 32700

    def test_the_handshake_word_must_be_a_bool_word_inside_the_slot(self):
        with self.assertRaisesRegex(ValidationError, "must be one BOOL word"):
            self.handshake_row().data_type = "INT"

    def test_the_handshake_word_cannot_leave_the_slot(self):
        with self.assertRaises((ValidationError, UserError)):
            self.handshake_row().offset = 120

    def handshake_row(self):
        return self.plc.memory_map_ids.filtered(
            lambda row: row.area == "read" and row.name == "status_read_data"
        )

    def test_a_stride_that_fits_the_slot_is_taken(self):
        self.plc.slot_stride = 80  # all 77 words still fit
        with self.assertRaisesRegex(ValidationError, "smaller than the READ slot layout"):
            self.plc.slot_stride = 76

    # -- the clear-slot wizard and requests that raise ----------------------------------
    def test_the_clear_slot_wizard_takes_only_the_plc_slots(self):
        wizard = self.env["scada.plc.clear.slot"]
        # Numbers forged over RPC, whatever the choice offered: refused with the reason.
        for slot in (11, "11", 0, -3, "three"):
            with self.assertRaisesRegex(ValidationError, "from 1 to 10"):
                wizard.create({"plc_id": self.plc.id, "slot": slot})
        good = wizard.create({"plc_id": self.plc.id, "slot": "10"})
        self.assertEqual(good.slot, "10")
        with self.assertRaisesRegex(ValidationError, "not a slot"):
            good.slot = "11"
        with self.assertRaisesRegex(ValidationError, "not a slot"):
            self.env["scada.plc.request"]._request(self.plc, "clear_read_slot", slot=11)
        self.assertFalse(self.env["scada.plc.request"].search([("kind", "=", "clear_read_slot")]))
        self.assertEqual(self.simulator.memory.read(7076, 1), [0], "nothing was written")

    def test_the_clear_slot_wizard_offers_the_plc_slots_and_what_is_in_them(self):
        batch = self.queue()
        self.plc.write({"slot_count": 4, "batch_limit": 4})
        wizard = self.env["scada.plc.clear.slot"].with_context(default_plc_id=self.plc.id)
        choices = wizard.fields_get(["slot"])["slot"]["selection"]
        self.assertEqual([value for value, _label in choices], ["1", "2", "3", "4"])
        labels = dict(choices)
        self.assertEqual(
            labels[str(batch.slot)],
            "Slot %(slot)s · result D%(read)s · recipe D%(write)s · batch %(batch)s, %(mo)s"
            % {
                "slot": batch.slot,
                "read": 6000 + 100 * (batch.slot - 1),
                "write": 7000 + 100 * (batch.slot - 1),
                "batch": batch.batch_no,
                "mo": batch.mo_reference,
            },
        )
        free = str(4 if batch.slot != 4 else 3)
        self.assertTrue(labels[free].endswith("· free"), labels[free])
        # Opened from the PLC form, as the web client does: a choice, then Clear.
        form = Form(wizard)
        self.assertEqual(form.plc_id, self.plc)
        form.slot = free
        action = form.save().action_clear()
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})
        request = self.env["scada.plc.request"].search([("kind", "=", "clear_read_slot")])
        self.assertEqual(request.slot, int(free))
        # A slot the PLC has no more is refused, whatever the context offers.
        with self.assertRaisesRegex(ValidationError, "from 1 to 4"):
            wizard.with_context(default_plc_id=False).create({"plc_id": self.plc.id, "slot": "5"})

    def test_a_request_for_a_slot_the_plc_lacks_fails_and_the_next_is_carried_out(self):
        bad = self.requests("clear_read_slot", slot=3)
        self.env.cr.execute("UPDATE scada_plc_request SET slot = 11 WHERE id = %s", (bad.id,))
        bad.invalidate_cache()
        self.cycle()
        self.assertEqual(bad.state, "failed")
        self.assertIn("Slot 11 is not a slot", bad.result)
        self.assertEqual(self.simulator.memory.read(7076, 1), [0], "WRITE slot 1's handshake untouched")
        later = self.requests("read")
        self.cycle()
        self.assertEqual(later.state, "done")

    def test_a_request_that_raises_fails_with_its_reason_and_later_requests_are_done(self):
        failing, other = self.requests("clear_read_slot", "read", slot=2)
        with mock.patch.object(
            cycle_module.handshake, "acknowledge_read", side_effect=RuntimeError("boom in the handshake")
        ), self.assertLogs("odoo.addons.scada_plc_bridge.runner.cycle", "ERROR") as logged:
            self.cycle()
        self.assertEqual(failing.state, "failed")
        self.assertIn("RuntimeError: boom in the handshake", failing.result)
        self.assertEqual(other.state, "done")
        self.assertEqual(len([line for line in logged.output if "boom" in line]), 1, "logged once")
        later = self.requests("clear_read_slot", slot=2)
        self.cycle()
        self.assertEqual(later.state, "done")
        self.assertEqual(later.result, "empty")

    def test_a_step_that_raises_fails_alone(self):
        read = self.requests("read")
        sync = type(self.env["scada.task.sync"])
        with mock.patch.object(
            sync, "_recipes_to_write", side_effect=RuntimeError("broken step")
        ), mock.patch.object(cycle_module._logger, "exception") as logged:
            self.cycle()
            self.assertEqual(read.state, "done", "the cycle went on to the requests")
            self.cycle()
        # Logged once, although it failed in both cycles.
        self.assertEqual(logged.call_count, 1)
        self.assertIn("RuntimeError: broken step", logged.call_args[0])
        batch = self.queue()
        self.assertEqual(batch.plc_write_state, "written", "the next cycle works again")
