"""Errors raised by plclib.  Everything derives from PlcError, so callers
(the Odoo models) catch one class and show its message to the operator."""

# FINS end codes (main/sub response code) after the flag bits are masked,
# from Omron's FINS command reference (W342, section 5-1-3).
END_CODE_MEANINGS = {
    0x0000: "normal completion",
    0x0001: "service canceled",
    0x0101: "local node not in network",
    0x0102: "token timeout",
    0x0103: "retries failed",
    0x0104: "too many send frames",
    0x0105: "node address range error",
    0x0106: "node address duplication",
    0x0201: "destination node not in network",
    0x0202: "unit missing",
    0x0203: "third node missing",
    0x0204: "destination node busy",
    0x0205: "response timeout",
    0x0301: "communications controller error",
    0x0302: "CPU unit error",
    0x0303: "controller error",
    0x0304: "unit number error",
    0x0401: "undefined command",
    0x0402: "not supported by model/version",
    0x0501: "destination address setting error",
    0x0502: "no routing tables",
    0x0503: "routing table error",
    0x0504: "too many relays",
    0x1001: "command too long",
    0x1002: "command too short",
    0x1003: "elements/data don't match",
    0x1004: "command format error",
    0x1005: "header error",
    0x1101: "area classification missing",
    0x1102: "access size error",
    0x1103: "address range error",
    0x1104: "address range exceeded",
    0x1106: "program missing",
    0x1109: "relational error",
    0x110A: "duplicate data access",
    0x110B: "response too long",
    0x110C: "parameter error",
    0x2002: "protected",
    0x2003: "table missing",
    0x2004: "data missing",
    0x2005: "program missing",
    0x2006: "file missing",
    0x2007: "data mismatch",
    0x2101: "read-only",
    0x2102: "protected, cannot write data link table",
    0x2103: "cannot register",
    0x2201: "not executable in current mode",
    0x2202: "not executable while running",
    0x2203: "wrong PLC mode (program)",
    0x2204: "wrong PLC mode (debug)",
    0x2205: "wrong PLC mode (monitor)",
    0x2206: "wrong PLC mode (run)",
    0x2207: "specified node not polling node",
    0x2208: "step cannot be executed",
    0x2301: "file device missing",
    0x2302: "memory missing",
    0x2303: "clock missing",
    0x2401: "table missing",
    0x2502: "memory error",
    0x2503: "I/O setting error",
    0x2504: "too many I/O points",
    0x2505: "CPU bus error",
    0x2506: "I/O duplication",
    0x2507: "I/O bus error",
    0x2509: "SYSMAC BUS/2 error",
    0x250A: "CPU bus unit error",
    0x250D: "SYSMAC BUS number duplication",
    0x250F: "memory error",
    0x2510: "SYSMAC BUS terminator missing",
    0x2601: "no protection",
    0x2602: "incorrect password",
    0x2604: "protected",
    0x2605: "service already executing",
    0x2606: "service stopped",
    0x2607: "no execution right",
    0x2608: "settings not complete",
    0x2609: "necessary items not set",
    0x260A: "number already defined",
    0x260B: "error will not clear",
    0x3001: "no access right",
    0x4001: "service aborted",
}

# Flag bits that ride on an end code without being part of it.
RELAY_ERROR_FLAG = 0x8000
FATAL_CPU_ERROR_FLAG = 0x0080
NON_FATAL_CPU_ERROR_FLAG = 0x0040
END_CODE_FLAGS = RELAY_ERROR_FLAG | FATAL_CPU_ERROR_FLAG | NON_FATAL_CPU_ERROR_FLAG


def end_code_meaning(end_code):
    """Text for a masked end code; unknown codes are named by their group."""
    if end_code in END_CODE_MEANINGS:
        return END_CODE_MEANINGS[end_code]
    return "unknown end code (main code %02X)" % (end_code >> 8)


class PlcError(Exception):
    """Base of every error plclib raises."""


class PlcConnectionError(PlcError):
    """The PLC could not be reached: socket refused or reset, TCP handshake failed."""


class PlcTimeoutError(PlcConnectionError):
    """No valid reply within timeout x (retries + 1)."""


class PlcFrameError(PlcError):
    """A reply that is not a well-formed FINS response."""


class PlcValueError(PlcError, ValueError):
    """A value that cannot be encoded into PLC words (type, range)."""


class PlcHandshakeError(PlcError):
    """A slot does not read back as the handshake left it (a recipe just
    written, a handshake word just set), or holds a handshake word other
    than 0 or 1."""


class PlcSlotBusyError(PlcError):
    """The WRITE slot holds another recipe the PLC has not taken yet."""

    def __init__(self, slot, identity):
        self.slot, self.identity = slot, identity
        super().__init__(
            "WRITE slot %s still holds MO %s (batch %s), not yet taken by the PLC"
            % (slot, identity.mo_ref, identity.batch_no)
        )


class PlcEndCodeError(PlcError):
    """The PLC answered with an error end code."""

    def __init__(self, raw_end_code, command_code=None):
        self.raw_end_code = raw_end_code
        self.end_code = raw_end_code & ~END_CODE_FLAGS & 0xFFFF
        self.meaning = end_code_meaning(self.end_code)
        self.command_code = command_code
        self.relay_error = bool(raw_end_code & RELAY_ERROR_FLAG)
        command = " to command %04X" % command_code if command_code is not None else ""
        relay = " (reported by a relay node)" if self.relay_error else ""
        super().__init__("PLC error end code %04X%s: %s%s" % (self.end_code, command, self.meaning, relay))
