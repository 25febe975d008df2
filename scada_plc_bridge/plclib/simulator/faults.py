"""Fault injection for the simulator: the fault kinds, the rate each is on
at, the draw that decides one request's faults, and what a fault makes of a
reply or of a read (torn values)."""

import struct

from ..fins import commands, frame

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


class FaultInjector:
    """The faults one simulator injects.  It draws from the simulator's
    random generator, so that one seed replays faults and plant alike, and
    counts under the simulator's stats lock, so that stats() is one snapshot."""

    def __init__(self, rng, rng_lock, count_lock):
        self.rates = {}  # kind -> rate per request
        self._commands = {}  # kind -> the command codes it is limited to
        self.injected = {}  # kind -> how many times it was injected
        self._random, self._random_lock, self._count_lock = rng, rng_lock, count_lock

    def set(self, kind, rate, command_codes=None):
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault %r; one of %s" % (kind, ", ".join(FAULT_KINDS)))
        self._commands.pop(kind, None)
        if rate:
            self.rates[kind] = float(rate)
            if command_codes is not None:
                self._commands[kind] = frozenset(command_codes)
        else:
            self.rates.pop(kind, None)

    def clear(self):
        self.rates.clear()
        self._commands.clear()

    def chance(self, kind, command_code=None):
        """Whether to inject `kind` now; an injection is counted."""
        rate = self.rates.get(kind)
        if not rate:
            return False
        limited_to = self._commands.get(kind)
        if limited_to is not None and command_code not in limited_to:
            return False
        with self._random_lock:
            if self._random.random() >= rate:
                return False
        with self._count_lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return True

    def torn(self, address, words, candidates):
        """The torn fault on the `words` read at `address`.  `candidates` are
        the 32-bit values the last scan changed (the ladder updates their two
        words in two steps), as {address of the high word: its (high, low)
        words before the scan}:

        * a read that ends between the two words of such a value gets its
          high word as it was before the scan, so a reader that fetches the
          low word with its next command assembles a value the PLC never held;
        * otherwise a read covering whole such values (e.g. the bridge's one
          977-word poll) gets ONE of them with its old high word beside its
          new low word.  Only values whose two words both changed qualify:
          for the others the mix would equal the old or the new value."""
        if not candidates:
            return words
        last = address + len(words) - 1
        if last in candidates:
            if not self.chance("torn", commands.MemoryAreaRead.code):
                return words
            return words[:-1] + [candidates[last][0]]
        inside = [
            high
            for high, (old_high, old_low) in sorted(candidates.items())
            if address <= high < last
            and words[high - address] != old_high
            and words[high + 1 - address] != old_low
        ]
        if not inside or not self.chance("torn", commands.MemoryAreaRead.code):
            return words
        with self._random_lock:
            high = self._random.choice(inside)
        words = list(words)
        words[high - address] = candidates[high][0]
        return words

    def replies(self, reply, delay):
        """What to send for one reply, after fault injection: a list of
        (delay seconds, bytes, raw); a delayed reply waits `delay` seconds,
        raw bytes bypass the FINS/TCP framing."""
        header = frame.decode_header(reply)
        command_code = struct.unpack_from(">H", reply, frame.HEADER_SIZE)[0]
        if self.chance("drop", command_code):
            return []
        if self.chance("garbage", command_code):
            with self._random_lock:
                size = self._random.randint(1, 40)
                garbage = bytes(self._random.getrandbits(8) for _ in range(size))
            return [(0, garbage, True)]
        if self.chance("truncated", command_code):
            with self._random_lock:
                return [(0, reply[: self._random.randint(1, len(reply) - 1)], False)]
        if self.chance("wrong_sid", command_code):
            return [(0, frame.encode_header(header._replace(sid=(header.sid + 1) % 256)) + reply[10:], False)]
        if self.chance("wrong_command", command_code):
            return [(0, reply[:10] + struct.pack(">H", command_code ^ 0x0100) + reply[12:], False)]
        if self.chance("end_code", command_code):
            return [(0, reply[:12] + struct.pack(">H", 0x2201), False)]
        if self.chance("warning_flag", command_code):
            end_code = struct.unpack_from(">H", reply, 12)[0]
            reply = reply[:12] + struct.pack(">H", end_code | 0x0040) + reply[14:]
        if self.chance("delay", command_code):
            return [(delay, reply, False)]
        if self.chance("duplicate", command_code):
            return [(0, reply, False), (0, reply, False)]
        return [(0, reply, False)]
