"""Silos as stock with lots, on the real server (its runner, its crons)
and the plant simulator as processes: 60 batches over 4 silos holding 3
lots each.  What left each lot's quant is what the batches consumed of it,
every silo gives its lots oldest first, every finished lot traces back to
the raw lots its batch took, a silo that runs out goes negative only with
its alarm, and the recall of a raw lot lists the MOs that used it."""

import collections
import contextlib
import time

import pytest
from system_harness import Line, Simulator, check_outcome, settled, wait_for

pytestmark = pytest.mark.system

BATCHES = 60
BATCH_KG = 100
# Per silo: kg per 100 kg batch and kg of each of its three lots.  Silo D
# holds less than 60 batches take (1 200 kg for 1 500): it runs out.
SILOS = {"silo_a": (40, 1000), "silo_b": (30, 700), "silo_d": (25, 400), "lq114": (5, 150)}
LOTS_PER_SILO = 3
GIVEN_PER_LOT = """
    SELECT ml.lot_id, sum(ml.qty_done) FROM stock_move_line ml JOIN stock_move m ON m.id = ml.move_id
     WHERE ml.state = 'done' AND m.raw_material_production_id IN (%s) GROUP BY ml.lot_id"""
HELD_PER_LOT = """
    SELECT q.lot_id, sum(q.quantity) FROM stock_quant q JOIN stock_location l ON l.id = q.location_id
     WHERE l.usage = 'internal' AND q.lot_id IS NOT NULL GROUP BY q.lot_id"""


def make_plant(line):
    """Lot-tracked materials in silos of their own, three lots each filled
    one after the other by counts, and a lot-tracked feed."""
    rpc, plant = line.server.rpc, line.plant
    rpc("scada.plc", "write", [plant.plc_id], {"silo_stock": True})
    rpc("scada.plc", "action_create_silo_locations", [plant.plc_id])
    silos = {
        silo["tag"]: silo
        for silo in rpc(
            "scada.silo", "search_read", [("plc_id", "=", plant.plc_id)], fields=["tag", "location_id"]
        )
    }

    def product(name):
        values = {
            "name": name,
            "type": "product",
            "tracking": "lot",
            "uom_id": plant.kg,
            "uom_po_id": plant.kg,
        }
        return rpc("product.product", "create", values)

    materials = {tag: product("LOT %s" % tag.upper()) for tag in SILOS}
    plant.feed = product("LOT FEED")
    template = rpc("product.product", "read", [plant.feed], fields=["product_tmpl_id"])[0]["product_tmpl_id"][
        0
    ]
    plant.bom = rpc(
        "mrp.bom",
        "create",
        {
            "product_tmpl_id": template,
            "product_qty": BATCH_KG,
            "product_uom_id": plant.kg,
            "bom_line_ids": [
                (0, 0, {"product_id": materials[tag], "product_qty": kg, "scada_silo_id": silos[tag]["id"]})
                for tag, (kg, _lot_kg) in SILOS.items()
            ],
        },
    )
    lots = collections.defaultdict(list)  # tag: lot ids, oldest fill first
    for layer in range(1, LOTS_PER_SILO + 1):
        lines = []
        for tag, (_kg, lot_kg) in SILOS.items():
            lot = rpc(
                "stock.production.lot",
                "create",
                {"name": "%s-%d" % (tag.upper(), layer), "product_id": materials[tag], "company_id": 1},
            )
            lots[tag].append(lot)
            location = silos[tag]["location_id"][0]
            lines.append(
                (
                    0,
                    0,
                    {
                        "product_id": materials[tag],
                        "location_id": location,
                        "prod_lot_id": lot,
                        "product_qty": lot_kg,
                    },
                )
            )
        count = rpc(
            "stock.inventory",
            "create",
            {
                "name": "Fill %d" % layer,
                "location_ids": [(6, 0, [silo["location_id"][0] for silo in silos.values()])],
                "start_empty": True,
                "line_ids": lines,
            },
        )
        rpc("stock.inventory", "action_start", [count])
        rpc("stock.inventory", "action_validate", [count])
        time.sleep(1.1)  # each layer enters the silos a second after the one below it
    return silos, lots


def test_sixty_batches_take_their_silos_lots_oldest_first_and_trace_back():
    with contextlib.ExitStack() as cleanup:
        line = cleanup.enter_context(
            Line(Simulator("silo_lots", "--batch-seconds", 1, "--seed", 21), "silo_lots")
        )
        silos, lots = make_plant(line)
        _run_and_check(line, silos, lots)


def _run_and_check(line, silos, lots):
    plant, database, rpc = line.plant, line.database, line.server.rpc
    productions = []
    for _wave in range(BATCHES // 20):
        productions += plant.confirm_many(20, BATCH_KG)
    wait_for(lambda: settled(plant, productions), 600, 2, "60 MOs done")
    problems, summary = check_outcome(database, productions, line.plc)
    assert summary["done"] == BATCHES, (summary, problems)
    # check_outcome compares the harness's own three silos; silo B is this test's.
    assert not [p for p in problems if "raw moves differ" not in p], problems
    ids = ",".join(str(i) for i in productions)
    differ = database.sql(
        "SELECT count(*) FROM (SELECT h.id, s.tag, sum(ml.qty_done) AS dosed, max(CASE s.tag"
        " WHEN 'silo_a' THEN h.actual_consumption_silo_a WHEN 'silo_b' THEN h.actual_consumption_silo_b"
        " WHEN 'silo_d' THEN h.actual_consumption_silo_d ELSE h.actual_consumption_lq114 END) AS reported"
        " FROM mo_history h JOIN stock_move m ON m.raw_material_production_id = h.production_id"
        " AND m.state = 'done' JOIN stock_move_line ml ON ml.move_id = m.id"
        " JOIN mrp_bom_line l ON l.id = m.bom_line_id JOIN scada_silo s ON s.id = l.scada_silo_id"
        " WHERE h.production_id IN (%s) GROUP BY h.id, s.tag) per_silo WHERE abs(dosed - reported) > 0.01"
        % ids
    )
    assert differ == "0", "%s silo doses differ from the PLC's figures" % differ

    # What each lot gave equals what left its quant (the no-lot lots started at 0).
    given = dict(row.split("|") for row in database.sql(GIVEN_PER_LOT % ids).splitlines())
    held = dict(row.split("|") for row in database.sql(HELD_PER_LOT).splitlines())
    start = {str(lot): SILOS[tag][1] for tag, tag_lots in lots.items() for lot in tag_lots}
    assert "" not in given, "a silo line without a lot"
    for lot_id, quantity in given.items():
        # A lot used up has no quant left (Odoo removes empty ones).
        assert abs(start.get(lot_id, 0.0) - float(held.get(lot_id, 0.0)) - float(quantity)) < 0.01, (
            lot_id,
            quantity,
        )

    # Oldest first: batch after batch (in the order Task 3 finished them), a
    # silo never goes back to an older lot; the no-lot lot comes last.
    order = {lot: index for tag_lots in lots.values() for index, lot in enumerate(tag_lots)}
    rows = database.sql(
        "SELECT h.id, l.scada_silo_id, ml.lot_id FROM mo_history h"
        " JOIN stock_move m ON m.raw_material_production_id = h.production_id AND m.state = 'done'"
        " JOIN mrp_bom_line l ON l.id = m.bom_line_id"
        " JOIN stock_move_line ml ON ml.move_id = m.id AND ml.state = 'done'"
        " WHERE h.production_id IN (%s) ORDER BY h.id" % ids
    ).splitlines()
    per_silo = collections.defaultdict(list)  # silo: [(history, lot order)]
    for row in rows:
        history, silo, lot = (int(value) for value in row.split("|"))
        per_silo[silo].append((history, order.get(lot, LOTS_PER_SILO)))
    for silo, used in per_silo.items():
        by_batch = collections.defaultdict(list)
        for history, index in used:
            by_batch[history].append(index)
        ranges = [(min(by_batch[h]), max(by_batch[h])) for h in sorted(by_batch)]
        assert all(later[0] >= earlier[1] for earlier, later in zip(ranges, ranges[1:])), (silo, ranges)
    silo_a = silos["silo_a"]["id"]
    assert {index for _h, index in per_silo[silo_a]} == {0, 1, 2}, "silo A's three lots all used"
    lots_of_batch = collections.defaultdict(set)
    for history, index in per_silo[silo_a]:
        lots_of_batch[history].add(index)
    assert any(len(indexes) > 1 for indexes in lots_of_batch.values()), "a batch across a lot boundary"

    # Every finished lot (one per batch) traces back to its batch's raw lots.
    traced = database.sql(
        "SELECT p.id, fl.lot_id, string_agg(DISTINCT cl.lot_id::text, ',' ORDER BY cl.lot_id::text),"
        " (SELECT string_agg(DISTINCT rl.lot_id::text, ',' ORDER BY rl.lot_id::text) FROM stock_move rm"
        "   JOIN stock_move_line rl ON rl.move_id = rm.id WHERE rm.raw_material_production_id = p.id"
        "   AND rl.state = 'done')"
        " FROM mrp_production p JOIN stock_move fm ON fm.production_id = p.id"
        " JOIN stock_move_line fl ON fl.move_id = fm.id"
        # A produced line's consume_line_ids: its id in consume_line_id (Odoo's naming).
        " LEFT JOIN stock_move_line_consume_rel rel ON rel.consume_line_id = fl.id"
        " LEFT JOIN stock_move_line cl ON cl.id = rel.produce_line_id"
        " WHERE p.id IN (%s) GROUP BY p.id, fl.lot_id" % ids
    ).splitlines()
    assert len(traced) == BATCHES
    for row in traced:
        production, finished_lot, consumed_lots, raw_lots = row.split("|")
        assert finished_lot and consumed_lots == raw_lots, row
    assert database.sql(
        "SELECT count(DISTINCT lot_producing_id) FROM mrp_production WHERE id IN (%s)" % ids
    ) == str(BATCHES)

    # Silo D ran out: negative only with its alarm, and the no-lot lot raised too.
    negative = database.sql(
        "SELECT s.id FROM stock_quant q JOIN scada_silo s ON s.location_id = q.location_id"
        " GROUP BY s.id HAVING sum(q.quantity) < -0.01"
    ).splitlines()
    assert negative == [str(silos["silo_d"]["id"])], negative
    for silo in negative:
        assert (
            database.sql(
                "SELECT count(*) FROM scada_alarm WHERE kind = 'silo_negative' AND silo_id = %s" % silo
            )
            != "0"
        ), "silo %s negative without its alarm" % silo
        assert (
            database.sql(
                "SELECT count(*) FROM scada_alarm WHERE kind = 'lot_missing' AND silo_id = %s" % silo
            )
            != "0"
        )

    # The recall of silo A's first lot: the MOs that used it, nothing else.
    recalled = lots["silo_a"][0]
    expected = {
        int(row)
        for row in database.sql(
            "SELECT DISTINCT m.raw_material_production_id FROM stock_move_line ml"
            " JOIN stock_move m ON m.id = ml.move_id WHERE ml.lot_id = %d AND ml.state = 'done'"
            " AND m.raw_material_production_id IS NOT NULL" % recalled
        ).splitlines()
    }
    assert expected
    action = rpc("stock.production.lot", "action_scada_recall", [recalled])
    recall_lines = rpc(
        "scada.lot.recall.line",
        "search_read",
        [("recall_id", "=", action["res_id"])],
        fields=["production_id"],
    )
    assert {line["production_id"][0] for line in recall_lines} == expected
    errors = bridge_errors(line.server.errors())
    assert not errors, errors[:5]


def bridge_errors(errors):
    """The server's ERROR lines less Odoo's own stock scheduler meeting a
    batch: the scheduler (a cron) reserves confirmed MOs' components from
    the silo quants the batches consume; when the two write the same quant,
    PostgreSQL refuses the scheduler's write, Odoo logs the failed query and
    the scheduler's error, and runs the scheduler again at its next call.
    Task 3's own side of such a meeting is a quiet retry."""
    kept = []
    for line in errors:
        if "Error during stock scheduler" in line or "Procurement: run scheduler" in line:
            if kept and "odoo.sql_db: bad query" in kept[-1]:
                kept.pop()  # the scheduler's failed write, logged just before it
            continue
        kept.append(line)
    return kept
