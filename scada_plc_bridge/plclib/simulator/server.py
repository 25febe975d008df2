"""The simulator's FINS side: a CS/CJ CPU's command execution on DM memory
(Memory Area Read/Write, Multiple Memory Area Read, Controller Data Read and
Controller Status Read, with the end codes the CPU gives for bad areas,
out-of-range addresses and over-long commands), served over UDP or FINS/TCP
with its replies passed through fault injection."""

import logging
import random
import socket
import struct
import threading

from ..exceptions import PlcFrameError
from ..fins import commands, frame
from .faults import REFUSE_END_CODE, FaultInjector
from .memory import AddressError, DmMemory

_logger = logging.getLogger(__name__)


class FinsServer:
    """A PLC's memory and FINS server, without a program: PlcSimulator adds
    the memory map's slots and the plant."""

    def __init__(self, host, port, protocol, seed, fault_delay, model, version):
        if protocol not in ("udp", "tcp"):
            raise ValueError("protocol must be 'udp' or 'tcp'")
        self.host, self.port, self.protocol = host, port, protocol
        self.fault_delay, self.model, self.version = fault_delay, model, version
        self.memory = DmMemory()
        self.node = 1
        self.requests_served = 0
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._injector = FaultInjector(self._random, self._random_lock, self._stats_lock)
        # A CS/CJ CPU serves FINS commands between scans, never inside one.
        self._scan_lock = threading.RLock()
        self._stop = threading.Event()
        self._threads = []
        self._socket = None
        # address of a 32-bit value's high word -> its (high, low) words before
        # the last scan; replaced, never mutated, by each scan
        self._torn_candidates = {}
        self._next_tcp_client_node = 2

    # -- life cycle ------------------------------------------------------
    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        kind = socket.SOCK_DGRAM if self.protocol == "udp" else socket.SOCK_STREAM
        self._socket = socket.socket(family, kind)
        if self.protocol == "tcp":
            # Rebind at once after a restart; on UDP the option would let two
            # simulators share a port silently.
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        self._socket.settimeout(0.1)
        if self.protocol == "tcp":
            self._socket.listen(8)
            self._spawn(self._serve_tcp)
        else:
            self._spawn(self._serve_udp)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%s" % (self.protocol, host, self.port)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True, name="plc-sim-%s" % target.__name__)
        thread.start()
        self._threads.append(thread)

    # -- faults ------------------------------------------------------------
    @property
    def faults(self):
        """kind -> the rate it is injected at."""
        return self._injector.rates

    @property
    def faults_injected(self):
        """kind -> how many times it was injected."""
        return self._injector.injected

    def set_fault(self, kind, rate, command_codes=None):
        """Inject `kind` at `rate` (0..1) per request; `command_codes` limits
        it to those FINS commands, e.g. (0x0102,) for writes only."""
        self._injector.set(kind, rate, command_codes)

    def clear_faults(self):
        self._injector.clear()

    # -- request handling ---------------------------------------------------
    def handle(self, data):
        """Reply frame (bytes) for one command frame, or None to stay silent."""
        try:
            request = frame.decode_command(data)
        except PlcFrameError as error:
            _logger.debug("ignoring a malformed command: %s", error)
            return None
        if self._injector.chance("lost_request", request.command_code):
            return None  # as if the network lost the command on its way
        with self._stats_lock:
            self.requests_served += 1
        reply_header = frame.response_header(request.header)._replace(sa1=self.node)
        if self._injector.chance("refuse", request.command_code):
            end_code, payload = REFUSE_END_CODE, b""
        else:
            with self._scan_lock:
                end_code, payload = self._execute(request.command_code, request.payload)
        return frame.encode_response(reply_header, request.command_code, end_code, payload)

    def _execute(self, command_code, payload):
        command_class = commands.COMMANDS.get(command_code)
        if command_class is None:
            return 0x0401, b""
        try:
            if command_class is commands.MemoryAreaRead:
                request = command_class.decode_request(payload)
                self._check_area(request.area)
                if request.count > commands.MAX_READ_WORDS:
                    return 0x110B, b""  # the reply would not fit in one frame
                words = self._injector.torn(
                    request.address, self.memory.read(request.address, request.count), self._torn_candidates
                )
                return 0, request.encode_response(words)
            if command_class is commands.MemoryAreaWrite:
                request = command_class.decode_request(payload)
                self._check_area(request.area)
                if len(request.words) > commands.MAX_WRITE_WORDS:
                    return 0x1001, b""  # command too long
                self.memory.write(request.address, request.words)
                return 0, b""
            if command_class is commands.MultipleMemoryAreaRead:
                request = command_class.decode_request(payload)
                if len(request.items) > commands.MAX_MULTIPLE_READ_ITEMS:
                    return 0x110B, b""
                words = []
                for area, address in request.items:
                    self._check_area(area)
                    words.extend(self.memory.read(address, 1))
                return 0, request.encode_response(words)
            if command_class is commands.ControllerDataRead:
                return 0, command_class.encode_response(self.model, self.version)
            return 0, command_class.encode_response()
        except AddressError as error:
            return error.end_code, b""
        except PlcFrameError:
            return 0x1004, b""

    @staticmethod
    def _check_area(area):
        if area != commands.DM_AREA:
            raise AddressError(0x1101)

    def _send_later(self, delay, send, data):
        def deliver():
            if not self._stop.wait(delay):
                try:
                    send(data)
                except OSError:
                    pass

        threading.Thread(target=deliver, daemon=True).start()

    def _dispatch(self, data, send, send_raw=None):
        """Answer one command through `send`; over TCP, garbage goes out
        through `send_raw`, outside the FINS/TCP framing, as a corrupted
        stream would arrive."""
        reply = self.handle(data)
        if reply is None:
            return
        for delay, datagram, raw in self._injector.replies(reply, self.fault_delay):
            if raw and send_raw is not None:
                send_raw(datagram)
                continue
            if delay:
                self._send_later(delay, send, datagram)
            else:
                send(datagram)

    # -- servers ------------------------------------------------------------
    def _serve_udp(self):
        while not self._stop.is_set():
            try:
                data, peer = self._socket.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self._dispatch(data, lambda datagram, peer=peer: self._socket.sendto(datagram, peer))

    def _serve_tcp(self):
        while not self._stop.is_set():
            try:
                connection, _peer = self._socket.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._spawn(self._serve_tcp_connection, connection)

    def _serve_tcp_connection(self, connection):
        connection.settimeout(0.1)
        buffer = bytearray()
        send_lock = threading.Lock()

        def send_raw(data):
            with send_lock:
                connection.sendall(data)

        def send_frame(data):
            send_raw(frame.encode_tcp(frame.TCP_FRAME_SEND, data))

        try:
            while not self._stop.is_set():
                try:
                    chunk = connection.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buffer.extend(chunk)
                while True:
                    tcp_frame, used = frame.decode_tcp(buffer)
                    if tcp_frame is None:
                        break
                    del buffer[:used]
                    if tcp_frame.command == frame.TCP_CLIENT_NODE_REQUEST:
                        client_node = struct.unpack(">I", tcp_frame.data)[0] or self._next_tcp_client_node
                        self._next_tcp_client_node = self._next_tcp_client_node % 250 + 2
                        with send_lock:
                            connection.sendall(frame.encode_server_node_response(client_node, self.node))
                    elif tcp_frame.command == frame.TCP_FRAME_SEND:
                        self._dispatch(tcp_frame.data, send_frame, send_raw)
                    else:
                        with send_lock:
                            connection.sendall(frame.encode_tcp(frame.TCP_FRAME_SEND_ERROR, error_code=3))
        except (OSError, PlcFrameError):
            return
        finally:
            connection.close()
