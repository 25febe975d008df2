"""The memory-map codec: every type round-trips, the default map is the
plant's, the live captures decode to what the plant saw, and validation
reports inconsistent slots instead of repairing them."""

import csv
import glob
import json
import math
import os

import pytest

from plclib import memory_map as mm
from plclib.exceptions import PlcValueError

ROUND_TRIPS = [
    (mm.FieldSpec("f", 0, mm.BOOL), [False, True]),
    (mm.FieldSpec("f", 0, mm.INT), [0, 1, -1, 32767, -32768]),
    (mm.FieldSpec("f", 0, mm.UINT), [0, 1, 65535]),
    (mm.FieldSpec("f", 0, mm.DINT), [0, -1, 2**31 - 1, -(2**31), 100000]),
    (mm.FieldSpec("f", 0, mm.DINT, word_order=mm.LOW_FIRST), [-2, 2**31 - 1, -(2**31)]),
    (mm.FieldSpec("f", 0, mm.UDINT), [0, 2**32 - 1, 65536]),
    (mm.FieldSpec("f", 0, mm.UDINT, word_order=mm.LOW_FIRST), [0, 2**32 - 1, 65536]),
    (mm.FieldSpec("f", 0, mm.UDINT, scale=100), [0.0, 1000.0, 144.15, 42949672.95]),
    (mm.FieldSpec("f", 0, mm.REAL), [0.0, -1.5, 3.4028234663852886e38, 1.401298464324817e-45]),
    (mm.FieldSpec("f", 0, mm.REAL, word_order=mm.LOW_FIRST), [123.25, -0.0]),
    (mm.FieldSpec("f", 0, mm.BCD), [0, 9999, 1234]),
    (mm.FieldSpec("f", 0, mm.ASCII, 8), ["", "WH/MO/00011", "A" * 16]),
    (mm.FieldSpec("f", 0, mm.ASCII, 2, byte_order=mm.LOW_FIRST), ["AB", "ABC"]),
]


@pytest.mark.parametrize("spec,values", ROUND_TRIPS, ids=lambda x: getattr(x, "data_type", ""))
def test_every_type_round_trips(spec, values):
    for value in values:
        words = spec.encode(value)
        assert len(words) == spec.length
        assert all(0 <= word <= 0xFFFF for word in words)
        assert spec.decode(words) == value
        assert spec.encode(spec.decode(words)) == words


@pytest.mark.parametrize(
    "spec,words,value",
    [
        # The capture's "1|34464" = 0x000186A0 = 100000 -> 1000.00 (high word first).
        (mm.FieldSpec("q", 0, mm.UDINT, scale=100), [1, 34464], 1000.0),
        # Omron's own DINT layout: low word first.
        (mm.FieldSpec("q", 0, mm.DINT, word_order=mm.LOW_FIRST), [34464, 1], 100000),
        (mm.FieldSpec("t", 0, mm.ASCII, 2), [0x5748, 0x2F00], "WH/"),
        (mm.FieldSpec("t", 0, mm.ASCII, 1, byte_order=mm.LOW_FIRST), [0x4857], "WH"),
        (mm.FieldSpec("n", 0, mm.INT), [0xFFFF], -1),
        (mm.FieldSpec("b", 0, mm.BCD), [0x1234], 1234),
        (mm.FieldSpec("r", 0, mm.REAL), [0x3FC0, 0x0000], 1.5),
    ],
)
def test_known_words_decode(spec, words, value):
    assert spec.decode(words) == value


@pytest.mark.parametrize(
    "spec,value",
    [
        (mm.FieldSpec("f", 0, mm.INT), 32768),
        (mm.FieldSpec("f", 0, mm.UINT), -1),
        (mm.FieldSpec("f", 0, mm.UDINT, scale=100), -0.01),
        (mm.FieldSpec("f", 0, mm.UDINT, scale=100), 42949672.96),
        (mm.FieldSpec("f", 0, mm.BCD), 10000),
        (mm.FieldSpec("f", 0, mm.ASCII, 2), "TOO LONG"),
        (mm.FieldSpec("f", 0, mm.ASCII, 2), "é"),
        (mm.FieldSpec("f", 0, mm.INT), "abc"),
    ],
)
def test_values_that_do_not_fit_are_refused(spec, value):
    with pytest.raises(PlcValueError):
        spec.encode(value)


def test_layout_refuses_overlapping_fields():
    with pytest.raises(ValueError):
        mm.SlotLayout([mm.FieldSpec("a", 0, mm.DINT), mm.FieldSpec("b", 1, mm.INT)])


def test_default_layouts_have_the_plant_shape():
    for layout in (mm.default_read_layout(), mm.default_write_layout()):
        assert len(layout.fields) == 39
        assert layout.size_words == mm.SLOT_WORDS == 77
    read_names = set(mm.default_read_layout().by_name)
    assert {
        "silo_id_a",
        "actual_consumption_silo_m",
        "silo_id_lq115",
        "actual_consumption_lq114",
    } <= read_names
    write_names = set(mm.default_write_layout().by_name)
    assert {
        "consumption_silo_a",
        "consumption_lq115",
        "weight_quantity_finished_goods",
    } <= write_names


def _dm_offsets(dm, base):
    """'D6028-6029' -> (28, 2) relative to the slot base."""
    first, _, last = dm[1:].partition("-")
    first = int(first)
    return first - base, (int(last) if last else first) - first + 1


@pytest.mark.parametrize(
    "filename,prefix,layout",
    [
        ("READ_DATA_PLC_MAPPING.json", "BATCH_READ_%02d", mm.default_read_layout()),
        ("MASTER_BATCH_REFERENCE.json", "WRITE_BATCH%02d", mm.default_write_layout()),
    ],
)
def test_default_map_matches_the_plant_reference(reference_dir, filename, prefix, layout):
    with open(os.path.join(reference_dir, filename)) as handle:
        reference = json.load(handle)
    base_area = 6000 if "READ" in filename else 7000
    for slot in range(1, 11):
        entries = reference[prefix % slot]
        base = base_area + 100 * (slot - 1)
        assert [_dm_offsets(entry["DM"], base) for entry in entries] == [
            (spec.offset, spec.length) for spec in layout.fields
        ]
        for entry, spec in zip(entries, layout.fields):
            if entry.get("scale"):
                assert entry["scale"] == spec.scale, spec.name


def _capture_rows(reference_dir):
    paths = sorted(glob.glob(os.path.join(reference_dir, "plc_captures", "PLC_BATCH_READ_*_LIVE.csv")))
    assert len(paths) == 10
    for path in paths:
        with open(path, newline="") as handle:
            yield from csv.DictReader(handle)


def test_live_captures_decode_to_what_the_plant_saw(reference_dir):
    layout = mm.default_read_layout()
    checked = 0
    for row in _capture_rows(reference_dir):
        spec = layout.fields[int(row["field_no"]) - 1]
        raw = [int(word) for word in row["raw_words"].split("|")]
        value = spec.decode(raw)
        expected = row["decoded_value"]
        if spec.data_type == mm.ASCII:
            assert value == expected
        elif spec.data_type == mm.BOOL:
            assert value is (expected == "True")
        else:
            assert math.isclose(value, float(expected)), (row["field_name"], value, expected)
        assert spec.encode(value) == raw
        checked += 1
    assert checked == 390


def test_live_capture_slots_validate(reference_dir):
    layout = mm.default_read_layout()
    slots = {}
    for row in _capture_rows(reference_dir):
        slots.setdefault(int(row["batch_no"]), []).extend(int(w) for w in row["raw_words"].split("|"))
    for slot, words in slots.items():
        reading = layout.decode_and_validate(words, slot)
        assert reading.valid, (slot, reading.errors)


def _plant_slot(**overrides):
    layout = mm.default_read_layout()
    values = {"batch_no": 1, "mo_id": "WH/MO/00011", "quantity": 1000}
    for tag, silo_id in mm.PLANT_SILOS:
        values[mm.silo_id_key(tag)] = silo_id
    values.update(overrides)
    return layout, layout.encode(values)


def test_a_good_slot_is_valid():
    layout, words = _plant_slot(actual_consumption_silo_b=150)
    reading = layout.decode_and_validate(words, 1)
    assert reading.valid and not reading.is_empty
    assert reading.fields["actual_consumption_silo_b"] == 150.0


def test_an_all_zero_slot_is_empty_not_invalid():
    layout = mm.default_read_layout()
    reading = layout.decode_and_validate([0] * 77, 3)
    assert reading.valid and reading.is_empty


def test_a_shifted_read_is_invalid_with_reasons():
    layout, words = _plant_slot()
    shifted = words[1:] + [0]  # one word off, as seen at the plant
    reading = layout.decode_and_validate(shifted, 1)
    assert not reading.valid
    assert any("SILO ID 101" in error for error in reading.errors)


def test_a_flag_word_of_2_is_reported_not_coerced():
    layout, words = _plant_slot()
    words[72] = 2
    reading = layout.decode_and_validate(words, 1)
    assert reading.fields["status_manufacturing"] == 2
    assert any("flag word" in error for error in reading.errors)


def test_absurd_consumption_and_unprintable_text_are_reported():
    layout, words = _plant_slot(actual_consumption_silo_a=200000)
    words[8] = 0x0107  # control characters in NO-MO
    errors = layout.decode_and_validate(words, 1).errors
    assert any("above the maximum" in error for error in errors)
    assert any("not printable" in error for error in errors)


def test_unknown_field_names_are_refused_on_encode():
    with pytest.raises(PlcValueError):
        mm.default_write_layout().encode({"consumption_silo_z": 1})


def test_a_word_that_is_not_bcd_is_reported_not_guessed():
    spec = mm.FieldSpec("date", 0, mm.BCD, label="DATE")
    assert spec.decode([0x12A4]) is None
    layout = mm.SlotLayout([spec])
    reading = layout.decode_and_validate([0x12A4], 1)
    assert not reading.valid
    assert reading.errors == ["DATE: not a BCD word"]


def test_a_flag_takes_only_true_false_0_or_1():
    spec = mm.FieldSpec("f", 0, mm.BOOL)
    with pytest.raises(PlcValueError):
        spec.encode(2)


def test_an_idle_slot_with_ids_but_no_mo_is_empty_and_still_checked():
    layout, words = _plant_slot(mo_id="")
    reading = layout.decode_and_validate(words, 4)
    assert reading.is_empty and reading.valid
    words[72] = 7  # garbage in a flag of an idle slot is still reported
    reading = layout.decode_and_validate(words, 4)
    assert reading.is_empty and not reading.valid


# -- text from the PLC: never NUL or control characters (issue "Safe control") --
def test_nul_padding_is_stripped_and_an_embedded_nul_is_not_text():
    spec = mm.FieldSpec("mo_id", 0, mm.ASCII, 4, label="NO-MO")
    words = [0x4F4C, 0x4400, 0x5858, 0x0000]  # "OL" "D\0" "XX" "\0\0"
    value = spec.decode(words)
    assert value == "OLD" + mm.NOT_TEXT + "XX"  # not cut at the NUL: never "OLD"
    assert "\x00" not in value
    assert spec.decode([0x5748, 0x2F00, 0, 0]) == "WH/"  # trailing padding only
    assert spec.problems(value, words) == ["NO-MO: not printable text: %r (0x00 at character 4)" % value]


def test_control_characters_and_high_bytes_decode_to_not_text():
    spec = mm.FieldSpec("t", 0, mm.ASCII, 3)
    value = spec.decode([0x4107, 0x0A7F, 0xE941])
    assert value == "A" + mm.NOT_TEXT * 4 + "A"
    assert all(char == mm.NOT_TEXT or 0x20 <= ord(char) < 0x7F for char in value)
    problems = spec.problems(value, [0x4107, 0x0A7F, 0xE941])
    assert (
        "(0x07 at character 2, 0x0A at character 3, 0x7F at character 4, 0xE9 at character 5)" in problems[0]
    )


def test_a_slot_with_nul_in_its_mo_id_is_invalid_and_holds_no_nul():
    layout, words = _plant_slot()
    words[1:9] = [0x4F4C, 0x4400, 0x5858, 0, 0, 0, 0, 0]
    reading = layout.decode_and_validate(words, 1)
    assert not reading.valid and not reading.is_empty
    assert any("NO-MO: not printable text" in error for error in reading.errors)
    assert "\x00" not in json.dumps(reading.as_dict(), ensure_ascii=False)


def test_clean_text_removes_nul_and_control_characters():
    assert mm.clean_text("MO OLD\x00XX\x1b[31m\nnext\tcol") == "MO OLD%sXX%s[31m\nnext\tcol" % (
        mm.NOT_TEXT,
        mm.NOT_TEXT,
    )


# -- memory-map settings that cannot work ---------------------------------------
def _map_problems(**settings):
    return mm.map_problems(mm.default_read_layout(), mm.default_write_layout(), **settings)


def test_the_plant_settings_work():
    assert _map_problems() == []
    # Interleaved areas that share no word work too.
    assert _map_problems(read_base=6000, write_base=6080, stride=160) == []


def test_a_stride_smaller_than_the_slot_is_refused():
    problems = _map_problems(stride=50)
    assert any("slot stride (50 words) is smaller than the READ slot layout (77 words" in p for p in problems)


def test_a_read_area_overlapping_the_write_area_is_refused():
    (problem,) = _map_problems(read_base=6000, write_base=6500)
    assert "READ slot 6 (D6500-D6576) and WRITE slot 1 (D6500-D6576) share DM words" in problem
    assert _map_problems(read_base=6000, write_base=6977) == []
    assert _map_problems(read_base=6000, write_base=6976)  # one word shared


def test_an_area_outside_dm_is_refused():
    assert "outside DM" in _map_problems(write_base=32700)[0]
    assert "outside DM" in _map_problems(read_base=-1)[0]


def test_the_handshake_word_must_be_one_bool_word_inside_the_slot():
    fields = [spec for spec in mm.default_read_fields() if spec.name != "status_read_data"]
    without = mm.SlotLayout(fields)
    problems = mm.map_problems(without, mm.default_write_layout())
    assert problems == ["the READ slot has no handshake field status_read_data"]
    moved = mm.SlotLayout(fields + [mm.FieldSpec("status_read_data", 120, mm.BOOL)])
    problems = mm.map_problems(moved, mm.default_write_layout())
    assert "handshake field status_read_data (+120) lies outside the slot (stride 100 words)" in problems[0]
    wide = mm.SlotLayout(fields + [mm.FieldSpec("status_read_data", 76, mm.UDINT)])
    assert "must be one BOOL word, not UDINT" in mm.map_problems(wide, mm.default_write_layout())[0]
