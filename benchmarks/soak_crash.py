"""Crash consistency: the real Odoo server (PLC runner loaded server-wide)
is SIGKILLed, process group and all, at chosen and at random moments while
the simulator's line runs, then started again; after the last restart the
line settles.  The kills are aimed by watching the server log:

* finish: right after `[TASK 2] ... finished on the PLC` (Task 3 finishes the
  MO next) or `[TASK 3] ... done in Odoo and archived` (just before its commit);
* write: right after `[TASK 1] ... queued` (the recipe writes follow) or a
  recipe write recorded (`[TASK 1] ... in slot`, more writes follow);
* cancel: right after `[TASK 2] ... failed on the PLC` (auto-cancel follows)
  or `auto-cancelled` (just before its commit);
* random: at a random moment.

Each aimed kill waits a random 0-150 ms after its line.  Then checks: no MO
done without its history record, no history record without a done or
cancelled MO, no batch archived or finished twice (stock posted once), no
recipe lost (every confirmed MO ends done or cancelled) or taken twice by
the PLC, the figures in stock as the PLC reported them, nothing stuck.
Prints a table, writes .bench/soak_crash.json, exits 1 on any problem.

Run: .venv/bin/python benchmarks/soak_crash.py [--kills 30] [--batch-seconds 2] [--failure-rate 0.25]
(needs the bench: `make setup` and the template database of `make test`)."""

import argparse
import os
import random
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from soak_faults import count_states, take_held  # noqa: E402
from system_harness import (  # noqa: E402
    Database,
    OdooServer,
    Plant,
    Simulator,
    archive_integrity,
    check_outcome,
    unacknowledged_slots,
    wait_for,
    write_report,
)

TARGETS = {
    "finish": (("[TASK 2]", "finished on the PLC"), ("[TASK 3]", "done in Odoo and archived")),
    "write": (("[TASK 1]", "queued"), ("[TASK 1]", " in slot ")),
    "cancel": (("[TASK 2]", "failed on the PLC"), ("auto-cancelled",)),
}


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--batch-seconds", type=float, default=2.0)
    parser.add_argument("--failure-rate", type=float, default=0.25, help="share of batches the PLC fails")
    parser.add_argument("--wave", type=int, default=10, help="MOs confirmed when fewer are open")
    parser.add_argument("--aim-seconds", type=float, default=20, help="longest wait for an aimed line")
    parser.add_argument("--settle-seconds", type=float, default=240, help="longest wait for the end")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--name", default="soak_crash")
    return parser


def wait_for_line(log_path, offset, needles, timeout):
    """The first new log line (after `offset`) holding all of one of the
    `needles` tuples, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    buffer = ""
    with open(log_path, errors="replace") as log:
        log.seek(offset)
        while time.monotonic() < deadline:
            chunk = log.read()
            if chunk:
                buffer += chunk
                lines = buffer.split("\n")
                buffer = lines.pop()
                for line in lines:
                    if any(all(n in line for n in needle) for needle in needles):
                        return line
            else:
                time.sleep(0.005)
    return None


def run(args, log=print):
    rng = random.Random(args.seed)
    simulator = Simulator(
        args.name,
        "--batch-seconds",
        args.batch_seconds,
        "--failure-rate",
        args.failure_rate,
        "--seed",
        args.seed,
    )
    database = Database()
    servers, problems, kills, held = [], [], [], {}
    server = None
    started = time.monotonic()
    try:
        server = OdooServer(database, "%s-00" % args.name)
        servers.append(server)
        plant = Plant(server, simulator.port, poll_interval=1)
        confirmed = []
        # Each kind of aim at least once, then at random.
        aims = list(TARGETS) + ["random"]
        aims += [rng.choice(list(TARGETS) + ["random"]) for _n in range(max(0, args.kills - len(aims)))]
        aims = aims[: args.kills]
        rng.shuffle(aims)
        for number, aim in enumerate(aims, 1):
            states = count_states(database, confirmed)
            if len(confirmed) - states.get("done", 0) - states.get("cancel", 0) < args.wave:
                confirmed += plant.confirm_many(args.wave)
            take_held(server, database, held)
            offset = server.log.stat().st_size
            line = None
            if aim == "random":
                time.sleep(rng.uniform(0.5, 8.0))
            else:
                line = wait_for_line(server.log, offset, TARGETS[aim], args.aim_seconds)
                time.sleep(rng.uniform(0.0, 0.15))
            server.kill()
            kills.append(
                {"aim": aim if aim == "random" or line else aim + " (line not seen: random)", "line": line}
            )
            log("[crash] kill %2d/%d  %-7s %s" % (number, len(aims), aim, (line or "")[-90:]))
            server = OdooServer(database, "%s-%02d" % (args.name, number))
            servers.append(server)
            plant.server = server
        # The last server lets the line settle (its crons catch what the kills left).
        deadline = time.monotonic() + args.settle_seconds
        while time.monotonic() < deadline:
            take_held(server, database, held)
            states = count_states(database, confirmed)
            if states.get("done", 0) + states.get("cancel", 0) == len(confirmed):
                break
            time.sleep(2)
        elapsed = time.monotonic() - started
        states = count_states(database, confirmed)
        stuck = database.sql(
            "SELECT string_agg(mo_id || ' (' || state || coalesce(', ' || last_error, '') || ')', '; ')"
            " FROM mo_batch"
        )
        if stuck:
            problems.append(
                "batches left in the queue after %ds of settling: %s" % (args.settle_seconds, stuck)
            )
        try:
            wait_for(lambda: not unacknowledged_slots(simulator.port), 20, 1, "acknowledged READ slots")
        except AssertionError:
            problems.append("READ slots not acknowledged: %s" % unacknowledged_slots(simulator.port))
        outcome_problems, summary = check_outcome(database, confirmed, simulator)
        problems += outcome_problems
        problems += archive_integrity(database, confirmed)
        if held:
            problems.append("held for review after crashes (no faults injected): %s" % held)
        errors = [line for s in servers for line in s.errors()]
        by_aim = {}
        for kill in kills:
            by_aim[kill["aim"]] = by_aim.get(kill["aim"], 0) + 1
        figures = {
            "command": "benchmarks/soak_crash.py " + " ".join(sys.argv[1:]),
            "kills": len(kills),
            "kills_by_aim": by_aim,
            "kill_lines": kills,
            "mos": len(confirmed),
            "done": states.get("done", 0),
            "cancelled": states.get("cancel", 0),
            "recipes_taken": summary["takes"],
            "plc_failed": simulator.stats().get("failed", 0),
            "server_error_lines": len(errors),
            "server_errors_first": errors[:5],
            "seconds": round(elapsed, 1),
            "options": dict(vars(args)),
            "problems": problems,
        }
        return figures, problems
    finally:
        if server:
            server.stop()
        simulator.stop()
        database.drop()


def report(figures, problems, name="soak_crash"):
    rows = [("kills (SIGKILL of the server's process group)", figures["kills"])]
    rows += [("  aimed at %s" % aim, n) for aim, n in sorted(figures["kills_by_aim"].items())]
    rows += [
        ("MOs confirmed", figures["mos"]),
        ("done", figures["done"]),
        ("cancelled (PLC failed the batch)", figures["cancelled"]),
        ("recipes taken by the PLC", figures["recipes_taken"]),
        ("ERROR lines in the server logs", figures["server_error_lines"]),
        ("run time (s)", figures["seconds"]),
        ("problems (lost, double, inconsistent, stuck)", len(problems)),
    ]
    write_report(name, "Crash consistency", rows, figures)
    for problem in problems:
        print("PROBLEM: %s" % problem)


def main():
    args = build_parser().parse_args()
    figures, problems = run(args)
    report(figures, problems, args.name)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
