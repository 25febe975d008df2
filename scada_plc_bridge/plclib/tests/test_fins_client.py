"""FinsClient against a PLC peer the test drives by hand over a real UDP
socket on 127.0.0.1: what it accepts, what it discards, what it raises."""

import socket
import struct
import threading
import time

import pytest

from plclib.client import FinsClient
from plclib.exceptions import (
    PlcConnectionError,
    PlcEndCodeError,
    PlcFrameError,
    PlcTimeoutError,
    PlcValueError,
)
from plclib.fins import frame
from plclib.simulator import PlcSimulator


class ScriptedPeer:
    """A UDP 'PLC' whose replies to each request come from `script(request)`:
    a list of datagrams (bytes) to send back, in order."""

    def __init__(self, script):
        self.script = script
        self.requests = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.socket.recvfrom(65535)
            except socket.timeout:
                continue
            request = frame.decode_command(data)
            self.requests.append(request)
            for datagram in self.script(request):
                self.socket.sendto(datagram, peer)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def peer_factory():
    peers = []

    def make(script):
        peers.append(ScriptedPeer(script))
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()


def reply(request, end_code=0, payload=b"", sid=None, command_code=None):
    header = frame.response_header(request.header)
    if sid is not None:
        header = header._replace(sid=sid)
    return frame.encode_response(
        header, request.command_code if command_code is None else command_code, end_code, payload
    )


def words(*values):
    return struct.pack(">%dH" % len(values), *values)


def test_stale_reply_in_the_socket_is_not_returned(peer_factory):
    # The PLC first sends a late answer to an older request (SID - 1, other
    # data), then the real one: the client must return only the real data.
    peer = peer_factory(
        lambda request: [
            reply(request, payload=words(9999), sid=(request.header.sid - 1) % 256),
            reply(request, payload=words(1234)),
        ]
    )
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6000", 1) == [1234]


def test_reply_echoing_another_command_is_discarded(peer_factory):
    peer = peer_factory(
        lambda request: [
            reply(request, payload=words(1), command_code=0x0102),
            reply(request, payload=words(7)),
        ]
    )
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6000", 1) == [7]


def test_each_request_gets_its_own_sid(peer_factory):
    peer = peer_factory(lambda request: [reply(request, payload=words(0))])
    with FinsClient(port=peer.port, timeout=1) as client:
        for _ in range(3):
            client.read_words("D0", 1)
    sids = [request.header.sid for request in peer.requests]
    assert len(set(sids)) == 3


def test_normal_completion(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x0000, words(1, 34464))])
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6025", 2) == [1, 34464]
        assert client.last_warning is None


def test_non_fatal_flag_is_success_with_a_warning(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x0040, words(5))])
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6000", 1) == [5]
        assert "non-fatal" in client.last_warning


def test_error_end_code_raises_with_code_and_meaning(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x1103)])
    with FinsClient(port=peer.port, timeout=1) as client, pytest.raises(PlcEndCodeError) as caught:
        client.read_words("D6000", 1)
    assert caught.value.end_code == 0x1103
    assert "address range" in str(caught.value)


def test_error_end_code_with_flags_is_judged_on_the_code(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x1103 | 0x0040)])
    with FinsClient(port=peer.port, timeout=1) as client, pytest.raises(PlcEndCodeError) as caught:
        client.read_words("D6000", 1)
    assert (caught.value.end_code, caught.value.raw_end_code) == (0x1103, 0x1143)


def test_relay_error_bit_is_masked_and_reported(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x8000 | 0x0205)])
    with FinsClient(port=peer.port, timeout=1) as client, pytest.raises(PlcEndCodeError) as caught:
        client.read_words("D6000", 1)
    assert caught.value.end_code == 0x0205
    assert caught.value.relay_error
    assert "relay" in str(caught.value)


def test_malformed_reply_then_nothing_raises_frame_error(peer_factory):
    peer = peer_factory(lambda request: [b"\xc0\x00\x02"])
    with FinsClient(port=peer.port, timeout=0.2, retries=0) as client, pytest.raises(PlcFrameError):
        client.read_words("D6000", 1)


def test_malformed_reply_before_the_good_one_is_skipped(peer_factory):
    peer = peer_factory(lambda request: [b"garbage", reply(request, payload=words(3))])
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6000", 1) == [3]


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_dead_plc_is_bounded_by_timeout_times_attempts(protocol):
    # A port nobody listens on (bound, then closed) on loopback.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = FinsClient(port=port, protocol=protocol, timeout=0.2, retries=2)
    started = time.monotonic()
    # UDP: silence until the timeout; TCP: the connection is refused.
    expected = PlcTimeoutError if protocol == "udp" else PlcConnectionError
    with pytest.raises(expected):
        client.read_words("D6000", 1)
    assert time.monotonic() - started < 0.2 * 3 + 0.3
    client.close()


def test_reads_and_writes_split_at_the_command_limits():
    with PlcSimulator() as sim, FinsClient(port=sim.port, timeout=1) as client:
        data = [(index * 7) % 65536 for index in range(2500)]
        client.write_words("D1000", data)
        assert sim.requests_served == 3  # 997 + 997 + 506
        assert client.read_words("D1000", 2500) == data
        assert sim.requests_served == 6  # 999 + 999 + 502
        assert client.round_trips == 6


def test_one_client_shared_by_threads_never_mixes_replies():
    with PlcSimulator() as sim, FinsClient(port=sim.port, timeout=1) as client:
        for index in range(8):
            sim.memory.write(100 * index, [index] * 10)
        errors = []

        def worker(index):
            for _ in range(30):
                if client.read_words("D%d" % (100 * index), 10) != [index] * 10:
                    errors.append(index)

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert client.round_trips == 240


def test_warning_of_one_chunk_survives_the_split_read_and_is_reset_next_call(peer_factory):
    def script(request):
        count = struct.unpack(">H", request.payload[4:6])[0]
        flagged = request.payload[1:3] == b"\x00\x00"  # only the first chunk, from D0
        return [reply(request, 0x0040 if flagged else 0, words(*([0] * count)))]

    peer = peer_factory(script)
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D0", 1500) == [0] * 1500
        assert "non-fatal" in client.last_warning
        client.read_words("D2000", 1)
        assert client.last_warning is None


def test_a_write_is_sent_once_even_with_retries(peer_factory):
    # A write that timed out may have reached the PLC; repeating it could undo
    # the PLC's own handshake since, so it is never repeated.
    peer = peer_factory(lambda request: [])
    with FinsClient(port=peer.port, timeout=0.1, retries=3) as client:
        with pytest.raises(PlcTimeoutError):
            client.write_words("D7000", [1, 2])
        with pytest.raises(PlcTimeoutError):
            client.read_words("D7000", 2)
    assert [request.command_code for request in peer.requests] == [0x0102] + [0x0101] * 4


def test_words_that_are_not_16_bit_are_refused_before_sending(peer_factory):
    peer = peer_factory(lambda request: [reply(request)])
    with FinsClient(port=peer.port, timeout=0.2) as client:
        for bad in ([65536], [-1], [1.5]):
            with pytest.raises(PlcValueError):
                client.write_words("D7000", bad)
        with pytest.raises(PlcValueError):
            client.read_words("X100", 1)
    assert peer.requests == []


def test_multiple_read_splits_at_167_items():
    with PlcSimulator() as sim, FinsClient(port=sim.port, timeout=1) as client:
        sim.memory.write(0, list(range(200)))
        assert client.read_multiple(["D%d" % address for address in range(200)]) == list(range(200))
        assert client.round_trips == 2


def test_fatal_cpu_flag_on_normal_completion_is_data_with_a_warning(peer_factory):
    peer = peer_factory(lambda request: [reply(request, 0x0080, words(8))])
    with FinsClient(port=peer.port, timeout=1) as client:
        assert client.read_words("D6000", 1) == [8]
        assert "fatal" in client.last_warning
