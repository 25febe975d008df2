"""Safe control: no operator action doses a batch twice or loses what the
line dosed, and only the PLC finishes a batch.  Each case is one a plant
tester found on the line (issue "Safe control"); the PLC is the simulator
over a real UDP socket on 127.0.0.1."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..const import plc_batch_word
from ..runner.cycle import PlcCycle
from .common import ScadaCase, free_udp_port, in_test_transaction


@tagged("post_install", "-at_install")
class TestSafeControl(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "safe_user", groups="scada_plc_bridge.group_scada_user")
        cls.manager = new_test_user(
            cls.env, "safe_manager", groups="scada_plc_bridge.group_scada_manager,mrp.group_mrp_manager"
        )

    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)
        self.batch = self.queue()
        self.assertEqual(self.batch.state, "sent")

    def as_user(self, user=None):
        return self.batch.with_user(user or self.user)

    def plc_takes(self, batch=None):
        self.simulator.write_slot_values("write", (batch or self.batch).slot, {"status_read_data": True})

    def hold_for_review(self):
        """The PLC takes the recipe and finishes it with 5 000 kg on silo B (350 planned)."""
        self.plc_takes()
        self.finish_on_plc(self.batch, copra=5000.0, weight=5641.7)
        self.cycle()
        self.cycle()

    def scraps(self):
        return self.env["stock.scrap"].search([("origin", "=", self.production.name)])

    def history(self):
        return self.env["mo.history"].search([("production_id", "=", self.production.id)])

    # -- Reset ----------------------------------------------------------------------
    def test_reset_is_refused_while_the_line_doses(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_d=190.0)
        self.cycle()
        self.assertEqual(self.batch.state, "running")
        self.assertFalse(self.batch.can_reset)
        number = self.batch.batch_no
        with self.assertRaisesRegex(UserError, "dosing this batch"):
            self.as_user().action_reset()
        self.assertEqual(self.batch.batch_no, number)
        self.assertEqual(self.simulator.read_slot_values("write", 1)["batch_no"], plc_batch_word(number))
        # The PLC finishes the batch it doses: its full dose reaches stock, once.
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.consumed(self.production)[self.corn], 601.5, 2)

    def test_reset_of_a_recipe_the_plc_took_meanwhile_is_undone(self):
        number = self.batch.batch_no
        self.as_user().action_reset()  # sent, not taken yet: allowed
        self.assertNotEqual(self.batch.batch_no, number)
        self.plc_takes()  # ... but the PLC takes it before the poller comes
        self.cycle()
        self.assertEqual(self.batch.batch_no, number, "the batch keeps the number the PLC runs")
        self.assertEqual(self.simulator.read_slot_values("write", 1)["batch_no"], plc_batch_word(number))
        self.assertIn("Reset not carried out", self.batch.message_ids[0].body)
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")
        self.assertEqual(self.history().status, "completed")

    def test_reset_of_an_untaken_recipe_replaces_it(self):
        self.as_user().action_reset()
        self.cycle()
        slot = self.simulator.read_slot_values("write", 1)
        self.assertEqual(slot["batch_no"], plc_batch_word(self.batch.batch_no))
        self.assertFalse(slot["status_read_data"])
        self.assertEqual(self.batch.plc_write_state, "written")

    def test_a_cold_start_raises_an_alarm_and_reset_scraps_what_was_dosed(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_d=43.0)
        self.cycle()
        self.assertEqual(self.batch.state, "running")
        self.simulator.memory.write(0, [0] * self.simulator.memory.size)  # PLC memory wiped
        self.cycle()
        self.assertTrue(self.batch.plc_lost_batch)
        self.assertIn("cold start", self.batch.plc_read_error)
        alarm = self.env["scada.alarm"].search([("batch_id", "=", self.batch.id), ("state", "=", "open")])
        self.assertEqual(alarm.kind, "slot_problem")
        self.assertTrue(self.batch.can_reset)
        self.as_user().action_reset()
        scrap = self.scraps()
        self.assertEqual(scrap.product_id, self.corn)
        self.assertAlmostEqual(scrap.scrap_qty, 43.0, 2)
        self.assertEqual(scrap.state, "done")
        self.assertFalse(self.batch.actual_consumption_silo_d)
        self.cycle()
        self.assertEqual(
            self.simulator.read_slot_values("write", 1)["batch_no"], plc_batch_word(self.batch.batch_no)
        )

    def test_reset_of_a_held_batch_scraps_its_dose(self):
        self.hold_for_review()
        self.assertEqual(self.batch.state, "needs_review")
        self.as_user().action_reset()
        self.assertEqual(
            {scrap.product_id: scrap.scrap_qty for scrap in self.scraps()},
            {self.corn: 601.5, self.copra: 5000.0, self.molasses: 40.2},
        )
        self.cycle()  # the PLC finished with the old recipe: the new one goes in
        self.assertEqual(
            self.simulator.read_slot_values("write", 1)["batch_no"], plc_batch_word(self.batch.batch_no)
        )

    def test_a_pending_cancel_and_a_reset_exclude_each_other(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_d=10.0)
        self.cycle()
        self.as_user().action_cancel("wrong order")
        with self.assertRaisesRegex(UserError, "cancel is on its way"):
            self.as_user().action_reset()
        other = self.confirmed_mo(1000)
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")  # the cancel waited for the PLC: dose booked
        batch = self.env["mo.batch"].search([("production_id", "=", other.id)])
        self.as_user().browse(batch.id).action_reset()
        with self.assertRaisesRegex(UserError, "reset is on its way"):
            self.as_user().browse(batch.id).action_cancel("too late")

    # -- Only the bridge removes or finishes a batch --------------------------------------
    def test_deleting_a_batch_is_refused_to_everyone(self):
        for env in (self.env, self.manager and self.batch.with_user(self.manager).env):
            with self.assertRaises(UserError):
                self.batch.with_env(env).unlink()
        self.assertTrue(self.batch.exists())

    def test_an_mo_with_a_batch_cannot_be_marked_done_by_hand(self):
        self.plc_takes()
        for production in (self.production, self.production.with_user(self.manager)):
            with self.assertRaisesRegex(UserError, "cannot be marked done by hand"):
                production.button_mark_done()
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.consumed(self.production)[self.copra], 348.0, 2)

    def test_a_batch_that_never_ran_cannot_be_created(self):
        other = self.confirmed_mo(1000)
        with self.assertRaises(AccessError):
            self.env["mo.batch"].with_user(self.manager).create(
                {
                    "production_id": other.id,
                    "plc_id": self.plc.id,
                    "batch_no": 999,
                    "slot": 5,
                    "status_manufacturing": True,
                    "plc_write_state": "written",
                    "actual_weight_quantity_finished_goods": 777.0,
                }
            )
        self.cycle()
        self.assertEqual(other.state, "confirmed")

    def test_users_cannot_erase_the_chatter(self):
        self.batch._post_note("a note to keep")
        with self.assertRaises(AccessError):
            self.as_user().write({"message_ids": [(5, 0, 0)]})
        self.assertIn("a note to keep", self.batch.message_ids.mapped("body")[0])

    # -- A held batch never stops the line ---------------------------------------------
    def test_a_held_batch_does_not_block_the_queue(self):
        self.hold_for_review()
        self.assertEqual(self.batch.state, "needs_review")
        later = self.confirmed_mo(1000)
        self.cycle()
        batch = self.env["mo.batch"].search([("production_id", "=", later.id)])
        self.assertEqual(batch.state, "sent")
        self.assertEqual(batch.slot, 2)
        self.assertEqual(self.simulator.read_slot_values("write", 2)["mo_id"], batch.plc_ref)

    def test_cancel_of_a_held_batch_cancels_it_and_scraps_its_dose(self):
        self.hold_for_review()
        self.as_user().action_cancel("wrong silo figure")
        self.cycle()
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "cancel")
        self.assertEqual(self.history().status, "cancelled")
        self.assertAlmostEqual(sum(self.scraps().mapped("scrap_qty")), 5641.7, 2)

    # -- Plausibility per BoM ----------------------------------------------------------
    def test_two_bom_lines_on_one_silo_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "a silo doses one line"):
            self.bom.write(
                {
                    "bom_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": self.premix.id,
                                "product_qty": 5,
                                "scada_silo_id": self.silo["silo_d"].id,
                            },
                        )
                    ]
                }
            )

    def test_a_few_kg_on_a_silo_the_bom_does_not_use_hold_the_batch(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_a=4.9)
        self.finish_on_plc(self.batch, weight=994.6)
        self.cycle()
        self.cycle()
        self.assertEqual(self.batch.state, "needs_review")
        self.assertIn("SILO A", self.batch.review_reasons)
        self.assertEqual(self.production.state, "confirmed")

    def test_an_mo_the_line_cannot_run_is_shown_with_its_reason(self):
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        units = self.env["product.product"].create({"name": "FEED BAGS", "type": "product"})
        bom = self.bom.copy({"product_tmpl_id": units.product_tmpl_id.id, "product_uom_id": units.uom_id.id})
        production = self.confirmed_mo(10, bom=bom)
        self.cycle()
        self.cycle()
        alarm = self.env["scada.alarm"].search([("production_id", "=", production.id)])
        self.assertEqual(alarm.kind, "mo_refused")
        self.assertEqual(alarm.count, 1, "told once, not every poll")
        self.assertIn(production.name, alarm.reason)

    # -- Correct, don't choose between wrong and twice -------------------------------------
    def test_a_manager_corrects_a_held_figure_and_the_batch_finishes(self):
        self.hold_for_review()
        self.assertEqual(self.batch.state, "needs_review")
        correct = (
            self.env["mo.batch.correct"]
            .with_user(self.manager)
            .with_context(active_id=self.batch.id, active_model="mo.batch")
        )
        with self.assertRaises(AccessError):
            self.env["mo.batch.correct"].with_user(self.user).with_context(active_id=self.batch.id).create(
                {"reason": "x"}
            )
        wizard = correct.create({"reason": "silo B scale jumped"})
        self.assertEqual(
            {line.tag: line.reported for line in wizard.line_ids},
            {"silo_d": 601.5, "silo_b": 5000.0, "lq114": 40.2},
        )
        wizard.line_ids.filtered(lambda line: line.tag == "silo_b").corrected = 348.0
        wizard.corrected_weight = 989.7
        action = wizard.action_correct()
        self.assertEqual(action["res_model"], "mo.history")
        self.assertEqual(self.production.state, "done")
        self.assertAlmostEqual(self.consumed(self.production)[self.copra], 348.0, 2)
        history = self.history()
        self.assertEqual(history.status, "completed")
        self.assertIn("silo B scale jumped", history.notes)
        self.assertIn("5,000.00 kg -> 348.00 kg", history.notes)
        self.assertEqual(self.scraps(), self.env["stock.scrap"], "nothing dosed twice, nothing scrapped")

    def test_a_correction_without_a_change_is_refused(self):
        self.hold_for_review()
        wizard = (
            self.env["mo.batch.correct"]
            .with_user(self.manager)
            .with_context(active_id=self.batch.id)
            .create({"reason": "nothing"})
        )
        with self.assertRaisesRegex(UserError, "No figure was changed"):
            wizard.action_correct()
        self.assertEqual(self.batch.state, "needs_review")

    # -- Nothing silent -----------------------------------------------------------------
    def test_a_plc_that_presets_its_read_handshake_raises_an_alarm_at_once(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_d=120.0, status_read_data=True)
        self.cycle()
        self.assertIn("as taken already", self.batch.plc_read_error)
        self.assertIn("as taken already", self.plc.slot_problems)
        alarm = self.env["scada.alarm"].search([("plc_id", "=", self.plc.id), ("state", "=", "open")])
        self.assertEqual(alarm.kind, "slot_problem")
        self.assertFalse(self.batch.actual_consumption_silo_d, "nothing taken from such a slot")
        # The PLC's program is fixed: the batch goes on.
        self.report(self.batch, status_read_data=False)
        self.finish_on_plc(self.batch)
        self.cycle()
        self.cycle()
        self.assertEqual(self.production.state, "done")

    # -- Feedback that says what will happen ----------------------------------------------
    def go_offline(self):
        port = self.plc.port
        self.plc.port = free_udp_port()
        return lambda: setattr(self.plc, "port", port)

    def request(self, kind):
        return self.env["scada.plc.request"].search(
            [("plc_id", "=", self.plc.id), ("kind", "=", kind)], limit=1
        )

    def test_a_cancel_while_the_plc_is_offline_says_it_will_happen_and_then_does(self):
        back_online = self.go_offline()
        notice = self.as_user().action_cancel("wrong order")
        self.assertIn("Will be cancelled", notice["params"]["message"])
        self.cycle()
        request = self.request("cancel")
        self.assertEqual(request.state, "failed")
        self.assertIn("cancelled when the PLC answers", request.result)
        self.assertTrue(self.batch.exists())
        alarm = self.env["scada.alarm"].search([("plc_id", "=", self.plc.id), ("kind", "=", "plc_silent")])
        self.assertEqual(alarm.state, "open")
        back_online()
        self.cycle()
        self.assertFalse(self.batch.exists())
        self.assertEqual(self.production.state, "cancel")
        self.assertEqual(alarm.state, "cleared", "the PLC answers again: off the board, kept in the log")

    def test_a_send_that_fails_says_why(self):
        self.as_user().action_reset()
        back_online = self.go_offline()
        self.as_user().action_send_to_plc()
        self.cycle()
        request = self.request("send")
        self.assertEqual(request.state, "failed")
        self.assertIn("not in the PLC yet", request.result)
        self.assertNotEqual(request.result.strip(), self.batch.mo_reference)
        back_online()

    def test_acknowledge_all(self):
        for reason in ("one", "two"):
            self.env["scada.alarm"]._raise("slot_problem", self.plc, reason, batch=self.batch)
            self.env["scada.alarm"]._raise("mo_refused", self.plc, reason)
        self.env["scada.alarm"].with_user(self.user).action_acknowledge_all()
        self.assertFalse(self.env["scada.alarm"].search([("state", "=", "open")]))
        summary = (
            self.env["scada.alarm"]._raise("plc_silent", self.plc, "gone")
            and self.env["scada.alarm"].board_summary()
        )
        self.assertTrue(summary[0]["when"])

    # -- Words --------------------------------------------------------------------------
    def test_the_tasks_by_hand_are_in_the_plc_forms_action_menu(self):
        header = self.env["scada.plc"].fields_view_get(view_type="form")["arch"].split("</header>")[0]
        self.assertNotIn("action_run_task", header)
        bound = self.env["ir.actions.server"].search([("binding_model_id.model", "=", "scada.plc")])
        self.assertEqual(len(bound.filtered(lambda a: "action_run_task" in a.code)), 4)
        for action in bound:
            self.assertEqual(action.groups_id, self.env.ref("scada_plc_bridge.group_scada_manager"))
        read_now = self.env.ref("scada_plc_bridge.scada_plc_action_run_task2")
        read_now.with_user(self.manager).with_context(
            active_model="scada.plc", active_id=self.plc.id, active_ids=self.plc.ids
        ).run()
        self.assertEqual(self.request("read").state, "pending")
        self.cycle()
        self.assertEqual(self.request("read").state, "done")

    def test_a_batch_that_stops_advancing_raises_an_alarm_derived_from_its_recipe(self):
        self.plc_takes()
        self.report(self.batch, actual_consumption_silo_d=100.0)
        self.cycle()
        self.assertTrue(self.batch.date_last_progress)
        # No operation times on the BoM: the stale setting (10 min) is the recipe's time.
        self.batch.sudo().write({"date_last_progress": fields.Datetime.now() - timedelta(minutes=9)})
        self.cycle()
        self.assertFalse(self.batch.stalled)
        self.batch.sudo().write({"date_last_progress": fields.Datetime.now() - timedelta(minutes=11)})
        self.cycle()
        self.assertTrue(self.batch.stalled)
        alarm = self.env["scada.alarm"].search(
            [("kind", "=", "batch_stalled"), ("batch_id", "=", self.batch.id)]
        )
        self.assertEqual(alarm.state, "open")
        self.cycle()
        self.assertEqual(alarm.count, 1, "raised once")
        self.report(self.batch, actual_consumption_silo_d=150.0)  # it goes on
        self.cycle()
        self.assertFalse(self.batch.stalled)
        self.assertEqual(alarm.state, "cleared")

    def test_a_recipe_with_operation_times_is_expected_within_them(self):
        workcenter = self.env["mrp.workcenter"].create({"name": "Mixer"})
        self.bom.write(
            {
                "operation_ids": [
                    (0, 0, {"name": "Mix", "workcenter_id": workcenter.id, "time_cycle_manual": 2.0})
                ]
            }
        )
        poll = self.env["scada.task.poll"]
        self.assertAlmostEqual(poll._expected_minutes(self.batch), 4.0)  # 1.5 x 2 min + 1 min
        self.batch.sudo().write({"date_plc_write": fields.Datetime.now() - timedelta(minutes=5)})
        self.cycle()
        self.assertTrue(self.batch.stalled)
        self.assertIn(
            "is not seen dosing", self.env["scada.alarm"].search([("kind", "=", "batch_stalled")]).reason
        )

    def test_notes_print_numbers_as_the_plant_reads_them(self):
        # The runtime writes in the company's language (transaction.py); here its env.
        self.env["res.lang"]._activate_lang("id_ID")
        plant_env = self.env(context=dict(self.env.context, lang="id_ID"))
        self.plc_takes()
        self.finish_on_plc(self.batch)
        for _read in range(2):
            PlcCycle(self.plc.id, in_test_transaction(plant_env)).run()
        self.assertIn("989,70 kg", self.history().notes)
