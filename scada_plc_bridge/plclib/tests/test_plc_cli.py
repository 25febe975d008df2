"""The scada-plc command: in-process through main([...]) and once as a real
process, against the simulator on 127.0.0.1."""

import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from plclib import memory_map as mm
from plclib.cli import build_parser, main, make_simulators
from plclib.client import FinsClient
from plclib.exceptions import PlcEndCodeError, PlcTimeoutError
from plclib.simulator import FAULT_KINDS, PlcSimulator

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(params=["udp", "tcp"])
def sim(request):
    with PlcSimulator(protocol=request.param) as simulator:
        yield simulator


def target(sim):
    return ["--port", str(sim.port), "--timeout", "0.5"] + (["--tcp"] if sim.protocol == "tcp" else [])


def test_read_json(sim):
    sim.memory.write(6025, [1, 34464])
    code, out, _ = run("read", *target(sim), "--json", "D6025", "2")
    assert code == 0
    assert json.loads(out) == {"address": "D6025", "words": [1, 34464]}


def test_write_then_read(sim):
    assert run("write", *target(sim), "D7076", "1", "0x00FF")[0] == 0
    assert sim.memory.read(7076, 2) == [1, 255]


def test_slot_json_with_the_plant_keys(sim):
    values = {
        "batch_no": 3,
        "mo_id": "WH/MO/00003",
        "quantity": 1000,
        "actual_consumption_silo_b": 150,
    }
    values.update({mm.silo_id_key(tag): silo_id for tag, silo_id in mm.PLANT_SILOS})
    sim.write_slot_values("read", 3, values)
    code, out, _ = run("slot", *target(sim), "--slot", "3", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["slot"] == 3 and result["valid"] is True and result["errors"] == []
    fields = result["fields"]
    assert fields["mo_id"] == "WH/MO/00003"
    assert fields["actual_consumption_silo_b"] == 150
    assert fields["status_manufacturing"] is False
    assert {
        "silo_id_a",
        "silo_id_m",
        "silo_id_lq114",
        "actual_consumption_lq115",
        "actual_weight_quantity_finished_goods",
        "status_read_data",
        "bom",
        "finished_goods",
    } <= set(fields)


def test_invalid_slot_exits_5(sim):
    sim.write_slot_values("read", 1, {"mo_id": "WH/MO/00001", "silo_id_a": 999})
    code, out, _ = run("slot", *target(sim), "--slot", "1", "--json")
    assert code == 5
    assert json.loads(out)["valid"] is False


def test_end_code_exits_3(sim):
    code, _, err = run("read", *target(sim), "D40000", "1")
    assert code == 3
    assert "1103" in err and len(err.strip().splitlines()) == 1


def test_no_reply_exits_4():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    code, _, err = run("read", "--port", str(port), "--timeout", "0.2", "--retries", "0", "D0", "1")
    assert code == 4
    assert "no reply" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["read", "D6000"],
        ["write", "D7000", "70000"],
        ["slot", "--slot", "11", "--json"],
        ["read", "X6000", "1"],
        ["nonsense"],
    ],
)
def test_usage_error_exits_2_with_one_line(argv):
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err


def test_simulator_as_a_real_process():
    environment = dict(os.environ, PYTHONPATH=ADDON_DIR)
    process = subprocess.Popen(
        [sys.executable, "-m", "plclib", "sim", "--host", "127.0.0.1", "--port", "0", "--plant"],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("listening on udp://127.0.0.1:")
        port = line.rsplit(":", 1)[1]
        read = subprocess.run(
            [sys.executable, "-m", "plclib", "read", "--port", port, "--json", "D7076", "1"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=30,
        )
        assert read.returncode == 0, read.stderr
        assert json.loads(read.stdout)["words"] == [0]
    finally:
        process.terminate()
        # SIGTERM stops the simulator cleanly: exit code 0.
        assert process.wait(timeout=10) == 0


def test_slot_of_the_write_area_uses_the_recipe_keys(sim):
    sim.write_slot_values("write", 2, {"mo_id": "WH/MO/00002", "consumption_silo_a": 600})
    code, out, _ = run("slot", *target(sim), "--slot", "2", "--area", "write", "--json")
    fields = json.loads(out)["fields"]
    # Ids were not written: reported, not patched.
    assert code == 5
    assert fields["consumption_silo_a"] == 600
    assert "weight_quantity_finished_goods" in fields


def start_simulator_process(*options):
    """`python -m plclib sim` on an ephemeral loopback port; returns the
    process and the URLs it printed (one line per simulated PLC)."""
    count = 1
    if "--count" in options:
        count = int(options[list(options).index("--count") + 1])
    process = subprocess.Popen(
        [sys.executable, "-m", "plclib", "sim", "--host", "127.0.0.1", "--port", "0"] + list(options),
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=ADDON_DIR),
    )
    urls = [process.stdout.readline().strip() for _ in range(count)]
    assert all(url.startswith("listening on ") for url in urls), urls
    return process, [url.split()[-1] for url in urls]


def stop_simulator_process(process):
    process.terminate()
    assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_simulator_process_without_fault_options_answers_at_once(protocol):
    # --fault-delay (seconds, default 1) once shared its argparse destination
    # with the --delay fault rate: every reply then waited a second.
    process, (url,) = start_simulator_process(*(["--tcp"] if protocol == "tcp" else []))
    try:
        port = int(url.rsplit(":", 1)[1])
        with FinsClient(port=port, protocol=protocol, timeout=2.0, retries=0) as client:
            client.open()
            durations = []
            for _ in range(5):  # the best of five, so a busy test machine does not count
                started = time.monotonic()
                assert client.read_words("D7076", 1) == [0]
                durations.append(time.monotonic() - started)
            assert min(durations) < 0.05
    finally:
        stop_simulator_process(process)


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
@pytest.mark.parametrize("flag,error", [("--refuse", PlcEndCodeError), ("--lost-request", PlcTimeoutError)])
def test_simulator_process_faults_that_execute_nothing(protocol, flag, error):
    process, (url,) = start_simulator_process(flag, "1", *(["--tcp"] if protocol == "tcp" else []))
    try:
        port = int(url.rsplit(":", 1)[1])
        with FinsClient(port=port, protocol=protocol, timeout=0.3, retries=0) as client:
            with pytest.raises(error):
                client.write_words("D7000", [1])
    finally:
        stop_simulator_process(process)


def _read_json(path):
    try:
        with open(path) as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def _wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_simulator_process_serves_count_plcs_and_writes_stats(tmp_path, protocol):
    stats_file = str(tmp_path / "stats.json")
    process, urls = start_simulator_process(
        "--plant",
        "--batch-seconds",
        "0.2",
        "--count",
        "3",
        "--stats-file",
        stats_file,
        *(["--tcp"] if protocol == "tcp" else []),
    )
    try:
        ports = [int(url.rsplit(":", 1)[1]) for url in urls]
        assert len(set(ports)) == 3
        recipe = {"batch_no": 4, "mo_id": "WH/MO/00004", "quantity": 100, "consumption_silo_a": 100}
        with FinsClient(port=ports[1], protocol=protocol, timeout=0.5) as client:
            mm.write_slot(client, mm.default_write_layout(), mm.WRITE_AREA_BASE, 1, recipe)
        # Stats are rewritten while it runs (at least every second).
        assert _wait_for(lambda: (_read_json(stats_file) or {}).get(str(ports[1]), {}).get("finished") == 1)
        with FinsClient(port=ports[0], protocol=protocol, timeout=0.5) as client:
            assert client.read_words("D7001", 1) == [0]  # own memory per PLC
    finally:
        stop_simulator_process(process)
    stats = _read_json(stats_file)  # written at exit
    assert sorted(stats) == sorted(str(port) for port in ports)
    busy = stats[str(ports[1])]
    assert busy["takes_by_mo"] == {"WH/MO/00004": 1}
    assert busy["takes_by_batch"] == [{"batch_no": 4, "mo_id": "WH/MO/00004", "takes": 1}]
    assert (busy["recipes_taken"], busy["finished"], busy["failed"], busy["faults_injected"]) == (1, 1, 0, {})
    assert busy["requests_served"] == 1
    assert stats[str(ports[0])]["requests_served"] == 1
    assert stats[str(ports[2])]["requests_served"] == stats[str(ports[2])]["recipes_taken"] == 0


def test_simulator_process_stats_of_one_plc_with_faults(tmp_path):
    stats_file = str(tmp_path / "stats.json")
    process, (url,) = start_simulator_process("--lost-request", "1", "--stats-file", stats_file)
    try:
        with FinsClient(port=int(url.rsplit(":", 1)[1]), timeout=0.05, retries=2) as client:
            with pytest.raises(PlcTimeoutError):
                client.read_words("D0", 1)
    finally:
        stop_simulator_process(process)
    stats = _read_json(stats_file)
    assert stats["faults_injected"] == {"lost_request": 3}
    assert stats["requests_served"] == 0
    assert set(stats) >= {"recipes_taken", "takes_by_mo", "requests_served", "finished", "failed"}


def test_fault_rate_all_sets_every_fault_a_fault_option_overrides_it():
    args = build_parser().parse_args(["sim", "--count", "2", "--fault-rate-all", "0.25", "--drop", "0"])
    simulators = make_simulators(args)
    assert len(simulators) == 2
    expected = {kind: 0.25 for kind in FAULT_KINDS if kind != "drop"}
    assert [simulator.faults for simulator in simulators] == [expected, expected]
    assert make_simulators(build_parser().parse_args(["sim"]))[0].faults == {}
    assert run("sim", "--count", "0")[0] == 2
