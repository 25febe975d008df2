"""FinsClient: a synchronous, thread-safe FINS client for one PLC.

Every request carries its own SID.  A reply is accepted only when its ICF,
SID, echoed command code and source node match the request; anything else
in the socket (a late reply to an earlier request, a duplicate, a foreign or
broken datagram) is discarded and the client keeps waiting for its own
reply until the timeout.  Reads are retried `retries` times, so a dead PLC
costs at most timeout x (retries + 1)."""

import itertools
import logging
import threading
import time

from .exceptions import (
    END_CODE_FLAGS,
    FATAL_CPU_ERROR_FLAG,
    NON_FATAL_CPU_ERROR_FLAG,
    PlcConnectionError,
    PlcEndCodeError,
    PlcFrameError,
    PlcTimeoutError,
    PlcValueError,
)
from .fins import commands, frame
from .transport import make_transport

_logger = logging.getLogger(__name__)

DEFAULT_PORT = 9600
DEFAULT_UDP_CLIENT_NODE = 1


def chunks(start, count, size):
    """(offset, length) pieces of at most `size` covering start..start+count."""
    for offset in range(0, count, size):
        yield start + offset, min(size, count - offset)


class FinsClient:
    def __init__(
        self,
        host="127.0.0.1",
        port=DEFAULT_PORT,
        protocol="udp",
        timeout=2.0,
        retries=1,
        plc_node=0,
        client_node=None,
        plc_net=0,
        plc_unit=0,
        client_net=0,
    ):
        self.host, self.port, self.protocol = host, port, protocol
        self.timeout, self.retries = float(timeout), int(retries)
        self.plc_net, self.plc_node, self.plc_unit = plc_net, plc_node, plc_unit
        self.client_net, self.client_node = client_net, client_node
        self.transport = make_transport(protocol, host, port, client_node)
        self._lock = threading.RLock()
        self._sids = itertools.cycle(range(1, 256))
        self.last_warning = None
        self.round_trips = 0

    # -- connection ----------------------------------------------------
    def open(self):
        with self._lock:
            self.transport.open(self.timeout)

    def close(self):
        with self._lock:
            self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return "FinsClient(%s://%s:%s)" % (self.protocol, self.host, self.port)

    # -- exchanges -----------------------------------------------------
    def _nodes(self):
        """(client node, PLC node): TCP learns them from the handshake."""
        client_node = self.transport.client_node or self.client_node or DEFAULT_UDP_CLIENT_NODE
        plc_node = self.plc_node or self.transport.server_node or 0
        return client_node & 0xFF, plc_node & 0xFF

    def _is_our_reply(self, response, request_header, command_code):
        return (
            response.header.icf & frame.ICF_RESPONSE_BIT
            and response.header.sid == request_header.sid
            and response.command_code == command_code
            and response.header.da1 == request_header.sa1
            and (request_header.da1 == 0 or response.header.sa1 in (0, request_header.da1))
        )

    def execute(self, command, retries=0):
        """Send `command`, return its decoded response payload.

        `retries` is for reads only: a write that timed out may still have
        reached the PLC, and repeating it could undo what the PLC did since
        (e.g. its handshake word), so writes go out once and the caller
        reads back to find out."""
        with self._lock:
            last_error = None
            for _attempt in range(retries + 1):
                # One deadline per attempt covers connecting, the FINS/TCP
                # handshake and the reply: a dead PLC costs timeout x attempts.
                deadline = time.monotonic() + self.timeout
                self.transport.open(self.timeout)
                header = self._request_header()
                self.round_trips += 1
                self.transport.send(frame.encode_command(header, command.code, command.encode()))
                try:
                    return self._await_reply(command, header, deadline)
                except PlcTimeoutError:
                    last_error = None
                except (PlcFrameError, PlcConnectionError) as error:
                    # Malformed reply, lost TCP stream or reset: worth another
                    # attempt on a fresh connection.
                    self.transport.close()
                    last_error = error
            if last_error is not None:
                raise last_error
            raise PlcTimeoutError(
                "no reply from %s://%s:%s within %.1f s (%d attempt%s)"
                % (
                    self.protocol,
                    self.host,
                    self.port,
                    self.timeout,
                    retries + 1,
                    "s" if retries else "",
                )
            )

    def _request_header(self):
        client_node, plc_node = self._nodes()
        return frame.FinsHeader(
            frame.ICF_COMMAND,
            0,
            frame.DEFAULT_GCT,
            self.plc_net,
            plc_node,
            self.plc_unit,
            self.client_net,
            client_node,
            0,
            next(self._sids),
        )

    def _await_reply(self, command, header, deadline):
        """Our reply's decoded payload; raises PlcTimeoutError at the deadline."""
        malformed = None
        while True:
            data = self.transport.receive(deadline)
            if data is None:
                if malformed is not None:
                    raise PlcFrameError(
                        "no valid reply from %s:%s; last reply was malformed: %s"
                        % (self.host, self.port, malformed)
                    )
                raise PlcTimeoutError("no reply within %.1f s" % self.timeout)
            try:
                response = frame.decode_response(data)
                if not self._is_our_reply(response, header, command.code):
                    _logger.debug("discarding a reply that is not ours: %r", response.header)
                    continue
                self._check_end_code(response.end_code, command.code)
                return command.decode_response(response.payload)
            except PlcFrameError as error:
                # A broken frame may be ours or not: keep waiting for a good
                # one, and report it if none comes.
                _logger.debug("discarding a malformed reply: %s", error)
                malformed = error

    def _check_end_code(self, raw_end_code, command_code):
        end_code = raw_end_code & ~END_CODE_FLAGS & 0xFFFF
        if end_code:
            raise PlcEndCodeError(raw_end_code, command_code)
        warning = None
        if raw_end_code & FATAL_CPU_ERROR_FLAG:
            warning = "PLC reports a fatal CPU error (end code %04X)" % raw_end_code
        elif raw_end_code & NON_FATAL_CPU_ERROR_FLAG:
            warning = "PLC reports a non-fatal CPU error (end code %04X)" % raw_end_code
        if warning:
            # Kept until the next public call, so one flagged chunk of a
            # split read is not hidden by the chunks after it.
            self.last_warning = warning
            _logger.warning("%s: %s", self, warning)

    # -- public API ----------------------------------------------------
    # Each call starts with last_warning = None, so it reports this call only.
    def read_words(self, address, count):
        """Read `count` words from e.g. 'D6000'; split into 999-word commands."""
        area, start = commands.parse_address(address)
        words = []
        with self._lock:
            self.last_warning = None
            for chunk_start, chunk_count in chunks(start, count, commands.MAX_READ_WORDS):
                request = commands.MemoryAreaRead(area, chunk_start, chunk_count)
                words.extend(self.execute(request, retries=self.retries))
        return words

    def write_words(self, address, words):
        """Write words from e.g. 'D7000'; split into 997-word commands."""
        area, start = commands.parse_address(address)
        words = list(words)
        if not all(isinstance(word, int) and 0 <= word <= 0xFFFF for word in words):
            raise PlcValueError("PLC words are integers 0..65535: %r" % (words,))
        with self._lock:
            self.last_warning = None
            for chunk_start, chunk_count in chunks(start, len(words), commands.MAX_WRITE_WORDS):
                offset = chunk_start - start
                request = commands.MemoryAreaWrite(area, chunk_start, words[offset : offset + chunk_count])
                self.execute(request)

    def read_multiple(self, addresses):
        """One word from each address (0104), up to 167 addresses per command."""
        items = [commands.parse_address(address) for address in addresses]
        words = []
        with self._lock:
            self.last_warning = None
            for offset in range(0, len(items), commands.MAX_MULTIPLE_READ_ITEMS):
                request = commands.MultipleMemoryAreaRead(
                    items[offset : offset + commands.MAX_MULTIPLE_READ_ITEMS]
                )
                words.extend(self.execute(request, retries=self.retries))
        return words

    def controller_data_read(self):
        """{'model': ..., 'version': ...} of the CPU (0501)."""
        with self._lock:
            self.last_warning = None
            return self.execute(commands.ControllerDataRead(), retries=self.retries)

    def controller_status_read(self):
        """{'status', 'mode', 'fatal_error_flags', 'non_fatal_error_flags'} (0601)."""
        with self._lock:
            self.last_warning = None
            return self.execute(commands.ControllerStatusRead(), retries=self.retries)
