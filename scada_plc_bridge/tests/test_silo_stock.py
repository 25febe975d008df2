"""Silos as stock (opt-in per PLC): each silo an internal location, each
dose taken from the silo that dosed it, the alarms of a silo's stock, and
the fallback to the MO's source location where a silo has no location."""

from odoo.tests import tagged

from .common import SiloStockCase


@tagged("post_install", "-at_install")
class TestSiloStock(SiloStockCase):
    def test_each_silo_gets_an_internal_location_under_the_warehouse_stock(self):
        for silo in self.plc.silo_ids:
            self.assertEqual(silo.location_id.usage, "internal", silo.name)
            self.assertEqual(silo.location_id.location_id, self.warehouse_stock, silo.name)
            self.assertIn(silo.name, silo.location_id.name)
        self.assertFalse(self.plc.silos_without_location)
        locations = self.plc.silo_ids.location_id
        self.plc.action_create_silo_locations()  # twice: nothing new
        self.assertEqual(self.plc.silo_ids.location_id, locations)

    def test_each_dose_leaves_the_silo_that_dosed_it(self):
        self.fill("silo_d", self.corn, 2000.0)
        self.fill("silo_b", self.copra, 1000.0)
        self.fill("lq114", self.molasses, 100.0)
        self.Quant._update_available_quantity(self.corn, self.warehouse_stock, 5000.0)
        self.silo["silo_d"].write({"product_id": self.corn.id, "capacity_kg": 4000.0})
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertAlmostEqual(self.in_location(self.corn, self.silo["silo_d"].location_id), 1398.5, 2)
        self.assertAlmostEqual(self.in_location(self.copra, self.silo["silo_b"].location_id), 652.0, 2)
        self.assertAlmostEqual(self.in_location(self.molasses, self.silo["lq114"].location_id), 59.8, 2)
        self.assertAlmostEqual(
            self.in_location(self.corn, self.warehouse_stock), 5000.0, 2, "not from the warehouse"
        )
        silo = self.silo["silo_d"]
        silo.invalidate_cache()
        self.assertAlmostEqual(silo.on_hand_kg, 1398.5, 2)
        self.assertAlmostEqual(silo.level_percent, 34.96, 2)
        corn_move = production.move_raw_ids.filtered(lambda m: m.product_id == self.corn)
        self.assertEqual(corn_move.move_line_ids.location_id, silo.location_id)
        self.assertFalse(self.alarms("silo_negative") | self.alarms("silo_low"))

    def test_a_silo_that_gives_more_than_odoo_knew_raises_an_alarm_and_the_batch_finishes(self):
        self.fill("silo_d", self.corn, 500.0)
        self.fill("silo_b", self.copra, 1000.0)
        self.fill("lq114", self.molasses, 100.0)
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertAlmostEqual(self.in_location(self.corn, self.silo["silo_d"].location_id), -101.5, 2)
        alarm = self.alarms("silo_negative")
        self.assertEqual(len(alarm), 1)
        self.assertIn(self.silo["silo_d"].name, alarm.reason)
        self.assertIn("-101.50", alarm.reason)
        self.assertEqual(alarm.production_id, production)
        self.assertEqual(alarm.silo_id, self.silo["silo_d"])

    def test_a_count_of_the_silo_closes_the_gap_with_a_note_and_clears_its_alarm(self):
        self.fill("silo_d", self.corn, 500.0)
        self.fill("silo_b", self.copra, 1000.0)
        self.fill("lq114", self.molasses, 100.0)
        self.finished(corn=601.5, copra=348.0, molasses=40.2)
        silo = self.silo["silo_d"]
        self.assertEqual(self.alarms("silo_negative").state, "open")
        action = silo.action_count()
        inventory = self.env["stock.inventory"].search([("location_ids", "in", silo.location_id.ids)])
        self.assertEqual(inventory.state, "confirm")
        self.assertIn(silo.name, inventory.name)
        self.assertEqual(action["res_model"], "stock.inventory.line")
        line = inventory.line_ids.filtered(lambda line: line.product_id == self.corn)
        self.assertAlmostEqual(line.theoretical_qty, -101.5, 2)
        line.product_qty = 1200.0  # what the silo really holds
        inventory.action_validate()
        self.assertEqual(inventory.state, "done")
        self.assertAlmostEqual(self.in_location(self.corn, silo.location_id), 1200.0, 2)
        note = silo.message_ids[:1]
        self.assertIn(inventory.name, note.body)
        self.assertIn("-101.50", note.body)
        self.assertIn("1,301.50", note.body, "the gap the count closed")
        self.assertEqual(self.alarms("silo_negative").state, "cleared")
        self.assertEqual(
            self.silo["silo_b"].message_ids.filtered(lambda m: "Counted" in (m.body or "")),
            self.env["mail.message"],
        )

    def test_a_batch_leaving_a_silo_below_its_low_level_raises_an_alarm(self):
        self.silo["silo_b"].low_level_kg = 700.0
        self.fill("silo_d", self.corn, 2000.0)
        self.fill("silo_b", self.copra, 1000.0)
        self.fill("lq114", self.molasses, 100.0)
        self.finished(corn=601.5, copra=348.0, molasses=40.2)
        alarm = self.alarms("silo_low")
        self.assertEqual(len(alarm), 1)
        self.assertIn(self.silo["silo_b"].name, alarm.reason)
        self.assertIn("652.00", alarm.reason)
        self.assertEqual(alarm.silo_id, self.silo["silo_b"])

    def test_a_silo_without_a_location_keeps_the_mo_source_and_the_plc_form_says_so(self):
        tank = self.silo["lq114"]
        tank.location_id = False
        self.assertEqual(self.plc.silos_without_location, tank.name)
        self.fill("silo_d", self.corn, 2000.0)
        self.fill("silo_b", self.copra, 1000.0)
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        molasses_move = production.move_raw_ids.filtered(lambda m: m.product_id == self.molasses)
        self.assertEqual(molasses_move.location_id, production.location_src_id)
        self.assertAlmostEqual(self.in_location(self.molasses, production.location_src_id), -40.2, 2)
        self.assertAlmostEqual(self.in_location(self.corn, self.silo["silo_d"].location_id), 1398.5, 2)

    def test_a_plc_without_silo_stock_takes_every_dose_from_the_mo_source(self):
        self.plc.silo_stock = False
        self.assertFalse(self.plc.silos_without_location)
        self.fill("silo_d", self.corn, 2000.0)
        production = self.finished(corn=601.5, copra=348.0, molasses=40.2)
        self.assertEqual(production.move_raw_ids.location_id, production.location_src_id)
        self.assertAlmostEqual(self.in_location(self.corn, self.silo["silo_d"].location_id), 2000.0, 2)

    def test_what_a_failed_batch_dosed_is_scrapped_from_its_silo(self):
        self.fill("silo_d", self.corn, 2000.0)
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_consumption_silo_d=250.0, status_operation=True)
        self.cycle()
        self.assertEqual(production.state, "cancel")
        scrap = self.env["stock.scrap"].search([("origin", "=", production.name)])
        self.assertEqual(scrap.location_id, self.silo["silo_d"].location_id)
        self.assertAlmostEqual(self.in_location(self.corn, self.silo["silo_d"].location_id), 1750.0, 2)
