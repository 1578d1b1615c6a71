"""The producer's compiled fast paths answer exactly as the Python code they repeat.

``encode_canonical_event`` may only give the bytes the Python path gives, or say "not sure" (None)
and leave the event to it; ``prepare_canonical_record`` likewise for the whole pending record.
These tests hold the two to that on mutated events, on 400,000 floats, and on every escape.
"""

from __future__ import annotations

import gc
import math
import os
import random
import struct
import time
import uuid
from collections import UserDict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from benchmarks.workload import realistic_events
from tests.test_scorer_wire import TRICKY_VALUES
from vedette import collector, events, producer
from vedette.compiled import PURE_PYTHON_VARIABLE, speedups
from vedette.events import FIELDS, encode_event, normalize_event
from vedette.exceptions import InvalidEventError
from vedette.kpl import PythonAggregateBuilder
from vedette.shards import HASH_KEY_MEMO, cached_hash_key

PURE_PYTHON = os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0")
pytestmark = pytest.mark.skipif(PURE_PYTHON, reason=f"the compiled fast paths are off ({PURE_PYTHON_VARIABLE})")


def test_the_package_was_compiled_where_a_compiler_is() -> None:
    # make test installs the producer with gcc at hand; a silent fallback would hide here
    assert speedups is not None
    assert producer.prepare_record is speedups.prepare_record
    assert collector.make_pending_record is speedups.PendingRecord


class Text(str):
    pass


class Properties(dict):
    pass


# Values the Python path accepts in another form than the wire's, or rejects, beside the scorer's.
PRODUCER_TRICKY_VALUES: list[Any] = [
    *TRICKY_VALUES,
    uuid.UUID("00000000-0000-4000-8000-000000000001"),
    datetime(2026, 11, 25, 12, tzinfo=UTC),
    datetime(2026, 11, 25, 12),
    Text("u-1"),
    Text("00000000-0000-4000-8000-000000000001"),
    Properties(k="v"),
    UserDict(k="v"),
    {"k": Text("v")},
    {Text("k"): "v"},
    {"k": 1.0, "n": -2.5e-7, "big": 1e300, "tiny": 5e-324, "small": 0.00001234},
    {"k": math.nan},
    {"k": math.inf},
    {"k": True, "n": False, "z": None},
    {"k": 2**63, "n": -(2**63), "u": 2**64 - 1, "o": 2**64},
    {"k": b"bytes"},
    {"k": ["nested"]},
    {1: "v"},
    b"bytes",
    ("tuple",),
    1.0,
    "1",
    'quote"back\\slash',
    "".join(chr(code) for code in range(32)) + "\x7f",
    "\ud800",
    "surrogate \udfff inside",
    "\u2028\u2029\ufeff",
    "\U0001f600 astral",
    "2000-02-29T00:00:00.000000Z",
    "1900-02-29T00:00:00.000000Z",
    "2024-02-29T23:59:59.999999Z",
    "2023-02-29T00:00:00.000000Z",
    "0000-01-01T00:00:00.000000Z",
    "0001-01-01T00:00:00.000000Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-04-31T00:00:00.000000Z",
    "2026-13-01T00:00:00.000000Z",
    "2026-11-25T12:60:00.000000Z",
    "2026-11-25T12:00:60.000000Z",
    "2026-11-25t12:00:00.000000z",
    "255.255.255.255",
    "0.0.0.0",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.04",
    "1..2.3",
    "1.2.3.4 ",
    "::ffff:1.2.3.4",
    "fe80::1%eth0",
    "hmac:" + "a" * 32,
    "hmac:" + "A" * 32,
    "hmac:" + "a" * 33,
    "e" * 64,
    "e" * 65,
    "a_1",
    "_a",
]


def python_outcome(event: Any) -> tuple[str, Any]:
    try:
        return "ok", encode_event(normalize_event(event))
    except (InvalidEventError, TypeError, ValueError, orjson.JSONEncodeError) as error:
        return "error", type(error).__name__


def python_outcome_for(event: Any, data: bytes) -> tuple[str, Any]:
    """The Python path's answer, given the event_id and occurred_at the compiled path made, if any."""
    if isinstance(event, dict):
        made = orjson.loads(data)
        event = dict(event)
        for name in ("event_id", "occurred_at"):
            if event.get(name) is None:
                event[name] = made[name]
    return python_outcome(event)


def canonical_events(count: int) -> list[dict[str, Any]]:
    return [normalize_event(event) for event in realistic_events(count)]


def mutated_events(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    base = canonical_events(300)
    made: list[Any] = []
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
        made.append(Properties(event) if rng.random() < 0.02 else event)
    return made


def test_events_as_services_and_the_simulator_write_them_take_the_compiled_path() -> None:
    for event in canonical_events(2000) + [dict(event) for event in realistic_events(500)]:
        data = speedups.encode_canonical_event(event)
        assert data is not None, event
        assert data == encode_event(normalize_event(event))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mutated_events_get_the_python_bytes_or_are_left_to_python(seed: int) -> None:
    events_made = mutated_events(5000, seed)
    compiled = 0
    for event in events_made:
        data = speedups.encode_canonical_event(event)
        if data is None:
            continue
        compiled += 1
        assert python_outcome_for(event, data) == ("ok", data), event
    # the mutations exercise both answers: many events stay canonical, many do not
    assert 0.1 * len(events_made) < compiled < 0.9 * len(events_made)


def test_every_value_the_python_path_accepts_in_wire_form_is_compiled_identically() -> None:
    base = canonical_events(1)[0]
    compiled = 0
    for name in FIELDS:
        for value in PRODUCER_TRICKY_VALUES:
            event = {**base, name: value}
            data = speedups.encode_canonical_event(event)
            outcome = python_outcome(event) if data is None else python_outcome_for(event, data)
            if data is not None:
                compiled += 1
                assert outcome == ("ok", data), (name, value)
            elif outcome[0] == "ok" and orjson.loads(outcome[1])[name] == value and type(value) in (str, int):
                # a valid value already in wire form that the compiled path declined: only these may be
                assert name == "ip" or (name == "status" and value is None), (name, value)
    assert compiled > 100


def test_floats_are_written_as_orjson_writes_them() -> None:
    rng = random.Random(5)
    values = [10.0**exponent for exponent in range(-325, 309)] + [1.5 * 10.0**exponent for exponent in range(-320, 300)]
    values += [5e-324, -0.0, 0.0, 1e16 - 2, 9999999999999998.0, 0.1, 1 / 3, 123456789.125]
    for _ in range(200_000):
        values.append(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
        values.append(rng.choice((1, -1)) * 10 ** rng.uniform(-8, 18))
    base = canonical_events(1)[0]
    for value in values:
        event = {**base, "properties": {"v": value}}
        data = speedups.encode_canonical_event(event)
        if not math.isfinite(value):
            assert data is None
            continue
        assert data == encode_event(normalize_event(event)), value


def test_every_character_class_is_escaped_as_orjson_escapes_it() -> None:
    base = canonical_events(1)[0]
    texts = [chr(code) for code in range(0x80)] + ["\u00e9", "\u2028", "\U0001f600", 'a"b\\c\nd\te\x00f']
    for text in texts:
        event = {**base, "user_agent": text, "properties": {text: text}}
        assert speedups.encode_canonical_event(event) == encode_event(normalize_event(event)), repr(text)


def test_size_limits_are_left_to_the_python_path_to_report() -> None:
    # four bytes a character, so that an event reaches its limit with properties under theirs
    base = {**canonical_events(1)[0], "resource": "\U0001f600" * 2048, "user_agent": "\U0001f600" * 1024}
    room = events.MAX_EVENT_BYTES - len(encode_event({**base, "properties": {"k": ""}}))
    assert 0 < room < events.MAX_PROPERTIES_BYTES - len(orjson.dumps({"k": ""}))
    at_limit = {**base, "properties": {"k": "v" * room}}
    assert len(speedups.encode_canonical_event(at_limit) or b"") == events.MAX_EVENT_BYTES
    over_limit = {**base, "properties": {"k": "v" * (room + 1)}}
    assert speedups.encode_canonical_event(over_limit) is None
    assert python_outcome(over_limit) == ("error", "EventTooLargeError")
    small = canonical_events(1)[0]
    properties_room = events.MAX_PROPERTIES_BYTES - len(orjson.dumps({"k": ""}))
    assert speedups.encode_canonical_event({**small, "properties": {"k": "v" * properties_room}}) is not None
    too_many_property_bytes = {**small, "properties": {"k": "v" * (properties_room + 1)}}
    assert speedups.encode_canonical_event(too_many_property_bytes) is None
    assert python_outcome(too_many_property_bytes) == ("error", "EventTooLargeError")


def fields_of(record: Any) -> dict[str, Any]:
    names = ("data", "partition_key", "hash_key", "event_id", "callback", "enqueued_at", "deadline")
    return {name: getattr(record, name) for name in (*names, "attempts", "last_error")}


def test_compiled_pending_records_hold_what_the_python_path_would() -> None:
    def on_delivery(report: Any) -> None:
        pass

    for event in canonical_events(300):
        for partition_key in (None, "custom-key"):
            record = speedups.prepare_canonical_record(event, partition_key, on_delivery, 5.0, 35.0)
            data = encode_event(normalize_event(event))
            key = event["user_id"] if partition_key is None else partition_key
            expected = collector.PendingRecord(
                data, key, cached_hash_key(key), event["event_id"], on_delivery, 5.0, 35.0
            )
            assert type(record) is speedups.CallbackPendingRecord
            assert fields_of(record) == fields_of(expected)


@pytest.mark.parametrize("partition_key", ["", "k" * 257, 42, Text("k")])
def test_an_invalid_partition_key_is_left_to_the_python_path(partition_key: Any) -> None:
    event = canonical_events(1)[0]
    assert speedups.prepare_canonical_record(event, partition_key, None, 0.0, 30.0) is None
    with pytest.raises(InvalidEventError) as raised:
        producer.prepare_record(event, partition_key, None, None, 0.0, 30.0)
    assert raised.value.field == "partition_key"


PREPARES = [producer.prepare_record, producer.prepare_record_in_python]


def test_prepare_record_hands_what_it_is_not_sure_of_to_the_python_function() -> None:
    # GIVEN events the fast path declines: another time form, an IPv6 address, a Mapping, a pseudonymizer
    base = canonical_events(1)[0]
    cases: list[tuple[Any, Any]] = [
        ({**base, "occurred_at": datetime(2026, 11, 25, 12, tzinfo=UTC)}, None),
        ({**base, "ip": "2001:db8::1"}, None),
        (UserDict(base), None),
        (base, events.Pseudonymizer(b"k" * 16)),
    ]
    for event, pseudonymizer in cases:
        # WHEN both prepare it THEN the records are the same
        record = producer.prepare_record(event, None, None, pseudonymizer, 1.0, 30.0)
        reference = producer.prepare_record_in_python(event, None, None, pseudonymizer, 1.0, 30.0)
        assert fields_of(record) == fields_of(reference)
    # AND what the Python function raises reaches the caller as it is
    with pytest.raises(InvalidEventError) as raised:
        producer.prepare_record({**base, "ip": "not an ip"}, None, None, None, 1.0, 30.0)
    assert raised.value.field == "ip"
    with pytest.raises(TypeError):
        producer.prepare_record(base, None, None, None, "now", 30.0)
    # AND times in other number types get Python's arithmetic: the same deadline, or the same error
    with pytest.raises(TypeError):
        producer.prepare_record(base, None, None, None, 1.0, Decimal(30))
    both = [prepare(base, None, None, None, Decimal("0.1"), Decimal("0.2")) for prepare in PREPARES]
    assert [record.deadline for record in both] == [0.3, 0.3]
    both = [prepare(base, None, None, None, 2**53 + 1, 1) for prepare in PREPARES]
    assert [record.deadline for record in both] == [float(2**53 + 2)] * 2


@pytest.mark.parametrize("absent", [None, "missing"])
def test_events_without_id_or_time_get_them_on_the_compiled_path(absent: str | None) -> None:
    # GIVEN an event as services write it: no event_id, no occurred_at (absent, or None)
    event = {"user_id": "u-1", "event_type": "login_failed"}
    if absent is None:
        event |= {"event_id": None, "occurred_at": None}
    before = datetime.now(UTC)
    # WHEN the producer prepares it
    record = producer.prepare_record(event, None, None, None, 0.0, 30.0)
    # THEN the compiled path made both, as normalize_event makes them, and the record carries the id
    assert type(record) is speedups.PendingRecord
    wire = orjson.loads(record.data)
    assert wire["event_id"] == record.event_id
    assert uuid.UUID(record.event_id).version == 4
    assert before.timestamp() - 1 <= datetime.fromisoformat(wire["occurred_at"]).timestamp() <= time.time()
    assert normalize_event(wire) == wire
    assert record.data == encode_event(normalize_event({**event, **wire}))


def test_pending_records_without_a_callback_cost_the_garbage_collector_nothing() -> None:
    plain = speedups.PendingRecord(b"x", "k", 1, "id", None, 0.0, 30.0)
    assert type(plain) is speedups.PendingRecord
    assert not gc.is_tracked(plain)
    gc.disable()  # so that no collection resets the count of allocations between the two readings
    try:
        before = gc.get_count()[0]
        many = [speedups.PendingRecord(b"x", "k", 1, "id", None, 0.0, 30.0) for _ in range(1000)]
        counted = gc.get_count()[0] - before
    finally:
        gc.enable()
    assert counted < 10  # the list itself, not a thousand allocations
    with_callback = speedups.PendingRecord(b"x", "k", 1, "id", print, 0.0, 30.0)
    assert type(with_callback) is speedups.CallbackPendingRecord
    assert gc.is_tracked(with_callback)
    assert fields_of(with_callback) == {**fields_of(many[0]), "callback": print}


@pytest.mark.parametrize("field", range(4))
def test_pending_records_take_only_the_exact_types_that_cannot_hold_them(field: int) -> None:
    arguments: list[Any] = [b"x", "k", 1, "id"]
    arguments[field] = [arguments[field]]
    with pytest.raises(TypeError):
        speedups.PendingRecord(*arguments, None, 0.0, 30.0)


def test_a_cycle_through_a_records_callback_is_collected() -> None:
    # GIVEN a record whose callback holds the record (through a list bound to it, which holds it)
    collected = []

    class Sentinel:
        def __del__(self) -> None:
            collected.append(True)

    holder: list[Any] = [Sentinel()]

    def on_delivery(report: Any, holder: list[Any] = holder) -> None:
        pass

    holder.append(speedups.PendingRecord(b"x", "k", 1, "id", on_delivery, 0.0, 30.0))
    del on_delivery
    # WHEN the last outside reference goes and the collector runs
    del holder
    gc.collect()
    # THEN the cycle was found and freed
    assert collected == [True]


def test_a_records_mutable_fields_behave_as_the_python_class() -> None:
    record = speedups.PendingRecord(b"x", "k", 1, "id", None, 0.0, 30.0)
    record.attempts += 1
    record.last_error = "ProvisionedThroughputExceededException: slow down"
    assert (record.attempts, record.last_error) == (1, "ProvisionedThroughputExceededException: slow down")
    with pytest.raises(TypeError):
        record.last_error = None  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        record.data = b"y"  # type: ignore[misc]


def test_the_c_builder_takes_only_exact_str_keys_so_nothing_can_reenter_it() -> None:
    # GIVEN a key whose hash would run Python code (and could call the builder again)
    class Key(str):
        def __hash__(self) -> int:
            builder.try_add("inner", b"y" * 3000)
            return str.__hash__(self)

    builder = speedups.AggregateBuilder()
    # THEN it is refused before any room is reserved, and the builder is untouched
    with pytest.raises(TypeError):
        builder.try_add(Key("outer"), b"z")
    assert (builder.count, builder.size) == (0, 0)


def test_a_c_builder_made_without_init_is_empty_with_the_default_budget() -> None:
    builder = speedups.AggregateBuilder.__new__(speedups.AggregateBuilder)
    assert builder.try_add("k", b"x")
    assert builder.build() == _python_built([("k", b"x")])
    assert builder.max_bytes == PythonAggregateBuilder().max_bytes


def test_a_budget_beyond_memory_is_only_a_budget() -> None:
    builder = speedups.AggregateBuilder(2**62)
    assert builder.try_add("k", b"x")
    assert builder.try_add("k", b"y")
    assert builder.build() == _python_built([("k", b"x"), ("k", b"y")])


def _python_built(records: list[tuple[str, bytes]]) -> bytes:
    builder = PythonAggregateBuilder()
    for key, data in records:
        builder.try_add(key, data)
    return builder.build()


@pytest.mark.parametrize("times", [("x", 30.0), (0.0, "x")])
def test_times_that_are_not_numbers_raise_a_type_error(times: tuple[Any, Any]) -> None:
    with pytest.raises(TypeError):
        speedups.prepare_canonical_record(canonical_events(1)[0], None, None, *times)


def test_a_hash_key_that_is_not_an_int_is_left_to_the_python_path() -> None:
    event = {**canonical_events(1)[0], "user_id": "u-odd-memo"}
    HASH_KEY_MEMO["u-odd-memo"] = "not an int"  # type: ignore[assignment]
    try:
        assert speedups.prepare_canonical_record(event, None, None, 0.0, 30.0) is None
    finally:
        del HASH_KEY_MEMO["u-odd-memo"]
    assert type(speedups.prepare_canonical_record(event, None, None, 0.0, 30.0).hash_key) is int
