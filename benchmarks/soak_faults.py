"""Fault soak: many short batches through the real Odoo server (the PLC
runner loaded server-wide, as in production) and the `scada-plc sim`
simulator in plant mode, the simulator injecting every fault kind of the
FINS link (drop, delay, duplicate, wrong_sid, wrong_command, end_code,
warning_flag, truncated, garbage, torn, lost_request, refuse) plus batches
the PLC fails.  MOs are confirmed in waves while the line runs.

At the end every MO must be exactly one of: done with the PLC's figures
(consumption per silo and finished weight as the PLC reported them) or
cancelled; every batch archived exactly once; no recipe taken twice by
the PLC; nothing stuck (no batch left in the queue, no READ slot holding
an unacknowledged result).  Batches held for review by the trust boundary
(figures outside the plausibility limits, e.g. from torn values) are
counted, checked not to have reached stock, and cancelled as a manager
would, so the line goes on.  Prints a table, writes .bench/soak_faults.json,
exits 1 on any problem.

Run: .venv/bin/python benchmarks/soak_faults.py [--batches 1000] [--fault-rate-all 0.05]
     [--failure-rate 0.05] [--batch-seconds 1] [--fault-delay 0.15] [--plc-timeout 0.3] [--wave 50]
(needs the bench: `make setup` and the template database of `make test`)."""

import argparse
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from system_harness import (  # noqa: E402
    Database,
    OdooServer,
    Plant,
    Simulator,
    archive_integrity,
    check_outcome,
    reached_stock,
    unacknowledged_slots,
    wait_for,
    write_report,
)

FAULT_KINDS = (
    "drop",
    "delay",
    "duplicate",
    "wrong_sid",
    "wrong_command",
    "end_code",
    "warning_flag",
    "truncated",
    "garbage",
    "torn",
    "lost_request",
    "refuse",
)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=1000, help="MOs to run (default 1000)")
    parser.add_argument("--wave", type=int, default=50, help="MOs confirmed at once (default 50)")
    parser.add_argument("--batch-seconds", type=float, default=1.0, help="run time of a batch on the PLC")
    parser.add_argument("--fault-rate-all", type=float, default=0.05, help="each fault kind's rate per reply")
    parser.add_argument("--fault-delay", type=float, default=0.15, help="seconds a delayed reply waits")
    parser.add_argument("--failure-rate", type=float, default=0.05, help="share of batches the PLC fails")
    parser.add_argument("--plc-timeout", type=float, default=0.3, help="the PLC record's reply timeout (s)")
    parser.add_argument(
        "--quantity",
        type=float,
        default=10000.0,
        help="kg per MO (above 655.36 kg a value has two words that a torn read can split)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--stall-seconds", type=float, default=180, help="give up after no progress this long"
    )
    parser.add_argument("--name", default="soak_faults", help="name of the JSON file under .bench/")
    return parser


def count_states(database, production_ids):
    if not production_ids:
        return {}
    rows = database.sql(
        "SELECT state, count(*) FROM mrp_production WHERE id IN (%s) GROUP BY state"
        % ",".join(str(i) for i in production_ids)
    )
    return {state: int(n) for state, n in (row.split("|") for row in rows.splitlines() if row)}


def take_held(server, database, held):
    """Batches the trust boundary holds: recorded (reasons, stock), then
    cancelled as a manager would, so the queue empties and the line goes on."""
    rows = server.rpc(
        "mo.batch",
        "search_read",
        [("review_state", "=", "needs_review")],
        fields=["production_id", "mo_id", "review_reasons", "actual_weight_quantity_finished_goods"],
    )
    for row in rows:
        production_id = row["production_id"][0]
        held[production_id] = {
            "mo": row["mo_id"],
            "reasons": row["review_reasons"],
            "reached_stock_while_held": reached_stock(database, [production_id]).get(production_id, 0),
        }
    if rows:
        server.rpc(
            "mo.batch",
            "action_cancel",
            [row["id"] for row in rows],
            notes="Soak: held for review, cancelled by the soak's manager",
        )


def run(args, log=print):
    """The soak; returns (figures, problems)."""
    options = ["--batch-seconds", args.batch_seconds, "--fault-rate-all", args.fault_rate_all]
    options += ["--fault-delay", args.fault_delay, "--failure-rate", args.failure_rate, "--seed", args.seed]
    if args.fault_delay >= args.plc_timeout:
        raise SystemExit("--fault-delay must stay below --plc-timeout")
    simulator = Simulator(args.name, *options)
    database = Database()
    server = None
    problems, held = [], {}
    started = time.monotonic()
    try:
        server = OdooServer(database, args.name)
        plant = Plant(server, simulator.port, poll_interval=1)
        server.rpc("scada.plc", "write", [plant.plc_id], {"timeout": args.plc_timeout})
        confirmed = []
        progress_at, last_settled, last_print = time.monotonic(), -1, 0.0
        while True:
            states = count_states(database, confirmed)
            settled_count = states.get("done", 0) + states.get("cancel", 0)
            open_count = len(confirmed) - settled_count
            if len(confirmed) < args.batches and open_count < max(10, args.wave // 2):
                confirmed += plant.confirm_many(min(args.wave, args.batches - len(confirmed)), args.quantity)
            take_held(server, database, held)
            now = time.monotonic()
            if settled_count != last_settled:
                progress_at, last_settled = now, settled_count
            if now - last_print >= 15:
                last_print = now
                faults = sum(simulator.stats().get("faults_injected", {}).values())
                log(
                    "[soak] %5.0fs  confirmed %d  done %d  cancelled %d  held %d  faults %d"
                    % (
                        now - started,
                        len(confirmed),
                        states.get("done", 0),
                        states.get("cancel", 0),
                        len(held),
                        faults,
                    )
                )
            if len(confirmed) >= args.batches and settled_count == len(confirmed):
                break
            if now - progress_at > args.stall_seconds:
                problems.append(
                    "stalled: no MO settled for %ds (%d of %d open)"
                    % (args.stall_seconds, open_count, len(confirmed))
                )
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        # Settling: the last results acknowledged, the queue empty.
        try:
            wait_for(lambda: database.sql("SELECT count(*) FROM mo_batch") == "0", 30, 1, "an empty queue")
        except AssertionError:
            problems.append(
                "batches left in the queue: %s"
                % database.sql("SELECT string_agg(mo_id || ' ' || state, ', ') FROM mo_batch")
            )
        try:
            wait_for(lambda: not unacknowledged_slots(simulator.port), 20, 1, "acknowledged READ slots")
        except AssertionError:
            problems.append("READ slots not acknowledged: %s" % unacknowledged_slots(simulator.port))
        outcome_problems, summary = check_outcome(database, confirmed, simulator)
        problems += outcome_problems
        problems += archive_integrity(database, confirmed)
        stats = simulator.stats()
        takes = stats.get("takes_by_mo", {})
        if len(takes) != len(confirmed) or summary["takes"] != len(confirmed):
            problems.append(
                "the PLC took %d recipes for %d MOs (%d confirmed)"
                % (summary["takes"], len(takes), len(confirmed))
            )
        held_in_stock = {p: h for p, h in held.items() if h["reached_stock_while_held"]}
        if held_in_stock:
            problems.append("held batches reached stock: %s" % held_in_stock)
        errors = server.errors()
        if errors:
            problems.append("%d ERROR lines in the server log, first: %s" % (len(errors), errors[0]))
        faults = stats.get("faults_injected", {})
        figures = {
            "command": "benchmarks/soak_faults.py " + " ".join(sys.argv[1:]),
            "batches": len(confirmed),
            "done": summary["done"],
            "cancelled": summary["cancel"],
            "plc_failed": stats.get("failed", 0),
            "plc_finished": stats.get("finished", 0),
            "held_for_review": len(held),
            "held": list(held.values()),
            "recipes_taken": summary["takes"],
            "requests_served": stats.get("requests_served", 0),
            "faults_injected": {kind: faults.get(kind, 0) for kind in FAULT_KINDS},
            "faults_total": sum(faults.values()),
            "seconds": round(elapsed, 1),
            "batches_per_minute": round(60.0 * len(confirmed) / elapsed, 1) if elapsed else 0,
            "options": dict(vars(args)),
            "problems": problems,
        }
        return figures, problems
    finally:
        if server:
            server.stop()
        simulator.stop()
        database.drop()


def report(figures, problems):
    survived = "yes" if not problems else "NO"
    rows = [
        ("batches (MOs)", figures["batches"]),
        ("done with the PLC's figures", figures["done"]),
        ("cancelled (PLC failed the batch)", figures["plc_failed"]),
        ("cancelled in all", figures["cancelled"]),
        ("held for review (torn values)", figures["held_for_review"]),
        ("recipes taken by the PLC", figures["recipes_taken"]),
        ("FINS requests served", figures["requests_served"]),
    ]
    rows += [
        ("fault %s: injected / survived" % kind, "%d / %s" % (n, n if survived == "yes" else "?"))
        for kind, n in figures["faults_injected"].items()
    ]
    rows += [
        ("faults in all", figures["faults_total"]),
        ("run time (s)", figures["seconds"]),
        ("batches per minute", figures["batches_per_minute"]),
        ("problems (lost, double, wrong, stuck)", len(problems)),
    ]
    write_report(figures.get("name", "soak_faults"), "Fault soak", rows, figures)
    for problem in problems:
        print("PROBLEM: %s" % problem)


def main():
    args = build_parser().parse_args()
    figures, problems = run(args)
    figures["name"] = args.name
    report(figures, problems)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
