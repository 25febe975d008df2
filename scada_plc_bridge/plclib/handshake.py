"""The slot handshake between the bridge and the PLC, over a FinsClient.

WRITE slot n (D7000 + 100*(n-1)) carries a recipe to the PLC; the PLC sets
its handshake word (+76) to 1 once it has taken the recipe, and reports on
the batch in READ slot n (D6000 + 100*(n-1)); the bridge sets the READ
slot's handshake word to 1 once it has read the result.

A slot's identity is its (BATCH word, NO-MO text).  Every function here
reads before it writes, decides from what the PLC shows, and writes each
thing at most once per call: the client retries reads but never writes,
and after a write whose reply was lost (timeout, broken reply) the slot is
read back to learn whether the PLC executed it.  Errors of the PLC or the
network propagate as PlcError; the caller tries again on its next cycle,
and the functions are idempotent, so trying again is safe.

Each function takes the PLC's slot geometry (memory_map.SlotGeometry:
layouts, bases, stride) and a slot number.  Plain Python, no Odoo: the
runner calls these with its own client."""

from collections import namedtuple

from .exceptions import (
    PlcConnectionError,
    PlcError,
    PlcFrameError,
    PlcHandshakeError,
    PlcSlotBusyError,
    PlcValueError,
)
from .memory_map import MAILBOX_NEW, MAILBOX_READ, as_mailbox

# batch_no: the PLC's 16-bit BATCH word (the caller reduces batch numbers
# modulo 32768); mo_ref: the <= 16-character ASCII text of NO-MO.
SlotIdentity = namedtuple("SlotIdentity", "batch_no mo_ref")
# status: one of WRITE_STATUSES; detail: a sentence for logs and chatter.
WriteOutcome = namedtuple("WriteOutcome", "status detail")

WRITTEN, ALREADY_WRITTEN, TAKEN, REPORTED = "written", "already_written", "taken", "reported"
WRITE_STATUSES = (WRITTEN, ALREADY_WRITTEN, TAKEN, REPORTED)
CLEARED, ABSENT = "cleared", "absent"  # clear_write_slot() also returns TAKEN

# Errors after which a write may or may not have been executed by the PLC.
# An error end code is an answer: the command was not executed.
_UNCERTAIN = (PlcConnectionError, PlcFrameError)


def slot_identity(fields):
    """SlotIdentity of decoded slot fields (keys "batch_no" and "mo_id")."""
    return SlotIdentity(fields.get("batch_no"), fields.get("mo_id") or "")


class _Slot:
    """One slot as read: its words, identity and handshake word."""

    def __init__(self, layout, words, handshake_offset):
        self.words = list(words)
        self.identity = slot_identity(layout.decode(self.words))
        self.handshake = self.words[handshake_offset]

    @property
    def is_empty(self):
        return not self.identity.mo_ref

    def shows(self, identity):
        return bool(identity.mo_ref) and self.identity == identity


def _dm(address):
    return "D%d" % address


def _read(client, geometry, area, slot):
    layout = geometry.layout(area)
    words = client.read_words(_dm(geometry.address(area, slot)), layout.size_words)
    return _Slot(layout, words, geometry.handshake_offset(area))


def _write_and_read_back(client, geometry, area, slot, words, landed, offset=0):
    """Write `words` into `area` slot `slot` from word `offset` on, in one
    command, then read the slot back; returns (the slot read back, whether
    the write's reply was lost).  When the reply was lost (timeout, broken
    reply) the PLC may have executed the write: the slot read back tells,
    and the write's error is raised again unless `landed(slot read back)`
    (or if the slot cannot be read)."""
    try:
        client.write_words(_dm(geometry.address(area, slot) + offset), words)
    except _UNCERTAIN as error:
        try:
            echo = _read(client, geometry, area, slot)
        except PlcError:
            raise error
        if landed(echo):
            return echo, True
        raise
    return _read(client, geometry, area, slot), False


def _check_handshake(slot_reading, area, slot):
    if slot_reading.handshake not in (0, 1):
        raise PlcHandshakeError(
            "%s slot %s (MO %s): handshake word holds %d, expected 0 or 1"
            % (area, slot, slot_reading.identity.mo_ref, slot_reading.handshake)
        )


def _same_recipe(words, expected, handshake):
    """Equal except the handshake word (the PLC may have taken it already)."""
    return len(words) == len(expected) and all(
        word == other for index, (word, other) in enumerate(zip(words, expected)) if index != handshake
    )


def write_recipe(client, geometry, slot, values):
    """Write the recipe `values` (keys of geometry.write_layout) into WRITE
    slot `slot` once per batch; returns a WriteOutcome:

    * "reported": the READ slot shows this batch: nothing written;
    * "taken": the WRITE slot shows it with handshake 1: nothing written;
    * "already_written": the WRITE slot holds exactly it, not yet taken;
    * "written": written in one command (handshake 0) and read back.

    Raises PlcSlotBusyError when the WRITE slot holds another recipe the
    PLC has not taken, PlcHandshakeError when the slot does not read back
    as written (or a handshake word is neither 0 nor 1), PlcValueError for
    values that cannot be encoded or a recipe without an MO reference, and
    any PlcError of the exchanges (a refused write: PlcEndCodeError)."""
    write_layout = geometry.write_layout
    handshake = geometry.handshake_offset("write")
    words = write_layout.encode(values)
    words[handshake] = 0
    ours = slot_identity(write_layout.decode(words))
    if not ours.mo_ref:
        raise PlcValueError("slot %s: a recipe needs an MO reference (mo_id)" % slot)
    batch = "MO %s (batch %s) in slot %s" % (ours.mo_ref, ours.batch_no, slot)

    current = _read(client, geometry, "write", slot)
    report = _read(client, geometry, "read", slot)
    if report.shows(ours):
        return WriteOutcome(REPORTED, "%s: the PLC reports on it" % batch)
    if not current.is_empty:
        _check_handshake(current, "WRITE", slot)
    if current.identity == ours:
        if current.handshake == 1:
            return WriteOutcome(TAKEN, "%s: taken by the PLC" % batch)
        if _same_recipe(current.words, words, handshake):
            return WriteOutcome(ALREADY_WRITTEN, "%s: already written, not yet taken" % batch)
        # Same batch, other words, not taken yet: the recipe changed; rewrite it.
    elif not current.is_empty and current.handshake != 1:
        raise PlcSlotBusyError(slot, current.identity)

    echo, reply_lost = _write_and_read_back(
        client, geometry, "write", slot, words, lambda echo: _same_recipe(echo.words, words, handshake)
    )
    if reply_lost:
        return WriteOutcome(WRITTEN, "%s: written (the reply was lost, the slot shows it)" % batch)
    if not _same_recipe(echo.words, words, handshake):
        raise PlcHandshakeError(
            "%s: reading the WRITE slot back does not show the recipe just written (it shows MO %s)"
            % (batch, echo.identity.mo_ref)
        )
    return WriteOutcome(WRITTEN, "%s: written" % batch)


def acknowledge_read(client, geometry, slot, identity):
    """Set READ slot `slot`'s handshake word to 1 if the slot shows
    `identity`; True once acknowledged.  False when the slot shows another
    batch or none: someone else's result is never acknowledged.  PlcError
    propagates (try again on the next cycle).

    The PLC replaces a result only once it is acknowledged, so a slot
    showing `identity` with handshake 0 keeps it until our write lands; if
    the read-back after the write already shows the next batch, the PLC
    moved on after our acknowledgement, which counts as True."""
    report = _read(client, geometry, "read", slot)
    if not report.shows(identity):
        return False
    if report.handshake == 1:
        return True
    echo, _reply_lost = _write_and_read_back(
        client,
        geometry,
        "read",
        slot,
        [1],
        lambda echo: _acknowledged(echo, identity),
        offset=geometry.handshake_offset("read"),
    )
    return _acknowledged(echo, identity)


def _acknowledged(echo, identity):
    """After writing the READ handshake word: it shows 1, or the PLC took
    the slot for its next batch, which it does only after an acknowledgement."""
    if echo.shows(identity):
        return echo.handshake == 1
    return not echo.is_empty


def clear_write_slot(client, geometry, slot, identity):
    """Take back a recipe the PLC has not taken (a cancelled batch):

    * "cleared": the WRITE slot showed `identity` with handshake 0 and now
      holds zeros, and the PLC did not take it meanwhile;
    * "taken": the PLC took it (WRITE handshake 1, or the READ slot shows
      it, before or during the clearing): too late to cancel on the PLC;
    * "absent": the WRITE slot shows another batch or none: nothing written.

    Raises PlcHandshakeError when the slot still shows the recipe after
    the clearing (or its handshake word is neither 0 nor 1), and any
    PlcError of the exchanges."""
    current = _read(client, geometry, "write", slot)
    report = _read(client, geometry, "read", slot)
    if report.shows(identity):
        return TAKEN
    if not current.shows(identity):
        return ABSENT
    _check_handshake(current, "WRITE", slot)
    if current.handshake == 1:
        return TAKEN

    # A lost reply with the recipe still there: not executed, its error raised.
    zeros = [0] * geometry.write_layout.size_words
    echo, _reply_lost = _write_and_read_back(
        client, geometry, "write", slot, zeros, lambda echo: not echo.shows(identity)
    )
    if echo.shows(identity):
        raise PlcHandshakeError(
            "MO %s (batch %s) in slot %s: the WRITE slot still shows it after clearing"
            % (identity.mo_ref, identity.batch_no, slot)
        )
    report = _read(client, geometry, "read", slot)
    return TAKEN if report.shows(identity) else CLEARED


# --- mailboxes (equipment failures D8000-D8022, manual weighings D9000-D9013)
# The PLC writes one event and sets the mailbox's flag word to 0 ("new");
# the bridge reads it, Odoo commits it, then acknowledge_mailbox() sets the
# flag to 1 ("read") and the PLC may write the next event.  An event's
# identity is its content hash (MailboxEvent.content_hash: SHA-256 of its
# raw words but the flag), so an event read twice (the acknowledgement's
# reply was lost, Odoo crashed between commit and acknowledgement) is known
# as the same event.  The Odoo side therefore:
#
#   1. stores content_hash on the record, unique per PLC and mailbox;
#   2. when read_mailbox() returns an event whose hash is already stored,
#      records nothing and only acknowledges it;
#   3. otherwise records it (a held-for-review record when event.errors is
#      not empty: the mailbox must never stay blocked), commits, and only
#      then calls acknowledge_mailbox().
#
# Limit: the mailboxes carry no sequence number, so two events with
# identical words (the same kg of the same product weighed twice for one
# batch) are one event to this rule; a failure's timestamp (to the second)
# keeps failures apart.
ACKNOWLEDGED, ALREADY_ACKNOWLEDGED, REPLACED = "acknowledged", "already_acknowledged", "replaced"


def read_mailbox_flags(client, mailboxes):
    """{area: flag word} of `mailboxes` (memory_map.Mailbox) from ONE
    Multiple Memory Area Read (0104), e.g. D8022 and D9013 together."""
    mailboxes = [as_mailbox(mailbox) for mailbox in mailboxes]
    words = client.read_multiple([_dm(mailbox.flag_address) for mailbox in mailboxes])
    return {mailbox.area: word for mailbox, word in zip(mailboxes, words)}


def _check_flag(box, flag):
    if flag not in (MAILBOX_NEW, MAILBOX_READ):
        raise PlcHandshakeError(
            "the %s mailbox's flag word D%d holds %r, expected 0 (new) or 1 (read)"
            % (box.area, box.flag_address, flag)
        )


def read_mailbox(client, mailbox_layout, base=None, flag=None, area=None):
    """The new event in a mailbox (a MailboxEvent, possibly with errors to
    record), or None when its flag says 1 (read: nothing new).

    `mailbox_layout` is a memory_map.Mailbox, or a SlotLayout with its
    `base` (and `area`).  The flag word is read first (one round trip)
    unless `flag` gives it (from read_mailbox_flags()); the body is read,
    in one Memory Area Read, only when the flag is 0.  Nothing is written.
    PlcHandshakeError for a flag other than 0 or 1; PlcError propagates."""
    box = as_mailbox(mailbox_layout, base, area)
    if flag is None:
        flag = client.read_words(_dm(box.flag_address), 1)[0]
    _check_flag(box, flag)
    if flag == MAILBOX_READ:
        return None
    event = box.decode(client.read_words(_dm(box.base), box.size_words))
    if event.flag == MAILBOX_READ:
        return None  # acknowledged between the two reads (by another reader)
    _check_flag(box, event.flag)
    return event


def poll_mailboxes(client, mailboxes):
    """{area: MailboxEvent or None} of `mailboxes`: ONE 0104 read of their
    flags, then one body read per mailbox whose flag says new.  Idle (no
    new event): one round trip for all of them."""
    mailboxes = [as_mailbox(mailbox) for mailbox in mailboxes]
    flags = read_mailbox_flags(client, mailboxes)
    return {mailbox.area: read_mailbox(client, mailbox, flag=flags[mailbox.area]) for mailbox in mailboxes}


def acknowledge_mailbox(client, mailbox_layout, event, base=None, area=None):
    """Set the mailbox's flag to 1 for `event` (from read_mailbox()); call it
    only after Odoo has committed the event.  Idempotent by content: the
    mailbox is read first and the flag written only while it still shows
    `event` (same content hash) with flag 0, then read back.  Returns

    * "acknowledged": written, and the read-back shows it (or the PLC's
      next event, which it writes only after an acknowledgement);
    * "already_acknowledged": the mailbox shows `event` with flag 1;
    * "replaced": the mailbox shows another event: the PLC moved on, which
      it does only once `event` was acknowledged; nothing written (another
      event is never acknowledged unseen).

    A write whose reply was lost is settled by the read-back; its error is
    raised again when the read-back still shows `event` with flag 0.
    PlcHandshakeError for a flag other than 0 or 1, or when the read-back
    shows `event` still unacknowledged; PlcError propagates."""
    box = as_mailbox(mailbox_layout, base, area)

    def current():
        return box.decode(client.read_words(_dm(box.base), box.size_words))

    shown = current()
    if shown.content_hash != event.content_hash:
        return REPLACED
    _check_flag(box, shown.flag)
    if shown.flag == MAILBOX_READ:
        return ALREADY_ACKNOWLEDGED
    try:
        client.write_words(_dm(box.flag_address), [MAILBOX_READ])
    except _UNCERTAIN as error:
        try:
            echo = current()
        except PlcError:
            raise error
        if echo.content_hash != event.content_hash or echo.flag == MAILBOX_READ:
            return ACKNOWLEDGED
        raise
    echo = current()
    if echo.content_hash == event.content_hash and echo.flag != MAILBOX_READ:
        raise PlcHandshakeError(
            "the %s mailbox (%s) still shows flag %r after writing 1 at D%d"
            % (box.area, box.span, echo.flag, box.flag_address)
        )
    return ACKNOWLEDGED
