"""A PLC simulator speaking FINS over UDP and FINS/TCP on loopback.

It holds DM memory as 16-bit words and answers Memory Area Read/Write,
Multiple Memory Area Read, Controller Data Read and Controller Status Read
with the end codes a CS/CJ CPU gives for bad areas, out-of-range addresses
and over-long commands.  In plant mode it behaves like the batching line:
it takes recipes from WRITE slots (handshake word 0), marks them taken,
runs each batch for `batch_seconds` while consumption grows, then reports
it finished (or failed) in the matching READ slot.  Faults can be injected
at a rate each, to test clients against a misbehaving network or PLC."""

import logging
import random
import socket
import struct
import threading
import time

from ..exceptions import PlcFrameError
from ..fins import commands, frame
from ..memory_map import (
    DINT,
    HANDSHAKE_OFFSET,
    PLANT_SILOS,
    READ_AREA_BASE,
    REAL,
    SLOT_COUNT,
    UDINT,
    WRITE_AREA_BASE,
    default_read_layout,
    default_write_layout,
    slot_address,
)

_logger = logging.getLogger(__name__)

DM_WORDS = 32768
FAULT_KINDS = (
    "drop",  # no reply
    "delay",  # reply after fault_delay seconds (past a client's timeout)
    "duplicate",  # the reply twice
    "wrong_sid",  # a reply with another SID instead of the right one
    "wrong_command",  # a reply echoing another command code
    "end_code",  # an error end code (2201: not executable in current mode)
    "warning_flag",  # normal completion with the 0x0040 non-fatal error flag
    "truncated",  # the reply cut short
    "garbage",  # random bytes instead of the reply
    "torn",  # a read splitting a 32-bit value under update gets its old high word
    # The faults above execute the command and spoil the reply; these two do not execute it:
    "lost_request",  # the command never arrives: nothing executed, no reply
    "refuse",  # an error end code reply (REFUSE_END_CODE), nothing executed
)
REFUSE_END_CODE = 0x2203  # wrong PLC mode (program): the CPU executes nothing
PLANT_TICK_SECONDS = 0.05


class AddressError(Exception):
    def __init__(self, end_code):
        super().__init__("end code %04X" % end_code)
        self.end_code = end_code


class DmMemory:
    """DM words, thread-safe; what a changing 32-bit value looked like
    before its last update is kept so a torn read can be served."""

    def __init__(self, size=DM_WORDS):
        self._words = [0] * size
        self._lock = threading.Lock()
        self.size = size

    def _check(self, address, count):
        if address < 0 or address >= self.size:
            raise AddressError(0x1103)
        if address + count > self.size:
            raise AddressError(0x1104)

    def read(self, address, count):
        with self._lock:
            self._check(address, count)
            return self._words[address : address + count]

    def write(self, address, words):
        words = list(words)
        with self._lock:
            self._check(address, len(words))
            self._words[address : address + len(words)] = words


class PlantSlot:
    """A batch the simulated line is running in one slot."""

    def __init__(self, recipe, started, fails, deviations):
        self.recipe, self.started, self.fails, self.deviations = recipe, started, fails, deviations
        self.done = False


class PlcSimulator:
    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        protocol="udp",
        plant=False,
        batch_seconds=30.0,
        failure_rate=0.0,
        fail_batch_numbers=(),
        seed=None,
        fault_delay=1.0,
        model="CJ2M-CPU31",
        version="02.01",
    ):
        if protocol not in ("udp", "tcp"):
            raise ValueError("protocol must be 'udp' or 'tcp'")
        self.host, self.port, self.protocol = host, port, protocol
        self.plant, self.batch_seconds, self.failure_rate = plant, batch_seconds, failure_rate
        self.fail_batch_numbers = set(fail_batch_numbers)
        self.fault_delay, self.model, self.version = fault_delay, model, version
        self.memory = DmMemory()
        self.node = 1
        self.faults = {}
        self._fault_commands = {}  # kind -> the command codes it is limited to
        self.faults_injected = {}  # kind -> how many times it was injected
        self.requests_served = 0
        self.recipes_taken = 0
        self.takes_by_mo = {}  # mo_id -> recipes taken for it (more than 1: a batch ran twice)
        self.takes_by_batch = {}  # (batch_no, mo_id) -> recipes taken
        self.finished = 0  # batches reported finished
        self.failed = 0  # batches reported failed
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        # A CS/CJ CPU serves FINS commands between scans, never inside one.
        self._scan_lock = threading.RLock()
        self._stop = threading.Event()
        self._threads = []
        self._socket = None
        self._plant_slots = {}
        # address of a 32-bit value's high word -> its (high, low) words before the last scan
        self._torn_candidates = {}
        self._scan_changes = {}
        self._next_tcp_client_node = 2
        self.read_layout, self.write_layout = default_read_layout(), default_write_layout()
        self._32bit_offsets = [
            spec.offset for spec in self.read_layout.fields if spec.data_type in (DINT, UDINT, REAL)
        ]

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
        if self.plant:
            self._spawn(self._run_plant)
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
    def set_fault(self, kind, rate, command_codes=None):
        """Inject `kind` at `rate` (0..1) per request; `command_codes` limits
        it to those FINS commands, e.g. (0x0102,) for writes only."""
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault %r; one of %s" % (kind, ", ".join(FAULT_KINDS)))
        self._fault_commands.pop(kind, None)
        if rate:
            self.faults[kind] = float(rate)
            if command_codes is not None:
                self._fault_commands[kind] = frozenset(command_codes)
        else:
            self.faults.pop(kind, None)

    def clear_faults(self):
        self.faults.clear()
        self._fault_commands.clear()

    def _chance(self, kind, command_code=None):
        """Whether to inject `kind` now; an injection is counted."""
        rate = self.faults.get(kind)
        if not rate:
            return False
        limited_to = self._fault_commands.get(kind)
        if limited_to is not None and command_code not in limited_to:
            return False
        with self._random_lock:
            if self._random.random() >= rate:
                return False
        with self._stats_lock:
            self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1
        return True

    # -- bookkeeping, for system tests --------------------------------------
    def stats(self):
        """What this PLC did so far, as JSON-ready data."""
        with self._stats_lock:
            return {
                "url": self.url,
                "recipes_taken": self.recipes_taken,
                "takes_by_mo": dict(self.takes_by_mo),
                "takes_by_batch": [
                    {"batch_no": batch_no, "mo_id": mo_id, "takes": takes}
                    for (batch_no, mo_id), takes in sorted(self.takes_by_batch.items())
                ],
                "requests_served": self.requests_served,
                "faults_injected": dict(self.faults_injected),
                "finished": self.finished,
                "failed": self.failed,
            }

    # -- slots, for tests and the demo ------------------------------------
    def _slot_base(self, area, slot):
        if area not in ("read", "write"):
            raise ValueError("area is 'read' or 'write'")
        return slot_address(READ_AREA_BASE if area == "read" else WRITE_AREA_BASE, slot)

    def _layout(self, area):
        return self.read_layout if area == "read" else self.write_layout

    def write_slot_values(self, area, slot, values, clear=False):
        """Encode `values` (default map keys) into a slot; other fields keep
        their words, or become 0 with `clear`.  Returns (before, after) words."""
        layout, base = self._layout(area), self._slot_base(area, slot)
        unknown = set(values) - set(layout.by_name)
        if unknown:
            raise ValueError("no such field in the %s map: %s" % (area, ", ".join(sorted(unknown))))
        before = self.memory.read(base, layout.size_words)
        after = [0] * layout.size_words if clear else list(before)
        for name, value in values.items():
            spec = layout.by_name[name]
            after[spec.offset : spec.offset + spec.length] = spec.encode(value)
        self.memory.write(base, after)
        return before, after

    def read_slot_values(self, area, slot):
        layout = self._layout(area)
        return layout.decode(self.memory.read(self._slot_base(area, slot), layout.size_words))

    # -- request handling ---------------------------------------------------
    def handle(self, data):
        """Reply frame (bytes) for one command frame, or None to stay silent."""
        try:
            request = frame.decode_command(data)
        except PlcFrameError as error:
            _logger.debug("ignoring a malformed command: %s", error)
            return None
        if self._chance("lost_request", request.command_code):
            return None  # as if the network lost the command on its way
        with self._stats_lock:
            self.requests_served += 1
        reply_header = frame.response_header(request.header)._replace(sa1=self.node)
        if self._chance("refuse", request.command_code):
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
                words = self._torn(request.address, self.memory.read(request.address, request.count))
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

    def _torn(self, address, words):
        """The torn fault, for 32-bit values the last scan changed (the
        ladder updates their two words in two steps):

        * a read that ends between the two words of such a value gets its
          high word as it was before the scan, so a reader that fetches the
          low word with its next command assembles a value the PLC never held;
        * otherwise a read covering whole such values (e.g. the bridge's one
          977-word poll) gets ONE of them with its old high word beside its
          new low word.  Only values whose two words both changed qualify:
          for the others the mix would equal the old or the new value."""
        candidates = self._torn_candidates  # replaced, never mutated, by each scan
        if not candidates:
            return words
        last = address + len(words) - 1
        if last in candidates:
            if not self._chance("torn", commands.MemoryAreaRead.code):
                return words
            return words[:-1] + [candidates[last][0]]
        inside = [
            high
            for high, (old_high, old_low) in sorted(candidates.items())
            if address <= high < last
            and words[high - address] != old_high
            and words[high + 1 - address] != old_low
        ]
        if not inside or not self._chance("torn", commands.MemoryAreaRead.code):
            return words
        with self._random_lock:
            high = self._random.choice(inside)
        words = list(words)
        words[high - address] = candidates[high][0]
        return words

    def _faulty_replies(self, reply):
        """What to send for one reply, after fault injection: a list of
        (delay seconds, bytes, raw); raw bytes bypass the FINS/TCP framing."""
        header = frame.decode_header(reply)
        command_code = struct.unpack_from(">H", reply, frame.HEADER_SIZE)[0]
        if self._chance("drop", command_code):
            return []
        if self._chance("garbage", command_code):
            with self._random_lock:
                size = self._random.randint(1, 40)
                garbage = bytes(self._random.getrandbits(8) for _ in range(size))
            return [(0, garbage, True)]
        if self._chance("truncated", command_code):
            with self._random_lock:
                return [(0, reply[: self._random.randint(1, len(reply) - 1)], False)]
        if self._chance("wrong_sid", command_code):
            return [(0, frame.encode_header(header._replace(sid=(header.sid + 1) % 256)) + reply[10:], False)]
        if self._chance("wrong_command", command_code):
            return [(0, reply[:10] + struct.pack(">H", command_code ^ 0x0100) + reply[12:], False)]
        if self._chance("end_code", command_code):
            return [(0, reply[:12] + struct.pack(">H", 0x2201), False)]
        if self._chance("warning_flag", command_code):
            end_code = struct.unpack_from(">H", reply, 12)[0]
            reply = reply[:12] + struct.pack(">H", end_code | 0x0040) + reply[14:]
        if self._chance("delay", command_code):
            return [(self.fault_delay, reply, False)]
        if self._chance("duplicate", command_code):
            return [(0, reply, False), (0, reply, False)]
        return [(0, reply, False)]

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
        for delay, datagram, raw in self._faulty_replies(reply):
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

    # -- plant mode ---------------------------------------------------------
    def _run_plant(self):
        while not self._stop.wait(PLANT_TICK_SECONDS):
            try:
                self.plant_tick(time.monotonic())
            except Exception:  # keep the line running whatever a test wrote into memory
                _logger.exception("plant scan failed")

    def plant_tick(self, now):
        """One scan of the simulated line, served no command meanwhile."""
        with self._scan_lock:
            self._scan(now)

    def _scan(self, now):
        self._scan_changes = {}
        for slot in range(1, SLOT_COUNT + 1):
            running = self._plant_slots.get(slot)
            report = self.read_slot_values("read", slot)
            if running is not None and report["mo_id"] != running.recipe["mo_id"]:
                del self._plant_slots[slot]  # memory was cleared under us
                running = None
            recipe = self.read_slot_values("write", slot)
            if recipe["mo_id"] and recipe["status_read_data"] is False and self._read_slot_free(report):
                self._take_recipe(slot, recipe, now)
                running = self._plant_slots[slot]
            if running is not None and not running.done:
                self._advance(slot, running, now)
        self._torn_candidates = self._scan_changes

    @staticmethod
    def _read_slot_free(report):
        """A new recipe may take over READ slot n only once the bridge has
        acknowledged the last batch there (or the slot is blank), so no
        result is overwritten before it was read."""
        return not report["mo_id"] or report["status_read_data"] is True

    def _take_recipe(self, slot, recipe, now):
        taken = self.recipes_taken + 1  # only the plant thread counts takes
        with self._random_lock:
            fails = taken in self.fail_batch_numbers or self._random.random() < self.failure_rate
            deviations = {tag: self._random.uniform(-0.02, 0.02) for tag, _ in PLANT_SILOS}
        self.memory.write(slot_address(WRITE_AREA_BASE, slot) + HANDSHAKE_OFFSET, [1])
        self._plant_slots[slot] = PlantSlot(recipe, now, fails, deviations)
        values = {key: recipe[key] for key in ("batch_no", "mo_id", "bom", "finished_goods", "quantity")}
        for tag, silo_id in PLANT_SILOS:
            values["silo_id_" + tag.replace("silo_", "")] = silo_id
        self._write_read_slot(slot, values)
        # Counted once the READ slot shows the batch, so a reader of the counts finds it there.
        with self._stats_lock:
            self.recipes_taken = taken
            mo_id, batch = recipe["mo_id"], (recipe["batch_no"], recipe["mo_id"])
            self.takes_by_mo[mo_id] = self.takes_by_mo.get(mo_id, 0) + 1
            self.takes_by_batch[batch] = self.takes_by_batch.get(batch, 0) + 1
        _logger.info("slot %d: took recipe %s (batch %s)", slot, recipe["mo_id"], recipe["batch_no"])

    def _advance(self, slot, running, now):
        progress = min(1.0, (now - running.started) / self.batch_seconds) if self.batch_seconds else 1.0
        values = {}
        for tag, _ in PLANT_SILOS:
            planned = running.recipe["consumption_" + tag] or 0
            values["actual_consumption_" + tag] = round(planned * progress * (1 + running.deviations[tag]), 2)
        if running.fails and progress >= 0.5:
            values["status_operation"] = True
            running.done = True
            with self._stats_lock:
                self.failed += 1
            _logger.info("slot %d: batch %s FAILED", slot, running.recipe["mo_id"])
        elif progress >= 1.0:
            values["status_manufacturing"] = True
            values["actual_weight_quantity_finished_goods"] = round(
                sum(values["actual_consumption_" + tag] for tag, _ in PLANT_SILOS), 2
            )
            running.done = True
            with self._stats_lock:
                self.finished += 1
            _logger.info("slot %d: batch %s finished", slot, running.recipe["mo_id"])
        self._write_read_slot(slot, values)

    def _write_read_slot(self, slot, values):
        # A new batch (it brings its mo_id) starts from a blank slot.
        before, after = self.write_slot_values("read", slot, values, clear="mo_id" in values)
        base = self._slot_base("read", slot)
        self._scan_changes.update(
            (base + offset, (before[offset], before[offset + 1]))
            for offset in self._32bit_offsets
            if before[offset] != after[offset]
        )
