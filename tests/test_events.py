"""The event contract: normalization, typed errors naming the field, limits, pseudonymization."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.conftest import make_event
from vedette import events
from vedette.events import (
    FIELDS,
    InteractionEvent,
    Pseudonymizer,
    encode_event,
    normalize_event,
    parse_event,
)
from vedette.exceptions import EventTooLargeError, InvalidEventError


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
