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

import time

import soak_harness as soak
from system_harness import Line

from plclib.simulator import FAULT_KINDS


def build_parser():
    parser = soak.argument_parser(__doc__, "soak_faults")
    parser.add_argument("--batches", type=int, default=1000, help="MOs to run (default 1000)")
    parser.add_argument("--wave", type=int, default=50, help="MOs confirmed at once (default 50)")
    soak.add_plant_options(parser, batch_seconds=1.0, failure_rate=0.05, seed=1)
    parser.add_argument("--fault-rate-all", type=float, default=0.05, help="each fault kind's rate per reply")
    parser.add_argument("--fault-delay", type=float, default=0.15, help="seconds a delayed reply waits")
    parser.add_argument("--plc-timeout", type=float, default=0.3, help="the PLC record's reply timeout (s)")
    # Above 655.36 kg a value takes two words, which a torn read can split.
    parser.add_argument("--quantity", type=float, default=10000.0, help="kg per MO")
    parser.add_argument(
        "--stall-seconds", type=float, default=180, help="give up after no progress this long"
    )
    return parser


def run(args, log=print):
    """The soak; returns (figures, problems)."""
    if args.fault_delay >= args.plc_timeout:
        raise SystemExit("--fault-delay must stay below --plc-timeout")
    faults = ["--fault-rate-all", args.fault_rate_all, "--fault-delay", args.fault_delay]
    problems, held = [], {}
    started = time.monotonic()
    with Line(soak.plant_simulator(args, *faults), args.name) as line:
        simulator, plant = line.plc, line.plant
        line.server.rpc("scada.plc", "write", [plant.plc_id], {"timeout": args.plc_timeout})
        confirmed = []
        progress_at, last_settled, last_print = time.monotonic(), -1, 0.0
        while True:
            states = soak.count_states(line.database, confirmed)
            settled = soak.settled_count(states)
            open_count = len(confirmed) - settled
            if len(confirmed) < args.batches and open_count < max(10, args.wave // 2):
                confirmed += plant.confirm_many(min(args.wave, args.batches - len(confirmed)), args.quantity)
            soak.take_held(line, held)
            now = time.monotonic()
            if settled != last_settled:
                progress_at, last_settled = now, settled
            if now - last_print >= 15:
                last_print = now
                injected = sum(simulator.stats().get("faults_injected", {}).values())
                log(
                    "[soak] %5.0fs  confirmed %d  done %d  cancelled %d  held %d  faults %d"
                    % (
                        now - started,
                        len(confirmed),
                        states.get("done", 0),
                        states.get("cancel", 0),
                        len(held),
                        injected,
                    )
                )
            if len(confirmed) >= args.batches and settled == len(confirmed):
                break
            if now - progress_at > args.stall_seconds:
                problems.append(
                    "stalled: no MO settled for %ds (%d of %d open)"
                    % (args.stall_seconds, open_count, len(confirmed))
                )
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        settle_problems, summary = soak.settled_line_problems(line, confirmed)
        problems += settle_problems
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
        errors = line.server.errors()
        if errors:
            problems.append("%d ERROR lines in the server log, first: %s" % (len(errors), errors[0]))
        injected = stats.get("faults_injected", {})
        figures = {
            "batches": len(confirmed),
            "done": summary["done"],
            "cancelled": summary["cancel"],
            "plc_failed": stats.get("failed", 0),
            "plc_finished": stats.get("finished", 0),
            "held_for_review": len(held),
            "held": list(held.values()),
            "recipes_taken": summary["takes"],
            "requests_served": stats.get("requests_served", 0),
            "faults_injected": {kind: injected.get(kind, 0) for kind in FAULT_KINDS},
            "faults_total": sum(injected.values()),
            "batches_per_minute": round(60.0 * len(confirmed) / elapsed, 1) if elapsed else 0,
        }
        return soak.add_common_figures(figures, __file__, args, elapsed, problems), problems


def report(figures, problems, name="soak_faults"):
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
    soak.write_report(name, "Fault soak", rows, figures, problems)


if __name__ == "__main__":
    soak.main(build_parser, run, report)
