"""System tests of the live runtime: the real Odoo 14 server as a
subprocess (its cron runner, HTTP, the PLC runner loaded server-wide, as
`make run` starts it), the `scada-plc` simulator in plant mode as another,
on 127.0.0.1.  Nothing is mocked: these are the processes the plant runs.

They take minutes, not seconds: a runtime that stops after a minute (as
Odoo 14's cron runner did to the first Task 2) is only caught by running
longer than that."""

import threading
import time
import xmlrpc.client
from xml.parsers.expat import ExpatError

import pytest
from system_harness import (
    Database,
    Line,
    OdooServer,
    Plant,
    Simulator,
    check_outcome,
    free_port,
    settled,
    wait_for,
)

pytestmark = pytest.mark.system

SCADA_CRONS = (
    "ir_cron_task1_sync_mo",
    "ir_cron_task2_plc_read",
    "ir_cron_task3_process_completed",
    "ir_cron_task4_health",
)


@pytest.fixture
def cleanup():
    items = []
    yield items
    for item in reversed(items):
        try:
            item()
        except Exception:  # clean up what can be cleaned
            pass


def start(cleanup, name, *server_options, sim_options=()):
    line = Line(Simulator(name, *sim_options), name, *server_options)
    cleanup.append(line.close)
    # The crons due now, so the cron runner runs each within the test.
    line.database.sql(
        "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' WHERE id IN (SELECT res_id FROM"
        " ir_model_data WHERE module = 'scada_plc_bridge' AND model = 'ir.cron')"
    )
    return line.plc, line.database, line.server, line.plant


def run_waves(plant, waves, per_wave, every_seconds, settle_seconds=120):
    """MOs confirmed in waves while the line runs: each wave must be taken
    by Task 1 and finished without anybody pressing anything."""
    production_ids = []
    for _wave in range(waves):
        started = time.monotonic()
        wave = plant.confirm_mos(per_wave)
        production_ids += wave
        wait_for(lambda wave=wave: settled(plant, wave), settle_seconds, 1, "a wave of MOs to finish")
        time.sleep(max(0.0, every_seconds - (time.monotonic() - started)))
    return production_ids


def still_polled(simulator):
    """The PLC keeps being read: its simulator serves new requests within
    a few seconds (Odoo writes its heartbeat only once a minute)."""
    served = simulator.stats().get("requests_served", 0)
    return wait_for(lambda: simulator.stats().get("requests_served", 0) >= served + 3, 10, 0.5, "polls")


def test_the_line_keeps_running_for_minutes(cleanup):
    """Threaded mode and `--workers 2`, side by side (each its own database,
    simulator and server), for more than three minutes each."""
    lines = {}
    for mode, options in (
        ("threaded", ()),
        ("workers", ("--workers", "2", "--longpolling-port", free_port())),
    ):
        lines[mode] = start(
            cleanup,
            "runtime-%s" % mode,
            *options,
            sim_options=("--batch-seconds", "2", "--fail-batch", "3", "--fail-batch", "14", "--seed", "7"),
        )
    started = time.monotonic()
    production_ids, failures = {}, {}

    def run(mode):
        try:
            production_ids[mode] = run_waves(lines[mode][3], waves=6, per_wave=4, every_seconds=30)
        except Exception as error:  # reported below, with the mode
            failures[mode] = error

    threads = [threading.Thread(target=run, args=(mode,)) for mode in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    # Three minutes in, each PLC is still polled every second or so.
    time.sleep(max(0.0, 185 - (time.monotonic() - started)))
    for mode, (simulator, database, server, _plant) in lines.items():
        assert still_polled(simulator), "%s: polling stopped" % mode
        problems, summary = check_outcome(database, production_ids[mode], simulator)
        assert not problems, (mode, problems)
        assert summary["cancel"] >= 2 and summary["done"] >= 20, (mode, summary)
        assert summary["takes"] == len(production_ids[mode]), (mode, summary)
        assert not server.errors(), (mode, server.errors()[:5])
        assert not server.log_lines("timeout after"), "%s: a worker was killed" % mode
        # Odoo's cron runner ran the four tasks (and was not blocked by any of them).
        for xml_id in SCADA_CRONS:
            ran = database.sql(
                "SELECT lastcall IS NOT NULL FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id"
                " AND d.model = 'ir.cron' WHERE d.module = 'scada_plc_bridge' AND d.name = '%s'" % xml_id
            )
            assert ran == "t", "%s: %s never ran" % (mode, xml_id)


def test_two_servers_share_the_line_and_hand_over(cleanup):
    simulator = Simulator("two-servers", "--batch-seconds", "3", "--fail-batch", "2", "--seed", "3")
    cleanup.append(simulator.stop)
    database = Database()
    cleanup.append(database.drop)
    first = OdooServer(database, "server-a")
    cleanup.append(first.stop)
    second = OdooServer(database, "server-b")
    cleanup.append(second.stop)
    plant = Plant(first, simulator.port)

    def pollers():
        return [s for s in (first, second) if s.log_lines("this server polls PLC %d" % plant.plc_id)]

    wait_for(pollers, 30, 0.5, "a server to take the PLC")
    assert len(pollers()) == 1, "both servers poll the PLC"
    polling = pollers()[0]
    other = second if polling is first else first
    # Operators press Read now and Retry push on both servers meanwhile.
    refusals, stop_pressing = [], threading.Event()

    def press(server):
        while not stop_pressing.is_set():
            try:
                server.rpc("scada.plc", "action_read_now", [plant.plc_id])
                batches = server.rpc("mo.batch", "search", [("status_manufacturing", "=", True)])
                if batches:
                    server.rpc("mo.batch", "action_retry_push", batches)
            except xmlrpc.client.Fault as fault:
                refusals.append(fault.faultString)
            except (OSError, xmlrpc.client.ProtocolError, ExpatError):
                return  # that server was killed
            time.sleep(0.3)

    pressers = [threading.Thread(target=press, args=(s,), daemon=True) for s in (first, second)]
    for presser in pressers:
        presser.start()
    production_ids = plant.confirm_mos(10)
    wait_for(lambda: settled(plant, production_ids), 120, 1, "the first MOs to finish")
    # The polling server dies; the other takes the PLC within a few seconds.
    polling.kill()
    wait_for(lambda: other.log_lines("this server polls PLC %d" % plant.plc_id), 15, 0.5, "the take-over")
    plant.server = other
    more = plant.confirm_mos(6)
    wait_for(lambda: settled(plant, more), 120, 1, "the MOs after the take-over")
    stop_pressing.set()
    for presser in pressers:
        presser.join(10)
    problems, summary = check_outcome(database, production_ids + more, simulator)
    assert not problems, problems
    assert summary["cancel"] >= 1, summary
    serialization = [r for r in refusals if "serializ" in r or "concurrent update" in r]
    assert not serialization, serialization[:3]
    unexpected = [r for r in refusals if "Only batches the PLC finished" not in r]
    assert not unexpected, unexpected[:3]
    assert not other.errors(), other.errors()[:5]
    assert not database.sql("SELECT count(*) FROM mo_history WHERE notes LIKE '%%refused%%'").strip("0"), (
        "a conflict was recorded as a refusal"
    )


def test_a_slow_and_lossy_plc_takes_each_recipe_once(cleanup):
    simulator, database, server, plant = start(
        cleanup,
        "slow-lossy",
        sim_options=(
            "--batch-seconds", "2",
            "--fault-delay", "0.2", "--delay", "1.0",  # every reply 0.2 s late
            "--drop", "0.15",  # and some replies lost after the command executed
            "--seed", "11",
        ),
    )  # fmt: skip
    production_ids = plant.confirm_mos(12)
    wait_for(lambda: settled(plant, production_ids), 240, 1, "the MOs to finish")
    problems, summary = check_outcome(database, production_ids, simulator)
    assert not problems, problems
    assert summary["takes"] == len(production_ids), summary
    stats = simulator.stats()
    assert stats["faults_injected"].get("drop", 0) > 0, stats
    assert not server.errors(), server.errors()[:5]
