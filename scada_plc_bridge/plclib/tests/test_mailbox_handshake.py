"""The mailbox handshake (plclib.handshake: read_mailbox_flags,
read_mailbox, poll_mailboxes, acknowledge_mailbox) against the simulator
over real UDP and TCP sockets on 127.0.0.1, with lost replies; the
simulator's mailboxes (queue, rates, stats) and `scada-plc mailbox`."""

import datetime
import io
import json
import time

import pytest
from test_plc_simulator import _wait_for

from plclib import handshake as hs
from plclib import memory_map as mm
from plclib.cli import build_parser, main, make_simulators, write_stats
from plclib.client import FinsClient
from plclib.exceptions import PlcError, PlcHandshakeError, PlcTimeoutError
from plclib.fins import commands
from plclib.simulator import PLANT_EQUIPMENT, WEIGHING_PRODUCT_IDS, PlcSimulator

WRITE = commands.MemoryAreaWrite.code
FAILURE_BOX, WEIGHING_BOX = mm.default_mailboxes()
BOXES = {mm.FAILURE: FAILURE_BOX, mm.WEIGHING: WEIGHING_BOX}
WHEN = datetime.datetime(2026, 2, 23, 20, 22, 35)


@pytest.fixture
def sim(simulator):
    """conftest's plain simulator, over UDP and over TCP."""
    return simulator


def client_of(sim, timeout=0.5, retries=1):
    return FinsClient(port=sim.port, protocol=sim.protocol, timeout=timeout, retries=retries)


def delivered(sim, area, count=1):
    return _wait_for(lambda: sim.stats()["mailboxes"][area]["delivered"] >= count)


def test_a_fresh_simulator_shows_both_mailboxes_read(sim):
    with client_of(sim) as client:
        assert hs.read_mailbox_flags(client, BOXES.values()) == {mm.FAILURE: 1, mm.WEIGHING: 1}
        assert client.round_trips == 1
        assert hs.poll_mailboxes(client, BOXES.values()) == {mm.FAILURE: None, mm.WEIGHING: None}


class _Recorder:
    def __init__(self, words):
        self.words, self.calls = words, []

    def read_multiple(self, addresses):
        self.calls.append(list(addresses))
        return self.words


def test_both_flags_in_one_multiple_memory_area_read():
    recorder = _Recorder([0, 1])
    assert hs.read_mailbox_flags(recorder, mm.default_mailboxes()) == {mm.FAILURE: 0, mm.WEIGHING: 1}
    assert recorder.calls == [["D8022", "D9013"]]


def test_an_idle_poll_costs_two_round_trips_slots_and_both_flags(sim):
    geometry = mm.SlotGeometry(mm.default_read_layout(), mm.default_write_layout())
    with client_of(sim) as client:
        served = sim.stats()["requests_served"]
        slots = geometry.read_all(client, "read")
        events = hs.poll_mailboxes(client, BOXES.values())
        assert len(slots) == 10 and events == {mm.FAILURE: None, mm.WEIGHING: None}
        assert client.round_trips == 2
        assert sim.stats()["requests_served"] - served == 2


def test_read_mailbox_reads_the_flag_first_and_the_body_only_when_new(sim):
    with client_of(sim) as client:
        assert hs.read_mailbox(client, FAILURE_BOX) is None
        assert client.round_trips == 1  # the flag word only
        assert hs.read_mailbox(client, FAILURE_BOX, flag=1) is None
        assert client.round_trips == 1  # the flag given: nothing read
        digest = sim.raise_equipment_failure("motor_pump_01", "MOTOR_FAILURE", WHEN)
        assert delivered(sim, mm.FAILURE)
        event = hs.read_mailbox(client, mm.default_failure_layout(), 8000)  # layout and base
        assert client.round_trips == 3  # flag, then body
        assert event.content_hash == digest and event.is_new and event.valid
        assert event.fields["equipment_code"] == "motor_pump_01"
        assert event.fields["info"] == "MOTOR_FAILURE"
        assert event.timestamp == WHEN
        # Reading never acknowledges: the flag is still 0, the same event reads again.
        assert sim.memory.read(8022, 1) == [0]
        again = hs.read_mailbox(client, FAILURE_BOX, flag=0)
        assert again.content_hash == digest


def test_a_weighing_for_a_batch(sim):
    with client_of(sim) as client:
        digest = sim.raise_weighing(12, "WH/MO/00012", 502, 1.25)
        assert delivered(sim, mm.WEIGHING)
        event = hs.poll_mailboxes(client, BOXES.values())[mm.WEIGHING]
        assert event.content_hash == digest
        assert event.fields == {
            "batch_no": 12,
            "mo_id": "WH/MO/00012",
            "product_id": 502,
            "quantity": 1.25,
            "status_read_data": False,
        }
        assert sim.memory.read(9011, 2) == [0, 125]  # kg, scale 100, high word first


def test_acknowledge_writes_1_once_and_is_idempotent_by_content(sim):
    with client_of(sim) as client:
        first = sim.raise_equipment_failure("silo101", "START_FAILURE", WHEN)
        second = sim.raise_equipment_failure("silo101", "RECOVERED", WHEN + datetime.timedelta(minutes=5))
        assert delivered(sim, mm.FAILURE)
        event = hs.read_mailbox(client, FAILURE_BOX)
        assert event.content_hash == first
        assert hs.acknowledge_mailbox(client, FAILURE_BOX, event) == hs.ACKNOWLEDGED
        assert sim.stats()["mailboxes"][mm.FAILURE]["queued"] in (0, 1)
        # Called again (the caller did not learn the outcome): never a second event acknowledged.
        outcome = hs.acknowledge_mailbox(client, FAILURE_BOX, event)
        assert outcome in (hs.ALREADY_ACKNOWLEDGED, hs.REPLACED)
        assert delivered(sim, mm.FAILURE, 2)
        assert hs.acknowledge_mailbox(client, FAILURE_BOX, event) == hs.REPLACED
        assert sim.memory.read(8022, 1) == [0]  # the next event is left new
        following = hs.read_mailbox(client, FAILURE_BOX)
        assert following.content_hash == second and following.fields["info"] == "RECOVERED"
        assert _wait_for(lambda: sim.stats()["mailboxes"][mm.FAILURE]["acknowledged"] == 1)


@pytest.mark.parametrize("fault", ["drop", "lost_request"])
def test_acknowledge_whose_reply_or_command_is_lost(sim, fault):
    """A lost reply: the read-back shows the flag 1, acknowledged.  A lost
    command: the read-back shows it still new, the error is raised, and the
    next try acknowledges the same event (same content hash)."""
    with client_of(sim, timeout=0.2) as client:
        sim.raise_weighing(3, "WH/MO/00003", 501, 4.5)
        assert delivered(sim, mm.WEIGHING)
        event = hs.read_mailbox(client, WEIGHING_BOX)
        sim.set_fault(fault, 1.0, command_codes=(WRITE,))
        if fault == "drop":
            assert hs.acknowledge_mailbox(client, WEIGHING_BOX, event) == hs.ACKNOWLEDGED
            assert sim.memory.read(9013, 1) == [1]
            return
        with pytest.raises(PlcTimeoutError):
            hs.acknowledge_mailbox(client, WEIGHING_BOX, event)
        assert sim.memory.read(9013, 1) == [0]
        sim.clear_faults()
        assert hs.read_mailbox(client, WEIGHING_BOX).content_hash == event.content_hash
        assert hs.acknowledge_mailbox(client, WEIGHING_BOX, event) == hs.ACKNOWLEDGED


def test_a_flag_other_than_0_or_1_is_refused(sim):
    sim.memory.write(8022, [7])
    with client_of(sim) as client:
        with pytest.raises(PlcHandshakeError, match="D8022 holds 7, expected 0 .new. or 1 .read."):
            hs.read_mailbox(client, FAILURE_BOX)
        with pytest.raises(PlcHandshakeError):
            hs.poll_mailboxes(client, BOXES.values())


def test_hostile_contents_are_an_event_with_errors_still_acknowledged(sim):
    words = FAILURE_BOX.layout.encode({"equipment_code": "silo1\x7f", "info": "SENSOR_ERROR"})
    words[16:23] = [0x2026, 0x13, 0x32, 0x24, 0, 0, 0]  # month 13, new
    sim.memory.write(8000, words)
    with client_of(sim) as client:
        event = hs.read_mailbox(client, FAILURE_BOX)
        assert not event.valid and event.timestamp is None
        assert any("not printable text" in error for error in event.errors)
        assert "timestamp: month: 13 (BCD 0x0013) is out of range 1..12" in event.errors
        assert hs.acknowledge_mailbox(client, FAILURE_BOX, event) == hs.ACKNOWLEDGED


def _drain(sim, client, records, seconds):
    """The Odoo side's cycle: record each new event once by content hash,
    then acknowledge it; errors of a cycle are tried again next cycle."""
    repeats = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stats = sim.stats()["mailboxes"]
        if all(box["acknowledged"] == box["raised"] for box in stats.values()):
            break
        try:
            for area, event in hs.poll_mailboxes(client, BOXES.values()).items():
                if event is None:
                    continue
                if event.content_hash in records:
                    repeats += 1
                else:
                    records[event.content_hash] = (area, event.fields)
                hs.acknowledge_mailbox(client, BOXES[area], event)
        except PlcError:
            continue
        time.sleep(0.01)
    return repeats


def test_fifty_events_each_with_five_percent_of_replies_lost_every_event_once(sim):
    sim.set_fault("drop", 0.05)
    raised = {}
    for number in range(50):
        digest = sim.raise_equipment_failure(when=WHEN + datetime.timedelta(seconds=number))
        raised[digest] = mm.FAILURE
        raised[sim.raise_weighing(number + 1, "WH/MO/%05d" % (number + 1), 501, 1 + number / 100)] = (
            mm.WEIGHING
        )
    assert len(raised) == 100  # distinct contents
    records = {}
    with client_of(sim, timeout=0.1, retries=2) as client:
        _drain(sim, client, records, seconds=60)
    stats = sim.stats()
    assert stats["faults_injected"].get("drop", 0) > 0
    assert {digest: area for digest, (area, _) in records.items()} == raised  # none lost, none twice
    for area in BOXES:
        assert stats["mailboxes"][area] == {"raised": 50, "delivered": 50, "acknowledged": 50, "queued": 0}
    assert (stats["events_raised"], stats["events_acknowledged"]) == (100, 100)
    assert sorted(hash_ for hash_ in raised) == sorted(
        sim.mailboxes[mm.FAILURE].raised_hashes + sim.mailboxes[mm.WEIGHING].raised_hashes
    )


def test_events_queue_while_the_mailbox_is_unacknowledged(sim):
    for second in range(5):
        sim.raise_equipment_failure("mixer_01", "MOTOR_FAILURE", WHEN + datetime.timedelta(seconds=second))
    assert delivered(sim, mm.FAILURE)
    time.sleep(0.2)  # several scans: the mailbox is not overwritten
    stats = sim.stats()["mailboxes"][mm.FAILURE]
    assert stats == {"raised": 5, "delivered": 1, "acknowledged": 0, "queued": 4}
    with client_of(sim) as client:
        assert hs.read_mailbox(client, FAILURE_BOX).timestamp == WHEN


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_plant_mode_raises_failures_recoveries_and_weighings_for_running_batches(protocol):
    with PlcSimulator(
        protocol=protocol, plant=True, batch_seconds=600, seed=11, equipment_failure_rate=40, weighing_rate=40
    ) as sim:
        values = {"batch_no": 21, "mo_id": "WH/MO/00021", "quantity": 1000, "consumption_silo_a": 500}
        with client_of(sim, timeout=0.3) as client:
            mm.write_slot(client, mm.default_write_layout(), mm.WRITE_AREA_BASE, 2, values)
            failures, weighings = [], []
            deadline = time.monotonic() + 20
            while (len(failures) < 25 or len(weighings) < 5) and time.monotonic() < deadline:
                for area, event in hs.poll_mailboxes(client, BOXES.values()).items():
                    if event is not None:
                        (failures if area == mm.FAILURE else weighings).append(event)
                        hs.acknowledge_mailbox(client, BOXES[area], event)
        assert len(failures) >= 25 and len(weighings) >= 5
        for event in failures:
            assert event.valid and event.fields["equipment_code"] in PLANT_EQUIPMENT
        infos = {event.fields["info"] for event in failures}
        assert {"RECOVERED", "MOTOR_OK"} & infos and {"START_FAILURE", "SENSOR_ERROR"} & infos
        stamps = [event.timestamp for event in failures]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # PLC clock, distinct
        for event in weighings:
            assert event.valid
            assert (event.fields["batch_no"], event.fields["mo_id"]) == (21, "WH/MO/00021")
            assert (
                event.fields["product_id"] in WEIGHING_PRODUCT_IDS
                and 0.2 <= event.fields["quantity"] <= 25.01
            )
        stats = sim.stats()
        assert stats["events_raised"] >= len(failures) + len(weighings)


def test_no_weighing_without_a_running_batch():
    sim = PlcSimulator(seed=1)
    assert sim.raise_weighing() is None
    assert sim.stats()["mailboxes"][mm.WEIGHING]["raised"] == 0


# -- scada-plc ------------------------------------------------------------------
def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def target(sim):
    return ["--port", str(sim.port), "--timeout", "0.5"] + (["--tcp"] if sim.protocol == "tcp" else [])


def test_cli_mailbox_prints_json_and_acknowledges_only_with_ack(sim):
    digest = sim.raise_equipment_failure("silo101", "START_FAILURE", WHEN)
    assert delivered(sim, mm.FAILURE)
    code, out, _err = run("mailbox", "--area", "failure", *target(sim))
    shown = json.loads(out)
    assert code == 0
    assert (shown["new"], shown["flag"], shown["content_hash"], shown["acknowledged"]) == (
        True,
        0,
        digest,
        None,
    )
    assert shown["fields"]["equipment_code"] == "silo101" and shown["timestamp"] == "2026-02-23 20:22:35"
    assert sim.memory.read(8022, 1) == [0]  # not acknowledged
    code, out, _err = run("mailbox", "--area", "failure", "--ack", *target(sim))
    assert (code, json.loads(out)["acknowledged"]) == (0, hs.ACKNOWLEDGED)
    assert sim.memory.read(8022, 1) == [1]
    code, out, _err = run("mailbox", "--area", "weighing", *target(sim))
    assert code == 0 and json.loads(out)["new"] is False and json.loads(out)["empty"] is True


def test_cli_mailbox_with_bad_contents_exits_5(sim):
    sim.memory.write(8016, [0x2026, 0x02, 0x30, 0, 0, 0, 0])
    code, out, _err = run("mailbox", "--area", "failure", *target(sim))
    assert code == 5 and "is not a date" in json.loads(out)["errors"][0]


def test_cli_mailbox_usage():
    assert run("mailbox", "--area", "alarm")[0] == 2
    assert run("mailbox")[0] == 2


def test_cli_sim_rates_and_stats_file(tmp_path):
    args = build_parser().parse_args(
        ["sim", "--plant", "--equipment-failure-rate", "0.5", "--weighing-rate", "2"]
    )
    (simulator,) = make_simulators(args)
    assert (simulator.equipment_failure_rate, simulator.weighing_rate) == (0.5, 2.0)
    assert make_simulators(build_parser().parse_args(["sim"]))[0].equipment_failure_rate == 0.0
    assert run("sim", "--weighing-rate", "-1")[0] == 2
    simulator.raise_equipment_failure("lq114", "SENSOR_ERROR", WHEN)
    path = str(tmp_path / "stats.json")
    write_stats(path, [simulator])
    with open(path) as stream:
        stats = json.load(stream)
    assert stats["events_raised"] == 1 and stats["events_acknowledged"] == 0
    assert stats["mailboxes"]["failure"]["queued"] == 1
