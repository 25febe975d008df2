"""Typed codec for PLC memory maps, and the plant's default map.

A FieldSpec says where a value lives in a slot (word offset, length) and how
it is stored (type, scale, word and byte order).  A SlotLayout decodes a
slot's words into a dict and encodes a dict back into words; decoding then
encoding gives the same words.  decode_and_validate() also checks a slot the
way an integrator would before trusting it (id words, printable text, finite
values in bounds) and reports every problem; it never "repairs" a value.

Text (ASCII) rule: NUL bytes at the end of a text field are padding and
are stripped.  Every other byte that is not printable ASCII (0x20..0x7E) -
an embedded NUL, a control character, DEL, 0x80..0xFF - decodes to U+FFFD
(NOT_TEXT) in its place: decoded text never holds NUL or a control
character (PostgreSQL refuses NUL; logs and messages must not carry control
characters), keeps its length, and never equals a real reference, which is
printable ASCII (so a garbage slot is never taken for a batch).  The text
is not cut at the first NUL: "OLD<NUL>XX" must not read as "OLD".
decode_and_validate() reports such a field as "not printable text", naming
each byte and its position.  Only printable text round-trips through
encode()."""

import datetime
import hashlib
import math
import struct
from collections import namedtuple

from .exceptions import PlcValueError

BOOL, INT, UINT, DINT, UDINT, REAL, BCD, ASCII = (
    "BOOL",
    "INT",
    "UINT",
    "DINT",
    "UDINT",
    "REAL",
    "BCD",
    "ASCII",
)
TYPES = (BOOL, INT, UINT, DINT, UDINT, REAL, BCD, ASCII)
HIGH_FIRST, LOW_FIRST = "high_first", "low_first"
DEFAULT_LENGTH = {BOOL: 1, INT: 1, UINT: 1, BCD: 1, DINT: 2, UDINT: 2, REAL: 2}
# struct formats of the 32-bit types, as one big-endian 4-byte value.
_FORMAT_32 = {DINT: ">i", UDINT: ">I", REAL: ">f"}

READ_AREA_BASE = 6000
WRITE_AREA_BASE = 7000
SLOT_STRIDE = 100
SLOT_COUNT = 10
SLOT_WORDS = 77
HANDSHAKE_OFFSET = 76


class FieldSpec:
    __slots__ = (
        "name",
        "offset",
        "data_type",
        "length",
        "scale",
        "word_order",
        "byte_order",
        "expected",
        "min_value",
        "max_value",
        "label",
    )

    def __init__(
        self,
        name,
        offset,
        data_type,
        length=None,
        scale=1,
        word_order=HIGH_FIRST,
        byte_order=HIGH_FIRST,
        expected=None,
        min_value=None,
        max_value=None,
        label="",
    ):
        if data_type not in TYPES:
            raise ValueError("%s: unknown data type %r" % (name, data_type))
        if length is None:
            if data_type == ASCII:
                raise ValueError("%s: ASCII fields need a length in words" % name)
            length = DEFAULT_LENGTH[data_type]
        elif data_type != ASCII and length != DEFAULT_LENGTH[data_type]:
            raise ValueError("%s: %s takes %d words" % (name, data_type, DEFAULT_LENGTH[data_type]))
        if word_order not in (HIGH_FIRST, LOW_FIRST) or byte_order not in (HIGH_FIRST, LOW_FIRST):
            raise ValueError("%s: orders are 'high_first' or 'low_first'" % name)
        if not scale or scale <= 0:
            raise ValueError("%s: scale must be positive" % name)
        self.name, self.offset, self.data_type, self.length = (
            name,
            int(offset),
            data_type,
            int(length),
        )
        self.scale, self.word_order, self.byte_order = scale, word_order, byte_order
        self.expected, self.min_value, self.max_value = expected, min_value, max_value
        self.label = label or name

    def __repr__(self):
        return "FieldSpec(%r, %d, %r)" % (self.name, self.offset, self.data_type)

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    # -- one field ---------------------------------------------------------
    def decode(self, words):
        if self.data_type == ASCII:
            return _text(self._ascii_bytes(words))
        if self.data_type in _FORMAT_32:
            high, low = words if self.word_order == HIGH_FIRST else reversed(words)
            (raw,) = struct.unpack(_FORMAT_32[self.data_type], struct.pack(">HH", high, low))
        elif self.data_type == INT:
            raw = words[0] - 0x10000 if words[0] & 0x8000 else words[0]
        elif self.data_type == BCD:
            raw = _from_bcd(words[0])
            if raw is None:
                return None
        else:  # UINT, BOOL
            raw = words[0]
        if self.data_type == BOOL:
            return raw if raw not in (0, 1) else bool(raw)  # 2+ is reported, not coerced
        return raw if self.scale == 1 else raw / self.scale

    def _ascii_bytes(self, words):
        """The text's bytes in reading order, NUL padding at the end removed."""
        raw = b"".join(struct.pack(">H" if self.byte_order == HIGH_FIRST else "<H", word) for word in words)
        return raw.rstrip(b"\x00")

    def encode(self, value):
        try:
            if self.data_type == ASCII:
                return self._encode_ascii(value or "")
            if self.data_type == BOOL:
                if value not in (None, False, True, 0, 1):
                    raise ValueError("a flag is True/False or 0/1")
                return [1 if value else 0]
            if self.data_type == REAL:
                raw = float(value) * self.scale
            else:
                raw = int(round(float(value or 0) * self.scale))
            if self.data_type in _FORMAT_32:
                high, low = struct.unpack(">HH", struct.pack(_FORMAT_32[self.data_type], raw))
                return [high, low] if self.word_order == HIGH_FIRST else [low, high]
            if self.data_type == INT:
                return list(struct.unpack(">H", struct.pack(">h", raw)))
            if self.data_type == BCD:
                return [_to_bcd(raw)]
            return list(struct.unpack(">H", struct.pack(">H", raw)))
        except (struct.error, OverflowError, TypeError, ValueError) as error:
            raise PlcValueError("%s: cannot store %r as %s: %s" % (self.name, value, self.data_type, error))

    def _encode_ascii(self, text):
        raw = text.encode("ascii")
        if len(raw) > 2 * self.length:
            raise PlcValueError("%s: %r is longer than %d characters" % (self.name, text, 2 * self.length))
        raw = raw.ljust(2 * self.length, b"\x00")
        fmt = ">%dH" if self.byte_order == HIGH_FIRST else "<%dH"
        return list(struct.unpack(fmt % self.length, raw))

    def problems(self, value, words=None):
        """What is wrong with a decoded value, as sentences (empty: fine).
        `words`, the field's raw words, lets text problems name the bytes."""
        if self.data_type == BOOL and not isinstance(value, bool):
            return ["%s: flag word holds %r, expected 0 or 1" % (self.label, value)]
        if self.data_type == ASCII:
            if words is not None:
                bad = [
                    (position, byte)
                    for position, byte in enumerate(bytearray(self._ascii_bytes(words)), 1)
                    if not _PRINTABLE_FIRST <= byte <= _PRINTABLE_LAST
                ]
            else:
                bad = [
                    (position, ord(char))
                    for position, char in enumerate(value, 1)
                    if not _PRINTABLE_FIRST <= ord(char) <= _PRINTABLE_LAST
                ]
            if bad:
                where = ", ".join("0x%02X at character %d" % (byte, position) for position, byte in bad[:4])
                more = ", ..." if bad[4:] else ""
                return ["%s: not printable text: %r (%s%s)" % (self.label, value, where, more)]
            return []
        if value is None:
            return ["%s: not a BCD word" % self.label]
        if isinstance(value, float) and not math.isfinite(value):
            return ["%s: not a finite number: %r" % (self.label, value)]
        if self.expected is not None and value != self.expected:
            return ["%s: expected %r, PLC reports %r" % (self.label, self.expected, value)]
        if self.min_value is not None and value < self.min_value:
            return ["%s: %r is below the minimum %r" % (self.label, value, self.min_value)]
        if self.max_value is not None and value > self.max_value:
            return ["%s: %r is above the maximum %r" % (self.label, value, self.max_value)]
        return []


# Text from the PLC: printable ASCII only.
_PRINTABLE_FIRST, _PRINTABLE_LAST = 0x20, 0x7E
# What a byte that is not printable ASCII decodes to: never NUL or a control
# character (PostgreSQL refuses NUL, logs and messages must not carry control
# characters), and never part of a real reference, which is printable ASCII.
NOT_TEXT = "\ufffd"


def _text(raw):
    """Decoded ASCII text: printable bytes as themselves, any other byte
    (an embedded NUL, a control character, DEL, 0x80..0xFF) as NOT_TEXT."""
    return "".join(
        chr(byte) if _PRINTABLE_FIRST <= byte <= _PRINTABLE_LAST else NOT_TEXT for byte in bytearray(raw)
    )


def clean_text(text):
    """`text` (a message naming what the PLC showed) without NUL or other
    control characters (each becomes NOT_TEXT); newlines and tabs stay."""
    return "".join(
        NOT_TEXT if (ord(char) < 0x20 and char not in "\n\t") or 0x7F <= ord(char) < 0xA0 else char
        for char in str(text)
    )


def _from_bcd(word):
    digits = "%04X" % word
    if not digits.isdigit():
        return None  # a nibble above 9: reported by validation, never guessed
    return int(digits)


def _to_bcd(value):
    if not 0 <= value <= 9999:
        raise ValueError("BCD word holds 0..9999")
    return int(str(value), 16)


class SlotReading:
    """A decoded slot and what validation found wrong with it."""

    def __init__(self, slot, fields, errors, id_field="mo_id"):
        self.slot, self.fields, self.errors = slot, fields, list(errors)
        self.id_field = id_field

    @property
    def valid(self):
        return not self.errors

    @property
    def is_empty(self):
        """No batch in this slot (blank MO id): nothing to check or act on."""
        return not self.fields.get(self.id_field)

    def as_dict(self):
        return {
            "slot": self.slot,
            "valid": self.valid,
            "errors": self.errors,
            "fields": self.fields,
        }

    def __repr__(self):
        return "SlotReading(slot=%r, valid=%r, %s=%r)" % (
            self.slot,
            self.valid,
            self.id_field,
            self.fields.get(self.id_field),
        )


class SlotLayout:
    def __init__(self, fields, id_field="mo_id"):
        self.fields = sorted(fields, key=lambda f: f.offset)
        self.id_field = id_field
        names, used = set(), {}
        for spec in self.fields:
            if spec.name in names:
                raise ValueError("field %s appears twice" % spec.name)
            names.add(spec.name)
            for offset in range(spec.offset, spec.offset + spec.length):
                if offset in used:
                    raise ValueError("%s overlaps %s at +%d" % (spec.name, used[offset], offset))
                used[offset] = spec.name
        self.size_words = max(used) + 1 if used else 0
        self.by_name = {spec.name: spec for spec in self.fields}

    def decode(self, words):
        if len(words) < self.size_words:
            raise PlcValueError("slot needs %d words, got %d" % (self.size_words, len(words)))
        return {
            spec.name: spec.decode(words[spec.offset : spec.offset + spec.length]) for spec in self.fields
        }

    def encode(self, values):
        unknown = set(values) - set(self.by_name)
        if unknown:
            raise PlcValueError("no such field in the map: %s" % ", ".join(sorted(unknown)))
        words = [0] * self.size_words
        for spec in self.fields:
            words[spec.offset : spec.offset + spec.length] = spec.encode(values.get(spec.name))
        return words

    def decode_and_validate(self, words, slot=None):
        fields = self.decode(words)
        if not fields.get(self.id_field):
            # An idle slot: ids and flags are still checked for garbage, but
            # a blank slot of zeros is simply empty.
            errors = (
                [] if not any(words[: self.size_words]) else self._problems(fields, words, skip_expected=True)
            )
        else:
            errors = self._problems(fields, words)
        return SlotReading(slot, fields, errors, self.id_field)

    def _problems(self, fields, words, skip_expected=False):
        errors = []
        for spec in self.fields:
            if skip_expected and spec.expected is not None:
                continue
            errors.extend(spec.problems(fields[spec.name], words[spec.offset : spec.offset + spec.length]))
        return errors


DM_WORDS = 32768  # D0..D32767
HANDSHAKE_FIELD = "status_read_data"


def _span(first, size):
    return "D%d-D%d" % (first, first + size - 1) if size > 1 else "D%d" % first


def map_problems(
    read_layout,
    write_layout,
    read_base=READ_AREA_BASE,
    write_base=WRITE_AREA_BASE,
    stride=SLOT_STRIDE,
    count=SLOT_COUNT,
):
    """Why a PLC's memory-map settings cannot work, as sentences (empty:
    they can): slots of one area overlapping (stride smaller than the slot
    layout), the handshake word missing, not one BOOL word or outside the
    slot, an area outside DM, a READ slot sharing words with a WRITE slot."""
    problems = []
    if count < 1:
        return ["a PLC needs at least one slot (slot count %d)" % count]
    areas = (("READ", read_layout, read_base), ("WRITE", write_layout, write_base))
    for area, layout, base in areas:
        spec = layout.by_name.get(HANDSHAKE_FIELD)
        if spec is None:
            problems.append("the %s slot has no handshake field %s" % (area, HANDSHAKE_FIELD))
        elif spec.data_type != BOOL:
            problems.append(
                "the %s slot's handshake field %s must be one BOOL word, not %s"
                % (area, HANDSHAKE_FIELD, spec.data_type)
            )
        elif not 0 <= spec.offset < min(stride, layout.size_words):
            problems.append(
                "the %s slot's handshake field %s (+%d) lies outside the slot (stride %d words)"
                % (area, HANDSHAKE_FIELD, spec.offset, stride)
            )
        if stride < layout.size_words:
            problems.append(
                "the slot stride (%d words) is smaller than the %s slot layout (%d words, +0..+%d):"
                " slot 2 would overwrite the end of slot 1"
                % (stride, area, layout.size_words, layout.size_words - 1)
            )
        end = base + stride * (count - 1) + layout.size_words
        if base < 0 or end > DM_WORDS:
            problems.append(
                "the %s area %s lies outside DM (D0-D%d)" % (area, _span(base, end - base), DM_WORDS - 1)
            )
    if problems:
        return problems
    read_slots = [(read_base + stride * index, read_layout.size_words) for index in range(count)]
    write_slots = [(write_base + stride * index, write_layout.size_words) for index in range(count)]
    for read_index, (read_first, read_size) in enumerate(read_slots, 1):
        for write_index, (write_first, write_size) in enumerate(write_slots, 1):
            if read_first < write_first + write_size and write_first < read_first + read_size:
                return [
                    "READ slot %d (%s) and WRITE slot %d (%s) share DM words: the READ area"
                    " (%s) overlaps the WRITE area (%s)"
                    % (
                        read_index,
                        _span(read_first, read_size),
                        write_index,
                        _span(write_first, write_size),
                        _span(read_base, read_slots[-1][0] + read_size - read_base),
                        _span(write_base, write_slots[-1][0] + write_size - write_base),
                    )
                ]
    return problems


def slot_address(base, slot, stride=SLOT_STRIDE):
    if slot < 1:
        raise ValueError("slots are numbered from 1")
    return base + stride * (slot - 1)


def read_all_slots(client, layout, base=READ_AREA_BASE, count=SLOT_COUNT, stride=SLOT_STRIDE):
    """All slots from ONE Memory Area Read (one consistent snapshot)."""
    total = stride * (count - 1) + layout.size_words
    words = client.read_words("D%d" % base, total)
    return [
        layout.decode_and_validate(words[stride * index : stride * index + layout.size_words], index + 1)
        for index in range(count)
    ]


def read_slot(client, layout, base, slot, stride=SLOT_STRIDE):
    words = client.read_words("D%d" % slot_address(base, slot, stride), layout.size_words)
    return layout.decode_and_validate(words, slot)


def write_slot(client, layout, base, slot, values, stride=SLOT_STRIDE):
    """Encode `values` and write the whole slot in ONE Memory Area Write."""
    words = layout.encode(values)
    client.write_words("D%d" % slot_address(base, slot, stride), words)
    return words


AREAS = ("read", "write")


_GEOMETRY_FIELDS = "read_layout write_layout read_base write_base stride count"
_GEOMETRY_DEFAULTS = (READ_AREA_BASE, WRITE_AREA_BASE, SLOT_STRIDE, SLOT_COUNT)


class SlotGeometry(namedtuple("SlotGeometry", _GEOMETRY_FIELDS, defaults=_GEOMETRY_DEFAULTS)):
    """Where a PLC's slots lie: each area's layout and first DM word, the
    words from one slot to the next, the number of slots (bases, stride
    and count default to the plant's).  Immutable; the areas are "read"
    (PLC -> Odoo) and "write" (Odoo -> PLC)."""

    __slots__ = ()

    def layout(self, area):
        return self.read_layout if _area(area) == "read" else self.write_layout

    def base(self, area):
        return self.read_base if _area(area) == "read" else self.write_base

    def address(self, area, slot):
        """The DM address of slot `slot`'s first word in `area`."""
        return slot_address(self.base(area), slot, self.stride)

    def read_address(self, slot):
        return self.address("read", slot)

    def write_address(self, slot):
        return self.address("write", slot)

    def handshake_offset(self, area):
        """The handshake word's offset in `area`'s slots (status_read_data;
        +76, the plant's, when the layout has none)."""
        spec = self.layout(area).by_name.get(HANDSHAKE_FIELD)
        return spec.offset if spec is not None else HANDSHAKE_OFFSET

    def handshake_address(self, area, slot):
        return self.address(area, slot) + self.handshake_offset(area)

    def problems(self):
        """Why these settings cannot work (empty: they can): map_problems()."""
        return map_problems(
            self.read_layout, self.write_layout, self.read_base, self.write_base, self.stride, self.count
        )

    def read_all(self, client, area):
        """All of `area`'s slots from ONE Memory Area Read: read_all_slots()."""
        return read_all_slots(client, self.layout(area), self.base(area), self.count, self.stride)

    def read_slot(self, client, area, slot):
        return read_slot(client, self.layout(area), self.base(area), slot, self.stride)


def _area(area):
    if area not in AREAS:
        raise ValueError("an area is 'read' or 'write', not %r" % (area,))
    return area


# --- the plant's map --------------------------------------------------------
# Material points in slot order: (tag, PLC id word).
PLANT_SILOS = tuple(("silo_%s" % letter, 101 + index) for index, letter in enumerate("abcdefghijklm")) + (
    ("lq114", 114),
    ("lq115", 115),
)
# Generous physical bounds of one batch: the line mixes at most a few tonnes.
MAX_BATCH_KG = 100000
MAX_MATERIAL_KG = 100000


def silo_id_key(tag):
    return "silo_id_" + tag.replace("silo_", "")


def _plant_fields(consumption_prefix, weight_key):
    kg = dict(data_type=UDINT, scale=100, word_order=HIGH_FIRST, min_value=0)
    fields = [
        FieldSpec("batch_no", 0, INT, min_value=0, label="BATCH"),
        FieldSpec("mo_id", 1, ASCII, 8, label="NO-MO"),
        FieldSpec("bom", 9, ASCII, 8, label="NO-BoM"),
        FieldSpec("finished_goods", 17, ASCII, 8, label="finished_goods"),
        FieldSpec("quantity", 25, max_value=MAX_BATCH_KG, label="Quantity Goods_id", **kg),
    ]
    offset = 27
    for tag, silo_id in PLANT_SILOS:
        label = "SILO ID %d" % silo_id if tag.startswith("silo_") else "LQ ID %d" % silo_id
        fields.append(FieldSpec(silo_id_key(tag), offset, INT, expected=silo_id, label=label))
        fields.append(
            FieldSpec(
                consumption_prefix + tag,
                offset + 1,
                max_value=MAX_MATERIAL_KG,
                label=label + " Consumption",
                **kg,
            )
        )
        offset += 3
    fields += [
        FieldSpec("status_manufacturing", 72, BOOL, label="status manufaturing"),
        FieldSpec("status_operation", 73, BOOL, label="Status Operation"),
        FieldSpec(weight_key, 74, max_value=MAX_BATCH_KG, label="weight_finished_good", **kg),
        FieldSpec("status_read_data", HANDSHAKE_OFFSET, BOOL, label="status_read_data"),
    ]
    return fields


def default_read_fields():
    """The plant's READ slot (PLC -> Odoo), D6000 + 100*(n-1)."""
    return _plant_fields("actual_consumption_", "actual_weight_quantity_finished_goods")


def default_write_fields():
    """The plant's WRITE slot (Odoo -> PLC), D7000 + 100*(n-1)."""
    return _plant_fields("consumption_", "weight_quantity_finished_goods")


def default_read_layout():
    return SlotLayout(default_read_fields())


def default_write_layout():
    return SlotLayout(default_write_fields())


# --- BCD ----------------------------------------------------------------------
# The PLC's clock values are BCD: one decimal digit per nibble, 0x2026 is
# 2026.  The year takes 4 digits (one word), month..second 2 digits each
# (the word's high byte 0).  A nibble above 9 is refused, never guessed.


def decode_bcd(word, digits=4, label="BCD word"):
    """The number BCD `word` holds (0x2026 -> 2026, with digits=2 0x0023 ->
    23); PlcValueError for a nibble above 9 or more than `digits` digits."""
    if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word <= 0xFFFF:
        raise PlcValueError("%s: %r is not a PLC word (0..65535)" % (label, word))
    if word >> (4 * digits):
        raise PlcValueError("%s: 0x%04X holds more than %d BCD digits" % (label, word, digits))
    text = "%0*X" % (digits, word)
    bad = [char for char in text if char not in "0123456789"]
    if bad:
        raise PlcValueError(
            "%s: 0x%04X is not BCD (nibble %s is not a decimal digit)" % (label, word, bad[0])
        )
    return int(text)


def encode_bcd(value, digits=4, label="BCD word"):
    """The BCD word of `value` (2026 -> 0x2026); PlcValueError outside
    0..10**digits - 1 or for a value that is not a whole number."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**digits:
        raise PlcValueError("%s: %r is not a whole number 0..%d" % (label, value, 10**digits - 1))
    return int(str(value), 16)


TIMESTAMP_FIELDS = ("year", "month", "day", "hour", "minute", "second")
# field -> (BCD digits, lowest, highest); years outside 2000..2099 are a
# PLC clock that was never set (or garbage), not a date to record.
TIMESTAMP_RULES = {
    "year": (4, 2000, 2099),
    "month": (2, 1, 12),
    "day": (2, 1, 31),
    "hour": (2, 0, 23),
    "minute": (2, 0, 59),
    "second": (2, 0, 59),
}


def bcd_datetime(year, month, day, hour, minute, second):
    """The naive datetime (the PLC's local time) of six raw BCD words, e.g.
    (0x2026, 0x02, 0x23, 0x20, 0x22, 0x35) -> 2026-02-23 20:22:35.
    PlcValueError for a bad nibble, a value out of its range (month 13, day
    32, hour 24) or a day the month lacks (Feb 30): never a wrong date."""
    parts = {}
    for name, word in zip(TIMESTAMP_FIELDS, (year, month, day, hour, minute, second)):
        digits, lowest, highest = TIMESTAMP_RULES[name]
        value = decode_bcd(word, digits, name)
        if not lowest <= value <= highest:
            raise PlcValueError(
                "%s: %d (BCD 0x%04X) is out of range %d..%d" % (name, value, word, lowest, highest)
            )
        parts[name] = value
    try:
        return datetime.datetime(**parts)
    except ValueError as error:
        raise PlcValueError(
            "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d is not a date" % parts
            + " (%s)" % error
        )


def encode_bcd_datetime(moment):
    """{year: word, ..., second: word} of a datetime (the simulator, tests)."""
    return {
        name: encode_bcd(getattr(moment, name), TIMESTAMP_RULES[name][0], name) for name in TIMESTAMP_FIELDS
    }


# --- the plant's mailboxes ------------------------------------------------------
# A mailbox is one event at a time: the PLC writes the body and sets the flag
# word (status_read_data) to 0 ("new"); the bridge reads it and, once Odoo
# has committed it, sets the flag to 1 ("read"); only then may the PLC write
# the next event.  Offsets are from the mailbox's first word.
FAILURE, WEIGHING = "failure", "weighing"
MAILBOX_AREAS = (FAILURE, WEIGHING)
FAILURE_MAILBOX_BASE = 8000  # D8000-D8022
WEIGHING_MAILBOX_BASE = 9000  # D9000-D9013
MAILBOX_NEW, MAILBOX_READ = 0, 1
# field -> the data types it may have, per mailbox: missing ones are refused.
_COUNTS = (INT, UINT, DINT, UDINT)
MAILBOX_REQUIRED = {
    FAILURE: dict(
        {"equipment_code": (ASCII,), "info": (ASCII,), HANDSHAKE_FIELD: (BOOL,)},
        **dict.fromkeys(TIMESTAMP_FIELDS, (BCD,)),
    ),
    WEIGHING: {
        "batch_no": (INT, UINT),
        "mo_id": (ASCII,),
        "product_id": _COUNTS,
        "quantity": _COUNTS + (REAL,),
        HANDSHAKE_FIELD: (BOOL,),
    },
}


def default_failure_fields():
    """The plant's equipment-failure mailbox, D8000-D8022."""
    return (
        [
            FieldSpec("equipment_code", 0, ASCII, 8, label="equipment_code"),
            FieldSpec("info", 8, ASCII, 8, label="INFO"),
        ]
        + [
            FieldSpec(
                name,
                16 + index,
                BCD,
                min_value=TIMESTAMP_RULES[name][1],
                max_value=TIMESTAMP_RULES[name][2],
                label=name.capitalize(),
            )
            for index, name in enumerate(TIMESTAMP_FIELDS)
        ]
        + [FieldSpec(HANDSHAKE_FIELD, 22, BOOL, label="status_read_data")]
    )


def default_weighing_fields():
    """The plant's manual-weighing mailbox, D9000-D9013: quantity in kg
    (32-bit, high word first, scale 100; signed, so a negative entry reads
    as negative, not as 42 million kg)."""
    return [
        FieldSpec("batch_no", 0, INT, min_value=0, label="BATCH"),
        FieldSpec("mo_id", 1, ASCII, 8, label="NO-MO"),
        FieldSpec("product_id", 9, UDINT, label="product"),
        FieldSpec("quantity", 11, DINT, scale=100, min_value=0, max_value=MAX_MATERIAL_KG, label="quantity"),
        FieldSpec(HANDSHAKE_FIELD, 13, BOOL, label="status_read_data"),
    ]


def default_failure_layout():
    return SlotLayout(default_failure_fields(), id_field="equipment_code")


def default_weighing_layout():
    return SlotLayout(default_weighing_fields())


def _field_list(fields):
    return list(fields.fields) if isinstance(fields, SlotLayout) else list(fields)


def mailbox_problems(area, fields, base, geometry=None, others=()):
    """Why a mailbox's settings cannot work, as sentences (empty: they can):
    `fields` (FieldSpecs or a SlotLayout) with a name twice, fields sharing
    words, a required field missing or of the wrong type (MAILBOX_REQUIRED),
    the mailbox outside DM, sharing DM words with the slot areas of
    `geometry` (a SlotGeometry) or with one of `others` (Mailboxes)."""
    if area not in MAILBOX_AREAS:
        return ["a mailbox is %s, not %r" % (" or ".join(MAILBOX_AREAS), area)]
    fields = _field_list(fields)
    problems, names, used = [], set(), {}
    for spec in sorted(fields, key=lambda spec: spec.offset):
        if spec.name in names:
            problems.append("the %s mailbox has field %s twice" % (area, spec.name))
        names.add(spec.name)
        for offset in range(spec.offset, spec.offset + spec.length):
            if offset in used and used[offset] != spec.name:
                problems.append(
                    "the %s mailbox's fields %s and %s share D%d (+%d)"
                    % (area, used[offset], spec.name, base + offset, offset)
                )
                break
            used[offset] = spec.name
        if spec.offset < 0:
            problems.append("the %s mailbox's field %s has a negative offset" % (area, spec.name))
    by_name = {spec.name: spec for spec in fields}
    for name, types in MAILBOX_REQUIRED[area].items():
        spec = by_name.get(name)
        if spec is None:
            problems.append("the %s mailbox has no field %s" % (area, name))
        elif spec.data_type not in types:
            problems.append(
                "the %s mailbox's field %s must be %s, not %s"
                % (area, name, " or ".join(types), spec.data_type)
            )
    if not used:
        return problems
    first, size = base + min(used), max(used) + 1 - min(used)
    if first < 0 or first + size > DM_WORDS:
        problems.append(
            "the %s mailbox %s lies outside DM (D0-D%d)" % (area, _span(first, size), DM_WORDS - 1)
        )
    spans = []
    if geometry is not None:
        for slot_area in AREAS:
            layout, slot_base = geometry.layout(slot_area), geometry.base(slot_area)
            spans.append(
                (
                    "the %s slot area" % slot_area.upper(),
                    slot_base,
                    geometry.stride * (geometry.count - 1) + layout.size_words,
                )
            )
    for other in others:
        if other.area != area:
            spans.append(("the %s mailbox" % other.area, other.base, other.size_words))
    for what, other_first, other_size in spans:
        if first < other_first + other_size and other_first < first + size:
            problems.append(
                "the %s mailbox %s shares DM words with %s (%s)"
                % (area, _span(first, size), what, _span(other_first, other_size))
            )
    return problems


def content_hash(area, words, flag_offset):
    """The identity of a mailbox event: SHA-256 (hex) of its area and raw
    words, the flag word left out (it turns from 0 to 1 when read)."""
    body = [word for offset, word in enumerate(words) if offset != flag_offset]
    digest = hashlib.sha256(area.encode("ascii") + b"\x00")
    digest.update(struct.pack(">%dH" % len(body), *body))
    return digest.hexdigest()


class MailboxEvent:
    """One mailbox as read: raw `words` (flag included), `flag`, decoded
    `fields`, `errors` (sentences; empty: valid), `content_hash` (the
    event's identity) and, for a failure, `timestamp` (naive datetime, the
    PLC's local time; None when the BCD words are no date: see errors)."""

    def __init__(self, area, base, words, fields, flag_offset, errors, content_hash, timestamp=None):
        self.area, self.base, self.words, self.fields = area, base, list(words), fields
        self.flag_offset, self.flag = flag_offset, self.words[flag_offset]
        self.errors, self.content_hash = list(errors), content_hash
        self.timestamp = timestamp

    @property
    def is_new(self):
        return self.flag == MAILBOX_NEW

    @property
    def valid(self):
        return not self.errors

    @property
    def is_empty(self):
        """Every word but the flag is 0 (a PLC that never wrote an event)."""
        return not any(word for offset, word in enumerate(self.words) if offset != self.flag_offset)

    def as_dict(self):
        """JSON-ready (the timestamp as ISO 8601 text, no time zone)."""
        return {
            "area": self.area,
            "address": "D%d" % self.base,
            "flag": self.flag,
            "new": self.is_new,
            "empty": self.is_empty,
            "valid": self.valid,
            "errors": self.errors,
            "fields": self.fields,
            "timestamp": self.timestamp.isoformat(sep=" ") if self.timestamp else None,
            "content_hash": self.content_hash,
            "words": self.words,
        }

    def __repr__(self):
        return "MailboxEvent(%r, flag=%r, valid=%r, %s)" % (
            self.area,
            self.flag,
            self.valid,
            self.content_hash[:12],
        )


class Mailbox(namedtuple("Mailbox", "area layout base")):
    """One mailbox of a PLC: "failure" or "weighing", its SlotLayout and its
    first DM word."""

    __slots__ = ()

    @property
    def flag_offset(self):
        spec = self.layout.by_name.get(HANDSHAKE_FIELD)
        if spec is None:
            raise PlcValueError("the %s mailbox has no field %s" % (self.area, HANDSHAKE_FIELD))
        return spec.offset

    @property
    def flag_address(self):
        return self.base + self.flag_offset

    @property
    def size_words(self):
        return self.layout.size_words

    @property
    def span(self):
        return _span(self.base, self.size_words)

    def problems(self, geometry=None, others=()):
        """mailbox_problems() of this mailbox."""
        return mailbox_problems(self.area, self.layout, self.base, geometry, others)

    def decode(self, words):
        """The MailboxEvent of the mailbox's raw `words` (size_words of them)."""
        words = list(words)
        fields = self.layout.decode(words)
        flag_offset = self.flag_offset
        errors, timestamp = [], None
        body_blank = not any(word for offset, word in enumerate(words) if offset != flag_offset)
        skip = set(TIMESTAMP_FIELDS) if self.area == FAILURE else set()
        if not body_blank:
            for spec in self.layout.fields:
                if spec.name in skip:
                    continue
                errors.extend(
                    spec.problems(fields[spec.name], words[spec.offset : spec.offset + spec.length])
                )
            if self.area == FAILURE:
                try:
                    timestamp = bcd_datetime(
                        *(words[self.layout.by_name[name].offset] for name in TIMESTAMP_FIELDS)
                    )
                except PlcValueError as error:
                    errors.append("timestamp: %s" % error)
        elif words[flag_offset] not in (MAILBOX_NEW, MAILBOX_READ):
            errors.append("%s: flag word holds %r, expected 0 or 1" % (HANDSHAKE_FIELD, words[flag_offset]))
        return MailboxEvent(
            self.area,
            self.base,
            words,
            fields,
            flag_offset,
            errors,
            content_hash(self.area, words, flag_offset),
            timestamp,
        )


def as_mailbox(mailbox, base=None, area=None):
    """A Mailbox from a Mailbox, or from a SlotLayout and its `base` (the
    area, unless given, is "failure" when the layout has the timestamp fields)."""
    if isinstance(mailbox, Mailbox):
        return mailbox
    if base is None:
        raise ValueError("a mailbox layout needs its base (first DM word)")
    if area is None:
        area = FAILURE if all(name in mailbox.by_name for name in TIMESTAMP_FIELDS) else WEIGHING
    return Mailbox(area, mailbox, int(base))


def default_failure_mailbox():
    return Mailbox(FAILURE, default_failure_layout(), FAILURE_MAILBOX_BASE)


def default_weighing_mailbox():
    return Mailbox(WEIGHING, default_weighing_layout(), WEIGHING_MAILBOX_BASE)


def default_mailboxes():
    """(failure mailbox, weighing mailbox) of the plant."""
    return default_failure_mailbox(), default_weighing_mailbox()
