"""Lots through the line: each dose taken lot by lot in the order the lots
entered the silo, a lot per finished batch, material of no known lot
booked and raised, Odoo's traceability links, and the recall of a lot."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from ..const import plc_batch_word
from .common import SiloStockCase
from .test_manual_weighings import weighing_event


@tagged("post_install", "-at_install")
class TestLotTracking(SiloStockCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.corn.tracking = "lot"
        cls.feed.tracking = "lot"
        cls.now = fields.Datetime.now()

    def lot(self, name, product=None):
        product = product or self.corn
        return self.env["stock.production.lot"].create(
            {"name": name, "product_id": product.id, "company_id": self.env.company.id}
        )

    def in_lot(self, lot, location):
        return self.Quant._get_available_quantity(
            lot.product_id, location, lot_id=lot, allow_negative=True, strict=True
        )

    def fill_others(self):
        self.fill("silo_b", self.copra, 1000.0)
        self.fill("lq114", self.molasses, 100.0)

    def corn_lines(self, production):
        return production.move_raw_ids.filtered(lambda m: m.product_id == self.corn).move_line_ids

    @staticmethod
    def per_lot(lines):
        """kg per lot name (Odoo splits an over-consumed move, and its lines, in two)."""
        totals = {}
        for line in lines:
            totals[line.lot_id.name] = round(totals.get(line.lot_id.name, 0.0) + line.qty_done, 2)
        return totals

    def batch_no(self, production):
        return self.env["mo.history"].search([("production_id", "=", production.id)]).batch_no

    def move_into_silo(self, lot, kg, silo="silo_d"):
        """An internal transfer of a lot from the warehouse into a silo, done now."""
        move = self.env["stock.move"].create(
            {
                "name": "fill %s" % lot.name,
                "product_id": lot.product_id.id,
                "product_uom": lot.product_id.uom_id.id,
                "product_uom_qty": kg,
                "location_id": self.warehouse_stock.id,
                "location_dest_id": self.silo[silo].location_id.id,
            }
        )
        move._action_confirm()
        move.move_line_ids = [(0, 0, dict(move._prepare_move_line_vals(), lot_id=lot.id, qty_done=kg))]
        move._action_done()

    def test_a_dose_takes_the_oldest_lot_in_the_silo_then_the_next_when_it_runs_out(self):
        old, new = self.lot("CORN-OLD"), self.lot("CORN-NEW")
        self.fill("silo_d", self.corn, 1000.0, lot=new, in_date=self.now - timedelta(days=1))
        self.fill("silo_d", self.corn, 200.0, lot=old, in_date=self.now - timedelta(days=5))
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        lines = self.corn_lines(production)
        self.assertEqual(self.per_lot(lines), {"CORN-NEW": 401.5, "CORN-OLD": 200.0})
        location = self.silo["silo_d"].location_id
        self.assertAlmostEqual(self.in_lot(old, location), 0.0, 2)
        self.assertAlmostEqual(self.in_lot(new, location), 598.5, 2)
        self.assertFalse(self.alarms("lot_missing") | self.alarms("silo_negative"))

    def test_a_bom_in_tonnes_takes_its_lots_in_kg_as_the_silo_holds_them(self):
        corn_line = self.bom.bom_line_ids.filtered(lambda line: line.product_id == self.corn)
        corn_line.write({"product_uom_id": self.env.ref("uom.product_uom_ton").id, "product_qty": 0.6})
        old, new = self.lot("CORN-OLD"), self.lot("CORN-NEW")
        self.fill("silo_d", self.corn, 200.0, lot=old, in_date=self.now - timedelta(days=5))
        self.fill("silo_d", self.corn, 1000.0, lot=new, in_date=self.now - timedelta(days=1))
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        lines = self.corn_lines(production)
        self.assertEqual(lines.product_uom_id, self.env.ref("uom.product_uom_kgm"), "lines in the silo's kg")
        self.assertEqual(self.per_lot(lines), {"CORN-OLD": 200.0, "CORN-NEW": 401.5}, "not rounded to 10 kg")
        location = self.silo["silo_d"].location_id
        self.assertAlmostEqual(self.in_lot(old, location), 0.0, 2)
        self.assertAlmostEqual(self.in_lot(new, location), 598.5, 2)

    def test_the_order_is_when_a_lot_entered_the_silo_not_when_it_was_received(self):
        received_first, filled_first = self.lot("CORN-RECEIVED-FIRST"), self.lot("CORN-FILLED-FIRST")
        self.Quant._update_available_quantity(
            self.corn,
            self.warehouse_stock,
            500.0,
            lot_id=received_first,
            in_date=self.now - timedelta(days=30),
        )
        self.fill("silo_d", self.corn, 300.0, lot=filled_first, in_date=self.now - timedelta(days=2))
        self.move_into_silo(received_first, 500.0)
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertEqual(
            self.per_lot(self.corn_lines(production)),
            {"CORN-FILLED-FIRST": 300.0, "CORN-RECEIVED-FIRST": 301.5},
        )

    def test_the_silo_card_shows_its_lots_oldest_first_and_its_last_fill(self):
        in_silo, received_earlier = self.lot("CORN-IN-SILO"), self.lot("CORN-RECEIVED-EARLIER")
        self.fill("silo_d", self.corn, 1000.0, lot=in_silo, in_date=self.now - timedelta(days=1))
        self.Quant._update_available_quantity(
            self.corn,
            self.warehouse_stock,
            250.0,
            lot_id=received_earlier,
            in_date=self.now - timedelta(days=9),
        )
        silo = self.silo["silo_d"]
        silo.product_id = self.corn
        self.assertFalse(silo.date_last_fill, "no transfer into it yet")
        self.move_into_silo(received_earlier, 250.0)  # into the silo after the other
        silo.invalidate_cache()
        self.assertEqual(
            silo.lots_inside.splitlines(), ["CORN-IN-SILO: 1,000.00 kg", "CORN-RECEIVED-EARLIER: 250.00 kg"]
        )
        self.assertTrue(silo.date_last_fill)
        self.assertAlmostEqual(silo.on_hand_kg, 1250.0, 2)

    def test_a_silo_switched_to_another_product_while_a_batch_runs_gives_the_batchs_material(self):
        silo = self.silo["silo_d"]
        silo.product_id = self.corn
        self.fill("silo_d", self.corn, 1000.0, lot=self.lot("CORN-A"))
        self.fill_others()
        production = self.confirmed_mo(1000)
        batch = self.queue()
        # The silo's usual product becomes copra while the batch doses corn from it.
        silo.product_id = self.copra
        self.fill("silo_d", self.copra, 300.0)
        self.run_to_done(production, batch)
        self.assertEqual(self.per_lot(self.corn_lines(production)), {"CORN-A": 601.5})
        self.assertAlmostEqual(
            self.in_location(self.copra, silo.location_id), 300.0, 2, "its copra untouched"
        )
        silo.invalidate_cache()
        self.assertAlmostEqual(silo.on_hand_kg, 300.0, 2, "the card reads its new product")
        self.assertIn("CORN-A (JAGUNG GILING): 398.50 kg", silo.lots_inside.splitlines())

    def test_each_batch_makes_a_lot_that_traces_back_to_the_raw_lots_of_its_silo(self):
        corn_lot = self.lot("CORN-A")
        self.fill("silo_d", self.corn, 2000.0, lot=corn_lot)
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        finished_lot = production.lot_producing_id
        self.assertEqual(finished_lot.name, "%s-%s" % (production.name, self.batch_no(production)))
        finished_line = production.move_finished_ids.move_line_ids
        self.assertEqual(finished_line.lot_id, finished_lot)
        self.assertAlmostEqual(finished_line.qty_done, 989.7, 2)
        # What Odoo's traceability report follows upstream from the finished lot.
        consumed = finished_line.consume_line_ids
        self.assertEqual(consumed.filtered(lambda line: line.product_id == self.corn).lot_id, corn_lot)
        self.assertIn(self.silo["silo_d"].location_id, consumed.location_id)

    def test_the_planners_lot_on_the_mo_is_kept(self):
        self.fill("silo_d", self.corn, 2000.0, lot=self.lot("CORN-A"))
        self.fill_others()
        planned = self.lot("FEED-PLANNED", product=self.feed)
        production = self.confirmed_mo(1000)
        production.lot_producing_id = planned
        batch = self.queue()
        self.run_to_done(production, batch)
        self.assertEqual(production.move_finished_ids.move_line_ids.lot_id, planned)

    def test_the_lot_name_rule_of_the_settings_is_used_and_a_bad_one_refused(self):
        settings = self.env["res.config.settings"].create({"scada_finished_lot_name": "{plc}/{batch}"})
        settings.execute()
        self.fill("silo_d", self.corn, 2000.0, lot=self.lot("CORN-A"))
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertEqual(production.lot_producing_id.name, "TEST01/%s" % self.batch_no(production))
        for bad in ("{order}", "{mo"):
            with self.assertRaises((UserError, ValidationError)):
                self.env["res.config.settings"].create({"scada_finished_lot_name": bad})

    def test_material_of_no_known_lot_is_booked_on_the_silos_no_lot_lot_and_raised(self):
        known = self.lot("CORN-KNOWN")
        self.fill("silo_d", self.corn, 100.0, lot=known)
        self.fill_others()
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        lines = self.corn_lines(production)
        unlotted = lines.lot_id.filtered("scada_unlotted")
        self.assertEqual(len(unlotted), 1)
        self.assertIn(self.silo["silo_d"].location_id.name, unlotted.name)
        self.assertEqual(self.per_lot(lines), {"CORN-KNOWN": 100.0, unlotted.name: 501.5})
        alarm = self.alarms("lot_missing")
        self.assertEqual(len(alarm), 1)
        self.assertIn("501.50", alarm.reason)
        self.assertIn(unlotted.name, alarm.reason)
        self.assertEqual(alarm.production_id, production)
        self.assertEqual(len(self.alarms("silo_negative")), 1, "the silo gave more than Odoo knew")
        to_correct = self.env.ref("scada_plc_bridge.scada_unlotted_lot_action")
        self.assertIn(unlotted, self.env["stock.production.lot"].search(safe_eval(to_correct.domain)))
        self.assertNotIn(known, self.env["stock.production.lot"].search(safe_eval(to_correct.domain)))
        # The next batch books on the same lot: one lot per silo to correct.
        second = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertEqual(self.corn_lines(second).lot_id, unlotted)

    def test_hand_weighed_components_leave_the_scale_station_lot_by_lot(self):
        scale = self.env["stock.location"].create(
            {"name": "Scale station", "usage": "internal", "location_id": self.warehouse_stock.id}
        )
        self.plc.scale_location_id = scale
        self.premix.tracking = "lot"
        self.premix.scada_weighing_code = 501
        premix_lot = self.lot("PREMIX-1", product=self.premix)
        self.Quant._update_available_quantity(self.premix, scale, 20.0, lot_id=premix_lot)
        self.Quant._update_available_quantity(self.premix, self.warehouse_stock, 100.0)
        self.fill("silo_d", self.corn, 2000.0, lot=self.lot("CORN-A"))
        self.fill_others()
        production = self.confirmed_mo(1000)
        batch = self.queue()
        event = weighing_event(plc_batch_word(batch.batch_no), batch.plc_ref, 501, 12.5)
        self.assertIs(self.env["scada.task.weighings"]._record(self.plc, event), True)
        self.run_to_done(production, batch)
        premix_lines = production.move_raw_ids.filtered(lambda m: m.product_id == self.premix).move_line_ids
        self.assertEqual(premix_lines.location_id, scale)
        self.assertEqual(self.per_lot(premix_lines), {"PREMIX-1": 12.5})
        self.assertAlmostEqual(self.in_lot(premix_lot, scale), 7.5, 2)

    def test_a_failed_batch_scraps_its_dose_lot_by_lot(self):
        old, new = self.lot("CORN-OLD"), self.lot("CORN-NEW")
        self.fill("silo_d", self.corn, 100.0, lot=old, in_date=self.now - timedelta(days=3))
        self.fill("silo_d", self.corn, 1000.0, lot=new, in_date=self.now - timedelta(days=1))
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=250.0, status_operation=True)
        self.cycle()
        self.assertEqual(production.state, "cancel")
        scraps = self.env["stock.scrap"].search([("origin", "=", production.name)])
        self.assertEqual(
            sorted((scrap.lot_id.name, round(scrap.scrap_qty, 2)) for scrap in scraps),
            [("CORN-NEW", 150.0), ("CORN-OLD", 100.0)],
        )
        self.assertEqual(scraps.mapped("state"), ["done", "done"])

    def test_a_recall_lists_every_batch_finished_lot_and_delivery_that_used_a_lot(self):
        recalled, other = self.lot("CORN-RECALLED"), self.lot("CORN-OTHER")
        self.fill("silo_d", self.corn, 700.0, lot=recalled, in_date=self.now - timedelta(days=2))
        self.fill("silo_d", self.corn, 2000.0, lot=other, in_date=self.now - timedelta(days=1))
        self.fill("silo_b", self.copra, 2000.0)
        self.fill("lq114", self.molasses, 200.0)
        first = self.finished(corn=601.5, copra=348.0, molasses=40.2)  # all from the recalled lot
        second = self.finished(corn=601.5, copra=348.0, molasses=40.2)  # 98.5 recalled, the rest other
        third = self.finished(corn=601.5, copra=348.0, molasses=40.2)  # none of it
        customer = self.env["res.partner"].create({"name": "Peternakan Sumber Rejeki"})
        delivery = self.deliver(first.lot_producing_id, 500.0, customer)

        action = recalled.action_scada_recall()
        recall = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(recall.line_ids.production_id, first | second)
        self.assertNotIn(third, recall.line_ids.production_id)
        self.assertEqual(recall.line_ids.finished_lot_id, first.lot_producing_id | second.lot_producing_id)
        used = {line.production_id: round(line.quantity_used, 2) for line in recall.line_ids}
        self.assertEqual(used, {first: 601.5, second: 98.5})
        delivered = recall.line_ids.filtered("picking_id")
        self.assertEqual(delivered.picking_id, delivery)
        self.assertEqual(delivered.partner_id, customer)
        self.assertAlmostEqual(delivered.quantity_delivered, 500.0, 2)
        self.assertEqual(
            set(recall.line_ids.mapped("batch_no")), {self.batch_no(first), self.batch_no(second)}
        )
        self.assertEqual(
            (recall.production_count, recall.finished_lot_count, recall.partner_count), (2, 2, 1)
        )
        listed = recall.action_open_lines()
        self.assertEqual(
            self.env[listed["res_model"]].search(listed["domain"]), recall.line_ids, "the exportable list"
        )

    def deliver(self, lot, kg, customer):
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": customer.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_lines": [
                    (
                        0,
                        0,
                        {
                            "name": lot.product_id.name,
                            "product_id": lot.product_id.id,
                            "product_uom": lot.product_id.uom_id.id,
                            "product_uom_qty": kg,
                            "location_id": warehouse.lot_stock_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        move = picking.move_lines
        move.move_line_ids = [(0, 0, dict(move._prepare_move_line_vals(), lot_id=lot.id, qty_done=kg))]
        picking._action_done()
        self.assertEqual(picking.state, "done")
        return picking
