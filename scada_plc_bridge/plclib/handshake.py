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
