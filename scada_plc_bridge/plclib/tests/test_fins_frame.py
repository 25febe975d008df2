"""Golden FINS frames, written by hand from Omron's FINS reference (W342:
header 5-1, commands 5-3, FINS/TCP 7-4), checked both ways."""

import pytest

from plclib.exceptions import PlcFrameError
from plclib.fins import commands, frame

HEADER = frame.FinsHeader(0x80, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05)
HEADER_BYTES = "80 00 02 00 00 00 00 01 00 05"


def hexbytes(text):
    return bytes.fromhex(text)


GOLDEN_COMMANDS = [
    # Memory Area Read: DM (82) word 6000 (1770), bit 00, 977 words (03D1).
    (commands.MemoryAreaRead(0x82, 6000, 977), "01 01 82 17 70 00 03 D1"),
    # Memory Area Write: D7076 (1BA4), one word, value 0001.
    (commands.MemoryAreaWrite(0x82, 7076, [1]), "01 02 82 1B A4 00 00 01 00 01"),
    # Multiple Memory Area Read: D6076 (17BC) and D6176 (1820).
    (
        commands.MultipleMemoryAreaRead([(0x82, 6076), (0x82, 6176)]),
        "01 04 82 17 BC 00 82 18 20 00",
    ),
    # The mailbox flags in one exchange: D8022 (1F56) and D9013 (2335).
    (
        commands.MultipleMemoryAreaRead([(0x82, 8022), (0x82, 9013)]),
        "01 04 82 1F 56 00 82 23 35 00",
    ),
    (commands.ControllerDataRead(), "05 01"),
    (commands.ControllerStatusRead(), "06 01"),
]


@pytest.mark.parametrize("command,golden", GOLDEN_COMMANDS)
def test_command_frames_match_the_manual(command, golden):
    data = frame.encode_command(HEADER, command.code, command.encode())
    assert data == hexbytes(HEADER_BYTES + " " + golden)
    decoded = frame.decode_command(data)
    assert decoded.header == HEADER
    assert decoded.command_code == command.code


def test_read_and_write_requests_decode_back():
    read = commands.MemoryAreaRead.decode_request(hexbytes("82 17 70 00 03 D1"))
    assert (read.area, read.address, read.count) == (0x82, 6000, 977)
    write = commands.MemoryAreaWrite.decode_request(hexbytes("82 1B A4 00 00 02 00 01 86 A0"))
    assert (write.area, write.address, write.words) == (0x82, 7076, [1, 34464])


def test_read_response_golden():
    # Reply to the header above: ICF C0, addresses swapped, same SID, end code 0000,
    # two words 0001 86A0 (= 100000, the capture's "1|34464").
    golden = hexbytes("C0 00 02 00 01 00 00 00 00 05 01 01 00 00 00 01 86 A0")
    response = frame.decode_response(golden)
    assert response.header == frame.response_header(HEADER)._replace(sa1=0)
    assert (response.command_code, response.end_code) == (0x0101, 0x0000)
    assert commands.MemoryAreaRead(0x82, 6025, 2).decode_response(response.payload) == [1, 34464]
    assert frame.encode_response(response.header, 0x0101, 0, response.payload) == golden


def test_controller_data_response():
    payload = b"CJ2M-CPU31".ljust(20, b" ") + b"02.01".ljust(20, b" ") + bytes(40)
    assert commands.ControllerDataRead().decode_response(payload) == {
        "model": "CJ2M-CPU31",
        "version": "02.01",
    }


def test_controller_status_response():
    payload = hexbytes("01 04 00 00 00 40 00 00 00 00") + bytes(16)
    status = commands.ControllerStatusRead().decode_response(payload)
    assert status == {
        "status": "run",
        "mode": "run",
        "fatal_error_flags": 0,
        "non_fatal_error_flags": 0x40,
    }


@pytest.mark.parametrize(
    "data",
    [b"", hexbytes("C0 00 02"), hexbytes("C0 00 02 00 01 00 00 00 00 05 01")],
)
def test_short_responses_are_frame_errors(data):
    with pytest.raises(PlcFrameError):
        frame.decode_response(data)


def test_a_command_is_not_a_response():
    with pytest.raises(PlcFrameError):
        frame.decode_response(hexbytes(HEADER_BYTES + " 01 01 00 00"))


def test_read_reply_with_missing_words_is_a_frame_error():
    with pytest.raises(PlcFrameError):
        commands.MemoryAreaRead(0x82, 6000, 3).decode_response(hexbytes("00 01 00 02"))


# --- FINS/TCP --------------------------------------------------------------
TCP_CLIENT_HELLO = "46 49 4E 53 00 00 00 0C 00 00 00 00 00 00 00 00 00 00 00 00"
TCP_SERVER_HELLO = "46 49 4E 53 00 00 00 10 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 01"


def test_tcp_node_address_handshake_golden():
    assert frame.encode_client_node_request(0) == hexbytes(TCP_CLIENT_HELLO)
    assert frame.encode_server_node_response(2, 1) == hexbytes(TCP_SERVER_HELLO)
    tcp_frame, used = frame.decode_tcp(hexbytes(TCP_SERVER_HELLO))
    assert used == 24
    assert frame.decode_node_addresses(tcp_frame) == (2, 1)


def test_tcp_frame_send_golden():
    fins = hexbytes(HEADER_BYTES + " 01 01 82 17 70 00 03 D1")
    golden = hexbytes("46 49 4E 53 00 00 00 1A 00 00 00 02 00 00 00 00") + fins
    assert frame.encode_tcp(frame.TCP_FRAME_SEND, fins) == golden


def test_tcp_frames_split_byte_by_byte_need_more_bytes():
    stream = hexbytes(TCP_SERVER_HELLO) + frame.encode_tcp(frame.TCP_FRAME_SEND, b"\x01\x02")
    buffer, frames = bytearray(), []
    for byte in stream:
        buffer.append(byte)
        tcp_frame, used = frame.decode_tcp(buffer)
        if tcp_frame is not None:
            frames.append(tcp_frame)
            del buffer[:used]
    assert [f.command for f in frames] == [frame.TCP_SERVER_NODE_RESPONSE, frame.TCP_FRAME_SEND]
    assert frames[1].data == b"\x01\x02"
    assert not buffer


def test_tcp_stream_without_fins_magic_is_a_frame_error():
    with pytest.raises(PlcFrameError):
        frame.decode_tcp(bytearray(b"FIXS" + bytes(12)))


def test_tcp_handshake_refusal_names_the_reason():
    refusal, _ = frame.decode_tcp(frame.encode_tcp(frame.TCP_SERVER_NODE_RESPONSE, bytes(8), 0x21))
    with pytest.raises(PlcFrameError, match="already connected"):
        frame.decode_node_addresses(refusal)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("D6000", (0x82, 6000)),
        ("dm7076", (0x82, 7076)),
        ("W10", (0xB1, 10)),
        ("CIO 100", (0xB0, 100)),
    ],
)
def test_addresses_parse(text, expected):
    assert commands.parse_address(text) == expected


def test_bad_address_is_refused():
    with pytest.raises(ValueError):
        commands.parse_address("X6000")


# --- the manual's own examples ----------------------------------------------
# Omron's CS/CJ FINS reference (section "FINS command and response formats")
# reads 10 words from D00010 with "01 01 82 00 0A 00 00 0A" and writes 5 words
# there with "01 02 82 00 0A 00 00 05" followed by the data.
def test_manual_example_read_ten_words_from_d10():
    command = commands.MemoryAreaRead(*commands.parse_address("D10"), 10)
    assert frame.encode_command(HEADER, command.code, command.encode())[10:] == hexbytes(
        "01 01 82 00 0A 00 00 0A"
    )
    request = commands.MemoryAreaRead.decode_request(hexbytes("82 00 0A 00 00 0A"))
    assert (request.area, request.address, request.count) == (0x82, 10, 10)


def test_manual_example_write_five_words_to_d10():
    data = "00 01 00 02 00 03 00 04 00 05"
    command = commands.MemoryAreaWrite(0x82, 10, [1, 2, 3, 4, 5])
    assert command.encode() == hexbytes("82 00 0A 00 00 05 " + data)
    assert commands.MemoryAreaWrite.decode_request(hexbytes("82 00 0A 00 00 05 " + data)).words == [
        1,
        2,
        3,
        4,
        5,
    ]


RESPONSE_HEADER = "C0 00 02 00 01 00 00 00 00 05"

GOLDEN_RESPONSES = [
    # Memory Area Write: command code and end code, nothing else.
    (commands.MemoryAreaWrite(0x82, 7076, [1]), "01 02 00 00", None),
    # Multiple Memory Area Read: each word comes back behind its area code.
    (
        commands.MultipleMemoryAreaRead([(0x82, 6076), (0x82, 6176)]),
        "01 04 00 00 82 00 01 82 00 00",
        [1, 0],
    ),
    # The mailbox flags: D8022 = 0 (a new failure), D9013 = 1 (weighing read).
    (
        commands.MultipleMemoryAreaRead([(0x82, 8022), (0x82, 9013)]),
        "01 04 00 00 82 00 00 82 00 01",
        [0, 1],
    ),
    # Controller Status Read: RUN status, RUN mode, no errors, no message.
    (
        commands.ControllerStatusRead(),
        "06 01 00 00 01 04 00 00 00 00 00 00 00 00" + " 00" * 16,
        {"status": "run", "mode": "run", "fatal_error_flags": 0, "non_fatal_error_flags": 0},
    ),
    # Memory Area Read of D6025..D6026: the capture's 1|34464.
    (commands.MemoryAreaRead(0x82, 6025, 2), "01 01 00 00 00 01 86 A0", [1, 34464]),
]


@pytest.mark.parametrize("command,golden,result", GOLDEN_RESPONSES)
def test_response_frames_decode(command, golden, result):
    data = hexbytes(RESPONSE_HEADER + " " + golden)
    response = frame.decode_response(data)
    assert (response.command_code, response.end_code) == (command.code, 0)
    assert command.decode_response(response.payload) == result


@pytest.mark.parametrize("command,golden,result", GOLDEN_RESPONSES)
def test_every_cut_of_a_response_is_refused_never_misread(command, golden, result):
    data = hexbytes(RESPONSE_HEADER + " " + golden)
    for size in range(len(data)):
        with pytest.raises(PlcFrameError):
            command.decode_response(frame.decode_response(data[:size]).payload)
