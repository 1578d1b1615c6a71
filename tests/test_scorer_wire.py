"""The scorer's compiled decoder answers exactly as the event contract's ``decode_event``."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
import orjson
import pytest

from benchmarks.workload import realistic_events
from scorer import wire
from scorer.wire import decode_user_record
from tests.model_factories import START, credential_stuffing, injection_probe, normal_traffic
from vedette import events
from vedette.events import FIELDS, decode_event, encode_event, normalize_event


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


def test_the_compiled_form_lists_the_contract_fields_in_order() -> None:
    assert wire._CanonicalEvent.__struct_fields__ == FIELDS


def test_records_as_producers_write_them_take_the_compiled_path_and_decode_identically() -> None:
    records = valid_records()
    for data in records:
        wire._decode_canonical(data)  # raises if the fast path would not take it
        assert outcome(decode_user_record, data) == outcome(decode_event, data)


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
def test_mutated_records_get_the_same_answer_or_the_same_error(seed: int) -> None:
    records = mutated_records(4000, seed)
    accepted_fast = 0
    for data in records:
        assert outcome(decode_user_record, data) == outcome(decode_event, data), data
        try:
            wire._decode_canonical(data)
            accepted_fast += 1
        except msgspec.DecodeError:
            pass
    # the mutations exercise both paths: many records are still canonical, most are not
    assert 0.05 * len(records) < accepted_fast < 0.9 * len(records)


def test_an_oversized_record_is_refused_as_the_contract_refuses_it() -> None:
    event = normalize_event(realistic_events(1)[0])
    event["resource"] = "/" + "a" * 2047
    event["properties"] = {f"k{i}": "v" * 250 for i in range(64)}
    data = orjson.dumps(event)
    assert len(data) > events.MAX_EVENT_BYTES
    assert outcome(decode_user_record, data) == outcome(decode_event, data)
    assert outcome(decode_user_record, data)[1][1] == "event"
