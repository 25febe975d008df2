"""Manual weighings (the PLC's weighing mailbox D9000-D9013) in Odoo: recorded
on a queued batch and posted by Task 3, posted on an MO already done, held
for review when they cannot be trusted, accepted or rejected by a manager;
recorded once per mailbox event, whatever happens to the acknowledgement.

The events are made as the cycle hands them over: words decoded by plclib's
weighing mailbox, MailboxEvent.as_dict()."""

import time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..const import plc_batch_word
from ..plclib import memory_map
from .common import ScadaCase

MAILBOX = memory_map.default_weighing_mailbox()


def weighing_event(batch_no, mo_id, product_id, kg, words=None):
    """The event_data of a weighing, as plclib decodes the mailbox's words."""
    if words is None:
        words = MAILBOX.layout.encode(
            {"batch_no": batch_no, "mo_id": mo_id, "product_id": product_id, "quantity": kg}
        )
    return MAILBOX.decode(words).as_dict()


@tagged("post_install", "-at_install")
class TestManualWeighings(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        kg = cls.env.ref("uom.product_uom_kgm")
        cls.vitamin = cls.env["product.product"].create(
            {"name": "VITAMIN MIX", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
        )
        # The numbers the scale station's HMI sends (D9009-D9010), not Odoo ids.
        for product, number in ((cls.premix, 501), (cls.vitamin, 502), (cls.corn, 503)):
            product.scada_weighing_code = number
        cls.manager, cls.user = (
            new_test_user(cls.env, "weigh_" + role, groups="scada_plc_bridge.group_scada_" + role)
            for role in ("manager", "user")
        )

    def setUp(self):
        super().setUp()
        self.production = self.confirmed_mo(1000)
        self.batch = self.queue()
        self.assertEqual(len(self.batch), 1)

    # -- helpers ----------------------------------------------------------------
    def event(self, product, kg, batch=None, **changes):
        batch = batch or self.batch
        values = dict(
            batch_no=plc_batch_word(batch.batch_no),
            mo_id=batch.plc_ref,
            product_id=product.scada_weighing_code,
            kg=kg,
        )
        values.update(changes)
        return weighing_event(**values)

    def record(self, event_data):
        self.assertIs(self.env["scada.task.weighings"]._record(self.plc, event_data), True)
        return self.env["scada.manual.weighing"].search(
            [("plc_id", "=", self.plc.id), ("content_hash", "=", event_data["content_hash"])]
        )

    def finish(self):
        """The PLC finishes the batch; two agreeing reads, and Task 3 runs."""
        self.finish_on_plc(self.batch)
        for _read in range(2):
            self.cycle()
        self.assertEqual(self.production.state, "done")

    def alarms(self):
        return self.env["scada.alarm"].search([("kind", "=", "weighing_held"), ("plc_id", "=", self.plc.id)])

    # -- a batch in the queue -----------------------------------------------------
    def test_weighing_on_a_queued_batch_is_posted_by_task3_on_the_raw_move(self):
        premix = self.record(self.event(self.premix, 10.35))
        corn = self.record(self.event(self.corn, 2.5))
        self.assertEqual((premix.state, premix.batch_id), ("recorded", self.batch))
        self.assertEqual(premix.production_id, self.production)
        self.assertEqual(self.batch.manual_weighing_ids, premix | corn)
        self.assertFalse(premix.move_id)  # nothing in stock before the batch is done
        self.finish()
        self.assertEqual((premix.state, corn.state), ("posted", "posted"))
        consumed = self.consumed(self.production)
        # Premix is added by hand (no silo): what was weighed is what was used, not the plan (10 kg).
        self.assertAlmostEqual(consumed[self.premix], 10.35, 2)
        # Corn is dosed by a silo: the weighed kg come on top of the PLC's 601.5 kg.
        self.assertAlmostEqual(consumed[self.corn], 604.0, 2)
        self.assertAlmostEqual(consumed[self.copra], 348.0, 2)
        self.assertIn(premix.move_id, self.production.move_raw_ids)
        self.assertEqual(premix.move_id.product_id, self.premix)
        self.assertFalse(self.production.move_raw_ids.filtered("scada_manual_weighing"))
        history = self.env["mo.history"].search([("production_id", "=", self.production.id)])
        self.assertEqual(history.manual_weighing_ids, premix | corn)

    def test_weighed_above_the_plan_is_consumed_to_the_hundredth_on_its_move(self):
        # 32.02 kg against 10 planned: Odoo 14's split of the excess would consume 32.03.
        weighings = self.record(self.event(self.premix, 20.0)) | self.record(self.event(self.premix, 12.02))
        self.finish()
        self.assertEqual(set(weighings.mapped("state")), {"posted"})
        move = weighings.move_id
        self.assertEqual(len(move), 1)
        self.assertEqual(self.production.move_raw_ids.filtered(lambda m: m.product_id == self.premix), move)
        self.assertEqual(move.state, "done")
        self.assertAlmostEqual(move.quantity_done, 32.02, 2)
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 32.02, 2)

    def test_product_not_in_the_bom_gets_an_extra_raw_move_flagged(self):
        first = self.record(self.event(self.vitamin, 1.25))
        second = self.record(self.event(self.vitamin, 0.5))  # a second portion of the same product
        self.finish()
        extra = self.production.move_raw_ids.filtered("scada_manual_weighing")
        self.assertEqual(len(extra), 1)
        self.assertEqual((extra.product_id, extra.state), (self.vitamin, "done"))
        self.assertAlmostEqual(extra.quantity_done, 1.75, 2)
        self.assertEqual(extra.location_id, self.production.location_src_id)
        self.assertEqual((first.move_id, second.move_id), (extra, extra))
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 10.0, 2)  # as planned
        # The flag shows on the MO's components.
        form = self.env["mrp.production"].fields_view_get(view_type="form")
        components = form["fields"]["move_raw_ids"]["views"]["tree"]
        self.assertIn("scada_manual_weighing", components["fields"])

    def test_task3_without_weighings_is_unchanged(self):
        self.finish()
        self.assertFalse(self.production.move_raw_ids.filtered("scada_manual_weighing"))
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 10.0, 2)

    # -- an MO already done --------------------------------------------------------
    def test_weighing_for_an_mo_already_done_is_an_extra_consumption_with_a_note(self):
        self.finish()
        self.assertFalse(self.batch.exists())
        before = self.consumed(self.production)[self.premix]
        quants = self.env["stock.quant"]._gather(self.premix, self.production.location_src_id)
        on_hand = sum(quants.mapped("quantity"))
        weighing = self.record(self.event(self.premix, 2.0, batch=self.batch_as_archived()))
        self.assertEqual(weighing.state, "posted")
        self.assertEqual(weighing.production_id, self.production)
        self.assertFalse(weighing.batch_id)
        # A done raw move of the MO (as Odoo does for a component added to a done MO).
        move = weighing.move_id
        self.assertEqual(move.raw_material_production_id, self.production)
        self.assertEqual((move.state, move.additional, move.scada_manual_weighing), ("done", True, True))
        self.assertEqual(move.location_id, self.production.location_src_id)
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], before + 2.0, 2)
        quants = self.env["stock.quant"]._gather(self.premix, self.production.location_src_id)
        self.assertAlmostEqual(sum(quants.mapped("quantity")), on_hand - 2.0, 2)
        self.assertEqual(self.production.state, "done")
        self.assertIn("after the MO was done", weighing.note)
        self.assertTrue(
            self.production.message_ids.filtered(lambda m: "after the MO was done" in (m.body or ""))
        )

    def batch_as_archived(self):
        """The history record of the batch: its batch number and PLC reference."""
        return self.env["mo.history"].search([("production_id", "=", self.production.id)])

    def test_weighing_for_a_cancelled_mo_is_held(self):
        weighing = self.record(self.event(self.premix, 2.0))
        self.batch.action_cancel("wrong recipe")
        self.cycle()
        self.assertEqual(self.production.state, "cancel")
        self.assertEqual(weighing.state, "held")
        self.assertIn("cancelled", weighing.reason)
        self.assertFalse(weighing.move_id)
        late = self.record(self.event(self.premix, 1.0, batch=self.batch_as_archived()))
        self.assertEqual(late.state, "held")
        self.assertIn("cancelled", late.reason)

    def test_a_recorded_weighing_whose_batch_left_the_queue_is_posted_on_its_mo(self):
        # As a race could leave it: recorded on the batch, the batch archived without it.
        weighing = self.record(self.event(self.premix, 0.0))
        self.finish()
        weighing.sudo().write({"state": "recorded", "quantity_kg": 1.5})
        self.assertFalse(weighing.batch_id)
        # The next weighing of the PLC settles it.
        self.record(self.event(self.vitamin, 0.0, batch=self.batch_as_archived()))
        self.assertEqual(weighing.state, "posted")
        self.assertEqual(weighing.move_id.raw_material_production_id, self.production)

    def test_a_weighing_under_the_number_before_a_reset_is_held_not_posted(self):
        before_reset = self.record(self.event(self.premix, 4.0))
        self.batch.action_reset()  # sent, not taken: a new number, the recipe written again
        self.cycle()
        after_reset = self.record(self.event(self.premix, 9.8))
        self.assertEqual((before_reset.state, after_reset.state), ("recorded", "recorded"))
        self.finish()
        self.assertEqual(after_reset.state, "posted")
        self.assertEqual(before_reset.state, "held")
        self.assertIn("reset", before_reset.reason)
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 9.8, 2)

    # -- weighings that cannot be trusted ---------------------------------------------
    def test_untrusted_weighings_are_held_with_a_reason_and_an_alarm(self):
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.weighing_max_kg", 25)
        garbage = MAILBOX.layout.encode(
            {"batch_no": plc_batch_word(self.batch.batch_no), "product_id": 501, "quantity": 1.0}
        )
        garbage[1:9] = [0x0102, 0xFFFE] * 4  # NO-MO: no printable text
        huge_product = self.event(self.premix, 1.0)["words"]
        huge_product[9:11] = [0xFFFF, 0xFFFF]  # product number 4294967295: no Odoo Integer
        cases = [
            ("unknown MO", self.event(self.premix, 1.0, mo_id="WH/MO/99999"), "No batch"),
            ("unknown batch", self.event(self.premix, 1.0, batch_no=31000), "No batch"),
            ("unknown product", self.event(self.premix, 1.0, product_id=999999), "Unknown product"),
            ("zero", self.event(self.premix, 0.0), "Zero quantity"),
            ("negative", self.event(self.premix, -2.5), "Negative quantity"),
            ("above the limit", self.event(self.premix, 25.01), "above the limit"),
            ("garbage text", weighing_event(None, None, None, None, words=garbage), "not printable"),
            (
                "huge product number",
                weighing_event(None, None, None, None, words=huge_product),
                "out of range",
            ),
        ]
        moves_before = self.env["stock.move"].search_count([])
        for name, event_data, reason in cases:
            with self.subTest(name):
                weighing = self.record(event_data)
                self.assertEqual(len(weighing), 1)
                self.assertEqual(weighing.state, "held")
                self.assertIn(reason, weighing.reason)
                alarm = self.alarms().filtered(lambda a, w=weighing: w.display_name in a.reason)
                self.assertTrue(alarm, name)
                self.assertFalse(weighing.move_id)
        self.assertEqual(self.env["stock.move"].search_count([]), moves_before)
        self.finish()
        # Nothing held reached the MO: premix as planned, no extra move.
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 10.0, 2)
        self.assertFalse(self.production.move_raw_ids.filtered("scada_manual_weighing"))
        self.assertEqual(
            set(self.env["scada.manual.weighing"].search([("plc_id", "=", self.plc.id)]).mapped("state")),
            {"held"},
        )

    def test_a_repeated_event_after_a_lost_acknowledgement_is_recorded_once(self):
        event_data = self.event(self.premix, 3.2)
        first = self.record(event_data)
        again = self.record(dict(event_data))
        self.assertEqual(first, again)
        self.assertEqual(len(self.batch.manual_weighing_ids), 1)
        held = self.event(self.premix, 0.0)
        self.record(held)
        self.record(held)
        self.assertEqual(len(self.env["scada.manual.weighing"].search([("state", "=", "held")])), 1)
        self.assertEqual(self.alarms().count, 1)

    # -- the scale product number ---------------------------------------------------
    def test_the_product_is_found_by_its_scale_number_not_its_odoo_id(self):
        by_number = self.record(self.event(self.premix, 1.0))
        self.assertEqual((by_number.product_id, by_number.plc_product_ref), (self.premix, 501))
        # An Odoo id is no scale number: a product without a number is unknown.
        self.assertFalse(self.copra.scada_weighing_code)
        by_id = self.record(self.event(self.premix, 1.0, product_id=self.copra.id))
        self.assertEqual(by_id.state, "held")
        self.assertIn("Unknown product", by_id.reason)
        self.assertIn(str(self.copra.id), by_id.reason)
        self.assertFalse(by_id.product_id)
        no_number = self.record(self.event(self.premix, 1.0, product_id=0))
        self.assertEqual(no_number.state, "held")
        self.assertIn("No scale product number", no_number.reason)

    def test_the_scale_number_is_one_product_per_company(self):
        with self.assertRaisesRegex(ValidationError, "already used by"), self.env.cr.savepoint():
            self.copra.scada_weighing_code = 501
        kg = self.env.ref("uom.product_uom_kgm")

        def product(name, company, number):
            values = {"name": name, "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
            return self.env["product.product"].create(
                dict(values, company_id=company.id, scada_weighing_code=number)
            )

        other_company = self.env["res.company"].create({"name": "Other mill"})
        theirs = product("THEIR PREMIX", other_company, 777)
        # Another company's product may have the number of a product of ours.
        ours = product("OUR MINERAL MIX", self.plc.company_id, 778)
        theirs.scada_weighing_code = 778
        with self.assertRaisesRegex(ValidationError, "already used by"), self.env.cr.savepoint():
            product("OUR OTHER MIX", self.plc.company_id, 778)
        # A product shared by all companies may not take a number some company uses.
        with self.assertRaisesRegex(ValidationError, "already used by"), self.env.cr.savepoint():
            self.copra.scada_weighing_code = 778
        # Among the PLC's company's products only: another company's number is unknown here.
        theirs.scada_weighing_code = 777
        weighing = self.record(self.event(self.premix, 1.0, product_id=777))
        self.assertEqual(weighing.state, "held")
        self.assertIn("Unknown product", weighing.reason)
        self.assertEqual(self.record(self.event(self.premix, 1.0, product_id=778)).product_id, ours)
        # The field is on the product form, for SCADA managers.
        arch = self.env["product.template"].fields_view_get(view_type="form")["arch"]
        self.assertIn("scada_weighing_code", arch)

    # -- a manager's review ---------------------------------------------------------
    def test_manager_accepts_a_held_weighing_then_task3_posts_it(self):
        weighing = self.record(self.event(self.premix, 60.0))  # above the default 50 kg
        self.assertEqual(weighing.state, "held")
        weighing.with_user(self.manager).action_accept()
        self.assertEqual((weighing.state, weighing.decided_by_id), ("recorded", self.manager))
        self.finish()
        self.assertEqual(weighing.state, "posted")
        self.assertAlmostEqual(self.consumed(self.production)[self.premix], 60.0, 2)

    def test_manager_accepts_a_held_weighing_of_a_done_mo(self):
        self.finish()
        weighing = self.record(self.event(self.vitamin, 51.0, batch=self.batch_as_archived()))
        self.assertEqual(weighing.state, "held")
        weighing.with_user(self.manager).action_accept()
        self.assertEqual(weighing.state, "posted")
        self.assertEqual(weighing.move_id.raw_material_production_id, self.production)
        self.assertAlmostEqual(self.consumed(self.production)[self.vitamin], 51.0, 2)

    def test_manager_cannot_accept_an_unknown_mo_or_product_but_rejects_it(self):
        unknown_mo = self.record(self.event(self.premix, 1.0, mo_id="NOT A BATCH"))
        unknown_product = self.record(self.event(self.premix, 1.0, product_id=999999))
        for weighing in unknown_mo | unknown_product:
            with self.assertRaisesRegex(UserError, "reject it"), self.env.cr.savepoint():
                weighing.with_user(self.manager).action_accept()
            self.assertEqual(weighing.state, "held")
        self.assertEqual(len(self.alarms().filtered(lambda a: a.state == "open")), 2)
        (unknown_mo | unknown_product).with_user(self.manager).action_reject()
        self.assertEqual(set((unknown_mo | unknown_product).mapped("state")), {"rejected"})
        self.assertEqual(set(self.alarms().mapped("state")), {"cleared"}, "nothing waits for a decision")
        self.assertEqual(unknown_mo.decided_by_id, self.manager)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            unknown_mo.with_user(self.manager).action_accept()

    def test_a_scada_user_can_neither_accept_nor_reject(self):
        weighing = self.record(self.event(self.premix, 60.0))
        as_user = weighing.with_user(self.user)
        self.assertEqual(as_user.state, "held")  # may read it
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            as_user.action_accept()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            as_user.action_reject()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            as_user.write({"quantity_kg": 1.0})
        self.assertEqual(weighing.state, "held")

    # -- through the PLC's mailbox and the cycle --------------------------------------
    def test_weighings_from_the_plc_mailbox_are_recorded_once_acknowledged_and_posted(self):
        box = self.simulator.mailboxes[memory_map.WEIGHING]
        box.queue.clear()
        self.simulator.deliver_mailboxes()
        word, reference = plc_batch_word(self.batch.batch_no), self.batch.plc_ref
        hashes = [
            self.simulator.raise_weighing(word, reference, 501, 10.4),
            self.simulator.raise_weighing(word, reference, 502, 1.5),
            self.simulator.raise_weighing(word, "WH/MO/NOBODY", 501, 2.0),
        ]
        time.sleep(0.1)
        # The first acknowledgement never reaches the PLC: the event reads again, recorded once.
        self.simulator.set_fault("lost_request", 1.0, command_codes=(0x0102,))
        self.cycle()
        self.simulator.clear_faults()
        self.assertEqual(self.simulator.memory.read(MAILBOX.flag_address, 1)[0], memory_map.MAILBOX_NEW)
        for _cycle in range(40):
            if not box.queue and self.simulator.memory.read(MAILBOX.flag_address, 1)[0]:
                break
            self.cycle()
            time.sleep(0.06)  # the simulator's scan writes the next event
        weighings = self.env["scada.manual.weighing"].search([("plc_id", "=", self.plc.id)])
        self.assertEqual(sorted(weighings.mapped("content_hash")), sorted(hashes))
        by_product = {(w.product_id, w.state): w for w in weighings}
        self.assertEqual(len(by_product), 3)
        self.assertIn((self.premix, "held"), by_product)  # the unknown MO
        time.sleep(0.1)
        self.assertEqual((box.delivered, box.acknowledged), (3, 3))
        self.finish()
        self.assertEqual(set(self.batch_as_archived().manual_weighing_ids.mapped("state")), {"posted"})
        consumed = self.consumed(self.production)
        self.assertAlmostEqual(consumed[self.premix], 10.4, 2)
        self.assertAlmostEqual(consumed[self.vitamin], 1.5, 2)
