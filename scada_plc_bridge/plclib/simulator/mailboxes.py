"""The simulated PLC's two mailboxes (equipment failures D8000-D8022,
manual weighings D9000-D9013): events queue here while the mailbox holds
one the bridge has not acknowledged, and go into it, one at a time, when
its flag word is 1 (read), so a test can prove that nothing is lost."""

import collections

from ..memory_map import (
    HANDSHAKE_FIELD,
    MAILBOX_NEW,
    MAILBOX_READ,
    content_hash,
)

# The plant's equipment, by PLC code: the 13 silos, the 2 liquid tanks,
# motors, the mixer and the scale stations.
PLANT_EQUIPMENT = (
    tuple("silo%d" % silo_id for silo_id in range(101, 114))
    + ("lq114", "lq115")
    + ("motor_pump_01", "motor_pump_02", "motor_screw_01", "mixer_01", "scale_01", "scale_02")
)
FAILURE_INFOS = ("START_FAILURE", "SENSOR_ERROR")
MOTOR_FAILURE_INFOS = ("MOTOR_FAILURE", "START_FAILURE", "SENSOR_ERROR")
# What the PLC sends when an equipment recovers: MOTOR_OK for motors (and
# the mixer), RECOVERED for the others.
MOTOR_RECOVERY, RECOVERY = "MOTOR_OK", "RECOVERED"
# Premix and vitamin product ids the scale stations weigh (Odoo product ids
# of the demo data are the bridge's business; these are the PLC's).
WEIGHING_PRODUCT_IDS = (501, 502, 503, 504)


def is_motor(code):
    return code.startswith(("motor_", "mixer"))


class SimMailbox:
    """One mailbox in the simulator's memory.  `scan()` runs inside the
    plant scan (commands are served between scans): it counts the
    acknowledgement of the event in the mailbox (flag 1) and writes the
    next queued event with flag 0 in one step."""

    def __init__(self, mailbox, memory, count_lock):
        self.mailbox, self.memory, self._count_lock = mailbox, memory, count_lock
        self.queue = collections.deque()  # words of the events not yet in the mailbox
        self.raised = self.delivered = self.acknowledged = 0
        self.raised_hashes = []  # content hash of each event raised, in order
        self._in_mailbox = False  # an event delivered and not yet acknowledged
        # Empty, nothing new: the bridge must not take zeros for an event.
        memory.write(mailbox.flag_address, [MAILBOX_READ])

    def put(self, values):
        """Queue one event (`values`: keys of the mailbox's layout); returns
        its content hash."""
        values = dict(values, **{HANDSHAKE_FIELD: MAILBOX_NEW})
        words = self.mailbox.layout.encode(values)
        digest = content_hash(self.mailbox.area, words, self.mailbox.flag_offset)
        with self._count_lock:
            self.queue.append(words)
            self.raised += 1
            self.raised_hashes.append(digest)
        return digest

    def scan(self):
        if self.memory.read(self.mailbox.flag_address, 1)[0] != MAILBOX_READ:
            return
        with self._count_lock:
            if self._in_mailbox:
                self.acknowledged += 1
                self._in_mailbox = False
            if not self.queue:
                return
            words = self.queue.popleft()
            self.delivered += 1
            self._in_mailbox = True
        self.memory.write(self.mailbox.base, words)  # body and flag 0 in one step

    def stats(self):
        """Counts (call under the count lock)."""
        return {
            "raised": self.raised,
            "delivered": self.delivered,
            "acknowledged": self.acknowledged,
            "queued": len(self.queue),
        }
