"""Issue 20 item 5: a large order split into MOs the line runs one batch
each, from an MO and from a BoM (the wizard, the scada.order.split service)."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import Form

from .common import ScadaCase, free_udp_port


@tagged("post_install", "-at_install")
class TestOrderSplit(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plc.batch_capacity_kg = 1000.0

    def wizard(self, record, **values):
        form = Form(
            record.env["mrp.production.split"].with_context(active_model=record._name, active_id=record.id)
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def split(self, record, **values):
        action = self.wizard(record, **values).action_split()
        return self.env["mrp.production"].search(action["domain"], order="date_planned_start, id")

    def assertOneOrder(self, productions, quantities):
        self.assertEqual(productions.mapped("product_qty"), quantities)
        self.assertEqual(set(productions.mapped("state")), {"confirmed"})
        self.assertEqual(len(set(productions.mapped("origin"))), 1)
        dates = productions.mapped("date_planned_start")
        self.assertEqual(dates, sorted(dates))
        self.assertEqual(len(set(dates)), len(dates), "planned one after another")
        for production in productions:  # the components follow each part's quantity
            corn = production.move_raw_ids.filtered(lambda move: move.product_id == self.corn)
            self.assertAlmostEqual(corn.product_uom_qty, 0.6 * production.product_qty, delta=0.01)

    def test_ten_tonnes_on_a_one_tonne_line_from_the_mo(self):
        production = self.confirmed_mo(10000)
        wizard = self.wizard(production)
        self.assertEqual((wizard.quantity, wizard.capacity, wizard.mode), (10000, 1000, "remainder"))
        self.assertIn("10 MO(s) of 1,000.00 kg", wizard.preview)
        productions = self.split(production)
        self.assertEqual(len(productions), 10)
        self.assertEqual(productions[0], production, "the MO split is the first part")
        self.assertOneOrder(productions, [1000.0] * 10)
        self.assertEqual(production.origin, "SPLIT/%s" % production.name)

    def test_draft_mo_is_split_and_confirmed(self):
        values = {"product_id": self.feed.id, "bom_id": self.bom.id, "product_qty": 2500}
        values["product_uom_id"] = self.bom.product_uom_id.id
        production = self.env["mrp.production"].with_context(import_file=True).create(values)
        self.assertEqual(production.state, "draft")
        productions = self.split(production)
        self.assertEqual(productions[0], production)
        self.assertOneOrder(productions, [1000.0, 1000.0, 500.0])

    def test_an_order_in_tonnes_is_cut_by_the_kg_capacity(self):
        form = Form(self.env["mrp.production"])
        form.product_id = self.feed
        form.bom_id = self.bom
        form.product_uom_id = self.env.ref("uom.product_uom_ton")
        form.product_qty = 10.5
        production = form.save()
        production.action_confirm()
        productions = self.split(production, capacity=2000)
        self.assertEqual(productions.mapped("product_qty"), [2.0] * 5 + [0.5])
        self.assertEqual(set(productions.mapped("product_uom_id.name")), {"t"})
        self.assertEqual(self.queue().sorted("batch_no").mapped("planned_quantity"), [2000.0] * 5 + [500.0])

    def test_capacity_of_the_line_a_work_centre_routes_to(self):
        other = self.env["scada.plc"].create(
            {"name": "Line 2", "code": "LINE2", "port": free_udp_port(), "batch_capacity_kg": 750}
        )
        workcenter = self.env["mrp.workcenter"].create({"name": "Mixer 2", "scada_plc_id": other.id})
        self.bom.operation_ids = [(0, 0, {"name": "Mix", "workcenter_id": workcenter.id})]
        self.assertEqual(self.wizard(self.bom).capacity, 750)
        self.bom.scada_batch_capacity = 600
        self.assertEqual(self.wizard(self.bom).capacity, 600)

    def test_a_planner_without_scada_rights_splits(self):
        planner = self.env["res.users"].create(
            {
                "name": "Planner",
                "login": "split_planner",
                "groups_id": [(6, 0, [self.env.ref("mrp.group_mrp_user").id])],
            }
        )
        production = self.confirmed_mo(3000).with_user(planner)
        self.assertEqual(len(self.split(production)), 3)

    def test_remainder_last_from_the_bom(self):
        before = self.env["mrp.production"].search_count([])
        wizard = self.wizard(self.bom, quantity=10500)
        self.assertEqual(wizard.capacity, 1000)
        self.assertEqual(wizard.preview, "10 MO(s) of 1,000.00 kg + 1 MO(s) of 500.00 kg")
        productions = wizard.action_split()
        productions = self.env["mrp.production"].search(productions["domain"], order="date_planned_start, id")
        self.assertEqual(self.env["mrp.production"].search_count([]), before + 11)
        self.assertOneOrder(productions, [1000.0] * 10 + [500.0])
        self.assertEqual(productions[0].origin, "SPLIT/%s" % productions[0].name)

    def test_equal_parts_round_to_the_unit_and_sum_exactly(self):
        self.bom.scada_batch_capacity = 1000.0
        self.plc.batch_capacity_kg = 5000.0  # the BoM's capacity wins
        productions = self.split(self.bom, quantity=10500, mode="equal")
        self.assertEqual(len(productions), 11)
        quantities = productions.mapped("product_qty")
        self.assertEqual(quantities, [954.55] * 6 + [954.54] * 5)
        self.assertAlmostEqual(sum(quantities), 10500.0, places=6)
        self.assertTrue(all(quantity <= 1000 for quantity in quantities))
        self.assertOneOrder(productions, quantities)

    def test_bad_input_is_refused_and_creates_nothing(self):
        production = self.confirmed_mo(3000)
        units = self.env.ref("uom.product_uom_unit")
        pellets = self.env["product.product"].create(
            {"name": "PELLET BAG", "type": "product", "uom_id": units.id, "uom_po_id": units.id}
        )
        unit_bom = self.bom.copy({"product_tmpl_id": pellets.product_tmpl_id.id, "product_uom_id": units.id})
        no_silo_bom = self.bom.copy(
            {"bom_line_ids": [(0, 0, {"product_id": self.premix.id, "product_qty": 1})]}
        )
        cases = {
            "capacity 0": lambda: self.wizard(production, capacity=0).action_split(),
            "capacity < 0": lambda: self.wizard(production, capacity=-5).action_split(),
            "quantity 0": lambda: self.wizard(self.bom).action_split(),
            "quantity < 0": lambda: self.wizard(self.bom, quantity=-1000).action_split(),
            "no BoM": lambda: self.env["scada.order.split"]._split(5000, 1000, "remainder", bom=None),
            "not in kg": lambda: self.wizard(unit_bom, quantity=5000).action_split(),
            "nothing for the line": lambda: self.wizard(no_silo_bom, quantity=5000).action_split(),
            "a million MOs": lambda: self.wizard(production, capacity=0.01).action_split(),
        }
        before = self.env["mrp.production"].search_count([])
        for name, call in cases.items():
            with self.subTest(name), self.assertRaises(UserError):
                call()
            self.assertEqual(self.env["mrp.production"].search_count([]), before, name)
            self.assertEqual(production.product_qty, 3000, name)
        self.assertEqual(production.state, "confirmed")

    def test_queued_or_done_mo_is_refused(self):
        production = self.confirmed_mo(3000)
        self.queue()
        self.assertTrue(production.scada_batch_ids)
        before = self.env["mrp.production"].search_count([])
        with self.assertRaisesRegex(UserError, "queued for or was run on the line"):
            self.wizard(production).action_split()
        done = self.confirmed_mo(3000)
        done.write({"state": "done"})
        with self.assertRaisesRegex(UserError, "only a draft or confirmed MO"):
            self.env["scada.order.split"]._split(3000, 1000, "remainder", production=done)
        self.assertEqual(self.env["mrp.production"].search_count([]), before + 1)  # only `done` itself

    def test_the_line_runs_the_parts_in_order(self):
        self.plc.batch_limit = 3
        productions = self.split(self.confirmed_mo(10000))
        batches = self.queue()
        self.assertEqual(batches.mapped("production_id"), productions[:3])
        self.assertEqual(
            batches.sorted("batch_no").mapped("production_id").ids, productions[:3].ids, "in planned order"
        )
        self.assertEqual(batches.mapped("planned_quantity"), [1000.0] * 3)
