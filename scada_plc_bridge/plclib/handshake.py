"""The slot handshake, PLC side of the bridge (interim version; see plclib branch)."""

from collections import namedtuple

from .exceptions import PlcConnectionError, PlcError
from .memory_map import HANDSHAKE_OFFSET, read_slot, slot_address, write_slot

SlotIdentity = namedtuple("SlotIdentity", "batch_no mo_ref")
WriteOutcome = namedtuple("WriteOutcome", "status detail")


class PlcSlotBusyError(PlcError):
    pass


class PlcHandshakeError(PlcError):
    pass


def slot_identity(fields):
    return SlotIdentity(fields.get("batch_no"), fields.get("mo_id"))


def _same_words(a, b):
    return [w for i, w in enumerate(a) if i != HANDSHAKE_OFFSET] == [
        w for i, w in enumerate(b) if i != HANDSHAKE_OFFSET
    ]


def write_recipe(
    client, write_layout, read_layout, slot, values, write_base=7000, read_base=6000, stride=100
):
    identity = SlotIdentity(values["batch_no"], values["mo_id"])
    report = read_slot(client, read_layout, read_base, slot, stride)
    if not report.is_empty and slot_identity(report.fields) == identity:
        return WriteOutcome("reported", "the PLC reports on it")
    address = slot_address(write_base, slot, stride)
    words = write_layout.encode(values)
    current_words = client.read_words("D%d" % address, write_layout.size_words)
    current = write_layout.decode(current_words)
    if current.get("mo_id") and slot_identity(current) == identity:
        if current.get("status_read_data") is True:
            return WriteOutcome("taken", "the PLC took it")
        if _same_words(current_words, words):
            return WriteOutcome("already_written", "in the slot")
    elif current.get("mo_id") and current.get("status_read_data") is not True:
        raise PlcSlotBusyError(
            "slot %s still holds MO %s (batch %s), not yet taken by the PLC"
            % (slot, current.get("mo_id"), current.get("batch_no"))
        )
    try:
        write_slot(client, write_layout, write_base, slot, values, stride)
    except PlcConnectionError:
        if not _same_words(client.read_words("D%d" % address, write_layout.size_words), words):
            raise
        return WriteOutcome("written", "reply lost, found in the slot")
    if not _same_words(client.read_words("D%d" % address, write_layout.size_words), words):
        raise PlcHandshakeError("reading slot %s back does not show the recipe just written" % slot)
    return WriteOutcome("written", "")


def acknowledge_read(client, read_layout, slot, identity, read_base=6000, stride=100):
    reading = read_slot(client, read_layout, read_base, slot, stride)
    if reading.is_empty or slot_identity(reading.fields) != tuple(identity):
        return False
    if reading.fields.get("status_read_data") is True:
        return True
    client.write_words("D%d" % (slot_address(read_base, slot, stride) + HANDSHAKE_OFFSET), [1])
    reading = read_slot(client, read_layout, read_base, slot, stride)
    return slot_identity(reading.fields) == tuple(identity) and reading.fields.get("status_read_data") is True


def clear_write_slot(
    client, write_layout, read_layout, slot, identity, write_base=7000, read_base=6000, stride=100
):
    report = read_slot(client, read_layout, read_base, slot, stride)
    if not report.is_empty and slot_identity(report.fields) == tuple(identity):
        return "taken"
    address = slot_address(write_base, slot, stride)
    current = write_layout.decode(client.read_words("D%d" % address, write_layout.size_words))
    if not current.get("mo_id") or slot_identity(current) != tuple(identity):
        return "absent"
    if current.get("status_read_data") is True:
        return "taken"
    client.write_words("D%d" % address, [0] * write_layout.size_words)
    report = read_slot(client, read_layout, read_base, slot, stride)
    return "taken" if slot_identity(report.fields) == tuple(identity) else "cleared"
