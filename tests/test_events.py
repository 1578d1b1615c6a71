"""The event contract: normalization, typed errors naming the field, limits, pseudonymization."""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from collections import UserDict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from benchmarks.workload import realistic_events
from tests.conftest import make_event
from tests.test_scorer_wire import TRICKY_VALUES
from vedette import events
from vedette.events import (
    FIELDS,
    InteractionEvent,
    Pseudonymizer,
    decode_event,
    encode_event,
    normalize_event,
    parse_event,
)
from vedette.exceptions import EventTooLargeError, InvalidEventError
from vedette.producer import prepare_record


def test_normalize_fills_id_and_time_and_orders_fields():
    # GIVEN an event without event_id and occurred_at
    before = datetime.now(UTC)
    # WHEN it is normalized
    wire = normalize_event(make_event(1))
    # THEN the producer-owned fields are filled and every field is present, in contract order
    assert list(wire) == list(FIELDS)
    assert uuid.UUID(wire["event_id"]).version == 4
    occurred = datetime.fromisoformat(wire["occurred_at"])
    assert wire["occurred_at"].endswith("Z")
    assert before - timedelta(seconds=1) <= occurred <= datetime.now(UTC)
    assert wire["schema_version"] == events.SCHEMA_VERSION


def test_optional_fields_default_to_null_and_empty_properties():
    wire = normalize_event({"user_id": "u1", "event_type": "logout"})
    assert [wire["session_id"], wire["ip"], wire["status"]] == [None, None, None]
    assert wire["properties"] == {}


def test_timestamps_are_normalized_to_utc_rfc3339():
    paris = timezone(timedelta(hours=1))
    wire = normalize_event(make_event(1, occurred_at=datetime(2026, 3, 1, 13, 0, 0, 5, tzinfo=paris)))
    assert wire["occurred_at"] == "2026-03-01T12:00:00.000005Z"
    wire = normalize_event(make_event(1, occurred_at="2026-03-01T12:00:00+02:00"))
    assert wire["occurred_at"] == "2026-03-01T10:00:00.000000Z"


def test_wire_format_is_compact_utf8_json():
    wire = normalize_event(make_event(1, user_id="usér-1", properties={"note": "naïve ✓"}))
    data = encode_event(wire)
    assert data == json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()
    assert "naïve ✓".encode() in data  # raw UTF-8, not \\u escapes
    assert json.loads(data) == wire


@pytest.mark.parametrize(
    "properties",
    [
        {"text": 'quotes " and \\ backslash, tab\t, newline\n, bell\x07, del\x7f, nbsp\xa0, sep\u2028'},
        {"emoji": "\U0001f600", "cjk": "\u6f22\u5b57", "rtl": "\u05e9\u05dc\u05d5\u05dd"},
        {"int": -(2**63), "big": 2**64 - 1, "zero": 0, "t": True, "f": False, "none": None},
        {"floats": 0.1, "neg": -2.5, "third": 1 / 3, "large": 123456789.125, "tiny": 0.000123},
    ],
)
def test_wire_bytes_equal_the_standard_library_compact_encoding(properties):
    wire = normalize_event(make_event(3, properties=properties))
    assert encode_event(wire) == json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(encode_event(wire)) == wire


def test_integers_beyond_64_bits_are_rejected_naming_the_property():
    with pytest.raises(InvalidEventError) as caught:
        normalize_event(make_event(1, properties={"huge": 2**64}))
    assert caught.value.field == "properties.huge"


def test_parse_round_trips_to_the_same_event():
    wire = normalize_event(make_event(7))
    event = parse_event(encode_event(wire))
    assert isinstance(event, InteractionEvent)
    assert event.occurred_at.tzinfo is not None
    assert event.to_wire() == wire
    assert InteractionEvent.from_wire(wire) == event


def test_open_vocabulary_accepts_custom_event_types():
    assert normalize_event(make_event(1, event_type="gift_card_redeemed"))["event_type"] == "gift_card_redeemed"
    assert "login_failed" in events.CORE_EVENT_TYPES


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"user_id": None}, "user_id", "required"),
        ({"event_type": None}, "event_type", "required"),
        ({"user_id": 42}, "user_id", "must be a string"),
        ({"user_id": ""}, "user_id", "must not be empty"),
        ({"user_id": "u" * 257}, "user_id", "longer than 256"),
        ({"event_type": "Login Failed"}, "event_type", "snake_case"),
        ({"ip": "999.1.1.1"}, "ip", "not an IPv4/IPv6"),
        ({"ip": 3232235777}, "ip", "must be a string"),
        ({"status": 42}, "status", "100-599"),
        ({"status": 200.0}, "status", "integer code or a string"),
        ({"status": True}, "status", "integer code or a string"),
        ({"event_id": "not-a-uuid"}, "event_id", "not a UUID"),
        ({"occurred_at": "yesterday"}, "occurred_at", "RFC 3339"),
        ({"occurred_at": "2026-03-01T12:00:00"}, "occurred_at", "no UTC offset"),
        ({"occurred_at": datetime(2026, 3, 1)}, "occurred_at", "naive datetime"),
        ({"occurred_at": 1_700_000_000}, "occurred_at", "RFC 3339 string or datetime"),
        ({"properties": ["a"]}, "properties", "JSON object"),
        ({"properties": {"nested": {"a": 1}}}, "properties.nested", "flat map"),
        ({"properties": {"when": datetime(2026, 1, 1)}}, "properties.when", "flat map"),
        ({"properties": {"ratio": float("nan")}}, "properties.ratio", "NaN"),
        ({"properties": {1: "x"}}, "properties", "keys must be strings"),
        ({"schema_version": 2}, "schema_version", "unsupported version"),
        ({"userid": "u1"}, "userid", "unknown field"),
    ],
)
def test_invalid_events_raise_typed_errors_naming_the_field(overrides, field, reason):
    with pytest.raises(InvalidEventError) as caught:
        normalize_event(make_event(1, **overrides))
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_oversized_properties_are_rejected_naming_properties():
    wire = normalize_event(make_event(1, properties={f"k{i}": "x" * 100 for i in range(50)}))
    with pytest.raises(EventTooLargeError) as caught:
        encode_event(wire)
    assert caught.value.field == "properties"
    assert caught.value.limit == events.MAX_PROPERTIES_BYTES


def test_oversized_event_is_rejected_naming_event():
    # GIVEN every text field at its character limit in 4-byte characters, and properties just
    # under their own limit: each field is valid, the whole is over MAX_EVENT_BYTES
    wide = "\U0001f600"
    event = make_event(
        1,
        user_id=wide * events.MAX_ID_LENGTH,
        session_id=wide * events.MAX_ID_LENGTH,
        user_agent=wide * events.MAX_USER_AGENT_LENGTH,
        resource=wide * events.MAX_RESOURCE_LENGTH,
        properties={"blob": "x" * (events.MAX_PROPERTIES_BYTES - 20)},
    )
    wire = normalize_event(event)
    # WHEN it is encoded THEN the error names the whole event, not a field
    with pytest.raises(EventTooLargeError) as caught:
        encode_event(wire)
    assert caught.value.field == "event"
    assert caught.value.size > events.MAX_EVENT_BYTES == caught.value.limit


@pytest.mark.parametrize(
    "ip",
    ["0.0.0.0", "255.255.255.255", "10.0.0.1", "2001:db8::1", "::ffff:192.0.2.1", "fe80::1%eth0"],
)
def test_valid_ip_addresses_are_accepted(ip):
    assert normalize_event(make_event(1, ip=ip))["ip"] == ip


@pytest.mark.parametrize("ip", ["256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", "2001:db8::g", "localhost"])
def test_invalid_ip_addresses_are_rejected(ip):
    with pytest.raises(InvalidEventError) as caught:
        normalize_event(make_event(1, ip=ip))
    assert caught.value.field == "ip"


def test_parse_rejects_records_not_made_by_the_contract():
    with pytest.raises(InvalidEventError) as caught:
        parse_event(b"\xff\xfe")
    assert caught.value.field == "event"
    with pytest.raises(InvalidEventError) as caught:
        parse_event(b"[1, 2]")
    assert caught.value.field == "event"
    with pytest.raises(InvalidEventError) as caught:
        parse_event(json.dumps({"user_id": "u", "event_type": "logout"}))
    assert caught.value.field == "event_id"


def test_pseudonymizer_hashes_user_and_ip_consistently_and_idempotently():
    pseudonymizer = Pseudonymizer(b"k" * 32)
    first = pseudonymizer.apply(normalize_event(make_event(1)))
    second = pseudonymizer.apply(normalize_event(make_event(1)))
    assert first["user_id"] == second["user_id"] != make_event(1)["user_id"]
    assert first["ip"].startswith("hmac:")
    assert len(first["ip"]) == len("hmac:") + 32
    assert pseudonymizer.pseudonym(first["ip"]) == first["ip"]
    # A pseudonym is valid where an IP is expected, so pseudonymized events still validate.
    assert normalize_event(first)["ip"] == first["ip"]
    other_key = Pseudonymizer(b"o" * 32).apply(normalize_event(make_event(1)))
    assert other_key["user_id"] != first["user_id"]


def test_pseudonymizer_rejects_short_keys_and_unknown_fields():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymizer(b"short")
    with pytest.raises(ValueError, match="cannot pseudonymize"):
        Pseudonymizer(b"k" * 32, fields=("resource",))


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_that_leaves_the_calendar_in_utc_is_a_clear_error(moment):
    with pytest.raises(InvalidEventError) as raised:
        normalize_event({"user_id": "u-1", "event_type": "login_failed", "occurred_at": moment})
    assert raised.value.field == "occurred_at"
    assert "outside the representable years" in str(raised.value)


# Moved from the compiled path's tests: what the producer does with events in every form, valid or not.


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"user_id": "u-\ud800"}, "user_id"),
        ({"session_id": "\udfff"}, "session_id"),
        ({"user_agent": "bot \ud800 1.0"}, "user_agent"),
        ({"resource": "/a\ud800"}, "resource"),
        ({"status": "ok\ud800"}, "status"),
        ({"event_type": "login_failed", "properties": {"\ud800": "v"}}, "properties"),
        ({"properties": {"note": "x\udfff"}}, "properties.note"),
    ],
)
def test_text_that_is_not_valid_utf8_is_an_invalid_event_naming_the_field(overrides, field):
    # GIVEN an event with a lone surrogate, which no UTF-8 encoder can write
    event = make_event(1, **overrides)
    # WHEN the producer prepares it THEN the error is the contract's, naming the field
    with pytest.raises(InvalidEventError) as raised:
        prepare_record(event, None, None, None, 0.0, 30.0)
    assert raised.value.field == field
    assert "not valid UTF-8" in raised.value.reason
    # AND pseudonymizing does not turn it into another error
    if field == "user_id":
        with pytest.raises(InvalidEventError) as raised:
            prepare_record(event, None, None, Pseudonymizer(b"k" * 16), 0.0, 30.0)
        assert raised.value.field == "user_id"


@pytest.mark.parametrize(
    ("partition_key", "reason"),
    [("", "1-256 characters"), ("k" * 257, "1-256 characters"), (42, "must be a string"), ("k\ud800", "UTF-8")],
)
def test_an_invalid_partition_key_is_an_invalid_event(partition_key, reason):
    with pytest.raises(InvalidEventError) as raised:
        prepare_record(make_event(1), partition_key, None, None, 0.0, 30.0)
    assert raised.value.field == "partition_key"
    assert reason in raised.value.reason


@pytest.mark.parametrize("absent", [None, "missing"])
def test_events_without_id_or_time_get_them(absent):
    # GIVEN an event as services write it: no event_id, no occurred_at (absent, or None)
    event = {"user_id": "u-1", "event_type": "login_failed"}
    if absent is None:
        event |= {"event_id": None, "occurred_at": None}
    before = datetime.now(UTC)
    # WHEN the producer prepares it
    record = prepare_record(event, None, None, None, 0.0, 30.0)
    # THEN both were made, and the record carries the id
    wire = json.loads(record.data)
    assert wire["event_id"] == record.event_id
    assert uuid.UUID(record.event_id).version == 4
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(wire["occurred_at"]) <= datetime.now(UTC)
    assert normalize_event(wire) == wire


def test_other_accepted_forms_are_written_in_the_wire_form():
    # GIVEN an id as a UUID object, a time with an offset, properties in another Mapping type
    event = make_event(
        1,
        event_id=uuid.UUID("00000000-0000-4000-8000-00000000000A"),
        occurred_at="2026-11-25T13:00:00+01:00",
        properties=UserDict(k="v"),
    )
    # WHEN it is normalized THEN the wire holds the canonical forms
    wire = normalize_event(event)
    assert wire["event_id"] == "00000000-0000-4000-8000-00000000000a"
    assert wire["occurred_at"] == "2026-11-25T12:00:00.000000Z"
    assert wire["properties"] == {"k": "v"}
    # AND a canonical-looking time that is not on the calendar is refused
    with pytest.raises(InvalidEventError) as raised:
        normalize_event(make_event(1, occurred_at="2026-02-30T12:00:00.000000Z"))
    assert raised.value.field == "occurred_at"


def mutated_events(count, seed):
    rng = random.Random(seed)
    base = [normalize_event(event) for event in realistic_events(300)]
    made = []
    for _ in range(count):
        event = dict(rng.choice(base))
        if rng.random() < 0.3:  # the form a service writes: no schema_version, absent optional fields
            for name in ("schema_version", "session_id", "status", "properties"):
                if rng.random() < 0.5:
                    event.pop(name)
        for _ in range(rng.choice((1, 1, 2, 3))):
            name = rng.choice((*FIELDS, "extra"))
            if rng.random() < 0.15:
                event.pop(name, None)
            else:
                event[name] = rng.choice(PRODUCER_TRICKY_VALUES)
        made.append(UserDict(event) if rng.random() < 0.02 else event)
    return made


PRODUCER_TRICKY_VALUES = [
    *TRICKY_VALUES,
    uuid.UUID("00000000-0000-4000-8000-000000000001"),
    datetime(2026, 11, 25, 12, tzinfo=UTC),
    datetime(2026, 11, 25, 12),
    UserDict(k="v"),
    {"k": 1.0, "n": -2.5e-7, "big": 1e300, "tiny": 5e-324},
    {"k": math.nan},
    {"k": math.inf},
    {"k": 2**63, "n": -(2**63), "u": 2**64 - 1, "o": 2**64, "m": -(2**63) - 1},
    {"k": b"bytes"},
    {1: "v"},
    {"k": "\ud800"},
    b"bytes",
    ("tuple",),
    'quote"back\\slash',
    "".join(chr(code) for code in range(32)) + "\x7f",
    "\ud800",
    "surrogate \udfff inside",
    "2024-02-29T23:59:59.999999Z",
    "2023-02-29T00:00:00.000000Z",
    "0001-01-01T00:00:00.000000Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-11-25t12:00:00.000000z",
    "1.2.3.04",
    "::ffff:1.2.3.4",
    "fe80::1%eth0",
    "hmac:" + "a" * 32,
    "hmac:" + "A" * 32,
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mutated_events_are_put_as_valid_events_or_refused_naming_the_field(seed):
    events_made = mutated_events(5000, seed)
    accepted = 0
    refused: list[str] = []
    for event in events_made:
        # WHEN the producer prepares an event, valid or not
        try:
            record = prepare_record(event, None, None, None, 0.0, 30.0)
        except InvalidEventError as error:
            refused.append(error.field)  # never a TypeError or another exception
            continue
        # OR the bytes are an event the consumers decode to the same wire dict
        accepted += 1
        wire = decode_event(record.data)
        assert encode_event(wire) == record.data
        assert record.event_id == wire["event_id"]
    # THEN a refusal is the contract's error, naming a field
    named = (*FIELDS, "event", "extra", "partition_key")
    assert [field for field in refused if field not in named and not field.startswith("properties.")] == []
    assert 0.1 * len(events_made) < accepted < 0.9 * len(events_made)


@pytest.mark.parametrize(
    ("field", "pattern", "valid"),
    [
        (
            "event_id",
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "3f2b8c1e-9a4d-4e7b-8c2a-1b2c3d4e5f60",
        ),
        (
            "occurred_at",
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z",
            "2026-11-02T08:00:00.123456Z",
        ),
    ],
)
def test_wire_layouts_accept_exactly_their_regular_expressions(field, pattern, valid):
    # GIVEN the canonical value and variants with one character replaced, added or removed
    rng = random.Random(field)
    alphabet = "0123456789abcdefgzAFTZ-:. \x00\x7f\u0660\uff10\u00b2\u0131\ud800é"
    variants = [valid, valid.upper(), valid[:-1], valid + "0", "", valid.replace("-", "")]
    for _ in range(3000):
        at = rng.randrange(len(valid) + 1)
        variants.append(valid[:at] + rng.choice(alphabet) + valid[at + rng.choice((0, 1)) :])
    # WHEN the contract tests their shape THEN it agrees with the regular expression of the shape
    has_shape = events.WIRE_SHAPES[field]
    assert [has_shape(value) for value in variants] == [re.fullmatch(pattern, value) is not None for value in variants]
