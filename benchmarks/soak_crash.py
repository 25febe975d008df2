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

import random
import time

import soak_harness as soak
from system_harness import Line

TARGETS = {
    "finish": (("[TASK 2]", "finished on the PLC"), ("[TASK 3]", "done in Odoo and archived")),
    "write": (("[TASK 1]", "queued"), ("[TASK 1]", " in slot ")),
    "cancel": (("[TASK 2]", "failed on the PLC"), ("auto-cancelled",)),
}


def build_parser():
    parser = soak.argument_parser(__doc__, "soak_crash")
    parser.add_argument("--kills", type=int, default=30, help="SIGKILLs of the server")
    soak.add_plant_options(parser, batch_seconds=2.0, failure_rate=0.25, seed=2)
    parser.add_argument("--wave", type=int, default=10, help="MOs confirmed when fewer are open")
    parser.add_argument("--aim-seconds", type=float, default=20, help="longest wait for an aimed line")
    parser.add_argument("--settle-seconds", type=float, default=240, help="longest wait for the end")
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
    """The soak; returns (figures, problems)."""
    rng = random.Random(args.seed)
    problems, kills, held = [], [], {}
    started = time.monotonic()
    with Line(soak.plant_simulator(args), "%s-00" % args.name) as line:
        confirmed = []
        # Each kind of aim at least once, then at random.
        aims = list(TARGETS) + ["random"]
        aims += [rng.choice(list(TARGETS) + ["random"]) for _n in range(max(0, args.kills - len(aims)))]
        aims = aims[: args.kills]
        rng.shuffle(aims)
        for number, aim in enumerate(aims, 1):
            if len(confirmed) - soak.settled_count(soak.count_states(line.database, confirmed)) < args.wave:
                confirmed += line.plant.confirm_many(args.wave)
            soak.take_held(line, held)
            offset = line.server.log.stat().st_size
            aimed_at = None
            if aim == "random":
                time.sleep(rng.uniform(0.5, 8.0))
            else:
                aimed_at = wait_for_line(line.server.log, offset, TARGETS[aim], args.aim_seconds)
                time.sleep(rng.uniform(0.0, 0.15))
            line.server.kill()
            kills.append(
                {
                    "aim": aim if aim == "random" or aimed_at else aim + " (line not seen: random)",
                    "line": aimed_at,
                }
            )
            log("[crash] kill %2d/%d  %-7s %s" % (number, len(aims), aim, (aimed_at or "")[-90:]))
            line.start_server("%s-%02d" % (args.name, number))
        # The last server lets the line settle (its crons catch what the kills left).
        deadline = time.monotonic() + args.settle_seconds
        while time.monotonic() < deadline:
            soak.take_held(line, held)
            if soak.settled_count(soak.count_states(line.database, confirmed)) == len(confirmed):
                break
            time.sleep(2)
        elapsed = time.monotonic() - started
        states = soak.count_states(line.database, confirmed)
        settle_problems, summary = soak.settled_line_problems(line, confirmed)
        problems += settle_problems
        if held:
            problems.append("held for review after crashes (no faults injected): %s" % held)
        errors = [error for server in line.servers for error in server.errors()]
        by_aim = {}
        for kill in kills:
            by_aim[kill["aim"]] = by_aim.get(kill["aim"], 0) + 1
        figures = {
            "kills": len(kills),
            "kills_by_aim": by_aim,
            "kill_lines": kills,
            "mos": len(confirmed),
            "done": states.get("done", 0),
            "cancelled": states.get("cancel", 0),
            "recipes_taken": summary["takes"],
            "plc_failed": line.plc.stats().get("failed", 0),
            "server_error_lines": len(errors),
            "server_errors_first": errors[:5],
        }
        return soak.add_common_figures(figures, __file__, args, elapsed, problems), problems


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
    soak.write_report(name, "Crash consistency", rows, figures, problems)


if __name__ == "__main__":
    soak.main(build_parser, run, report)
