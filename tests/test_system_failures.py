"""System test of the failure mailbox on the live runtime: the real Odoo 14
server (the PLC runner loaded server-wide) with the Maintenance bridge,
the `scada-plc` simulator in plant mode raising equipment failures (and
recoveries) at random with 5 % of its replies lost.  Every event the PLC
raised is recorded exactly once, acknowledged, and each failure has its
corrective maintenance request."""

import contextlib
import subprocess
import time

import pytest
from system_harness import LOGS, VENV, Database, OdooServer, Plant, Simulator, wait_for

from plclib import memory_map
from plclib.client import FinsClient

pytestmark = pytest.mark.system

EVENTS = 50


def failure_box(simulator):
    return simulator.stats().get("mailboxes", {}).get("failure", {})


def recorded_events(database):
    """Distinct events Odoo holds: each failure's hash and each recovery's."""
    return int(
        database.sql(
            "SELECT count(*) FROM (SELECT content_hash FROM scada_equipment_failure UNION"
            " SELECT recovery_hash FROM scada_equipment_failure WHERE recovery_hash IS NOT NULL) AS events"
        )
    )


def _line(cleanup, name, *sim_options):
    """The simulator, a database with both addons, the real server, the plant."""
    simulator = Simulator(name, *sim_options)
    cleanup.callback(simulator.stop)
    database = Database()
    cleanup.callback(database.drop)
    subprocess.run(
        [str(VENV / "bin" / "odoo"), "-d", database.name, "-i", "scada_plc_bridge_maintenance"]
        + ["--without-demo=all", "--stop-after-init", "--log-level=warn"]
        + ["--logfile", str(LOGS / ("install-%s-maintenance.log" % database.name))],
        check=True,
    )
    server = OdooServer(database, name)
    cleanup.callback(server.stop)
    return simulator, database, server, Plant(server, simulator.port)


def test_random_failures_with_lost_replies_are_recorded_once_with_their_requests():
    with contextlib.ExitStack() as cleanup:
        _random_failures(*_line(cleanup, "failures", *RANDOM_FAILURES))


RANDOM_FAILURES = (
    "--equipment-failure-rate",
    "1.0",
    "--drop",
    "0.05",
    "--seed",
    "19",
    "--batch-seconds",
    "5",
)


def _random_failures(simulator, database, server, plant):
    productions = plant.confirm_mos(3)  # batches run meanwhile: no batch waits for a mailbox

    wait_for(lambda: failure_box(simulator).get("acknowledged", 0) >= EVENTS, 240, 1, "%d events" % EVENTS)
    assert set(plant.states(productions).values()) == {"done"}, plant.states(productions)
    before = failure_box(simulator)
    held = recorded_events(database)
    time.sleep(1.5)  # the stats file is written every 0.5 s
    after = failure_box(simulator)
    # Nothing acknowledged that Odoo does not hold; nothing held that the PLC did not deliver.
    assert before["acknowledged"] <= held <= after["delivered"], (before, held, after)
    assert int(database.sql("SELECT count(*) FROM scada_equipment_failure")) >= EVENTS // 2
    # Exactly once: no event twice (the unique constraint), none both a failure and a recovery.
    assert (
        database.sql(
            "SELECT count(*) FROM scada_equipment_failure f JOIN scada_equipment_failure g"
            " ON f.recovery_hash = g.content_hash"
        )
        == "0"
    )
    assert database.sql("SELECT count(*) FROM scada_equipment_failure WHERE equipment_id IS NULL") == "0"
    assert (
        database.sql("SELECT count(*) FROM scada_equipment_failure WHERE maintenance_request_id IS NULL")
        == "0"
    ), "every failure has its maintenance request"
    assert int(
        database.sql(
            "SELECT count(*) FROM maintenance_request r JOIN scada_equipment_failure f"
            " ON f.maintenance_request_id = r.id WHERE r.maintenance_type = 'corrective'"
        )
    ) == int(database.sql("SELECT count(*) FROM scada_equipment_failure"))
    assert int(database.sql("SELECT count(*) FROM scada_equipment_failure WHERE state = 'resolved'")) > 0
    assert simulator.stats()["faults_injected"].get("drop", 0) > 0
    assert not server.errors(), server.errors()[:5]


MOMENT = {"year": 2026, "month": 3, "day": 9, "hour": 7, "minute": 30, "second": 5}
# (what, mailbox values, words then overwritten as a PLC program gone wrong would)
HOSTILE = (
    ("bad BCD", dict(MOMENT, equipment_code="motor_pump_01", info="MOTOR_FAILURE"), {17: 0x001A}),
    ("garbage text", dict(MOMENT, equipment_code="silo101", info="SENSOR_ERROR"), {0: 0x0102, 1: 0x7F00}),
    ("unknown equipment", dict(MOMENT, equipment_code="conveyor_99", info="START_FAILURE"), {}),
)


def test_hostile_failure_events_are_recorded_with_an_alarm_and_acknowledged():
    with contextlib.ExitStack() as cleanup:
        simulator, database, server, _plant = _line(cleanup, "hostile-failures")
        box = memory_map.default_failure_mailbox()
        with FinsClient(host="127.0.0.1", port=simulator.port, timeout=1.0) as client:

            def flag():
                return client.read_words("D%d" % box.flag_address, 1)[0]

            for what, values, overwritten in HOSTILE:
                wait_for(lambda: flag() == memory_map.MAILBOX_READ, 30, 0.2, "the mailbox free")
                words = box.layout.encode(dict(values, status_read_data=False))
                for offset, word in overwritten.items():
                    words[offset] = word
                client.write_words("D%d" % box.base, words)  # body and flag 0 at once, as the PLC does
                wait_for(lambda: flag() == memory_map.MAILBOX_READ, 30, 0.2, "%s acknowledged" % what)
        rows = database.sql(
            "SELECT coalesce(f.equipment_id::text, '-'), f.equipment_code, f.decode_errors IS NOT NULL,"
            " f.raw_words IS NOT NULL, f.date_plc IS NOT NULL, f.maintenance_request_id IS NOT NULL"
            " FROM scada_equipment_failure f ORDER BY f.id"
        ).splitlines()
        assert len(rows) == 3, rows
        bad_bcd, garbage, unknown = (row.split("|") for row in rows)
        assert bad_bcd[1:] == ["motor_pump_01", "t", "t", "f", "t"] and bad_bcd[0] != "-", bad_bcd
        assert garbage[0] == "-" and "\ufffd" in garbage[1] and garbage[2:4] == ["t", "t"], garbage
        assert unknown[:3] == ["-", "conveyor_99", "f"] and unknown[4:] == ["t", "t"], unknown
        assert "month" in database.sql(
            "SELECT decode_errors FROM scada_equipment_failure ORDER BY id LIMIT 1"
        )
        alarms = database.sql(
            "SELECT kind, count(*) FROM scada_alarm GROUP BY kind ORDER BY kind"
        ).splitlines()
        assert "equipment_failure|1" in alarms and "equipment_unknown|1" in alarms, alarms
        assert database.sql("SELECT max(count) FROM scada_alarm WHERE kind = 'equipment_failure'") == "3"
        assert not server.errors(), server.errors()[:5]
