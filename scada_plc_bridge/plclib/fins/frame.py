"""FINS frames as bytes: the 10-byte FINS header and the FINS/TCP envelope.

No I/O here.  Decoders take what they were given and either return a
result, return None for "need more bytes" (TCP stream) or raise
PlcFrameError for bytes that can never become a valid frame."""

import struct
from collections import namedtuple

from ..exceptions import PlcFrameError

HEADER_SIZE = 10
# ICF bits: 0x80 gateway (always set), 0x40 response, 0x01 no response wanted.
ICF_COMMAND = 0x80
ICF_RESPONSE_BIT = 0x40
ICF_NO_RESPONSE_BIT = 0x01
# Gateway count: 0x02 for CS/CJ-series (up to 8 network levels).
DEFAULT_GCT = 0x02

FinsHeader = namedtuple("FinsHeader", "icf rsv gct dna da1 da2 sna sa1 sa2 sid")
FinsCommand = namedtuple("FinsCommand", "header command_code payload")
FinsResponse = namedtuple("FinsResponse", "header command_code end_code payload")


def encode_header(header):
    return bytes(header)


def decode_header(data):
    if len(data) < HEADER_SIZE:
        raise PlcFrameError("FINS frame shorter than its 10-byte header (%d bytes)" % len(data))
    return FinsHeader(*data[:HEADER_SIZE])


def encode_command(header, command_code, payload=b""):
    return encode_header(header) + struct.pack(">H", command_code) + bytes(payload)


def decode_command(data):
    header = decode_header(data)
    if header.icf & ICF_RESPONSE_BIT:
        raise PlcFrameError("frame is a response, expected a command")
    if len(data) < HEADER_SIZE + 2:
        raise PlcFrameError("FINS command without command code")
    (command_code,) = struct.unpack_from(">H", data, HEADER_SIZE)
    return FinsCommand(header, command_code, bytes(data[HEADER_SIZE + 2 :]))


def response_header(command_header):
    """Header of the reply to a command: addresses swapped, same SID."""
    h = command_header
    return FinsHeader(
        ICF_COMMAND | ICF_RESPONSE_BIT,
        0,
        DEFAULT_GCT,
        h.sna,
        h.sa1,
        h.sa2,
        h.dna,
        h.da1,
        h.da2,
        h.sid,
    )


def encode_response(header, command_code, end_code, payload=b""):
    return encode_header(header) + struct.pack(">HH", command_code, end_code) + bytes(payload)


def decode_response(data):
    header = decode_header(data)
    if not header.icf & ICF_RESPONSE_BIT:
        raise PlcFrameError("frame is a command (ICF %02X), expected a response" % header.icf)
    if len(data) < HEADER_SIZE + 4:
        raise PlcFrameError("FINS response without command code and end code (%d bytes)" % len(data))
    command_code, end_code = struct.unpack_from(">HH", data, HEADER_SIZE)
    return FinsResponse(header, command_code, end_code, bytes(data[HEADER_SIZE + 4 :]))


# --- FINS/TCP ------------------------------------------------------------
TCP_MAGIC = b"FINS"
TCP_HEADER_SIZE = 16
TCP_CLIENT_NODE_REQUEST = 0  # client -> server: node address data send
TCP_SERVER_NODE_RESPONSE = 1  # server -> client: node address data send
TCP_FRAME_SEND = 2
TCP_FRAME_SEND_ERROR = 3
TCP_CONNECTION_CONFIRMATION = 6
# FINS/TCP error codes (W342 7-4): the ones a server sends back.
TCP_ERRORS = {
    0x00000001: "the header is not 'FINS'",
    0x00000002: "the data length is too long",
    0x00000003: "the command is not supported",
    0x00000020: "all connections are in use",
    0x00000021: "the specified node is already connected",
    0x00000022: "attempt to access a protected node from an unspecified IP address",
    0x00000023: "the client FINS node address is out of range",
    0x00000024: "the same FINS node address is being used by the client and server",
    0x00000025: "all the node addresses available for allocation have been used",
}
# Longest FINS frame we accept in a TCP envelope: a 999-word read reply
# (10 + 4 + 1998) with room to spare; more is a broken stream.
TCP_MAX_PAYLOAD = 4096

TcpFrame = namedtuple("TcpFrame", "command error_code data")


def encode_tcp(command, data=b"", error_code=0):
    return TCP_MAGIC + struct.pack(">III", len(data) + 8, command, error_code) + bytes(data)


def decode_tcp(buffer):
    """Split one FINS/TCP frame off the front of `buffer`.

    Returns (TcpFrame, bytes consumed), or (None, 0) when more bytes are
    needed.  Raises PlcFrameError for a stream that lost its framing."""
    if len(buffer) < 4:
        if not TCP_MAGIC.startswith(bytes(buffer)):
            raise PlcFrameError("FINS/TCP stream lost its framing (no 'FINS' header)")
        return None, 0
    if bytes(buffer[:4]) != TCP_MAGIC:
        raise PlcFrameError("FINS/TCP stream lost its framing (no 'FINS' header)")
    if len(buffer) < TCP_HEADER_SIZE:
        return None, 0
    length, command, error_code = struct.unpack_from(">III", buffer, 4)
    if length < 8 or length - 8 > TCP_MAX_PAYLOAD:
        raise PlcFrameError("FINS/TCP length field out of range: %d" % length)
    total = 8 + length
    if len(buffer) < total:
        return None, 0
    return TcpFrame(command, error_code, bytes(buffer[TCP_HEADER_SIZE:total])), total


def encode_client_node_request(client_node=0):
    """Client's node address request; 0 asks the server to assign one."""
    return encode_tcp(TCP_CLIENT_NODE_REQUEST, struct.pack(">I", client_node))


def encode_server_node_response(client_node, server_node):
    return encode_tcp(TCP_SERVER_NODE_RESPONSE, struct.pack(">II", client_node, server_node))


def decode_node_addresses(tcp_frame):
    """(client node, server node) from the server's handshake reply."""
    if tcp_frame.error_code:
        raise PlcFrameError(
            "FINS/TCP handshake refused: %s"
            % TCP_ERRORS.get(tcp_frame.error_code, "error %08X" % tcp_frame.error_code)
        )
    if tcp_frame.command != TCP_SERVER_NODE_RESPONSE or len(tcp_frame.data) != 8:
        raise PlcFrameError("unexpected FINS/TCP handshake reply (command %d)" % tcp_frame.command)
    return struct.unpack(">II", tcp_frame.data)
