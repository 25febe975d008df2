"""What the reliability soaks (benchmarks/soak_*.py) share: their common
options and main, the plant simulator they run against, how their MOs and
held batches are counted, the checks once the line has settled, and the
report (a table printed, the figures kept as .bench/<name>.json).  The line
itself (database, Odoo server, plant) is tests/system_harness.py's `Line`;
importing this module puts tests/ on the path for it."""

import argparse
import json
import os
import sys
import time

from plclib import memory_map
from plclib.client import FinsClient
from plclib.exceptions import PlcError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from system_harness import BENCH, Simulator, check_outcome, wait_for  # noqa: E402


def argument_parser(doc, name):
    """A soak's options: its docstring's first paragraph as the description,
    --name for its figures."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--name", default=name, help="name of the JSON file under .bench/")
    return parser


def add_plant_options(parser, batch_seconds, failure_rate, seed):
    """The options of the `scada-plc sim` plant the faults and crash soaks run against."""
    plant = parser.add_argument_group("the plant simulator")
    plant.add_argument(
        "--batch-seconds", type=float, default=batch_seconds, help="run time of a batch on the PLC"
    )
    plant.add_argument(
        "--failure-rate", type=float, default=failure_rate, help="share of batches the PLC fails"
    )
    plant.add_argument("--seed", type=int, default=seed, help="the simulator's random seed")


def plant_simulator(args, *options):
    """`scada-plc sim` in plant mode with the soak's plant options and `options`."""
    plant = ["--batch-seconds", args.batch_seconds, "--failure-rate", args.failure_rate, "--seed", args.seed]
    return Simulator(args.name, *plant, *options)


def main(build_parser, run, report):
    """A soak as a command: run with its options, reported, exit 1 on any problem."""
    args = build_parser().parse_args()
    figures, problems = run(args)
    report(figures, problems, args.name)
    sys.exit(1 if problems else 0)


def count_states(database, production_ids):
    """{MO state: how many} of these MOs."""
    if not production_ids:
        return {}
    rows = database.sql(
        "SELECT state, count(*) FROM mrp_production WHERE id IN (%s) GROUP BY state"
        % ",".join(str(i) for i in production_ids)
    )
    return {state: int(n) for state, n in (row.split("|") for row in rows.splitlines() if row)}


def settled_count(states):
    """How many of the counted MOs are done or cancelled."""
    return states.get("done", 0) + states.get("cancel", 0)


def take_held(line, held):
    """Batches the trust boundary holds: recorded in `held` (reasons, stock),
    then cancelled as a manager would, so the queue empties and the line goes on."""
    rows = line.server.rpc(
        "mo.batch",
        "search_read",
        [("review_state", "=", "needs_review")],
        fields=["production_id", "mo_reference", "review_reasons", "actual_weight_quantity_finished_goods"],
    )
    for row in rows:
        production_id = row["production_id"][0]
        held[production_id] = {
            "mo": row["mo_reference"],
            "reasons": row["review_reasons"],
            "reached_stock_while_held": reached_stock(line.database, [production_id]).get(production_id, 0),
        }
    if rows:
        line.server.rpc(
            "mo.batch",
            "action_cancel",
            [row["id"] for row in rows],
            notes="Soak: held for review, cancelled by the soak's manager",
        )


def settled_line_problems(line, production_ids, queue_seconds=30):
    """What must hold once the soak's line has settled (its PLC a plant
    `Simulator`), as (problems, check_outcome's summary): the queue empty
    within `queue_seconds`, every READ slot's result acknowledged, the MOs'
    outcome and their archive sound."""
    database, problems = line.database, []
    try:
        wait_for(
            lambda: database.sql("SELECT count(*) FROM mo_batch") == "0", queue_seconds, 1, "an empty queue"
        )
    except AssertionError:
        left = database.sql(
            "SELECT string_agg(mo_reference || ' (' || state || coalesce(', ' || last_error, '') || ')',"
            " '; ') FROM mo_batch"
        )
        problems.append("batches left in the queue (waited %ds more): %s" % (queue_seconds, left))
    try:
        wait_for(lambda: not unacknowledged_slots(line.plc.port), 20, 1, "acknowledged READ slots")
    except AssertionError:
        problems.append("READ slots not acknowledged: %s" % unacknowledged_slots(line.plc.port))
    outcome_problems, summary = check_outcome(database, production_ids, line.plc)
    problems += outcome_problems
    problems += archive_integrity(database, production_ids)
    return problems, summary


def command(script):
    """How the soak `script` (a __file__) was started, for its figures."""
    return "benchmarks/%s %s" % (os.path.basename(script), " ".join(sys.argv[1:]))


def add_common_figures(figures, script, args, seconds, problems):
    """`figures` with what a soak run keeps besides: its command, options, run time and problems."""
    figures.update(
        command=command(script), options=dict(vars(args)), seconds=round(seconds, 1), problems=problems
    )
    return figures


def read_slots_of(port, slot_count=10, attempts=20):
    """The READ slots of a (simulated) PLC, decoded, read over FINS with
    retries, so that a faulty simulator still answers: [SlotReading]."""
    layout = memory_map.default_read_layout()
    error = None
    for _attempt in range(attempts):
        try:
            with FinsClient(port=port, timeout=1.0, retries=3) as client:
                readings = memory_map.read_all_slots(client, layout, count=slot_count)
            if all(reading.valid for reading in readings):
                return readings
        except PlcError as exc:
            error = exc
        time.sleep(0.2)
    raise AssertionError("could not read the READ slots of port %s: %s" % (port, error))


def unacknowledged_slots(port):
    """READ slots holding a result (finished or failed) not acknowledged."""
    return [
        "slot %s: %s (batch %s)" % (reading.slot, reading.fields["mo_id"], reading.fields["batch_no"])
        for reading in read_slots_of(port)
        if not reading.is_empty
        and not reading.fields["status_read_data"]
        and (reading.fields["status_manufacturing"] or reading.fields["status_operation"])
    ]


def reached_stock(database, production_ids):
    """Done stock moves (raw or finished) of these MOs: {production id: count}."""
    if not production_ids:
        return {}
    ids = ",".join(str(i) for i in production_ids)
    rows = database.sql(
        "SELECT coalesce(raw_material_production_id, production_id), count(*) FROM stock_move"
        " WHERE state = 'done' AND (raw_material_production_id IN (%s) OR production_id IN (%s))"
        " GROUP BY 1" % (ids, ids)
    )
    return {int(a): int(b) for a, b in (row.split("|") for row in rows.splitlines() if row)}


def archive_integrity(database, production_ids):
    """What the crash soak checks, as a list of problems: no MO done without
    its history record, no history record without a done or cancelled MO,
    no batch archived or finished twice, no stock posted twice."""
    problems = []
    ids = ",".join(str(i) for i in production_ids)
    checks = (
        (
            "done MO without history",
            "SELECT p.name FROM mrp_production p WHERE p.id IN (%s) AND p.state = 'done'"
            " AND NOT EXISTS (SELECT 1 FROM mo_history h WHERE h.production_id = p.id"
            " AND h.status = 'completed')",
        ),
        (
            "cancelled MO without history",
            "SELECT p.name FROM mrp_production p WHERE p.id IN (%s) AND p.state = 'cancel'"
            " AND NOT EXISTS (SELECT 1 FROM mo_history h WHERE h.production_id = p.id)",
        ),
        (
            "history without a done or cancelled MO",
            "SELECT h.mo_reference || ' (' || h.status || ', MO ' || p.state || ')' FROM mo_history h"
            " JOIN mrp_production p ON p.id = h.production_id WHERE p.id IN (%s)"
            " AND NOT ((h.status = 'completed' AND p.state = 'done')"
            " OR (h.status IN ('cancelled', 'failed') AND p.state = 'cancel'))",
        ),
        (
            "MO archived more than once",
            "SELECT p.name || ' x' || count(h.id) FROM mrp_production p JOIN mo_history h"
            " ON h.production_id = p.id WHERE p.id IN (%s) GROUP BY p.id HAVING count(h.id) > 1",
        ),
        (
            "queue batch archived more than once",
            "SELECT h.queue_batch_id || ' x' || count(*) FROM mo_history h WHERE h.production_id IN (%s)"
            " GROUP BY h.queue_batch_id HAVING count(*) > 1",
        ),
        (
            # Odoo books an overproduction as an extra move: the sum must be the PLC's weight.
            "finished goods posted other than once",
            "SELECT p.name || ': ' || coalesce(sum(m.product_qty), 0) || ' kg posted, PLC '"
            " || h.actual_weight_quantity_finished_goods FROM mrp_production p JOIN mo_history h"
            " ON h.production_id = p.id AND h.status = 'completed' LEFT JOIN stock_move m"
            " ON m.production_id = p.id AND m.state = 'done' WHERE p.id IN (%s)"
            " GROUP BY p.id, h.id HAVING abs(coalesce(sum(m.product_qty), 0)"
            " - h.actual_weight_quantity_finished_goods) > 0.01",
        ),
        (
            "cancelled MO with stock posted",
            "SELECT p.name FROM mrp_production p JOIN stock_move m ON (m.production_id = p.id"
            " OR m.raw_material_production_id = p.id) AND m.state = 'done'"
            " WHERE p.id IN (%s) AND p.state = 'cancel' GROUP BY p.id",
        ),
        (
            "MO still in the queue and archived",
            "SELECT b.mo_reference FROM mo_batch b JOIN mo_history h ON h.production_id = b.production_id"
            " WHERE b.production_id IN (%s)",
        ),
    )
    for what, query in checks:
        rows = [row for row in database.sql(query % ids).splitlines() if row]
        if rows:
            problems.append("%s: %s" % (what, ", ".join(rows[:10])))
    return problems


def write_report(name, title, rows, figures, problems=()):
    """Print a two-column table, keep the figures as .bench/<name>.json, then
    print each problem."""
    width = max([len(str(key)) for key, _value in rows] + [10])
    print("\n%s" % title)
    print("%s  %s" % ("-" * width, "-" * 30))
    for key, value in rows:
        print("%-*s  %s" % (width, key, value))
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / ("%s.json" % name)
    path.write_text(json.dumps(figures, indent=2, sort_keys=True, default=str))
    print("\nfigures written to %s" % path)
    for problem in problems:
        print("PROBLEM: %s" % problem)
