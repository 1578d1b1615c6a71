"""The interaction event contract: the one definition producers, scorer, archive reader and tests use.

An event is a flat record of one user interaction. On the wire it is compact UTF-8 JSON, one
object per Kinesis user record, with every field present (``null`` where unknown) in this order:

========================  ==========================================================================
``schema_version``        ``SCHEMA_VERSION``; consumers reject versions they do not know.
``event_id``              UUID string, set by the producer if absent; the idempotency key downstream.
``occurred_at``           RFC 3339 UTC timestamp with microseconds and ``Z``; defaults to now.
``event_type``            snake_case word; ``CORE_EVENT_TYPES`` is the documented core vocabulary,
                          others are allowed (open vocabulary).
``user_id``               required; the partition key, so one user's events stay in order.
``session_id``            optional.
``ip``                    optional; an IPv4/IPv6 address or an HMAC pseudonym (see ``Pseudonymizer``).
``user_agent``            optional.
``resource``              optional; URL path (with query) or API operation.
``status``                optional; HTTP-like integer code (100-599) or a short outcome string.
``properties``            flat JSON object: string keys, values string/number/boolean/null.
========================  ==========================================================================

``WireEvent`` holds the rules as msgspec types and constraints, checked in msgspec's compiled code
when the producer validates an event (``validate_event``) and when the scorer and the archive
reader decode one (``decode_event``). Python adds the few checks msgspec cannot express (an IP
address, a real calendar date, integers up to 2**64 - 1, text that is valid UTF-8, the byte sizes)
and one it expresses too slowly: the fixed shapes of ``event_id``, ``occurred_at`` and
``event_type`` (``WIRE_SHAPES``). Other accepted forms (a ``datetime``, a ``uuid.UUID``, a
timestamp with an offset) are normalized first. When a check fails, ``InvalidEventError`` names
the field and the reason.

Limits (``MAX_*``, in ``vedette.schema``) are enforced before an event is buffered, so anything the
producer accepts fits in a Kinesis record and in a KPL aggregate.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from vedette.exceptions import EventTooLargeError, InvalidEventError
from vedette.schema import (
    CANONICAL_TIMESTAMP_CHARACTERS,
    CANONICAL_TIMESTAMP_LAYOUT,
    CANONICAL_UUID_CHARACTERS,
    CANONICAL_UUID_LAYOUT,
    CORE_EVENT_TYPES,
    EVENT_TYPE_PATTERN,
    FIELDS,
    MAX_EVENT_BYTES,
    MAX_EVENT_TYPE_LENGTH,
    MAX_ID_LENGTH,
    MAX_INTEGER,
    MAX_OUTCOME_LENGTH,
    MAX_PROPERTIES,
    MAX_PROPERTIES_BYTES,
    MAX_PROPERTY_KEY_LENGTH,
    MAX_RESOURCE_LENGTH,
    MAX_STATUS_CODE,
    MAX_USER_AGENT_LENGTH,
    MIN_INTEGER,
    MIN_STATUS_CODE,
    PSEUDONYM_HEX_CHARS,
    PSEUDONYM_PATTERN,
    PSEUDONYM_PREFIX,
    SCHEMA_VERSION,
)

__all__ = [
    "CORE_EVENT_TYPES",
    "FIELDS",
    "MAX_EVENT_BYTES",
    "MAX_EVENT_TYPE_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_OUTCOME_LENGTH",
    "MAX_PROPERTIES",
    "MAX_PROPERTIES_BYTES",
    "MAX_PROPERTY_KEY_LENGTH",
    "MAX_RESOURCE_LENGTH",
    "MAX_STATUS_CODE",
    "MAX_USER_AGENT_LENGTH",
    "MIN_STATUS_CODE",
    "PSEUDONYM_PREFIX",
    "SCHEMA_VERSION",
    "InteractionEvent",
    "Pseudonymizer",
    "WireEvent",
    "decode_event",
    "encode_event",
    "encode_json",
    "format_timestamp",
    "is_ip_or_pseudonym",
    "new_event_id",
    "normalize_event",
    "parse_event",
    "parse_timestamp",
    "surrogate_reason",
    "validate_event",
]


def _text(max_length: int) -> msgspec.Meta:
    return msgspec.Meta(min_length=1, max_length=max_length)


def _layout_test(layout: str, characters: str) -> Callable[[str], bool]:
    """Whether a text has ``layout``, in which every "0" stands for one of ``characters``.

    The text's ASCII bytes with each of ``characters`` written as "0" must equal the layout: other
    characters are left as they are, so only a character of the class fits where the layout has a
    "0", and only the same character anywhere else.
    """
    as_zero = bytes.maketrans(characters.encode(), b"0" * len(characters))
    expected = layout.encode()

    def has_layout(text: str) -> bool:
        return text.isascii() and text.encode().translate(as_zero) == expected

    return has_layout


_EVENT_TYPE_RE = re.compile(EVENT_TYPE_PATTERN)


@lru_cache(maxsize=4096)
def _is_event_type(value: str) -> bool:
    # A service uses a handful of event types, so the cache makes this check nearly free.
    return _EVENT_TYPE_RE.fullmatch(value) is not None


_SchemaVersion = Literal[SCHEMA_VERSION]  # type: ignore[valid-type]  # (the contract's constant, not a literal)
# The three fields with a fixed shape are tested in Python, after msgspec: its pattern constraint
# costs about 0.7 µs a field (msgspec 0.22, measured), more than converting the rest of the event.
# Testing the two layouts costs half as much as re's fullmatch of the same shapes (0.44-0.53 against
# 0.88-1.04 µs an event for the three fields, on the producer_encode events).
WIRE_SHAPES: dict[str, Callable[[str], bool]] = {
    "event_id": _layout_test(CANONICAL_UUID_LAYOUT, CANONICAL_UUID_CHARACTERS),
    "occurred_at": _layout_test(CANONICAL_TIMESTAMP_LAYOUT, CANONICAL_TIMESTAMP_CHARACTERS),
    "event_type": _is_event_type,
}
_is_event_id, _is_timestamp = WIRE_SHAPES["event_id"], WIRE_SHAPES["occurred_at"]
_Id = Annotated[str, _text(MAX_ID_LENGTH)]
_UserAgent = Annotated[str, _text(MAX_USER_AGENT_LENGTH)]
_Resource = Annotated[str, _text(MAX_RESOURCE_LENGTH)]
_Code = Annotated[int, msgspec.Meta(ge=MIN_STATUS_CODE, le=MAX_STATUS_CODE)]
_Outcome = Annotated[str, _text(MAX_OUTCOME_LENGTH)]
_PropertyKey = Annotated[str, _text(MAX_PROPERTY_KEY_LENGTH)]
# msgspec's integer bounds stop at int64: the upper bound (MAX_INTEGER, unsigned) is checked in
# Python. The float bounds keep out NaN and infinity, which JSON cannot hold.
_Integer = Annotated[int, msgspec.Meta(ge=MIN_INTEGER)]
_Finite = Annotated[float, msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]
_Properties = Annotated[
    dict[_PropertyKey, str | _Integer | _Finite | bool | None], msgspec.Meta(max_length=MAX_PROPERTIES)
]


class WireEvent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An event in its wire form: the contract's fields, in wire order, with their constraints.

    ``event_id`` and ``occurred_at`` are None only until ``validate_event`` fills them. Three
    fields' shapes (``WIRE_SHAPES``) and the checks msgspec cannot express are Python's, in
    ``validate_event`` and ``decode_event``.
    """

    schema_version: _SchemaVersion = SCHEMA_VERSION
    event_id: str | None = None  # WIRE_SHAPES["event_id"]
    occurred_at: str | None = None  # WIRE_SHAPES["occurred_at"]
    event_type: str  # WIRE_SHAPES["event_type"]
    user_id: _Id
    session_id: _Id | None = None
    ip: str | None = None  # checked in Python: msgspec has no IP address type
    user_agent: _UserAgent | None = None
    resource: _Resource | None = None
    status: _Code | _Outcome | None = None
    properties: _Properties = {}


_convert = msgspec.convert
_decode_wire = msgspec.json.Decoder(WireEvent).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_as_dict = msgspec.structs.asdict
_FIELD_TYPES = {info.name: info.type for info in msgspec.structs.fields(WireEvent)}
_REQUIRED = frozenset(info.name for info in msgspec.structs.fields(WireEvent) if info.required)
_KNOWN_FIELDS = frozenset(FIELDS)
_PSEUDONYM_RE = re.compile(PSEUDONYM_PATTERN)
# Dotted-quad IPv4 without leading zeros, as ipaddress accepts it, at a tenth of its cost.
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}")
_TEXT_LIMITS = {
    "event_type": MAX_EVENT_TYPE_LENGTH,
    "user_id": MAX_ID_LENGTH,
    "session_id": MAX_ID_LENGTH,
    "user_agent": MAX_USER_AGENT_LENGTH,
    "resource": MAX_RESOURCE_LENGTH,
}


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes, as events travel on the wire (msgspec's encoder).

    The same bytes as ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` for the
    values the contract admits (tests/test_events.py checks it), except that a float in exponent
    form is written the shortest way (``1e16``, not ``1e+16``): the same JSON number.
    """
    return _encode(value)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z`` suffix; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError("occurred_at", "naive datetime; pass a timezone-aware datetime")
    return _to_utc(moment).isoformat(timespec="microseconds")[:-6] + "Z"


def _to_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset, or 9999 with a negative one
        raise InvalidEventError(
            "occurred_at", f"outside the representable years in UTC: {moment.isoformat()}"
        ) from None


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime."""
    try:
        # Python 3.10 (the training container's) reads "+00:00" but not the "Z" the wire writes.
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] == "Z" else text)
    except ValueError:
        raise InvalidEventError("occurred_at", f"not an RFC 3339 timestamp: {text[:64]!r}") from None
    if moment.tzinfo is None:
        raise InvalidEventError("occurred_at", "timestamp has no UTC offset; add 'Z' or '+00:00'")
    return _to_utc(moment)


@lru_cache(maxsize=65_536)
def is_ip_or_pseudonym(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address, or a ``Pseudonymizer`` pseudonym."""
    # IPs repeat heavily (one user, one address), so the cache makes this check nearly free.
    if _IPV4_RE.fullmatch(value) or _PSEUDONYM_RE.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def new_event_id() -> str:
    """A random (version 4) UUID string; os.urandom keeps it fork-safe."""
    return str(uuid.UUID(bytes=os.urandom(16), version=4))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


# --- validation ----------------------------------------------------------------------------------


def validate_event(raw: Mapping[str, Any]) -> WireEvent:
    """Validate ``raw`` against the contract and return it in wire form, ``event_id`` and
    ``occurred_at`` filled when absent.

    Raises ``InvalidEventError`` naming the first offending field. Text that is not valid UTF-8
    and the size limits are checked by ``encode_event``. Events in the wire's own forms are checked
    by msgspec alone plus the Python checks; anything else is normalized first.
    """
    try:
        event = _convert(raw, WireEvent)
    except (msgspec.ValidationError, UnicodeEncodeError):  # msgspec encodes text to match a Literal
        event = _convert_other_forms(raw)
    else:
        if not _in_wire_shapes(event):
            event = _convert_other_forms(raw)
    if event.event_id is None:
        event.event_id = new_event_id()
    if event.occurred_at is None:
        event.occurred_at = _now()
    else:
        _check_calendar(event.occurred_at)
    _check_beyond_msgspec(event)
    return event


def _convert_other_forms(raw: object) -> WireEvent:
    """``raw`` with its ``event_id`` and ``occurred_at`` normalized, converted; or the error naming
    the first offending field."""
    if not isinstance(raw, Mapping):
        raise InvalidEventError("event", f"must be a mapping, got {type(raw).__name__}")
    wire = dict(raw)
    unknown = wire.keys() - _KNOWN_FIELDS
    if unknown:
        raise InvalidEventError(str(min(unknown, key=str)), "unknown field; put extra data in 'properties'")
    if wire.get("event_id") is not None:
        wire["event_id"] = _normalize_event_id(wire["event_id"])
    if wire.get("occurred_at") is not None:
        wire["occurred_at"] = _normalize_occurred_at(wire["occurred_at"])
    try:
        event = _convert(wire, WireEvent)
    except (msgspec.ValidationError, UnicodeEncodeError):
        raise _explain(wire) from None
    if not _in_wire_shapes(event):
        raise _explain(wire)
    return event


def _in_wire_shapes(event: WireEvent) -> bool:
    """Whether ``event_id``, ``occurred_at`` and ``event_type`` have their wire shapes (an absent
    id or time is filled in later)."""
    event_id, occurred_at = event.event_id, event.occurred_at
    return (
        (event_id is None or _is_event_id(event_id))
        and (occurred_at is None or _is_timestamp(occurred_at))
        and _is_event_type(event.event_type)
    )


def _check_calendar(occurred_at: str) -> None:
    try:
        # The shape admits 2026-02-30. Without its "Z", which Python 3.10 cannot read.
        datetime.fromisoformat(occurred_at[:-1])
    except ValueError:
        raise InvalidEventError("occurred_at", f"not a valid date and time: {occurred_at!r}") from None


def _check_beyond_msgspec(event: WireEvent) -> None:
    ip = event.ip
    if ip is not None and not is_ip_or_pseudonym(ip):
        raise InvalidEventError("ip", f"not an IPv4/IPv6 address or pseudonym: {ip[:64]!r}")
    for key, value in event.properties.items():
        if type(value) is int and value > MAX_INTEGER:
            raise InvalidEventError(f"properties.{key}", "integers must fit in 64 bits")


def _normalize_event_id(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if type(value) is not str:
        raise InvalidEventError("event_id", f"must be a UUID string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidEventError("event_id", f"not a UUID: {value[:64]!r}") from None


def _normalize_occurred_at(value: object) -> str:
    if type(value) is str:
        return format_timestamp(parse_timestamp(value))
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise InvalidEventError("occurred_at", f"must be an RFC 3339 string or datetime, got {type(value).__name__}")


# --- errors: why msgspec refused an event, in the contract's words --------------------------------


def _explain(wire: dict[str, Any]) -> InvalidEventError:
    """The first field (in wire order) whose value msgspec or its wire shape refuses, with the reason."""
    for name in FIELDS:
        if name not in wire and name not in _REQUIRED:
            continue  # its default
        value = wire.get(name)
        try:
            _convert(value, _FIELD_TYPES[name])
        except msgspec.ValidationError:
            return _reason(name, value)
        except UnicodeEncodeError as not_utf8:
            return InvalidEventError(name, surrogate_reason(not_utf8))
        shape = WIRE_SHAPES.get(name)
        if shape is not None and value is not None and not shape(value):
            return _reason(name, value)
    # Not reached for the types above; kept so that an error never goes unexplained.
    return InvalidEventError("event", "refused by the contract")


def _reason(name: str, value: Any) -> InvalidEventError:
    if name == "schema_version":
        return InvalidEventError(name, f"unsupported version {value!r}; this code knows {SCHEMA_VERSION}")
    if name == "event_type" and isinstance(value, str) and value:
        return InvalidEventError(name, f"must be a snake_case word, got {value[:64]!r}")
    if name == "ip":
        return InvalidEventError(name, f"must be a string, got {type(value).__name__}")
    if name == "status":
        return _status_error(value)
    if name == "properties":
        return _properties_error(value)
    if name == "event_id" or name == "occurred_at":  # already normalized: only a missing value is left
        return InvalidEventError(name, "required field is missing")
    return _text_error(name, value, _TEXT_LIMITS[name])


def _text_error(name: str, value: object, max_length: int) -> InvalidEventError:
    if value is None:
        return InvalidEventError(name, "required field is missing")
    if not isinstance(value, str):
        return InvalidEventError(name, f"must be a string, got {type(value).__name__}")
    if not value:
        return InvalidEventError(name, "must not be empty")
    return InvalidEventError(name, f"longer than {max_length} characters ({len(value)})")


def _status_error(value: object) -> InvalidEventError:
    if type(value) is int:
        return InvalidEventError(
            "status", f"HTTP-like code must be within {MIN_STATUS_CODE}-{MAX_STATUS_CODE}, got {value}"
        )
    if isinstance(value, str):
        return InvalidEventError("status", f"outcome must be 1-{MAX_OUTCOME_LENGTH} characters")
    return InvalidEventError("status", f"must be an integer code or a string, got {type(value).__name__}")


def _properties_error(value: object) -> InvalidEventError:
    if not isinstance(value, Mapping):
        return InvalidEventError("properties", f"must be a JSON object, got {type(value).__name__}")
    if len(value) > MAX_PROPERTIES:
        return InvalidEventError("properties", f"more than {MAX_PROPERTIES} keys ({len(value)})")
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_PROPERTY_KEY_LENGTH:
            return InvalidEventError(
                "properties", f"keys must be strings of 1-{MAX_PROPERTY_KEY_LENGTH} characters: {key!r}"
            )
        if type(item) is int and item < MIN_INTEGER:
            return InvalidEventError(f"properties.{key}", "integers must fit in 64 bits")
        if type(item) is float and not math.isfinite(item):
            return InvalidEventError(f"properties.{key}", "NaN and infinity are not valid JSON")
        if not (item is None or isinstance(item, str | int | float)):
            return InvalidEventError(
                f"properties.{key}",
                f"values must be string, number, boolean or null (flat map), got {type(item).__name__}",
            )
    return InvalidEventError("properties", "must be a flat JSON object")


def _find_not_utf8(event: WireEvent | Mapping[str, Any]) -> InvalidEventError | None:
    """The first text of a converted event that is not valid UTF-8 (a lone surrogate), by field."""
    wire = _as_dict(event) if isinstance(event, WireEvent) else event
    texts: list[tuple[str, object]] = [(name, wire.get(name)) for name in FIELDS[:-1]]
    for key, item in (wire.get("properties") or {}).items():
        texts += [("properties", key), (f"properties.{key}", item)]
    for name, text in texts:
        if isinstance(text, str):
            try:
                text.encode()
            except UnicodeEncodeError as error:
                return InvalidEventError(name, surrogate_reason(error))
    return None


def surrogate_reason(error: UnicodeEncodeError) -> str:
    """Why text that raised ``error`` on encoding is refused."""
    character = error.object[error.start]
    return f"text is not valid UTF-8: lone surrogate {character!r} at position {error.start}"


# --- encoding and decoding -----------------------------------------------------------------------


def encode_event(event: WireEvent | Mapping[str, Any]) -> bytes:
    """Serialize a validated event, enforcing valid UTF-8 and the size limits on the whole and on
    ``properties``."""
    try:
        data = _encode(event)
    except UnicodeEncodeError as error:
        raise _find_not_utf8(event) or InvalidEventError("event", surrogate_reason(error)) from None
    properties = event.properties if isinstance(event, WireEvent) else event["properties"]
    # Only an event longer than the properties limit can hold properties over it.
    if len(data) > MAX_PROPERTIES_BYTES and properties:
        properties_size = len(_encode(properties))
        if properties_size > MAX_PROPERTIES_BYTES:
            raise EventTooLargeError("properties", properties_size, MAX_PROPERTIES_BYTES)
    if len(data) > MAX_EVENT_BYTES:
        raise EventTooLargeError("event", len(data), MAX_EVENT_BYTES)
    return data


def normalize_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against the contract and return the wire dict in canonical field order.

    ``validate_event`` as a dict: fills ``event_id`` and ``occurred_at`` when absent and raises
    ``InvalidEventError`` naming the first offending field; size limits are checked by ``encode_event``.
    """
    return _as_dict(validate_event(raw))


def decode_event(data: bytes | str) -> dict[str, Any]:
    """Decode one user record into its validated wire dict; raises ``InvalidEventError`` on any defect.

    The consumer-side twin of ``encode_event``: what the scorer and training read.
    """
    if len(data) > MAX_EVENT_BYTES:
        raise EventTooLargeError("event", len(data), MAX_EVENT_BYTES)
    try:
        event = _decode_wire(data)
    except msgspec.ValidationError:
        try:
            wire = _decode_any(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as error:
            raise _undecodable(data, error) from None
        event = _convert_other_forms(_with_producer_fields(_as_object(wire)))
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise _undecodable(data, error) from None
    else:
        if not _in_wire_shapes(event):
            event = _convert_other_forms(_with_producer_fields(_as_dict(event)))
    if event.event_id is None or event.occurred_at is None:
        _with_producer_fields(_as_dict(event))
    _check_calendar(event.occurred_at)  # type: ignore[arg-type]  # (checked just above)
    _check_beyond_msgspec(event)
    return _as_dict(event)


def _undecodable(data: bytes | str, error: Exception) -> InvalidEventError:
    # msgspec refuses an escaped lone surrogate; the standard library reads one, so that the error
    # can name the field that holds it.
    try:
        wire = json.loads(data)
    except ValueError:
        wire = None
    if isinstance(wire, dict):
        found = _find_not_utf8(wire)
        if found is not None:
            return found
    return InvalidEventError("event", f"not UTF-8 JSON: {error}")


def _with_producer_fields(wire: dict[str, Any]) -> dict[str, Any]:
    """``wire`` if it holds the fields producers fill; a record without them was not made by the contract."""
    for name in ("event_id", "occurred_at"):
        if wire.get(name) is None:
            raise InvalidEventError(name, "required field is missing")
    return wire


def _as_object(wire: object) -> dict[str, Any]:
    if not isinstance(wire, dict):
        raise InvalidEventError("event", f"must be a JSON object, got {type(wire).__name__}")
    return wire


@dataclass(frozen=True, slots=True)
class InteractionEvent:
    """A validated event as consumers see it (``occurred_at`` parsed to an aware datetime)."""

    event_id: str
    occurred_at: datetime
    event_type: str
    user_id: str
    session_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    resource: str | None = None
    status: int | str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> InteractionEvent:
        """Build from a wire dict, validating it against the contract."""
        normalized = normalize_event(wire)
        normalized["occurred_at"] = parse_timestamp(normalized["occurred_at"])
        return cls(**normalized)

    def to_wire(self) -> dict[str, Any]:
        """The wire dict, in canonical field order."""
        return normalize_event({name: getattr(self, name) for name in FIELDS})


def parse_event(data: bytes | str) -> InteractionEvent:
    """Decode one user record into an event; raises ``InvalidEventError`` on any defect."""
    wire = decode_event(data)
    wire["occurred_at"] = parse_timestamp(wire["occurred_at"])
    return InteractionEvent(**wire)


_Wire = TypeVar("_Wire", dict[str, Any], WireEvent)


class Pseudonymizer:
    """Keyed hashing (HMAC-SHA256, truncated to 128 bits) of ``user_id`` and ``ip``.

    For services that must not ship raw PII. The same key maps the same value to the same
    pseudonym, so per-user ordering and per-user features still work downstream. Pseudonyms look
    like ``hmac:<32 hex chars>`` and are left unchanged if hashed again.
    """

    def __init__(self, key: bytes, fields: Iterable[str] = ("user_id", "ip")) -> None:
        if len(key) < 16:
            raise ValueError("pseudonymization key must be at least 16 bytes")
        self._key = key
        self.fields = tuple(fields)
        unknown = set(self.fields) - {"user_id", "ip", "session_id"}
        if unknown:
            raise ValueError(f"cannot pseudonymize {sorted(unknown)}: only user_id, ip, session_id")

    def pseudonym(self, value: str) -> str:
        """The pseudonym of one value (idempotent on pseudonyms)."""
        if _PSEUDONYM_RE.fullmatch(value):
            return value
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]

    def apply(self, wire: _Wire) -> _Wire:
        """Replace the configured fields of a validated event with their pseudonyms, in place."""
        for name in self.fields:
            value = wire[name] if isinstance(wire, dict) else getattr(wire, name)
            if value is None:
                continue
            try:
                pseudonym = self.pseudonym(value)
            except UnicodeEncodeError as error:
                raise InvalidEventError(name, surrogate_reason(error)) from None
            if isinstance(wire, dict):
                wire[name] = pseudonym
            else:
                setattr(wire, name, pseudonym)
        return wire
