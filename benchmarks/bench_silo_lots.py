"""Silos as stock with lots: what they cost Task 3, and the recall at a year.

* Task 3 for one batch (its MO done with the PLC's figures, archived, its
  time logs): on a line without silo stock (materials without lots, taken
  from the MO's source location) and on a line with it (each material
  lot-tracked, three lots in each silo, taken oldest first, a finished lot
  per batch), batch for batch in turn in one run; the median of each and
  their ratio.  Goal: at most 1.3 x.
* The recall of a raw lot (the batches, MOs, finished lots and deliveries
  that used it) among a year of a busy line: 60 000 finished batches of 4
  silos, each with its move lines, lots and finished lot, written with plain
  SQL; against the same recall among 600 batches.  Goal: under 2 s.

Prints a table and writes .bench/bench_silo_lots.json.

Run: .venv/bin/python benchmarks/bench_silo_lots.py [--batches 30] [--recall-batches 60000] [--runs 5]
(needs the bench: `make setup` and the template database of `make test`)."""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from system_harness import BENCH, odoo_environment  # noqa: E402

TASK3_GOAL_RATIO = 1.3
RECALL_GOAL_SECONDS = 2.0
SMALL_SHARE = 100
# kg per 1 000 kg batch of the silos the benchmark's recipe doses.
RECIPE = (("silo_a", 400), ("silo_b", 300), ("silo_d", 250), ("lq114", 50))
LOTS_PER_SILO = 3


class Line:
    """A PLC, its recipe's materials in its silos and a BoM: with silos as
    stock and lots, or without."""

    def __init__(self, env, code, with_lots):
        from odoo import fields

        self.env, self.with_lots = env, with_lots
        kg = env.ref("uom.product_uom_kgm")
        product = {
            "type": "product",
            "tracking": "lot" if with_lots else "none",
            "uom_id": kg.id,
            "uom_po_id": kg.id,
        }
        self.plc = env["scada.plc"].create(
            {"name": "Line %s" % code, "code": code, "port": 9600, "silo_stock": with_lots, "batch_limit": 10}
        )
        silos = {silo.tag: silo for silo in self.plc.silo_ids}
        if with_lots:
            self.plc.action_create_silo_locations()
        stock = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).lot_stock_id
        Quant = env["stock.quant"]
        lines = []
        now = fields.Datetime.now()
        for tag, share in RECIPE:
            material = env["product.product"].create(dict(product, name="%s %s" % (code, tag)))
            lines.append(
                (0, 0, {"product_id": material.id, "product_qty": share, "scada_silo_id": silos[tag].id})
            )
            if not with_lots:
                Quant._update_available_quantity(material, stock, 10000000.0)
                continue
            for number in range(LOTS_PER_SILO):
                lot = env["stock.production.lot"].create(
                    {
                        "name": "%s-%s-%d" % (code, tag, number),
                        "product_id": material.id,
                        "company_id": env.company.id,
                    }
                )
                Quant._update_available_quantity(
                    material,
                    silos[tag].location_id,
                    200000.0,
                    lot_id=lot,
                    in_date=now - timedelta(days=9 - number),
                )
        feed = env["product.product"].create(dict(product, name="%s feed" % code))
        self.bom = env["mrp.bom"].create(
            {
                "product_tmpl_id": feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "scada_plc_id": self.plc.id,
                "bom_line_ids": lines,
            }
        )
        self.feed = feed

    def finished_batches(self, count):
        """`count` MOs confirmed, queued, and finished on the PLC (a batch of 1 000 kg each)."""
        env = self.env
        productions = env["mrp.production"].create(
            [
                {"product_id": self.feed.id, "product_uom_id": self.feed.uom_id.id, "bom_id": self.bom.id}
                for _n in range(count)
            ]
        )
        env["stock.move"].create(
            productions._get_moves_raw_values() + productions._get_moves_finished_values()
        )
        productions.action_confirm()
        batches = env["scada.task.sync"]._sync_mo(self.plc)
        if len(batches) != count:
            refused = env["scada.alarm"].search([("plc_id", "=", self.plc.id)]).mapped("reason")
            raise RuntimeError("%s: %d of %d MOs queued: %s" % (self.plc.code, len(batches), count, refused))
        for batch in batches:
            values = {"actual_weight_quantity_finished_goods": 1000.0, "status_manufacturing": True}
            values.update({"actual_consumption_" + tag: kg * 1.003 for tag, kg in RECIPE})
            batch.sudo().write(values)
        env["base"].flush()
        return batches


def task3_figures(env, batches_per_line):
    """Median seconds of Task 3 for one batch, without and with lots."""
    lines = {"without": Line(env, "BNL", False), "with": Line(env, "BWL", True)}
    finish = env["scada.task.finish"]
    times = {name: [] for name in lines}
    done = 0
    while done < batches_per_line:
        rounds = {
            name: line.finished_batches(min(10, batches_per_line - done)) for name, line in lines.items()
        }
        for index, pair in enumerate(zip(*rounds.values())):
            # In turn, each line first every other batch: neither gets the warm caches.
            order = list(zip(rounds, pair))
            for name, batch in order if index % 2 else order[::-1]:
                env.cache.invalidate()
                started = time.perf_counter()
                assert finish._finish_batch(batch.id), (name, batch.last_error)
                env["base"].flush()
                times[name].append(time.perf_counter() - started)
        done += len(next(iter(rounds.values())))
    return {name: statistics.median(values) for name, values in times.items()}


# The year's batches for the recall, from one finished MO of the benchmark
# line with lots (its raw lines, finished line and history): each copied
# per batch, its raw lines on the lot of its silo for that batch (about
# 40 t a lot), its finished line on a lot of its own.
COPY_SQL = """
CREATE TEMP TABLE recall_batch AS
  SELECT g AS n FROM generate_series(1, %(batches)s) g WHERE %(where)s;
CREATE TEMP TABLE recall_production AS
  SELECT n, nextval('mrp_production_id_seq') AS id FROM recall_batch;
INSERT INTO mrp_production (id, %(production_columns)s)
  SELECT r.id, %(production_values)s FROM recall_production r, mrp_production p WHERE p.id = %(template)s;
CREATE TEMP TABLE recall_lot AS
  SELECT DISTINCT m.product_id, (r.n * %(kg_per_batch)s / 40000)::int AS layer FROM recall_production r,
         stock_move m WHERE m.raw_material_production_id = %(template)s;
ALTER TABLE recall_lot ADD COLUMN id int;
UPDATE recall_lot SET id = nextval('stock_production_lot_id_seq');
INSERT INTO stock_production_lot (id, name, product_id, company_id, create_date, write_date)
  SELECT id, 'RECALL-' || product_id || '-' || layer, product_id, %(company)s, now(), now() FROM recall_lot;
CREATE TEMP TABLE recall_finished_lot AS
  SELECT r.n, nextval('stock_production_lot_id_seq') AS id FROM recall_production r;
INSERT INTO stock_production_lot (id, name, product_id, company_id, create_date, write_date)
  SELECT f.id, 'RECALL-FEED-' || f.n, p.product_id, %(company)s, now(), now()
    FROM recall_finished_lot f, mrp_production p WHERE p.id = %(template)s;
CREATE TEMP TABLE recall_move AS
  SELECT r.n, r.id AS production_id, m.id AS template_move, nextval('stock_move_id_seq') AS id
    FROM recall_production r, stock_move m
   WHERE m.raw_material_production_id = %(template)s OR m.production_id = %(template)s;
INSERT INTO stock_move (id, %(move_columns)s)
  SELECT c.id, %(move_values)s FROM recall_move c JOIN stock_move m ON m.id = c.template_move;
INSERT INTO stock_move_line (%(line_columns)s)
  SELECT %(line_values)s FROM recall_move c JOIN stock_move_line l ON l.move_id = c.template_move
    LEFT JOIN recall_lot lot
           ON lot.product_id = l.product_id AND lot.layer = (c.n * %(kg_per_batch)s / 40000)::int
    LEFT JOIN recall_finished_lot f ON f.n = c.n;
INSERT INTO mo_history (%(history_columns)s)
  SELECT %(history_values)s FROM recall_production r, mo_history h WHERE h.production_id = %(template)s;
"""


def copy_columns(cr, table, overrides):
    """(columns, values) of `table` but id: each value "%s" (the template
    row's own, see prefixed()) or the SQL expression of `overrides`."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id'"
        " ORDER BY ordinal_position",
        (table,),
    )
    columns = [row[0] for row in cr.fetchall()]
    return columns, [overrides.get(column, "%s") for column in columns]


def fill_year(env, template, batches, where):
    """The year's batches for the recall (COPY_SQL), those of the series numbers `where` keeps."""
    cr = env.cr
    production_columns, production_values = copy_columns(
        cr,
        "mrp_production",
        {"name": "p.name || '/' || r.n", "date_finished": "now() - r.n * interval '9 minutes'"},
    )
    move_columns, move_values = copy_columns(
        cr,
        "stock_move",
        {
            "raw_material_production_id": "CASE WHEN m.raw_material_production_id IS NULL THEN NULL"
            " ELSE c.production_id END",
            "production_id": "CASE WHEN m.production_id IS NULL THEN NULL ELSE c.production_id END",
        },
    )
    line_columns, line_values = copy_columns(
        cr,
        "stock_move_line",
        {"move_id": "c.id", "lot_id": "CASE WHEN lot.id IS NULL THEN f.id ELSE lot.id END"},
    )
    history_columns, history_values = copy_columns(
        cr, "mo_history", {"production_id": "r.id", "batch_no": "h.batch_no + r.n", "queue_batch_id": "r.n"}
    )

    def prefixed(values, alias):
        return ", ".join(value if value != "%s" else "%s.%s" % (alias, column) for column, value in values)

    kg_per_batch = max(kg for _tag, kg in RECIPE)
    cr.execute(
        COPY_SQL
        % {
            "batches": batches,
            "where": where,
            "template": template.id,
            "company": env.company.id,
            "kg_per_batch": kg_per_batch,
            "production_columns": ", ".join(production_columns),
            "production_values": prefixed(zip(production_columns, production_values), "p"),
            "move_columns": ", ".join(move_columns),
            "move_values": prefixed(zip(move_columns, move_values), "m"),
            "line_columns": ", ".join(line_columns),
            "line_values": prefixed(zip(line_columns, line_values), "l"),
            "history_columns": ", ".join(history_columns),
            "history_values": prefixed(zip(history_columns, history_values), "h"),
        }
    )
    for table in ("recall_batch", "recall_production", "recall_lot", "recall_finished_lot", "recall_move"):
        cr.execute("DROP TABLE %s" % table)
    for table in ("mrp_production", "stock_move", "stock_move_line", "stock_production_lot", "mo_history"):
        cr.execute("ANALYZE %s" % table)


def recall_seconds(env, runs):
    """Median seconds of the recall of the lot the most batches of the year used."""
    env.cr.execute(
        "SELECT lot_id FROM stock_move_line WHERE lot_id IN (SELECT id FROM stock_production_lot"
        " WHERE name LIKE 'RECALL-%' AND name NOT LIKE 'RECALL-FEED-%')"
        " GROUP BY lot_id ORDER BY count(*) DESC LIMIT 1"
    )
    lot = env["stock.production.lot"].browse(env.cr.fetchone()[0])
    times, used = [], 0
    for attempt in range(runs + 1):
        env.cache.invalidate()
        started = time.perf_counter()
        action = lot.action_scada_recall()
        recall = env["scada.lot.recall"].browse(action["res_id"])
        used = recall.production_count
        if attempt:
            times.append(time.perf_counter() - started)
    return statistics.median(times), used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=30, help="Task 3 batches per line")
    parser.add_argument("--recall-batches", type=int, default=60000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with odoo_environment() as env:
        task3 = task3_figures(env, args.batches)
        template = env["mo.history"].search([("plc_id.code", "=", "BWL")], limit=1).production_id
        recall = {}
        for size, where in (("small", "g %% %d = 0" % SMALL_SHARE), ("full", "g %% %d <> 0" % SMALL_SHARE)):
            fill_year(env, template, args.recall_batches, where)
            recall[size] = recall_seconds(env, args.runs)
        env.cr.execute("SELECT count(*) FROM mo_history")
        history_rows = env.cr.fetchone()[0]
        env.cr.execute("SELECT count(*) FROM stock_move_line")
        line_rows = env.cr.fetchone()[0]
        env.cr.rollback()

    ratio = task3["with"] / task3["without"]
    print("Task 3, one batch, median of %d per line:" % args.batches)
    print("  without silo stock: %7.1f ms" % (1000 * task3["without"]))
    print(
        "  with silos and lots: %6.1f ms  (%.2f x; goal <= %.1f x: %s)"
        % (1000 * task3["with"], ratio, TASK3_GOAL_RATIO, "met" if ratio <= TASK3_GOAL_RATIO else "NOT met")
    )
    print(
        "Recall of a raw lot, median of %d, among %d batches (%d move lines):"
        % (args.runs, history_rows, line_rows)
    )
    for size, (seconds, used) in recall.items():
        print("  %-5s %8.1f ms  (%d MOs used the lot)" % (size, 1000 * seconds, used))
    full = recall["full"][0]
    print(
        "  ratio full / small: %.1f; goal < %.0f s: %s"
        % (full / recall["small"][0], RECALL_GOAL_SECONDS, "met" if full < RECALL_GOAL_SECONDS else "NOT met")
    )
    result = {
        "task3_ms": {name: round(1000 * value, 1) for name, value in task3.items()},
        "task3_ratio": round(ratio, 2),
        "recall_ms": {size: round(1000 * seconds, 1) for size, (seconds, _used) in recall.items()},
        "history_rows": history_rows,
        "goals_met": ratio <= TASK3_GOAL_RATIO and full < RECALL_GOAL_SECONDS,
    }
    (BENCH / "bench_silo_lots.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
