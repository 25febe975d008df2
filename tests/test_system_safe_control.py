"""Safe control on the live runtime: the real Odoo server (PLC runner loaded
server-wide) against a PLC played by this test (the plclib simulator in this
process, its READ slots written by hand as soak_hostile does), on 127.0.0.1.

On a batch the line doses, Reset, delete and Mark Done are refused over
XML-RPC and the PLC is given no second recipe; a PLC cold start raises an
alarm within two poll intervals and the reset batch is dosed once more with
what was dosed scrapped; a batch held for review does not block the queue;
a PLC that presets its own READ handshake raises an alarm at once."""

import os
import sys
import time
import xmlrpc.client

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))

from soak_hostile import HostilePlc  # noqa: E402
from system_harness import Line, wait_for  # noqa: E402

pytestmark = pytest.mark.system

POLL_INTERVAL = 1


@pytest.fixture
def line():
    with Line(HostilePlc(), "safe-control", poll_interval=POLL_INTERVAL) as line:
        yield line.plc, line.database, line.server, line.plant


def batch_of(server, production_id):
    rows = server.rpc(
        "mo.batch",
        "search_read",
        [("production_id", "=", production_id)],
        fields=["state", "batch_no", "slot", "plc_lost_batch", "can_reset"],
    )
    return rows[0] if rows else None


def refused(call, *args):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        call(*args)
    return fault.value.faultString


def alarm_within(database, where, seconds):
    """Seconds until an open alarm matching `where` shows, at most `seconds`."""
    start = time.monotonic()
    wait_for(
        lambda: database.sql("SELECT count(*) FROM scada_alarm WHERE state = 'open' AND %s" % where) != "0",
        seconds,
        0.1,
        "an alarm (%s)" % where,
    )
    return time.monotonic() - start


def test_no_operator_action_doses_twice_or_loses_a_dose(line):
    plc, database, server, plant = line
    rpc = server.rpc
    (first,) = plant.confirm_mos(1)
    recipe = plc.take(1)  # the line doses: half of each silo so far
    wait_for(lambda: (batch_of(server, first) or {}).get("state") == "running", 30, 0.2, "a running batch")
    batch = batch_of(server, first)
    assert not batch["can_reset"]

    # Reset, delete and Mark Done on a batch the line doses: refused, nothing sent again.
    assert "dosing this batch" in refused(rpc, "mo.batch", "action_reset", [batch["id"]])
    assert "never by deleting" in refused(rpc, "mo.batch", "unlink", [batch["id"]])
    assert "cannot be marked done by hand" in refused(rpc, "mrp.production", "button_mark_done", [first])
    time.sleep(3 * POLL_INTERVAL)
    assert plc.sim.read_slot_values("write", 1)["batch_no"] == recipe["batch_no"]
    assert batch_of(server, first)["batch_no"] == batch["batch_no"]

    # A cold start: the PLC's memory is wiped while it doses.
    plc.sim.memory.write(0, [0] * plc.sim.memory.size)
    took = alarm_within(database, "kind = 'slot_problem' AND mo_reference IS NOT NULL", 2 * POLL_INTERVAL + 2)
    assert took <= 2 * POLL_INTERVAL + 2
    assert batch_of(server, first)["plc_lost_batch"]
    rpc("mo.batch", "action_reset", [batch["id"]])
    again = plc.take(1)  # dosed once more, under a new number
    assert again["batch_no"] != recipe["batch_no"]
    plc.show(1, again, plc.sane(again))
    wait_for(lambda: plant.states([first]) == {first: "done"}, 30, 0.2, "the MO done")
    scrapped = rpc("stock.scrap", "search_read", [("state", "=", "done")], fields=["product_id", "scrap_qty"])
    dosed_before = {
        plant.components["silo_a"]: 30.0,
        plant.components["silo_d"]: 17.5,
        plant.components["lq114"]: 2.5,
    }
    assert {
        row["product_id"][0]: row["scrap_qty"] for row in scrapped if row["product_id"][0] in dosed_before
    } == (dosed_before), "what the line dosed before the cold start is scrapped"

    # A batch held for review does not block the queue.
    (held,) = plant.confirm_mos(1)
    mine = plc.take(1)
    plc.show(1, mine, dict(plc.sane(mine), actual_consumption_silo_a=5000.0))
    wait_for(lambda: (batch_of(server, held) or {}).get("state") == "needs_review", 30, 0.2, "a held batch")
    (later,) = plant.confirm_mos(1)
    next_recipe = plc.take(2, timeout=30)
    assert (
        batch_of(server, later)["slot"] == 2
        and next_recipe["batch_no"] == batch_of(server, later)["batch_no"]
    )

    # A PLC that presets its own READ handshake: an alarm at once, nothing taken.
    plc.show(2, next_recipe, {"status_read_data": True, "actual_consumption_silo_a": 12.0})
    took = alarm_within(
        database, "kind = 'slot_problem' AND reason LIKE '%as taken already%'", 2 * POLL_INTERVAL + 2
    )
    assert took <= 2 * POLL_INTERVAL + 2
    plc.show(2, next_recipe, dict(plc.sane(next_recipe), status_read_data=False))
    wait_for(lambda: plant.states([later]) == {later: "done"}, 30, 0.2, "the next MO done")
    assert plant.states([held]) == {held: "confirmed"}, "the held batch still waits for a manager"
    assert not server.errors(), server.errors()[:5]
