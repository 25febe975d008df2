"""What an idle plant costs: 10 PLCs at poll interval 2 s, nothing changing
(no batch, no request), the PLC runner as a server runs it (PlcRunner in a
thread of this process, real PostgreSQL, the simulators in a process of
their own on 127.0.0.1).  Prints figures, not a test:

* CPU of the runner's process and of the database's PostgreSQL backends
  (/proc/<pid>/stat utime+stime of the backends pg_stat_activity lists for
  the database), as % of one core;
* committed transactions per second (pg_stat_database.xact_commit);
* FINS round trips per poll (the simulators' requests served / cycles);

for the runner that sleeps until asked (LISTEN/NOTIFY, select()) and, in
the same run, for the runner as it was (a pass every 0.2 s that queries the
pending requests, the PLC list and plans re-read every 5 s) and for the
process doing nothing (its own floor); then the goals (Odoo + PostgreSQL
< 2 % of one core, < 10 commits/s), whether each is met, and what one idle
poll writes (transactions, and statements that write, per table).

Run: .venv/bin/python benchmarks/bench_idle.py [--seconds 60] [--warm-up 10]
(needs the bench: `make setup` and the template database of `make test`)."""

import argparse
import collections
import json
import os
import re
import sys
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from system_harness import BENCH, Database, Simulator, pg  # noqa: E402

PLCS = 10
POLL_INTERVAL = 2
GOAL_CPU_PERCENT = 2.0
GOAL_COMMITS_PER_SECOND = 10.0
TICKS = os.sysconf("SC_CLK_TCK")
WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def cpu_seconds(pid="self"):
    """utime + stime of a process (0 when it is gone)."""
    try:
        with open("/proc/%s/stat" % pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class Meter:
    """CPU and commits of a window: this process, the database's backends."""

    def __init__(self, database):
        self.database = database

    def _sql(self, query):
        # Read from another database: the reading adds no commit to the one measured.
        return pg("psql", "-d", "postgres", "-tAc", query % self.database.name).strip()

    def backends(self):
        return {
            int(pid) for pid in self._sql("SELECT pid FROM pg_stat_activity WHERE datname = '%s'").split()
        }

    def commits(self):
        return int(self._sql("SELECT xact_commit FROM pg_stat_database WHERE datname = '%s'"))

    def measure(self, seconds):
        backends = self.backends()
        start = {pid: cpu_seconds(pid) for pid in backends}
        own, commits, started = cpu_seconds(), self.commits(), time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        own = cpu_seconds() - own
        for pid in self.backends() - backends:  # a backend opened meanwhile: all of its CPU
            start[pid] = 0.0
        backend = sum(cpu_seconds(pid) - cpu for pid, cpu in start.items() if cpu_seconds(pid))
        # Busy backends report their statistics within a second or so: the lag
        # is alike at both ends of the window.
        commits = self.commits() - commits
        return {
            "seconds": round(elapsed, 1),
            "runner_cpu_percent": round(100 * own / elapsed, 2),
            "postgres_cpu_percent": round(100 * backend / elapsed, 2),
            "total_cpu_percent": round(100 * (own + backend) / elapsed, 2),
            "commits_per_s": round(commits / elapsed, 2),
        }


def every_pass_runner(runner_module):
    """The runner as it was before it listened: a pass every 0.2 s that asks
    the database for pending requests; the PLC list and the plans read
    again every 5 s.  Same cycles, same code otherwise."""
    DatabasePoller, PlcRunner = runner_module.DatabasePoller, runner_module.PlcRunner

    class EveryPassPoller(DatabasePoller):
        def _take_notifications(self):
            connection = self.listening()
            if connection is not None:
                del connection.notifies[:]
            if self.held:
                self.asked.update(
                    plc_id
                    for (plc_id,) in self._query(
                        "SELECT DISTINCT plc_id FROM scada_plc_request WHERE state = 'pending'"
                        " AND plc_id = ANY(%s)",
                        (sorted(self.held),),
                    )
                )

        def _refresh(self, now):
            super()._refresh(now)
            self._drop_plans()
            self.refresh_at = now + runner_module.REFRESH_SECONDS

    class EveryPassRunner(PlcRunner):
        poller_class = EveryPassPoller

        def wait(self, max_seconds=None):
            self._stop.wait(0.2)

    return EveryPassRunner


class Counting:
    """Cycles run (for FINS round trips per poll), and on demand what the
    cycles do to the database: transactions ("all", and by task method where
    the cycle names one) and writing statements."""

    def __init__(self, runner_module, cycle_module, transaction_module, sql_db):
        self.cycles = 0
        self.skip_cycles = False  # the runner's loop alone: each cycle does nothing
        self.tracing = False
        self.transactions = collections.Counter()
        self.writes = collections.Counter()
        self.lock = threading.Lock()
        counting = self

        poller_cycle = runner_module.DatabasePoller._cycle

        def _cycle(poller, plc_id, take_requests=True):
            with counting.lock:
                counting.cycles += 1
            if counting.skip_cycles:
                return None
            return poller_cycle(poller, plc_id, take_requests)

        runner_module.DatabasePoller._cycle = _cycle

        cycle_task = cycle_module.PlcCycle._task

        def _task(cycle, model, method, *args):
            if counting.tracing:
                with counting.lock:
                    counting.transactions["%s.%s" % (model, method)] += 1
            return cycle_task(cycle, model, method, *args)

        cycle_module.PlcCycle._task = _task

        call = transaction_module.Transactions.__call__

        def transaction(transactions, fn):
            if counting.tracing:
                with counting.lock:
                    counting.transactions["all"] += 1
            return call(transactions, fn)

        transaction_module.Transactions.__call__ = transaction

        execute = sql_db.Cursor.execute

        def traced_execute(cursor, query, params=None, log_exceptions=None):
            if counting.tracing:
                match = WRITE.match(query if isinstance(query, str) else query.decode())
                if match:
                    with counting.lock:
                        counting.writes["%s %s" % (match.group(1).split()[0].upper(), match.group(2))] += 1
            return execute(cursor, query, params, log_exceptions)

        sql_db.Cursor.execute = traced_execute


def fins_requests(simulator):
    return sum(stats.get("requests_served", 0) for stats in simulator.stats().values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each measured window")
    parser.add_argument("--warm-up", type=float, default=10.0, help="seconds before each window")
    parser.add_argument("--trace-seconds", type=float, default=10.0, help="window of the write inventory")
    args = parser.parse_args()

    import odoo
    from odoo import SUPERUSER_ID, api

    database = Database()
    odoo.tools.config.parse_config(["-c", str(BENCH / "odoo.conf"), "-d", database.name])
    from odoo.addons.scada_plc_bridge import transaction as transaction_module
    from odoo.addons.scada_plc_bridge.runner import cycle as cycle_module
    from odoo.addons.scada_plc_bridge.runner import runner as runner_module

    counting = Counting(runner_module, cycle_module, transaction_module, odoo.sql_db)
    simulator = Simulator("bench-idle", count=PLCS)
    try:
        registry = odoo.registry(database.name)
        with api.Environment.manage(), registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"scada_default_silos": False})
            env["scada.plc"].search([]).write({"active": False})
            env["scada.plc"].create(
                [
                    {
                        "name": "Line %d" % n,
                        "code": "L%02d" % n,
                        "port": simulator.port + n,
                        "timeout": 2.0,
                        "poll_interval": POLL_INTERVAL,
                    }
                    for n in range(PLCS)
                ]
            )
        meter = Meter(database)

        def run(runner_class, seconds):
            counting.cycles = 0
            runner = runner_class([database.name])
            thread = threading.Thread(target=runner.run, name="scada-plc-runner", daemon=True)
            thread.start()
            time.sleep(args.warm_up)
            started, cycles, requests = time.monotonic(), counting.cycles, fins_requests(simulator)
            figures = meter.measure(seconds)
            time.sleep(1)  # the simulators write their stats every 0.5 s
            cycles, requests = counting.cycles - cycles, fins_requests(simulator) - requests
            elapsed = time.monotonic() - started
            runner.stop()
            thread.join(30)
            figures["polls_per_s"] = round(cycles / elapsed, 2)
            figures["fins_round_trips_per_poll"] = round(requests / max(cycles, 1), 2)
            return figures

        floor = meter.measure(min(args.seconds, 10.0))
        every_pass = every_pass_runner(runner_module)
        counting.skip_cycles = True
        loop_before = run(every_pass, args.seconds / 2)
        loop_after = run(runner_module.PlcRunner, args.seconds / 2)
        counting.skip_cycles = False
        before = run(every_pass, args.seconds)
        after = run(runner_module.PlcRunner, args.seconds)

        # What an idle poll writes: a short window with the statements traced.
        counting.tracing = True
        counting.cycles = 0
        runner = runner_module.PlcRunner([database.name])
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        time.sleep(args.trace_seconds)
        runner.stop()
        thread.join(30)
        counting.tracing = False
        polls = max(counting.cycles, 1)
        per_poll = {
            "transactions": {
                name: round(count / polls, 2) for name, count in sorted(counting.transactions.items())
            },
            "writes": {name: round(count / polls, 2) for name, count in sorted(counting.writes.items())},
        }

        goals = {
            "cpu_percent_odoo_plus_postgres < %s" % GOAL_CPU_PERCENT: after["total_cpu_percent"]
            < GOAL_CPU_PERCENT,
            "commits_per_s < %s" % GOAL_COMMITS_PER_SECOND: after["commits_per_s"] < GOAL_COMMITS_PER_SECOND,
        }
        print(
            "%d PLCs, poll interval %d s, nothing changing; windows of %.0f s (loop only: %.0f s)"
            % (PLCS, POLL_INTERVAL, args.seconds, args.seconds / 2)
        )
        columns = (
            ("sleeps-listens", after),
            ("0.2 s pass", before),
            ("loop: listens", loop_after),
            ("loop: 0.2 s", loop_before),
            ("process idle", floor),
        )
        print("%-26s" % "figure" + "".join("%15s" % name for name, _figures in columns))
        for key in after:
            print("%-26s" % key + "".join("%15s" % figures.get(key, "-") for _name, figures in columns))

        def ratio(new, old, key):
            return round(new[key] / max(old[key], 0.01), 2)

        ratios = {
            "cpu_vs_0.2s_pass": ratio(after, before, "total_cpu_percent"),
            "commits_vs_0.2s_pass": ratio(after, before, "commits_per_s"),
            "loop_cpu_vs_0.2s_pass": ratio(loop_after, loop_before, "total_cpu_percent"),
            "loop_commits_vs_0.2s_pass": ratio(loop_after, loop_before, "commits_per_s"),
        }
        for key, value in ratios.items():
            print("%-26s %14s" % (key, value))
        print("goals:")
        for goal, met in goals.items():
            print("  %-44s %s" % (goal, "met" if met else "NOT met"))
        print("one idle poll (%d polls traced):" % polls)
        print("  transactions: %s" % json.dumps(per_poll["transactions"]))
        print("  writes:       %s" % json.dumps(per_poll["writes"]))
        figures = {
            "plcs": PLCS,
            "poll_interval_s": POLL_INTERVAL,
            "sleeps_and_listens": after,
            "pass_every_0.2s": before,
            "loop_only_sleeps_and_listens": loop_after,
            "loop_only_pass_every_0.2s": loop_before,
            "process_idle": floor,
            "ratios": ratios,
            "goals_met": goals,
            "per_idle_poll": per_poll,
        }
        (BENCH / "bench_idle.json").write_text(json.dumps(figures, indent=2))
    finally:
        simulator.stop()
        odoo.sql_db.close_all()
        database.drop()


if __name__ == "__main__":
    main()
