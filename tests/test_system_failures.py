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


def test_random_failures_with_lost_replies_are_recorded_once_with_their_requests():
    with contextlib.ExitStack() as cleanup:
        _run_line(cleanup)


def _run_line(cleanup):
    simulator = Simulator(
        "failures",
        "--equipment-failure-rate",
        "1.0",
        "--drop",
        "0.05",
        "--seed",
        "19",
        "--batch-seconds",
        "5",
    )
    cleanup.callback(simulator.stop)
    database = Database()
    cleanup.callback(database.drop)
    subprocess.run(
        [str(VENV / "bin" / "odoo"), "-d", database.name, "-i", "scada_plc_bridge_maintenance"]
        + ["--without-demo=all", "--stop-after-init", "--log-level=warn"]
        + ["--logfile", str(LOGS / ("install-%s-maintenance.log" % database.name))],
        check=True,
    )
    server = OdooServer(database, "failures")
    cleanup.callback(server.stop)
    plant = Plant(server, simulator.port)
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
