"""Shared set-up of the addon's Odoo tests: a PLC record pointing at the
plclib simulator on 127.0.0.1 (real UDP socket, no mocked PLC), kg products
for three silos and one component without silo, a BoM mapping them."""

import contextlib
import logging
import socket
import uuid

from odoo import SUPERUSER_ID, api
from odoo.tests.common import Form, SavepointCase

from ..const import plc_batch_word
from ..plclib import memory_map
from ..plclib.simulator import PlcSimulator
from ..runner.cycle import PlcCycle


def free_udp_port():
    """A loopback port nobody listens on: a dead PLC."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def in_test_transaction(env):
    """The runtime's unit of work, inside the test's transaction: each step
    in a savepoint (rolled back on error, as a transaction of its own would
    be) instead of a committed transaction.  The cycle, the task code and
    the PLC I/O are the production ones; only the commit policy, which the
    entry points choose, is the test's.  The entry points themselves (the
    runner, the crons) are tested committing, in test_runtime*.py and the
    system tests."""

    def transaction(fn):
        with env.cr.savepoint():
            return fn(env)

    return transaction


@contextlib.contextmanager
def logged_failed_queries():
    """The failed queries Odoo logs meanwhile (the first 200 characters of
    each): a server logs them as errors, which page plant staff; the test
    run mutes that logger, so it is opened here."""
    failed_queries = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: failed_queries.append(record.getMessage()[:200])
    sql_logger = logging.getLogger("odoo.sql_db")
    level = sql_logger.level
    sql_logger.addHandler(handler)
    sql_logger.setLevel(logging.ERROR)
    try:
        yield failed_queries
    finally:
        sql_logger.removeHandler(handler)
        sql_logger.setLevel(level)


@contextlib.contextmanager
def late_and_early(registry):
    """Two concurrent transactions on committed data, as environments: the
    caller begins `late` (its first query takes its snapshot), then commits
    a change in `early`, which `late` cannot see."""
    late, early = registry.cursor(), registry.cursor()
    try:
        yield api.Environment(late, SUPERUSER_ID, {}), api.Environment(early, SUPERUSER_ID, {})
    finally:
        late.close()
        early.close()


def committed_line_mo(env):
    """A PLC of its own and a confirmed MO routed to it (100 kg from silo A),
    for tests that commit: concurrent transactions see only committed data."""
    kg = env.ref("uom.product_uom_kgm")
    plc = env["scada.plc"].create(
        {"name": "Concurrency", "code": "CONC-%s" % uuid.uuid4().hex[:8], "port": 9}
    )
    product = env["product.product"].create(
        {"name": "CONC FEED", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
    )
    component = env["product.product"].create(
        {"name": "CONC CORN", "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
    )
    silo_a = plc.silo_ids.filtered(lambda silo: silo.tag == "silo_a")
    bom = env["mrp.bom"].create(
        {
            "product_tmpl_id": product.product_tmpl_id.id,
            "product_qty": 100,
            "product_uom_id": kg.id,
            "scada_plc_id": plc.id,
            "bom_line_ids": [
                (0, 0, {"product_id": component.id, "product_qty": 100, "scada_silo_id": silo_a.id})
            ],
        }
    )
    form = Form(env["mrp.production"])
    form.product_id, form.bom_id, form.product_qty = product, bom, 100
    production = form.save()
    production.action_confirm()
    return plc, production


def plc_reports(simulator, batch, **values):
    """The (simulated) PLC reports `values` for `batch` in its READ slot."""
    fields = {
        "batch_no": plc_batch_word(batch.batch_no),
        "mo_id": batch.plc_ref,
        "quantity": batch.planned_quantity,
    }
    fields.update({memory_map.silo_id_key(tag): silo_id for tag, silo_id in memory_map.PLANT_SILOS})
    fields.update(values)
    simulator.write_slot_values("read", batch.slot, fields)


class ScadaCase(SavepointCase):
    simulator_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = PlcSimulator(seed=11, **cls.simulator_options).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.plc = cls.env["scada.plc"].create(
            {
                "name": "Test line",
                "code": "TEST01",
                "port": cls.simulator.port,
                "timeout": 0.5,
                "read_retries": 1,
            }
        )
        cls.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.default_plc_id", cls.plc.id)
        cls.silo = {silo.tag: silo for silo in cls.plc.silo_ids}
        kg = cls.env.ref("uom.product_uom_kgm")

        def product(name, **extra):
            return cls.env["product.product"].create(
                dict({"name": name, "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}, **extra)
            )

        cls.corn = product("JAGUNG GILING")
        cls.copra = product("KOPRA")
        cls.molasses = product("TETES")
        cls.premix = product("PREMIX")  # added by hand, no silo
        cls.feed = product("JF SUPER 2A 25")
        cls.bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "code": "JF SUPER 2A 25",
                "bom_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": cls.corn.id,
                            "product_qty": 600,
                            "scada_silo_id": cls.silo["silo_d"].id,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "product_id": cls.copra.id,
                            "product_qty": 350,
                            "scada_silo_id": cls.silo["silo_b"].id,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "product_id": cls.molasses.id,
                            "product_qty": 40,
                            "scada_silo_id": cls.silo["lq114"].id,
                        },
                    ),
                    (0, 0, {"product_id": cls.premix.id, "product_qty": 10}),
                ],
            }
        )

    def setUp(self):
        super().setUp()
        # Every test starts with a blank PLC.
        self.simulator.memory.write(0, [0] * self.simulator.memory.size)
        # Its mailboxes' flags at 1 (read: nothing new), as a PLC starts.
        for mailbox in memory_map.default_mailboxes():
            self.simulator.memory.write(mailbox.flag_address, [memory_map.MAILBOX_READ])
        self.simulator.clear_faults()

    @classmethod
    def confirmed_mo(cls, quantity=1000, bom=None):
        bom = bom or cls.bom
        form = Form(cls.env["mrp.production"])
        form.product_id = bom.product_id or bom.product_tmpl_id.product_variant_id
        form.bom_id = bom
        form.product_qty = quantity
        production = form.save()
        production.action_confirm()
        return production

    def cycle(self, plc=None):
        """One cycle of the PLC, as the runner runs it."""
        return PlcCycle((plc or self.plc).id, in_test_transaction(self.env)).run()

    def queue(self):
        """A cycle of the test PLC (Task 1 queues and writes when its queue
        is empty), returning its batches."""
        self.cycle()
        return self.env["mo.batch"].search([("plc_id", "=", self.plc.id)])

    def finish_all(self):
        """Task 3 over every finished batch, each in its own unit of work."""
        transaction = in_test_transaction(self.env)
        batch_ids = transaction(lambda env: env["scada.task.finish"]._finished_batch_ids())
        done = sum(
            bool(transaction(lambda env, batch_id=batch_id: env["scada.task.finish"]._finish_batch(batch_id)))
            for batch_id in batch_ids
        )
        return done, len(batch_ids) - done

    def report(self, batch, **values):
        plc_reports(self.simulator, batch, **values)

    def finish_on_plc(self, batch, corn=601.5, copra=348.0, molasses=40.2, weight=989.7):
        self.report(
            batch,
            actual_consumption_silo_d=corn,
            actual_consumption_silo_b=copra,
            actual_consumption_lq114=molasses,
            actual_weight_quantity_finished_goods=weight,
            status_manufacturing=True,
        )

    def consumed(self, production):
        """kg consumed per product (Odoo may split an over-consumed move)."""
        totals = {}
        for move in production.move_raw_ids.filtered(lambda m: m.state == "done"):
            totals[move.product_id] = totals.get(move.product_id, 0.0) + move.quantity_done
        return totals


class SiloStockCase(ScadaCase):
    """A line whose PLC keeps silo stock, each silo with its location."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plc.silo_stock = True
        cls.plc.action_create_silo_locations()
        cls.warehouse_stock = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.warehouse_stock = cls.warehouse_stock.lot_stock_id
        cls.Quant = cls.env["stock.quant"]

    def fill(self, silo, product, kg, lot=None, in_date=None):
        """A fill of the silo, as a receipt into its location would leave it."""
        self.Quant._update_available_quantity(
            product, self.silo[silo].location_id, kg, lot_id=lot, in_date=in_date
        )

    def in_location(self, product, location):
        return self.Quant._get_available_quantity(product, location, allow_negative=True, strict=True)

    def finished(self, **actuals):
        production = self.confirmed_mo(1000)
        self.run_to_done(production, self.queue(), **actuals)
        return production

    def run_to_done(self, production, batch, **actuals):
        """The PLC takes the queued batch's recipe (its handshake word),
        reports it finished in a result slot it marks unread (as it does for
        each batch in a slot), and two cycles later the MO is done."""
        self.simulator.write_slot_values("write", batch.slot, {"status_read_data": True})
        self.report(batch, status_read_data=False)
        self.finish_on_plc(batch, **actuals)
        self.cycle()
        self.cycle()
        self.assertEqual(production.state, "done", batch.exists() and batch.last_error)

    def alarms(self, kind):
        return self.env["scada.alarm"].search([("kind", "=", kind), ("plc_id", "=", self.plc.id)])
