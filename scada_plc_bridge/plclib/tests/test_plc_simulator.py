"""The simulator over real UDP and TCP sockets on 127.0.0.1: end codes like
a CS/CJ CPU, plant mode like the line, and each fault kind, against which
the client returns the right data or raises the right error, never wrong
data."""

import json
import time

import pytest

from plclib import memory_map as mm
from plclib.client import FinsClient
from plclib.exceptions import PlcEndCodeError, PlcError, PlcFrameError, PlcTimeoutError
from plclib.fins import commands
from plclib.simulator import PlcSimulator


def client_for(sim, **kwargs):
    options = dict(port=sim.port, protocol=sim.protocol, timeout=0.25, retries=3)
    options.update(kwargs)
    return FinsClient(**options)


def test_controller_data_and_status(simulator):
    with client_for(simulator) as client:
        assert client.controller_data_read()["model"] == "CJ2M-CPU31"
        assert client.controller_status_read()["mode"] == "run"


@pytest.mark.parametrize(
    "request_,end_code",
    [
        (commands.MemoryAreaRead(0xB1, 0, 1), 0x1101),  # area not in this PLC
        (commands.MemoryAreaRead(0x82, 40000, 1), 0x1103),  # start beyond DM
        (commands.MemoryAreaRead(0x82, 32760, 20), 0x1104),  # runs past the end
        (commands.MemoryAreaRead(0x82, 0, 1000), 0x110B),  # reply would be over-long
        (commands.MemoryAreaWrite(0x82, 0, [0] * 998), 0x1001),
    ],
)
def test_end_codes_for_bad_requests(simulator, request_, end_code):
    with client_for(simulator) as client, pytest.raises(PlcEndCodeError) as caught:
        client.execute(request_)
    assert caught.value.end_code == end_code


def test_multiple_memory_area_read(simulator):
    simulator.memory.write(6076, [1])
    simulator.memory.write(6176, [0])
    with client_for(simulator) as client:
        assert client.read_multiple(["D6076", "D6176"]) == [1, 0]


def _recipe(mo_id, batch_no=1):
    return {
        "batch_no": batch_no,
        "mo_id": mo_id,
        "bom": "JF SUPER 2A 25",
        "finished_goods": "JF SUPER 2A 25",
        "quantity": 1000,
        "consumption_silo_a": 600,
        "consumption_lq114": 40,
    }


def _wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_plant_mode_takes_a_recipe_and_finishes_the_batch(protocol):
    with PlcSimulator(protocol=protocol, plant=True, batch_seconds=0.5, seed=1) as sim, client_for(
        sim
    ) as client:
        write_layout, read_layout = mm.default_write_layout(), mm.default_read_layout()
        mm.write_slot(client, write_layout, mm.WRITE_AREA_BASE, 2, _recipe("WH/MO/00002"))
        # The PLC marks the recipe taken (handshake word 1) ...
        assert _wait_for(lambda: client.read_words("D7176", 1) == [1])
        # ... then reports the batch running, then finished, in READ slot 2.
        assert _wait_for(
            lambda: mm.read_all_slots(client, read_layout)[1].fields["status_manufacturing"] is True
        )
        reading = mm.read_all_slots(client, read_layout)[1]
        assert reading.valid, reading.errors
        assert reading.fields["mo_id"] == "WH/MO/00002"
        assert reading.fields["status_operation"] is False
        assert abs(reading.fields["actual_consumption_silo_a"] - 600) <= 600 * 0.02
        assert reading.fields["actual_weight_quantity_finished_goods"] == pytest.approx(
            reading.fields["actual_consumption_silo_a"] + reading.fields["actual_consumption_lq114"]
        )


def test_plant_mode_fails_the_chosen_batch():
    with PlcSimulator(plant=True, batch_seconds=0.3, fail_batch_numbers=[2]) as sim:
        sim.write_slot_values("write", 1, _recipe("WH/MO/00001"))
        assert _wait_for(lambda: sim.read_slot_values("read", 1)["status_manufacturing"] is True)
        sim.write_slot_values("write", 2, _recipe("WH/MO/00002", 2))
        assert _wait_for(lambda: sim.read_slot_values("read", 2)["status_operation"] is True)
        assert sim.read_slot_values("read", 2)["status_manufacturing"] is False


# --- faults -------------------------------------------------------------------
def _prepared(sim):
    sim.write_slot_values(
        "read",
        1,
        {
            "batch_no": 1,
            "mo_id": "WH/MO/00011",
            "quantity": 1000,
            "actual_consumption_silo_a": 599.5,
        },
    )
    return sim.memory.read(6000, 977)


@pytest.mark.parametrize(
    "kind", ["drop", "delay", "duplicate", "wrong_sid", "wrong_command", "truncated", "garbage"]
)
def test_transport_faults_give_right_data_or_an_error(simulator, kind):
    expected = _prepared(simulator)
    simulator.set_fault(kind, 0.5)
    outcomes = {"ok": 0, "error": 0}
    # Loopback answers in well under a millisecond: a short timeout keeps this quick.
    with client_for(simulator, timeout=0.06) as client:
        for _ in range(12):
            try:
                words = client.read_words("D6000", 977)
            except PlcError:
                outcomes["error"] += 1
                continue
            assert words == expected  # never wrong data
            outcomes["ok"] += 1
    assert outcomes["ok"] > 0


def test_every_fault_answered_with_silence_ends_in_a_timeout(simulator):
    simulator.set_fault("drop", 1.0)
    with client_for(simulator, retries=1) as client, pytest.raises(PlcTimeoutError):
        client.read_words("D6000", 1)


def test_error_end_code_fault_raises(simulator):
    simulator.set_fault("end_code", 1.0)
    with client_for(simulator) as client, pytest.raises(PlcEndCodeError) as caught:
        client.read_words("D6000", 1)
    assert caught.value.end_code == 0x2201


def test_warning_flag_fault_returns_data_with_a_warning(simulator):
    expected = _prepared(simulator)
    simulator.set_fault("warning_flag", 1.0)
    with client_for(simulator) as client:
        assert client.read_words("D6000", 977) == expected
        assert client.last_warning


def test_torn_values_reach_split_readers():
    # The line's scans are driven by hand: one takes the recipe, the next
    # carries silo A's consumption across a word (0 -> ~1000 kg, high word
    # 0 -> 1) while the torn fault is on for every read.
    with PlcSimulator(batch_seconds=10.0, seed=5) as sim, client_for(sim) as client:
        sim.write_slot_values("write", 1, dict(_recipe("WH/MO/00001"), consumption_silo_a=2000))
        sim.plant_tick(0.0)
        sim.plant_tick(5.0)
        truth = sim.read_slot_values("read", 1)["actual_consumption_silo_a"]
        assert truth > 655.35  # the high word did change
        sim.set_fault("torn", 1.0)
        # Field by field, as the old system read: high word then low word.
        high, low = client.read_words("D6028", 1) + client.read_words("D6029", 1)
        assert (high * 65536 + low) / 100 != truth
        # Without the fault, the one-request poll holds the true value.
        sim.clear_faults()
        reading = mm.read_all_slots(client, mm.default_read_layout())[0]
        assert reading.valid
        assert reading.fields["actual_consumption_silo_a"] == truth


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_torn_fault_tears_one_value_of_a_one_request_poll(protocol):
    # A running batch whose last scan carried silo A and silo B across a
    # word (~600 kg -> ~1000 kg: high word 0 -> 1, low word changed too).
    with PlcSimulator(protocol=protocol, batch_seconds=10.0, seed=5) as sim, client_for(sim) as client:
        recipe = dict(_recipe("WH/MO/00001"), consumption_silo_a=2000, consumption_silo_b=2000)
        sim.write_slot_values("write", 1, recipe)
        sim.plant_tick(0.0)
        sim.plant_tick(3.0)
        old = sim.read_slot_values("read", 1)
        sim.plant_tick(5.0)
        new = sim.read_slot_values("read", 1)
        assert new["status_manufacturing"] is False  # still running
        sim.set_fault("torn", 1.0)
        round_trips = client.round_trips
        polled = mm.read_all_slots(client, mm.default_read_layout())[0].fields  # D6000, 977 words
        assert client.round_trips == round_trips + 1
    keys = ["actual_consumption_silo_a", "actual_consumption_silo_b"]
    assert all(old[key] != new[key] for key in keys)
    torn = [key for key in keys if polled[key] not in (old[key], new[key])]
    assert len(torn) == 1  # one value the PLC never held ...
    assert {key: polled[key] for key in keys if key not in torn} == {
        key: new[key] for key in keys if key not in torn
    }  # ... the rest as the scan left it
    assert polled["actual_consumption_lq114"] == new["actual_consumption_lq114"]
    assert sim.faults_injected == {"torn": 1}


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_torn_fault_during_a_running_plant(protocol):
    # The line's own scan thread: silo A and B grow by several high words per
    # 50 ms scan.  Untorn, both are the same share of their plan (deviation
    # aside); a torn one is off by a multiple of 655.36 kg.
    with PlcSimulator(protocol=protocol, plant=True, batch_seconds=1.5, seed=3) as sim, client_for(
        sim
    ) as client:
        plan = 90000
        sim.set_fault("torn", 1.0)
        sim.write_slot_values(
            "write", 1, dict(_recipe("WH/MO/00001"), consumption_silo_a=plan, consumption_silo_b=plan)
        )
        assert _wait_for(lambda: 1 in sim._plant_slots)
        deviations = sim._plant_slots[1].deviations
        mismatches = 0
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            fields = mm.read_all_slots(client, mm.default_read_layout())[0].fields
            shares = [
                fields["actual_consumption_" + tag] / (plan * (1 + deviations[tag]))
                for tag in ("silo_a", "silo_b")
            ]
            if abs(shares[0] - shares[1]) > 0.005:
                mismatches += 1
            time.sleep(0.01)
    assert mismatches > 0
    assert sim.faults_injected["torn"] >= mismatches


def test_plant_mode_keeps_a_result_until_the_bridge_acknowledged_it():
    with PlcSimulator(plant=True, batch_seconds=0.1) as sim:
        sim.write_slot_values("write", 1, _recipe("WH/MO/00001"))
        assert _wait_for(lambda: sim.read_slot_values("read", 1)["status_manufacturing"] is True)
        # The next recipe waits in the WRITE slot while the result is unread ...
        sim.write_slot_values("write", 1, dict(_recipe("WH/MO/00002", 2), status_read_data=False))
        time.sleep(0.3)
        assert sim.read_slot_values("read", 1)["mo_id"] == "WH/MO/00001"
        assert sim.read_slot_values("write", 1)["status_read_data"] is False
        # ... and is taken once the bridge sets the READ slot's handshake word.
        sim.memory.write(6076, [1])
        assert _wait_for(lambda: sim.read_slot_values("read", 1)["mo_id"] == "WH/MO/00002")
        assert sim.read_slot_values("write", 1)["status_read_data"] is True


def test_plant_mode_deviation_is_small_and_follows_the_seed():
    def run(seed):
        with PlcSimulator(seed=seed, batch_seconds=1.0) as sim:
            sim.write_slot_values("write", 1, dict(_recipe("WH/MO/00001"), consumption_silo_b=350))
            sim.plant_tick(0.0)
            sim.plant_tick(1.0)
            return sim.read_slot_values("read", 1)

    first, again, other = run(4), run(4), run(5)
    assert first == again and first != other
    for key, planned in (("silo_a", 600), ("silo_b", 350), ("lq114", 40)):
        assert abs(first["actual_consumption_" + key] - planned) <= planned * 0.02
    assert first["actual_weight_quantity_finished_goods"] == pytest.approx(
        sum(first["actual_consumption_" + key] for key in ("silo_a", "silo_b", "lq114"))
    )


def test_tcp_stream_garbage_costs_a_reconnect_not_wrong_data():
    with PlcSimulator(protocol="tcp", seed=2) as sim, client_for(sim, retries=0) as client:
        expected = _prepared(sim)
        sim.set_fault("garbage", 1.0)
        with pytest.raises(PlcFrameError):
            client.read_words("D6000", 977)
        sim.clear_faults()
        assert client.read_words("D6000", 977) == expected


# --- faults that do not execute the command -----------------------------------
def test_lost_request_executes_nothing_and_answers_nothing(simulator):
    simulator.set_fault("lost_request", 1.0)
    with client_for(simulator, timeout=0.3, retries=1) as client:
        with pytest.raises(PlcTimeoutError):
            client.write_words("D7000", [7, 8, 9])
        with pytest.raises(PlcTimeoutError):
            client.read_words("D7000", 3)
    assert simulator.memory.read(7000, 3) == [0, 0, 0]
    assert simulator.requests_served == 0
    assert simulator.faults_injected == {"lost_request": 3}  # a write, a read and its retry


def test_refused_write_changes_no_memory(simulator):
    simulator.memory.write(7076, [1])
    simulator.set_fault("refuse", 1.0)
    with client_for(simulator) as client:
        with pytest.raises(PlcEndCodeError) as caught:
            client.write_words("D7000", [5] * 77)
        assert caught.value.end_code == 0x2203
        with pytest.raises(PlcEndCodeError):
            client.read_words("D7000", 77)
    assert simulator.memory.read(7000, 77) == [0] * 76 + [1]
    assert simulator.faults_injected == {"refuse": 2}


@pytest.mark.parametrize("kind", ["lost_request", "refuse", "drop"])
def test_a_fault_can_be_limited_to_writes(simulator, kind):
    simulator.memory.write(6000, [42])
    simulator.set_fault(kind, 1.0, command_codes=[commands.MemoryAreaWrite.code])
    with client_for(simulator, timeout=0.3) as client:
        with pytest.raises(PlcError):
            client.write_words("D7000", [1])
        assert client.read_words("D6000", 1) == [42]
    # drop executes the write and loses the reply; the other two execute nothing.
    assert simulator.memory.read(7000, 1) == ([1] if kind == "drop" else [0])
    assert simulator.faults_injected == {kind: 1}


# --- bookkeeping for system tests ---------------------------------------------
@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_plant_counts_takes_per_mo_and_batch_and_outcomes(protocol):
    with PlcSimulator(
        protocol=protocol, plant=True, batch_seconds=0.1, fail_batch_numbers=[3]
    ) as sim, client_for(sim) as client:
        write_layout = mm.default_write_layout()

        def run_batch(recipe, taken):
            mm.write_slot(client, write_layout, mm.WRITE_AREA_BASE, 1, recipe)
            # taken, then finished (or failed) in READ slot 1
            assert _wait_for(lambda: sim.recipes_taken == taken and client.read_words("D6072", 2) != [0, 0])
            client.write_words("D6076", [1])  # the bridge read the result

        run_batch(_recipe("WH/MO/00001", 1), 1)
        run_batch(_recipe("WH/MO/00001", 1), 2)  # written twice: the line runs it twice
        run_batch(_recipe("WH/MO/00002", 2), 3)  # the 3rd recipe taken fails
        stats = sim.stats()
    assert sim.takes_by_mo == {"WH/MO/00001": 2, "WH/MO/00002": 1}
    assert sim.takes_by_batch == {(1, "WH/MO/00001"): 2, (2, "WH/MO/00002"): 1}
    assert (sim.recipes_taken, sim.finished, sim.failed) == (3, 2, 1)
    assert json.loads(json.dumps(stats)) == stats
    assert stats["takes_by_mo"] == {"WH/MO/00001": 2, "WH/MO/00002": 1}
    assert stats["takes_by_batch"] == [
        {"batch_no": 1, "mo_id": "WH/MO/00001", "takes": 2},
        {"batch_no": 2, "mo_id": "WH/MO/00002", "takes": 1},
    ]
    assert stats["requests_served"] == sim.requests_served > 6
    counts = (stats["recipes_taken"], stats["finished"], stats["failed"], stats["faults_injected"])
    assert counts == (3, 2, 1, {})


def test_faults_injected_counts_each_kind(simulator):
    simulator.set_fault("duplicate", 1.0)
    simulator.set_fault("warning_flag", 1.0)
    with client_for(simulator) as client:
        for _ in range(3):
            client.read_words("D6000", 1)
    assert simulator.faults_injected == {"duplicate": 3, "warning_flag": 3}
    assert simulator.stats()["faults_injected"] == {"duplicate": 3, "warning_flag": 3}
