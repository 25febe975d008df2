"""The slot handshake (plclib.handshake) against the simulator over real UDP
and TCP sockets on 127.0.0.1: each branch with the PLC's part played by
hand (plain simulator) or by the simulated line (plant mode), and with the
faults that lose a command, lose its reply or refuse it."""

import time

import pytest

from plclib import handshake as hs
from plclib import memory_map as mm
from plclib.client import FinsClient
from plclib.exceptions import (
    PlcEndCodeError,
    PlcError,
    PlcHandshakeError,
    PlcSlotBusyError,
    PlcTimeoutError,
    PlcValueError,
)
from plclib.fins import commands
from plclib.simulator import PlcSimulator

WRITE = commands.MemoryAreaWrite.code
WRITE_LAYOUT, READ_LAYOUT = mm.default_write_layout(), mm.default_read_layout()
GEOMETRY = mm.SlotGeometry(READ_LAYOUT, WRITE_LAYOUT)


def recipe(batch_no=1, mo_id="WH/MO/00001", **changes):
    values = {
        "batch_no": batch_no,
        "mo_id": mo_id,
        "bom": "JF SUPER 2A 25",
        "finished_goods": "JF SUPER 2A 25",
        "quantity": 1000,
        "consumption_silo_a": 600,
        "consumption_lq114": 40,
        "status_read_data": False,
    }
    values.update({mm.silo_id_key(tag): silo_id for tag, silo_id in mm.PLANT_SILOS})
    values.update(changes)
    return values


def identity(values):
    return hs.SlotIdentity(values["batch_no"], values["mo_id"])


@pytest.fixture(params=["udp", "tcp"])
def protocol(request):
    return request.param


@pytest.fixture
def sim(protocol):
    """A plain simulator: the tests play the PLC's part of the handshake."""
    with PlcSimulator(protocol=protocol, seed=3) as simulator:
        yield simulator


@pytest.fixture
def plant(protocol):
    with PlcSimulator(protocol=protocol, plant=True, batch_seconds=0.15, seed=3) as simulator:
        yield simulator


def client_for(sim, **kwargs):
    options = dict(port=sim.port, protocol=sim.protocol, timeout=0.3, retries=3)
    options.update(kwargs)
    return FinsClient(**options)


class CountingClient(FinsClient):
    """A real client that counts its writes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes = []

    def write_words(self, address, words):
        self.writes.append((address, list(words)))
        return super().write_words(address, words)


def counting_client(sim, **kwargs):
    options = dict(port=sim.port, protocol=sim.protocol, timeout=0.3, retries=3)
    options.update(kwargs)
    return CountingClient(**options)


def write(client, slot, values):
    return hs.write_recipe(client, GEOMETRY, slot, values)


def slot_words(sim, area, slot):
    base = mm.WRITE_AREA_BASE if area == "write" else mm.READ_AREA_BASE
    return sim.memory.read(mm.slot_address(base, slot), mm.SLOT_WORDS)


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


# --- slot_identity -------------------------------------------------------------------
def test_slot_identity_from_decoded_fields():
    fields = WRITE_LAYOUT.decode(WRITE_LAYOUT.encode(recipe(32767, "WH/MO/1234567890")))
    assert hs.slot_identity(fields) == hs.SlotIdentity(32767, "WH/MO/1234567890")
    assert hs.slot_identity(fields) == (32767, "WH/MO/1234567890")
    assert hs.slot_identity(WRITE_LAYOUT.decode([0] * 77)) == hs.SlotIdentity(0, "")


# --- write_recipe ----------------------------------------------------------------------
def test_write_into_an_empty_slot(sim):
    values = recipe()
    with counting_client(sim) as client:
        outcome = write(client, 3, values)
    assert outcome.status == "written" and "WH/MO/00001" in outcome.detail
    assert slot_words(sim, "write", 3) == WRITE_LAYOUT.encode(values)
    assert len(client.writes) == 1 and client.writes[0][0] == "D7200"


def test_the_same_recipe_again_is_already_written_and_not_rewritten(sim):
    with counting_client(sim) as client:
        assert write(client, 1, recipe()).status == "written"
        outcome = write(client, 1, recipe())
    assert outcome.status == "already_written"
    assert len(client.writes) == 1


def test_a_taken_recipe_is_not_rewritten(sim):
    sim.write_slot_values("write", 1, recipe(status_read_data=True))
    with counting_client(sim) as client:
        assert write(client, 1, recipe()).status == "taken"
    assert client.writes == []
    assert sim.read_slot_values("write", 1)["status_read_data"] is True


def test_a_reported_recipe_is_not_rewritten(sim):
    # The PLC took it and reports on it; it even cleared its WRITE slot.
    sim.write_slot_values("read", 1, {"batch_no": 1, "mo_id": "WH/MO/00001"})
    with counting_client(sim) as client:
        assert write(client, 1, recipe()).status == "reported"
    assert client.writes == []
    assert slot_words(sim, "write", 1) == [0] * 77


def test_same_mo_with_another_batch_number_is_another_recipe(sim):
    sim.write_slot_values("read", 1, {"batch_no": 1, "mo_id": "WH/MO/00001"})
    sim.write_slot_values("write", 1, recipe(status_read_data=True))
    with client_for(sim) as client:
        assert write(client, 1, recipe(batch_no=2)).status == "written"
    assert sim.read_slot_values("write", 1)["batch_no"] == 2


def test_another_recipe_not_yet_taken_makes_the_slot_busy(sim):
    sim.write_slot_values("write", 2, recipe(7, "WH/MO/00007"))
    before = slot_words(sim, "write", 2)
    with counting_client(sim) as client, pytest.raises(PlcSlotBusyError) as caught:
        write(client, 2, recipe())
    assert client.writes == []
    assert slot_words(sim, "write", 2) == before
    message = str(caught.value)
    assert "slot 2" in message and "WH/MO/00007" in message and "batch 7" in message
    assert caught.value.slot == 2
    assert caught.value.identity == hs.SlotIdentity(7, "WH/MO/00007")
    assert isinstance(caught.value, PlcError)


def test_another_recipe_already_taken_is_overwritten(sim):
    sim.write_slot_values("write", 2, recipe(7, "WH/MO/00007", status_read_data=True))
    with client_for(sim) as client:
        assert write(client, 2, recipe()).status == "written"
    assert slot_words(sim, "write", 2) == WRITE_LAYOUT.encode(recipe())


def test_a_changed_recipe_not_yet_taken_is_rewritten(sim):
    sim.write_slot_values("write", 1, recipe())
    changed = recipe(consumption_silo_a=650)
    with client_for(sim) as client:
        assert write(client, 1, changed).status == "written"
    assert sim.read_slot_values("write", 1)["consumption_silo_a"] == 650


def test_the_handshake_word_of_the_values_is_ignored(sim):
    with client_for(sim) as client:
        assert write(client, 1, recipe(status_read_data=True)).status == "written"
    assert sim.read_slot_values("write", 1)["status_read_data"] is False


def test_a_handshake_word_neither_0_nor_1_is_reported(sim):
    sim.write_slot_values("write", 1, recipe())
    sim.memory.write(7076, [2])
    with counting_client(sim) as client, pytest.raises(PlcHandshakeError):
        write(client, 1, recipe())
    assert client.writes == []


def test_a_recipe_needs_an_mo_reference(sim):
    with counting_client(sim) as client, pytest.raises(PlcValueError):
        write(client, 1, recipe(mo_id=""))
    assert client.writes == [] and sim.requests_served == 0


class OverwrittenClient(CountingClient):
    """Another writer changes the slot right after our write lands."""

    def write_words(self, address, words):
        super().write_words(address, words)
        FinsClient.write_words(self, address, [words[0] ^ 1])  # another BATCH word


def test_a_slot_that_does_not_read_back_raises(sim):
    with OverwrittenClient(port=sim.port, protocol=sim.protocol, timeout=0.3) as client:
        with pytest.raises(PlcHandshakeError) as caught:
            write(client, 1, recipe())
    assert "does not show" in str(caught.value)


def test_a_lost_write_reply_ends_written_when_the_plc_executed_it(sim):
    sim.set_fault("drop", 1.0, command_codes=[WRITE])
    with counting_client(sim) as client:
        outcome = write(client, 1, recipe())
    assert outcome.status == "written" and "lost" in outcome.detail
    assert len(client.writes) == 1  # never twice
    assert sim.faults_injected == {"drop": 1}
    assert slot_words(sim, "write", 1) == WRITE_LAYOUT.encode(recipe())


def test_a_lost_write_command_raises_and_changes_nothing(sim):
    sim.set_fault("lost_request", 1.0, command_codes=[WRITE])
    with counting_client(sim) as client:
        with pytest.raises(PlcTimeoutError):
            write(client, 1, recipe())
        assert len(client.writes) == 1
        assert slot_words(sim, "write", 1) == [0] * 77
        sim.clear_faults()
        assert write(client, 1, recipe()).status == "written"


def test_a_refused_write_raises_the_end_code_and_changes_nothing(sim):
    sim.write_slot_values("write", 1, recipe(7, "WH/MO/00007", status_read_data=True))
    before = slot_words(sim, "write", 1)
    sim.set_fault("refuse", 1.0, command_codes=[WRITE])
    with counting_client(sim) as client, pytest.raises(PlcEndCodeError) as caught:
        write(client, 1, recipe())
    assert caught.value.end_code == 0x2203
    assert len(client.writes) == 1
    assert slot_words(sim, "write", 1) == before


def test_a_refused_read_writes_nothing(sim):
    sim.set_fault("refuse", 1.0)
    with counting_client(sim) as client, pytest.raises(PlcEndCodeError):
        write(client, 1, recipe())
    assert client.writes == []


def test_plant_takes_a_recipe_written_again_and_again_once(plant):
    with client_for(plant) as client:
        statuses = [write(client, 4, recipe()).status]
        while statuses[-1] != "reported":
            statuses.append(write(client, 4, recipe()).status)
            time.sleep(0.005)
    assert statuses[0] == "written"
    assert set(statuses[1:-1]) <= {"already_written", "taken"}
    assert wait_for(lambda: plant.finished == 1)
    assert plant.takes_by_mo == {"WH/MO/00001": 1}


def test_plant_with_a_lost_write_reply_takes_the_recipe_once(plant):
    plant.set_fault("drop", 1.0, command_codes=[WRITE])
    with client_for(plant) as client:
        assert write(client, 1, recipe()).status == "written"
        plant.clear_faults()
        assert wait_for(lambda: write(client, 1, recipe()).status == "reported")
    assert wait_for(lambda: plant.finished == 1)
    assert plant.takes_by_mo == {"WH/MO/00001": 1}


def test_plant_busy_until_the_previous_batch_is_taken(plant):
    with client_for(plant) as client:
        plant.memory.write(6076, [0])
        # An unacknowledged result in READ slot 1 keeps the PLC from taking the next recipe.
        plant.write_slot_values("read", 1, {"batch_no": 1, "mo_id": "WH/MO/00001", "status_manufacturing": 1})
        assert write(client, 1, recipe(2, "WH/MO/00002")).status == "written"
        time.sleep(0.2)
        with pytest.raises(PlcSlotBusyError):
            write(client, 1, recipe(3, "WH/MO/00003"))
        assert hs.acknowledge_read(client, GEOMETRY, 1, hs.SlotIdentity(1, "WH/MO/00001"))
        assert wait_for(lambda: write(client, 1, recipe(2, "WH/MO/00002")).status == "reported")
        assert write(client, 1, recipe(3, "WH/MO/00003")).status == "written"
    assert plant.takes_by_mo == {"WH/MO/00002": 1}


@pytest.mark.parametrize("kinds", [("lost_request", "drop", "refuse"), ("duplicate", "truncated", "garbage")])
def test_plant_runs_each_batch_once_through_faults(plant, kinds):
    """The bridge's cycle, with faults on every command: write the recipe
    until the PLC has it, wait for the result, acknowledge it.  However the
    exchanges fail, no batch runs twice."""
    for kind in kinds:
        plant.set_fault(kind, 0.3)
    batches = [recipe(number, "WH/MO/%05d" % number) for number in range(1, 6)]
    errors = 0
    with client_for(plant, timeout=0.04, retries=2) as client:
        for values in batches:
            ours = identity(values)
            deadline = time.monotonic() + 20
            while True:
                assert time.monotonic() < deadline
                try:
                    if write(client, 2, values).status in ("taken", "reported"):
                        break
                except PlcError:
                    errors += 1
            while True:
                assert time.monotonic() < deadline
                try:
                    report = mm.read_slot(client, READ_LAYOUT, mm.READ_AREA_BASE, 2)
                    if hs.slot_identity(report.fields) == ours and report.fields["status_manufacturing"]:
                        if hs.acknowledge_read(client, GEOMETRY, 2, ours):
                            break
                except PlcError:
                    errors += 1
    assert errors > 0
    assert set(plant.faults_injected) == set(kinds)
    assert plant.takes_by_mo == {values["mo_id"]: 1 for values in batches}
    assert plant.takes_by_batch == {identity(values): 1 for values in batches}
    assert plant.finished == 5


# --- acknowledge_read -------------------------------------------------------------------
def reported(sim, slot=1, **changes):
    values = {"batch_no": 1, "mo_id": "WH/MO/00001", "status_manufacturing": True}
    values.update(changes)
    sim.write_slot_values("read", slot, values)
    return hs.SlotIdentity(values["batch_no"], values["mo_id"])


def ack(client, slot, ours):
    return hs.acknowledge_read(client, GEOMETRY, slot, ours)


def test_acknowledge_sets_the_read_handshake_word(sim):
    ours = reported(sim, 5)
    with counting_client(sim) as client:
        assert ack(client, 5, ours) is True
    assert client.writes == [("D6476", [1])]
    assert sim.memory.read(6476, 1) == [1]


def test_acknowledge_twice_writes_once(sim):
    ours = reported(sim)
    with counting_client(sim) as client:
        assert ack(client, 1, ours) is True
        assert ack(client, 1, ours) is True
    assert len(client.writes) == 1


@pytest.mark.parametrize(
    "other", [hs.SlotIdentity(2, "WH/MO/00001"), hs.SlotIdentity(1, "WH/MO/00002"), hs.SlotIdentity(0, "")]
)
def test_never_acknowledge_another_result(sim, other):
    reported(sim)
    with counting_client(sim) as client:
        assert ack(client, 1, other) is False
        assert ack(client, 2, hs.SlotIdentity(1, "WH/MO/00001")) is False  # an empty slot
    assert client.writes == []
    assert sim.memory.read(6076, 1) == [0]


def test_acknowledge_with_a_lost_reply_reads_back(sim):
    ours = reported(sim)
    sim.set_fault("drop", 1.0, command_codes=[WRITE])
    with counting_client(sim) as client:
        assert ack(client, 1, ours) is True
    assert len(client.writes) == 1 and sim.faults_injected == {"drop": 1}


@pytest.mark.parametrize("kind,error", [("lost_request", PlcTimeoutError), ("refuse", PlcEndCodeError)])
def test_acknowledge_not_executed_raises(sim, kind, error):
    ours = reported(sim)
    sim.set_fault(kind, 1.0, command_codes=[WRITE])
    with client_for(sim) as client, pytest.raises(error):
        ack(client, 1, ours)
    assert sim.memory.read(6076, 1) == [0]


def test_acknowledge_lets_the_plant_take_the_next_recipe(plant):
    with client_for(plant) as client:
        first, second = recipe(1, "WH/MO/00001"), recipe(2, "WH/MO/00002")
        assert write(client, 1, first).status == "written"
        assert wait_for(lambda: plant.finished == 1)
        assert write(client, 1, second).status == "written"
        time.sleep(0.15)
        assert plant.takes_by_mo == {"WH/MO/00001": 1}  # the result waits to be read
        assert ack(client, 1, identity(first)) is True
        assert wait_for(lambda: plant.takes_by_mo.get("WH/MO/00002") == 1)
        assert ack(client, 1, identity(first)) is False  # READ slot 1 reports on batch 2 now


class ScanAfterWriteClient(FinsClient):
    """A real client after whose every write the line runs one scan, as if
    the PLC's scan fell between the write and the next command."""

    def __init__(self, sim, **kwargs):
        super().__init__(port=sim.port, protocol=sim.protocol, timeout=0.3, **kwargs)
        self.sim, self.now = sim, 0.0

    def write_words(self, address, words):
        super().write_words(address, words)
        self.now += 1.0
        self.sim.plant_tick(self.now)


def test_acknowledge_when_the_plc_moves_on_before_the_read_back(sim):
    # The line's scans are driven by the client: batch 1 runs and finishes
    # while recipe 2 waits; the scan right after the acknowledgement takes
    # recipe 2 into READ slot 1, before the read-back.
    sim.batch_seconds = 0.5
    first, second = recipe(1, "WH/MO/00001"), recipe(2, "WH/MO/00002")
    with ScanAfterWriteClient(sim) as client:
        assert write(client, 1, first).status == "written"  # + a scan: taken
        sim.plant_tick(2.0)  # finished
        assert sim.finished == 1
        assert write(client, 1, second).status == "written"  # + a scan: waits for the ack
        assert sim.takes_by_mo == {"WH/MO/00001": 1}
        assert ack(client, 1, identity(first)) is True  # + a scan: recipe 2 taken
        assert sim.takes_by_mo == {"WH/MO/00001": 1, "WH/MO/00002": 1}
        assert sim.read_slot_values("read", 1)["mo_id"] == "WH/MO/00002"
        assert ack(client, 1, identity(first)) is False  # now it is batch 2's result


# --- clear_write_slot -------------------------------------------------------------------
def clear(client, slot, ours):
    return hs.clear_write_slot(client, GEOMETRY, slot, ours)


def test_clear_a_recipe_not_taken(sim):
    sim.write_slot_values("write", 6, recipe())
    with counting_client(sim) as client:
        assert clear(client, 6, identity(recipe())) == "cleared"
    assert client.writes == [("D7500", [0] * 77)]
    assert slot_words(sim, "write", 6) == [0] * 77


def test_clear_a_taken_recipe_writes_nothing(sim):
    sim.write_slot_values("write", 1, recipe(status_read_data=True))
    with counting_client(sim) as client:
        assert clear(client, 1, identity(recipe())) == "taken"
        sim.memory.write(7076, [0])
        reported(sim)  # the PLC reports on it
        assert clear(client, 1, identity(recipe())) == "taken"
    assert client.writes == []


@pytest.mark.parametrize("other", [recipe(2), recipe(1, "WH/MO/00002"), None])
def test_clear_another_recipe_or_none_is_absent(sim, other):
    if other:
        sim.write_slot_values("write", 1, other)
    before = slot_words(sim, "write", 1)
    with counting_client(sim) as client:
        assert clear(client, 1, identity(recipe())) == "absent"
    assert client.writes == []
    assert slot_words(sim, "write", 1) == before


def test_clear_with_a_lost_reply_reads_back(sim):
    sim.write_slot_values("write", 1, recipe())
    sim.set_fault("drop", 1.0, command_codes=[WRITE])
    with counting_client(sim) as client:
        assert clear(client, 1, identity(recipe())) == "cleared"
    assert len(client.writes) == 1
    assert slot_words(sim, "write", 1) == [0] * 77


@pytest.mark.parametrize("kind,error", [("lost_request", PlcTimeoutError), ("refuse", PlcEndCodeError)])
def test_clear_not_executed_raises(sim, kind, error):
    sim.write_slot_values("write", 1, recipe())
    sim.set_fault(kind, 1.0, command_codes=[WRITE])
    with client_for(sim) as client, pytest.raises(error):
        clear(client, 1, identity(recipe()))
    assert sim.read_slot_values("write", 1)["mo_id"] == "WH/MO/00001"


def test_plant_clear_before_the_plc_takes_it(plant):
    with client_for(plant) as client:
        # READ slot 1 holds an unread result: the PLC cannot take the next recipe yet.
        reported(plant, 1, batch_no=9, mo_id="WH/MO/00009")
        assert write(client, 1, recipe()).status == "written"
        assert clear(client, 1, identity(recipe())) == "cleared"
        assert ack(client, 1, hs.SlotIdentity(9, "WH/MO/00009"))
        time.sleep(0.2)
    assert plant.takes_by_mo == {}


def test_plant_clear_races_the_plc_and_tells_the_truth(plant):
    outcomes = []
    with client_for(plant) as client:
        for number in range(1, 9):
            values = recipe(number, "WH/MO/%05d" % number)
            assert write(client, 1, values).status == "written"
            time.sleep(0.01 * number)
            outcomes.append((values["mo_id"], clear(client, 1, identity(values))))
            if outcomes[-1][1] == "taken":
                # Read the result, which frees READ slot 1 for the next recipe.
                assert wait_for(lambda values=values: ack(client, 1, identity(values)))
    time.sleep(0.1)
    assert all(outcome in ("taken", "cleared") for _, outcome in outcomes)
    # "taken" exactly when the PLC took it, once; "cleared" never ran.
    assert plant.takes_by_mo == {mo_id: 1 for mo_id, outcome in outcomes if outcome == "taken"}


# --- the slot geometry -----------------------------------------------------------------
def test_slot_geometry_says_where_each_slot_lies():
    assert GEOMETRY == (READ_LAYOUT, WRITE_LAYOUT, 6000, 7000, 100, 10)
    assert (GEOMETRY.read_address(1), GEOMETRY.write_address(3)) == (6000, 7200)
    assert GEOMETRY.handshake_address("read", 2) == 6176
    assert GEOMETRY.handshake_address("write", 10) == 7976
    assert GEOMETRY.layout("write") is WRITE_LAYOUT and GEOMETRY.base("read") == 6000
    assert GEOMETRY.problems() == []
    moved = mm.SlotGeometry(READ_LAYOUT, WRITE_LAYOUT, read_base=1000, write_base=3000, stride=80, count=4)
    assert (moved.read_address(2), moved.write_address(4), moved.handshake_address("write", 2)) == (
        1080,
        3240,
        3156,
    )
    assert mm.SlotGeometry(READ_LAYOUT, WRITE_LAYOUT, stride=50).problems()  # slots overlap
    with pytest.raises(AttributeError):
        GEOMETRY.stride = 80
    with pytest.raises(ValueError):
        GEOMETRY.address("both", 1)
    with pytest.raises(ValueError):
        GEOMETRY.read_address(0)


def test_the_handshake_follows_the_geometry(sim):
    """Slots elsewhere in DM, closer together: every read and write of the
    handshake lands on the geometry's words, none on the plant's."""
    moved = mm.SlotGeometry(READ_LAYOUT, WRITE_LAYOUT, read_base=1000, write_base=3000, stride=80, count=4)
    ours = identity(recipe())
    with counting_client(sim) as client:
        assert hs.write_recipe(client, moved, 2, recipe()).status == "written"
        assert client.writes == [("D3080", WRITE_LAYOUT.encode(recipe()))]
        assert sim.memory.read(3080, mm.SLOT_WORDS) == WRITE_LAYOUT.encode(recipe())
        assert hs.clear_write_slot(client, moved, 2, ours) == "cleared"
        assert sim.memory.read(3080, mm.SLOT_WORDS) == [0] * mm.SLOT_WORDS
        sim.memory.write(1080, READ_LAYOUT.encode({"batch_no": 1, "mo_id": "WH/MO/00001"}))
        assert hs.acknowledge_read(client, moved, 2, ours) is True
        assert client.writes[-1] == ("D1156", [1])
        assert moved.read_slot(client, "read", 2).fields["status_read_data"] is True
        assert [reading.slot for reading in moved.read_all(client, "read")] == [1, 2, 3, 4]
    assert not any(sim.memory.read(6000, 2000))  # the plant's areas untouched
