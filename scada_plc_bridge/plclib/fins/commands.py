"""FINS commands: one class per command, each encoding its request payload
and decoding its response payload (and the reverse, for the simulator).
Word data is big-endian, as FINS sends it."""

import re
import struct

from ..exceptions import PlcFrameError, PlcValueError

# Word-access memory area codes of CS/CJ-series CPUs (W342 5-2-2).
WORD_AREAS = {"CIO": 0xB0, "W": 0xB1, "H": 0xB2, "A": 0xB3, "D": 0x82, "DM": 0x82}
AREA_NAMES = {0xB0: "CIO", 0xB1: "W", 0xB2: "H", 0xB3: "A", 0x82: "D"}
DM_AREA = 0x82
# Per-command word limits of CS/CJ over Ethernet.
MAX_READ_WORDS = 999
MAX_WRITE_WORDS = 997
# 0104 items per command: a longer reply would pass the 2012-byte frame.
MAX_MULTIPLE_READ_ITEMS = 167

_ADDRESS = re.compile(r"^\s*(CIO|DM|D|W|H|A)\s*(\d+)\s*$", re.IGNORECASE)


def parse_address(address):
    """'D6000' -> (0x82, 6000); an int is a DM word address."""
    if isinstance(address, int):
        if not 0 <= address <= 0xFFFF:
            raise PlcValueError("word address out of range: %d" % address)
        return DM_AREA, address
    match = _ADDRESS.match(str(address))
    if not match:
        raise PlcValueError("not a word address: %r (expected e.g. D6000, W10, CIO100)" % (address,))
    word = int(match.group(2))
    if word > 0xFFFF:
        raise PlcValueError("word address out of range: %r" % (address,))
    return WORD_AREAS[match.group(1).upper()], word


def format_address(area, address):
    return "%s%d" % (AREA_NAMES.get(area, "%02X:" % area), address)


def _words(payload):
    if len(payload) % 2:
        raise PlcFrameError("odd number of data bytes (%d) in word data" % len(payload))
    return list(struct.unpack(">%dH" % (len(payload) // 2), payload))


def _pack_words(words):
    try:
        return struct.pack(">%dH" % len(words), *words)
    except struct.error:
        raise PlcValueError("PLC words must be integers 0..65535: %r" % (list(words),))


class MemoryAreaRead:
    """0101: read `count` consecutive words from one area."""

    code = 0x0101

    def __init__(self, area, address, count):
        self.area, self.address, self.count = area, address, count

    def encode(self):
        return struct.pack(">BHBH", self.area, self.address, 0, self.count)

    @classmethod
    def decode_request(cls, payload):
        if len(payload) != 6:
            raise PlcFrameError("memory area read takes 6 parameter bytes, got %d" % len(payload))
        area, address, _bit, count = struct.unpack(">BHBH", payload)
        return cls(area, address, count)

    def decode_response(self, payload):
        words = _words(payload)
        if len(words) != self.count:
            raise PlcFrameError("asked for %d words, reply holds %d" % (self.count, len(words)))
        return words

    @staticmethod
    def encode_response(words):
        return _pack_words(words)


class MemoryAreaWrite:
    """0102: write consecutive words into one area."""

    code = 0x0102

    def __init__(self, area, address, words):
        self.area, self.address, self.words = area, address, list(words)

    def encode(self):
        return struct.pack(">BHBH", self.area, self.address, 0, len(self.words)) + _pack_words(self.words)

    @classmethod
    def decode_request(cls, payload):
        if len(payload) < 6:
            raise PlcFrameError("memory area write shorter than its parameters")
        area, address, _bit, count = struct.unpack_from(">BHBH", payload)
        words = _words(payload[6:])
        if len(words) != count:
            raise PlcFrameError("write announces %d words, carries %d" % (count, len(words)))
        return cls(area, address, words)

    def decode_response(self, payload):
        if payload:
            raise PlcFrameError("memory area write reply carries %d unexpected bytes" % len(payload))


class MultipleMemoryAreaRead:
    """0104: read single words from several addresses in one exchange."""

    code = 0x0104

    def __init__(self, items):
        self.items = list(items)  # [(area, address), ...]

    def encode(self):
        return b"".join(struct.pack(">BHB", area, address, 0) for area, address in self.items)

    @classmethod
    def decode_request(cls, payload):
        if not payload or len(payload) % 4:
            raise PlcFrameError("multiple memory area read takes 4 bytes per item")
        return cls((area, address) for area, address, _bit in struct.iter_unpack(">BHB", payload))

    def decode_response(self, payload):
        if len(payload) != 3 * len(self.items):
            raise PlcFrameError("asked for %d items, reply holds %d bytes" % (len(self.items), len(payload)))
        words = []
        for (area, _address), (reply_area, word) in zip(self.items, struct.iter_unpack(">BH", payload)):
            if reply_area != area:
                raise PlcFrameError("item area %02X echoed as %02X" % (area, reply_area))
            words.append(word)
        return words

    def encode_response(self, words):
        return b"".join(struct.pack(">BH", area, word) for (area, _), word in zip(self.items, words))


def _ascii(raw):
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


class ControllerDataRead:
    """0501: CPU model and version."""

    code = 0x0501

    def encode(self):
        return b""

    def decode_response(self, payload):
        if len(payload) < 40:
            raise PlcFrameError("controller data reply shorter than model and version (40 bytes)")
        return {"model": _ascii(payload[:20]), "version": _ascii(payload[20:40])}

    @staticmethod
    def encode_response(model, version):
        return model.encode("ascii").ljust(20, b" ")[:20] + version.encode("ascii").ljust(20, b" ")[:20]


class ControllerStatusRead:
    """0601: operating status and mode, error flags."""

    code = 0x0601
    STATUS = {0x00: "stop", 0x01: "run", 0x80: "standby"}
    MODES = {0x00: "program", 0x02: "monitor", 0x04: "run"}

    def encode(self):
        return b""

    # status, mode, fatal and non-fatal error flags, message flags, FAL/FALS
    # number, error message (16 ASCII characters): W342 5-3-x, 26 bytes.
    _RESPONSE = struct.Struct(">BBHHHH16s")

    def decode_response(self, payload):
        if len(payload) < self._RESPONSE.size:
            raise PlcFrameError("controller status reply has %d bytes, not 26" % len(payload))
        status, mode, fatal, non_fatal, _messages, _fal, message = self._RESPONSE.unpack_from(payload)
        result = {
            "status": self.STATUS.get(status, "unknown (%02X)" % status),
            "mode": self.MODES.get(mode, "unknown (%02X)" % mode),
            "fatal_error_flags": fatal,
            "non_fatal_error_flags": non_fatal,
        }
        if _ascii(message):
            result["error_message"] = _ascii(message)
        return result

    @classmethod
    def encode_response(cls, status=0x01, mode=0x04, fatal=0, non_fatal=0):
        return cls._RESPONSE.pack(status, mode, fatal, non_fatal, 0, 0, b"")


COMMANDS = {
    cls.code: cls
    for cls in (
        MemoryAreaRead,
        MemoryAreaWrite,
        MultipleMemoryAreaRead,
        ControllerDataRead,
        ControllerStatusRead,
    )
}
