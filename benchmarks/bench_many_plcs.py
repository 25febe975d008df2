"""50 PLCs on loopback, 10 of them dead: one full poll round of the PLC
runner, the same code a server runs (DatabasePoller, PlcCycle, the task
code, real PostgreSQL), in this process.  Prints figures, not a test:

* time of one round against one PLC timeout (target: within timeout + 10%),
  and against the same cycles run one after another (baseline, same run);
* PLCs polled (live ones connected, dead ones marked in error);
* peak database connections of the database during the round, for 10 and
  for 50 PLCs (they should not grow with the PLC count).

Run: .venv/bin/python benchmarks/bench_many_plcs.py [--live 40] [--dead 10] [--timeout 2.0]
(2 s is a PLC record's default timeout.)
(needs the bench: `make setup` and the template database of `make test`)."""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from system_harness import BENCH, Database, free_port  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live", type=int, default=40)
    parser.add_argument("--dead", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()

    import odoo
    from odoo import SUPERUSER_ID, api

    database = Database()
    odoo.tools.config.parse_config(["-c", str(BENCH / "odoo.conf"), "-d", database.name])
    from odoo.addons.scada_plc_bridge.plclib.simulator import PlcSimulator
    from odoo.addons.scada_plc_bridge.runner.cycle import PlcCycle
    from odoo.addons.scada_plc_bridge.runner.runner import DatabasePoller
    from odoo.addons.scada_plc_bridge.transaction import Transactions

    simulators = [PlcSimulator(seed=n).start() for n in range(args.live)]
    try:
        registry = odoo.registry(database.name)
        with api.Environment.manage(), registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"scada_default_silos": False})
            env["scada.plc"].search([]).write({"active": False})
            ports = [sim.port for sim in simulators] + [free_port() for _ in range(args.dead)]
            plcs = env["scada.plc"].create(
                [
                    {"name": "Line %d" % n, "code": "L%02d" % n, "port": port, "timeout": args.timeout}
                    for n, port in enumerate(ports)
                ]
            )
            plcs.write({"read_retries": 0})
            plc_ids = plcs.ids

        def connections():
            return (
                int(database.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"))
                - 1
            )

        def measured_round(ids, run):
            peak, stop = [0], threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], connections())
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.monotonic()
            run(ids)
            elapsed = time.monotonic() - started
            stop.set()
            sampler.join()
            return elapsed, peak[0]

        executor = ThreadPoolExecutor(max_workers=64)
        poller = DatabasePoller(database.name, executor, threading.BoundedSemaphore(4))

        def runner_round(ids):
            poller.held = set()
            with api.Environment.manage():
                poller.intervals = dict.fromkeys(ids, 3600)
                futures = [executor.submit(poller._cycle, plc_id) for plc_id in ids]
                for future in futures:
                    future.result()

        def sequential_round(ids):
            transaction = Transactions(registry)
            with api.Environment.manage():
                for plc_id in ids:
                    PlcCycle(plc_id, transaction).run()

        runner_round(plc_ids)  # warm-up: registry, first queries
        small_time, small_peak = measured_round(plc_ids[:10], runner_round)
        round_time, round_peak = measured_round(plc_ids, runner_round)
        sequential_time, _peak = measured_round(plc_ids, sequential_round)
        states = dict(
            line.split("|")
            for line in database.sql(
                "SELECT state, count(*) FROM scada_plc WHERE id IN (%s) GROUP BY state"
                % ",".join(map(str, plc_ids))
            ).splitlines()
        )
        figures = {
            "plcs": len(plc_ids),
            "live": args.live,
            "dead": args.dead,
            "timeout_s": args.timeout,
            "round_s": round(round_time, 3),
            "round_over_timeout": round(round_time / args.timeout, 3),
            "sequential_round_s": round(sequential_time, 3),
            "speed_up_vs_sequential": round(sequential_time / round_time, 1),
            "connected": int(states.get("connected", 0)),
            "in_error": int(states.get("error", 0)),
            "peak_db_connections_10_plcs": small_peak,
            "peak_db_connections_50_plcs": round_peak,
        }
        print("%-32s %s" % ("figure", "value"))
        for key, value in figures.items():
            print("%-32s %s" % (key, value))
        (BENCH / "bench_many_plcs.json").write_text(json.dumps(figures, indent=2))
        executor.shutdown()
        poller.close()
    finally:
        for sim in simulators:
            sim.stop()
        odoo.sql_db.close_all()
        database.drop()


if __name__ == "__main__":
    main()
