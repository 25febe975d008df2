"""The BCD codec, the failure timestamp and the two mailbox maps (equipment
failures D8000-D8022, manual weighings D9000-D9013): golden values, bad
values refused with a clear PlcValueError, layouts validated."""

import datetime
import json

import pytest

from plclib import memory_map as mm
from plclib.exceptions import PlcValueError

GEOMETRY = mm.SlotGeometry(mm.default_read_layout(), mm.default_write_layout())


@pytest.mark.parametrize(
    "word, digits, value",
    [
        (0x2026, 4, 2026),
        (0x0000, 4, 0),
        (0x9999, 4, 9999),
        (0x1999, 4, 1999),
        (0x0002, 2, 2),
        (0x0023, 2, 23),
        (0x0059, 2, 59),
        (0x0099, 2, 99),
    ],
)
def test_bcd_golden(word, digits, value):
    assert mm.decode_bcd(word, digits) == value
    assert mm.encode_bcd(value, digits) == word


@pytest.mark.parametrize(
    "word, digits, message",
    [
        (0x001A, 2, "0x001A is not BCD (nibble A is not a decimal digit)"),
        (0x20A6, 4, "0x20A6 is not BCD (nibble A is not a decimal digit)"),
        (0xF000, 4, "nibble F"),
        (0x0123, 2, "0x0123 holds more than 2 BCD digits"),
        (0x10000, 4, "not a PLC word"),
        (-1, 4, "not a PLC word"),
    ],
)
def test_bcd_bad_words_are_refused(word, digits, message):
    with pytest.raises(PlcValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mm.decode_bcd(word, digits, "Day")


@pytest.mark.parametrize("value, digits", [(10000, 4), (100, 2), (-1, 4), (1.5, 4), (True, 2)])
def test_bcd_encode_refuses_what_no_word_holds(value, digits):
    with pytest.raises(PlcValueError):
        mm.encode_bcd(value, digits)


def test_failure_timestamp_golden():
    # The reference's sample: 2026-02-23 20:22:35.
    assert mm.bcd_datetime(0x2026, 0x02, 0x23, 0x20, 0x22, 0x35) == datetime.datetime(2026, 2, 23, 20, 22, 35)
    assert mm.bcd_datetime(0x2028, 0x02, 0x29, 0x00, 0x00, 0x00) == datetime.datetime(2028, 2, 29)
    moment = datetime.datetime(2026, 12, 31, 23, 59, 59)
    words = mm.encode_bcd_datetime(moment)
    assert words == {"year": 0x2026, "month": 0x12, "day": 0x31, "hour": 0x23, "minute": 0x59, "second": 0x59}
    assert mm.bcd_datetime(*(words[name] for name in mm.TIMESTAMP_FIELDS)) == moment
    assert mm.bcd_datetime(0x2026, 1, 1, 0, 0, 0).tzinfo is None  # naive: the PLC's local time


# Six BCD words in hex (year month day hour minute second) | the message.
BAD_TIMESTAMPS = """
2026 13 01 00 00 00 | month: 13 (BCD 0x0013) is out of range 1..12
2026 00 01 00 00 00 | month: 0 (BCD 0x0000) is out of range 1..12
2026 01 32 00 00 00 | day: 32 (BCD 0x0032) is out of range 1..31
2026 01 01 24 00 00 | hour: 24 (BCD 0x0024) is out of range 0..23
2026 01 01 00 60 00 | minute: 60
2026 01 01 00 00 60 | second: 60
2026 02 30 00 00 00 | 2026-02-30 00:00:00 is not a date
2027 02 29 00 00 00 | 2027-02-29 00:00:00 is not a date
2026 04 31 00 00 00 | 2026-04-31 00:00:00 is not a date
2026 1A 01 00 00 00 | month: 0x001A is not BCD
2026 01 01 1A 00 00 | hour: 0x001A is not BCD
0000 01 01 00 00 00 | year: 0 (BCD 0x0000) is out of range 2000..2099
"""


@pytest.mark.parametrize("line", BAD_TIMESTAMPS.strip().splitlines())
def test_failure_timestamp_bad_values_are_refused_never_a_wrong_date(line):
    words, message = line.split(" | ")
    with pytest.raises(PlcValueError) as caught:
        mm.bcd_datetime(*(int(word, 16) for word in words.split()))
    assert message in str(caught.value)


def test_bcd_field_spec_decodes_and_validates_a_two_digit_field():
    spec = mm.default_failure_mailbox().layout.by_name["month"]
    assert spec.data_type == mm.BCD and spec.decode([0x12]) == 12
    assert spec.problems(spec.decode([0x13]), [0x13]) == ["Month: 13 is above the maximum 12"]
    assert spec.decode([0x1A]) is None and spec.problems(None) == ["Month: not a BCD word"]


def test_the_plant_mailboxes_follow_the_reference(reference_dir):
    with open("%s/EQUIPMENT_FAILURE_REFERENCE.json" % reference_dir) as stream:
        reference = json.load(stream)
    failure = mm.default_failure_mailbox()
    names = {
        "equipment_code": "equipment_code",
        "INFO": "info",
        "Year": "year",
        "Month": "month",
        "Day": "day",
        "Hour": "hour",
        "Minute": "minute",
        "Second": "second",
        "status_read_data": "status_read_data",
    }
    for row in reference["raw_list"]:
        spec = failure.layout.by_name[names[row["Informasi"]]]
        first, _, last = row["DM - Memory"].partition("-")
        first = int(first[1:])
        last = int(last[1:]) if last else first
        assert (failure.base + spec.offset, failure.base + spec.offset + spec.length - 1) == (first, last)
        expected_type = {"boolean": mm.BOOL}.get(row["Data Type"], row["Data Type"])
        assert spec.data_type == expected_type, row
    assert failure.span == "D8000-D8022" and failure.flag_address == 8022


def test_the_weighing_mailbox_d9000_d9013():
    weighing = mm.default_weighing_mailbox()
    layout = weighing.layout
    assert weighing.span == "D9000-D9013" and weighing.flag_address == 9013
    assert [(spec.name, spec.offset, spec.length, spec.data_type) for spec in layout.fields] == [
        ("batch_no", 0, 1, mm.INT),
        ("mo_id", 1, 8, mm.ASCII),
        ("product_id", 9, 2, mm.UDINT),
        ("quantity", 11, 2, mm.DINT),
        ("status_read_data", 13, 1, mm.BOOL),
    ]
    values = {"batch_no": 12, "mo_id": "WH/MO/00012", "product_id": 70001, "quantity": 1000.0}
    words = layout.encode(values)
    # 32-bit high word first; quantity scale 100: 1000.00 kg is 0x000186A0.
    assert words[9:13] == [0x0001, 0x1171, 0x0001, 0x86A0]
    assert words[1:3] == [0x5748, 0x2F4D]  # "WH/M": ASCII, high byte first
    assert layout.decode(words) == dict(values, status_read_data=False)


def test_default_mailboxes_pass_validation_with_the_slots_and_each_other():
    failure, weighing = mm.default_mailboxes()
    assert failure.problems(GEOMETRY, [weighing]) == []
    assert weighing.problems(GEOMETRY, [failure]) == []


def spec(name, offset, data_type, length=None):
    return mm.FieldSpec(name, offset, data_type, length)


def test_mailbox_validation_refuses_overlaps_missing_and_mistyped_fields():
    fields = mm.default_weighing_fields()
    overlapping = fields[:2] + [spec("product_id", 8, mm.UDINT)] + fields[3:]
    assert mm.mailbox_problems(mm.WEIGHING, overlapping, 9000) == [
        "the weighing mailbox's fields mo_id and product_id share D9008 (+8)"
    ]
    missing = [field for field in fields if field.name != "status_read_data"]
    assert mm.mailbox_problems(mm.WEIGHING, missing, 9000) == [
        "the weighing mailbox has no field status_read_data"
    ]
    twice = fields + [spec("batch_no", 20, mm.INT)]
    assert mm.mailbox_problems(mm.WEIGHING, twice, 9000) == ["the weighing mailbox has field batch_no twice"]
    failure = [field for field in mm.default_failure_fields() if field.name != "day"]
    failure = [spec("month", 17, mm.INT) if field.name == "month" else field for field in failure]
    assert mm.mailbox_problems(mm.FAILURE, failure, 8000) == [
        "the failure mailbox's field month must be BCD, not INT",
        "the failure mailbox has no field day",
    ]
    assert mm.mailbox_problems("alarm", fields, 9000) == ["a mailbox is failure or weighing, not 'alarm'"]


def test_mailbox_validation_refuses_places_that_cannot_work():
    failure, weighing = mm.default_mailboxes()
    assert mm.mailbox_problems(mm.WEIGHING, weighing.layout, 32760) == [
        "the weighing mailbox D32760-D32773 lies outside DM (D0-D32767)"
    ]
    assert mm.mailbox_problems(mm.FAILURE, failure.layout, 6950, GEOMETRY) == [
        "the failure mailbox D6950-D6972 shares DM words with the READ slot area (D6000-D6976)"
    ]
    assert mm.Mailbox(mm.WEIGHING, weighing.layout, 8010).problems(others=[failure]) == [
        "the weighing mailbox D8010-D8023 shares DM words with the failure mailbox (D8000-D8022)"
    ]


def test_mailbox_decode_failure_event_and_its_hash():
    failure = mm.default_failure_mailbox()
    values = {"equipment_code": "motor_pump_01", "info": "MOTOR_FAILURE"}
    values.update(mm.encode_bcd_datetime(datetime.datetime(2026, 2, 23, 20, 22, 35)))
    words = failure.layout.encode({k: v for k, v in values.items() if k not in mm.TIMESTAMP_FIELDS})
    for name in mm.TIMESTAMP_FIELDS:
        words[failure.layout.by_name[name].offset] = values[name]
    event = failure.decode(words)
    assert event.valid and event.is_new and not event.is_empty
    assert event.timestamp == datetime.datetime(2026, 2, 23, 20, 22, 35)
    assert (event.fields["equipment_code"], event.fields["info"]) == ("motor_pump_01", "MOTOR_FAILURE")
    assert len(event.content_hash) == 64
    # The flag is not part of the identity; every other word is.
    read = failure.decode(words[:22] + [1])
    assert read.content_hash == event.content_hash and not read.is_new
    assert failure.decode(words[:21] + [0x36, 0]).content_hash != event.content_hash
    assert json.loads(json.dumps(event.as_dict()))["timestamp"] == "2026-02-23 20:22:35"
    # The same words in the weighing mailbox would be another event.
    assert mm.content_hash(mm.WEIGHING, words, 22) != event.content_hash


def test_mailbox_decode_reports_hostile_contents_and_keeps_the_words():
    failure = mm.default_failure_mailbox()
    words = failure.layout.encode({"equipment_code": "silo101", "info": "SENSOR_ERROR"})
    words[16:22] = [0x2026, 0x02, 0x30, 0x12, 0x00, 0x00]  # Feb 30
    words[3] = 0x0107  # garbage inside the equipment code
    event = failure.decode(words)
    assert event.timestamp is None and not event.valid
    assert event.errors == [
        "equipment_code: not printable text: 'silo10%s' (0x01 at character 7, 0x07 at character 8)"
        % (mm.NOT_TEXT * 2),
        "timestamp: 2026-02-30 12:00:00 is not a date (day is out of range for month)",
    ]
    assert event.words == words


def test_an_all_zero_mailbox_is_empty_and_valid():
    for mailbox in mm.default_mailboxes():
        event = mailbox.decode([0] * mailbox.size_words)
        assert event.is_empty and event.valid and event.timestamp is None


def test_as_mailbox_from_a_layout_and_base():
    layout = mm.default_failure_layout()
    assert mm.as_mailbox(layout, 8000) == (mm.FAILURE, layout, 8000)
    assert mm.as_mailbox(mm.default_weighing_layout(), 9000).area == mm.WEIGHING
    with pytest.raises(ValueError):
        mm.as_mailbox(layout)
