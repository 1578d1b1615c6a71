"""The scorer decodes user records with the event contract: what producers write, or a named defect."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from benchmarks.workload import realistic_events
from scorer.wire import decode_user_record
from tests.model_factories import START, credential_stuffing, injection_probe, normal_traffic
from vedette import events
from vedette.events import FIELDS, WireEvent, decode_event, encode_event, normalize_event


def outcome(decode: Any, data: bytes) -> tuple[str, Any]:
    """What a decoder did with ``data``: the dict with its key order, or the error it raised."""
    try:
        result = decode(data)
    except events.InvalidEventError as error:
        return "error", (type(error).__name__, error.field, error.reason)
    return "ok", (list(result.items()), {key: type(value) for key, value in result.items()})


def valid_records() -> list[bytes]:
    made = [normalize_event(event) for event in realistic_events(3000)]
    made += normal_traffic(10, 1) + credential_stuffing(START, 20) + [injection_probe(START, "user-0001")]
    return [encode_event(normalize_event(event)) for event in made]


def test_the_wire_form_lists_the_contract_fields_in_order() -> None:
    assert WireEvent.__struct_fields__ == FIELDS


def test_records_as_producers_write_them_decode_to_the_event_put() -> None:
    for data in valid_records():
        wire = decode_user_record(data)
        assert list(wire) == list(FIELDS)
        assert encode_event(wire) == data


# Values that sit on either side of a rule of the contract, or that the two JSON readers might read
# differently (big integers, huge floats, escapes, duplicate keys are made below).
TRICKY_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    99,
    100,
    599,
    600,
    200.0,
    1.5,
    -0.0,
    2**63 - 1,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    10**30,
    1.7976931348623157e308,
    "",
    "x",
    "a" * 64,
    "a" * 65,
    "a" * 256,
    "a" * 257,
    "a" * 1024,
    "a" * 1025,
    "a" * 2048,
    "a" * 2049,
    "\u00e9" * 256,
    "\U0001f600" * 257,
    "login_failed",
    "Login_failed",
    "login\n",
    "9type",
    "t" * 65,
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-00000000000A",
    "{00000000-0000-4000-8000-000000000001}",
    "00000000000040008000000000000001",
    "2026-11-25T12:00:00.000000Z",
    "2026-02-30T12:00:00.000000Z",
    "2026-11-25T24:00:00.000000Z",
    "2026-11-25T12:00:00Z",
    "2026-11-25T12:00:00.000000+00:00",
    "2026-11-25T12:00:00.000000Z\n",
    "2026-11-25 12:00:00.000000Z",
    "\u0662026-11-25T12:00:00.000000Z",
    "198.51.100.7",
    "198.51.100.256",
    "01.2.3.4",
    "2001:db8::1",
    "2001:db8::g",
    "hmac:" + "0" * 32,
    "hmac:" + "0" * 31,
    "\x00",
    [],
    [1],
    {},
    {"k": "v"},
    {"k": None, "n": 2**64},
    {"k": [1]},
    {"": 1},
    {"k" * 65: 1},
    {f"k{i}": i for i in range(64)},
    {f"k{i}": i for i in range(65)},
    {"method": "POST", "amount": 12.5, "ok": True},
]


def mutated_records(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    base = [orjson.loads(data) for data in valid_records()[:200]]
    records = []
    for _ in range(count):
        event = dict(rng.choice(base))
        for _ in range(rng.choice((1, 1, 2, 3))):
            name = rng.choice((*FIELDS, "extra"))
            choice = rng.random()
            if choice < 0.15:
                event.pop(name, None)
            else:
                event[name] = rng.choice(TRICKY_VALUES)
        text = json.dumps(event, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.05:  # a key twice: the later one counts in both readers
            text = text[:-1] + ', "user_id": ' + json.dumps(rng.choice(TRICKY_VALUES)) + "}"
        if rng.random() < 0.03:
            text = " " + text + "\n"
        records.append(text.encode())
    records += [b"", b"null", b"[]", b"{", b"\xff", b'{"user_id": "\\ud800"}', b'{"a": 1e400}', b"1e400"]
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_records_decode_to_valid_events_or_a_named_defect(seed: int) -> None:
    records = mutated_records(4000, seed)
    accepted = 0
    for data in records:
        # WHEN the scorer decodes a record, valid or not
        answer, detail = outcome(decode_user_record, data)
        # THEN it is an event the contract accepts and writes back the same, or an InvalidEventError
        # naming a contract field (or the whole event), never another exception
        if answer == "ok":
            accepted += 1
            wire = dict(detail[0])
            assert normalize_event(wire) == wire
            assert decode_event(encode_event(wire)) == wire
        else:
            assert detail[1] in (*FIELDS, "event", "extra") or detail[1].startswith("properties."), detail
    # the mutations exercise both answers
    assert 0.05 * len(records) < accepted < 0.9 * len(records)


def test_escaped_lone_surrogates_are_refused_naming_the_field() -> None:
    wire = normalize_event(realistic_events(1)[0])
    for name, value in (("user_agent", "bot \ud800"), ("properties.note", "\udfff")):
        event = {**wire, "user_agent": value} if name == "user_agent" else {**wire, "properties": {"note": value}}
        data = json.dumps(event).encode()  # ensure_ascii: the surrogate travels as an escape
        with pytest.raises(events.InvalidEventError) as raised:
            decode_user_record(data)
        assert raised.value.field == name
        assert "not valid UTF-8" in raised.value.reason


def test_an_oversized_record_is_refused_as_the_contract_refuses_it() -> None:
    event = normalize_event(realistic_events(1)[0])
    event["resource"] = "/" + "a" * 2047
    event["properties"] = {f"k{i}": "v" * 250 for i in range(64)}
    data = orjson.dumps(event)
    assert len(data) > events.MAX_EVENT_BYTES
    assert outcome(decode_user_record, data)[1][1] == "event"
