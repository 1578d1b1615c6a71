"""The interaction event contract: the one definition producers, scorer, model and tests import.

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

Limits (``MAX_*`` below) are enforced before an event is buffered, so anything the producer accepts
fits in a Kinesis record and in a KPL aggregate.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from vedette.compiled import speedups
from vedette.exceptions import EventTooLargeError, InvalidEventError

SCHEMA_VERSION = 1

CORE_EVENT_TYPES = frozenset(
    {
        "login_succeeded",
        "login_failed",
        "logout",
        "page_view",
        "search",
        "click",
        "add_to_cart",
        "purchase",
        "password_reset",
        "api_call",
    }
)

MAX_EVENT_BYTES = 16 * 1024
MAX_PROPERTIES_BYTES = 4 * 1024
MAX_PROPERTIES = 64
MAX_PROPERTY_KEY_LENGTH = 64
# user_id is the partition key, and Kinesis partition keys are at most 256 characters.
MAX_ID_LENGTH = 256
MAX_RESOURCE_LENGTH = 2048
MAX_USER_AGENT_LENGTH = 1024
MAX_OUTCOME_LENGTH = 64
MAX_EVENT_TYPE_LENGTH = 64
MIN_STATUS_CODE = 100
MAX_STATUS_CODE = 599

FIELDS = (
    "schema_version",
    "event_id",
    "occurred_at",
    "event_type",
    "user_id",
    "session_id",
    "ip",
    "user_agent",
    "resource",
    "status",
    "properties",
)
_KNOWN_FIELDS = frozenset(FIELDS)

PSEUDONYM_PREFIX = "hmac:"
_PSEUDONYM_HEX_CHARS = 32
_PSEUDONYM_RE = re.compile(r"hmac:[0-9a-f]{32}")
# Dotted-quad IPv4 without leading zeros, as ipaddress accepts it, at a tenth of its cost.
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}")
EVENT_TYPE_PATTERN = rf"[a-z][a-z0-9_]{{0,{MAX_EVENT_TYPE_LENGTH - 1}}}"
_EVENT_TYPE_RE = re.compile(EVENT_TYPE_PATTERN)
# The shapes the producer itself writes; anything else takes the slower, general path.
CANONICAL_UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CANONICAL_TIMESTAMP_PATTERN = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
_CANONICAL_UUID_RE = re.compile(CANONICAL_UUID_PATTERN)
_CANONICAL_TIMESTAMP_RE = re.compile(CANONICAL_TIMESTAMP_PATTERN)
# JSON numbers beyond 64 bits lose precision in most consumers.
_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes, as events travel on the wire.

    orjson writes the same bytes as ``json.dumps(value, separators=(",", ":"),
    ensure_ascii=False)`` for the values the contract admits (tests/test_events.py checks it),
    except that a float in exponent form is written the shortest way (``1e-7``, not ``1e-07``):
    the same JSON number. It costs about half as much, and that cost is paid on every put.
    """
    return orjson.dumps(value)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z`` suffix; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError("occurred_at", "naive datetime; pass a timezone-aware datetime")
    return _to_utc(moment).isoformat(timespec="microseconds")[:-6] + "Z"


def _to_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, or 9999 with a negative one
        raise InvalidEventError(
            "occurred_at", f"outside the representable years in UTC: {moment.isoformat()}"
        ) from None


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEventError("occurred_at", f"not an RFC 3339 timestamp: {text[:64]!r}") from None
    if moment.tzinfo is None:
        raise InvalidEventError("occurred_at", "timestamp has no UTC offset; add 'Z' or '+00:00'")
    return _to_utc(moment)


def _text_error(name: str, value: object, max_length: int) -> InvalidEventError:
    if value is None:
        return InvalidEventError(name, "required field is missing")
    if type(value) is not str:
        return InvalidEventError(name, f"must be a string, got {type(value).__name__}")
    if not value:
        return InvalidEventError(name, "must not be empty")
    return InvalidEventError(name, f"longer than {max_length} characters ({len(value)})")


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
    """A random (version 4) UUID string.

    Same bits as ``str(uuid.uuid4())`` at a third of the cost; os.urandom keeps it fork-safe.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _normalize_event_id(value: object) -> str:
    if value is None:
        return new_event_id()
    if type(value) is str and _CANONICAL_UUID_RE.fullmatch(value):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if type(value) is not str:
        raise InvalidEventError("event_id", f"must be a UUID string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidEventError("event_id", f"not a UUID: {value[:64]!r}") from None


class _Clock:
    """Formats the current time as the wire's RFC 3339; the part up to the second is cached."""

    __slots__ = ("cached",)

    def __init__(self) -> None:
        self.cached = (-1, "")  # (second, its formatted prefix), replaced whole

    def now(self) -> str:
        moment = time.time()
        second = int(moment)
        cached = self.cached
        if cached[0] != second:
            # One tuple, so a thread never reads a prefix with another second's number; two threads
            # may both refresh it, each with a correct value.
            cached = self.cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{cached[1]}.{int((moment - second) * 1_000_000):06d}Z"


_clock = _Clock()


def _normalize_occurred_at(value: object) -> str:
    if value is None:
        return _clock.now()
    if type(value) is str:
        if _CANONICAL_TIMESTAMP_RE.fullmatch(value):
            try:
                datetime.fromisoformat(value)  # the shape is right; this checks the calendar
            except ValueError:
                raise InvalidEventError("occurred_at", f"not a valid date and time: {value!r}") from None
            return value
        return format_timestamp(parse_timestamp(value))
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise InvalidEventError("occurred_at", f"must be an RFC 3339 string or datetime, got {type(value).__name__}")


def _status_error(value: object) -> InvalidEventError:
    if type(value) is int:
        return InvalidEventError(
            "status", f"HTTP-like code must be within {MIN_STATUS_CODE}-{MAX_STATUS_CODE}, got {value}"
        )
    if type(value) is str:
        return InvalidEventError("status", f"outcome must be 1-{MAX_OUTCOME_LENGTH} characters")
    return InvalidEventError("status", f"must be an integer code or a string, got {type(value).__name__}")


def _normalize_properties(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        if not isinstance(value, Mapping):
            raise InvalidEventError("properties", f"must be a JSON object, got {type(value).__name__}")
        value = dict(value)
    if len(value) > MAX_PROPERTIES:
        raise InvalidEventError("properties", f"more than {MAX_PROPERTIES} keys ({len(value)})")
    for key, item in value.items():
        if type(key) is not str or not key or len(key) > MAX_PROPERTY_KEY_LENGTH:
            raise InvalidEventError(
                "properties", f"keys must be strings of 1-{MAX_PROPERTY_KEY_LENGTH} characters: {key!r}"
            )
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not _MIN_INT <= item <= _MAX_INT:
                raise InvalidEventError(f"properties.{key}", "integers must fit in 64 bits")
        elif kind is float:
            if not math.isfinite(item):
                raise InvalidEventError(f"properties.{key}", "NaN and infinity are not valid JSON")
        else:
            raise InvalidEventError(
                f"properties.{key}",
                f"values must be string, number, boolean or null (flat map), got {kind.__name__}",
            )
    return value


def normalize_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against the contract and return the wire dict in canonical field order.

    Fills ``event_id`` and ``occurred_at`` when absent. Raises ``InvalidEventError`` naming the
    first offending field; size limits are checked by ``encode_event``. This runs on every
    ``put``, so the common case is a handful of type and length checks; the detailed error is
    built only when a check fails.
    """
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise InvalidEventError("event", f"must be a mapping, got {type(raw).__name__}")
    if not _KNOWN_FIELDS.issuperset(raw):
        name = sorted(raw.keys() - _KNOWN_FIELDS)[0]
        raise InvalidEventError(name, "unknown field; put extra data in 'properties'")
    get = raw.get
    version = get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or type(version) is not int:
        raise InvalidEventError("schema_version", f"unsupported version {version!r}; this code knows {SCHEMA_VERSION}")
    event_type = get("event_type")
    if type(event_type) is not str or (event_type not in CORE_EVENT_TYPES and not _EVENT_TYPE_RE.fullmatch(event_type)):
        if type(event_type) is str and event_type:
            raise InvalidEventError("event_type", f"must be a snake_case word, got {event_type[:64]!r}")
        raise _text_error("event_type", event_type, MAX_EVENT_TYPE_LENGTH)
    user_id = get("user_id")
    if type(user_id) is not str or not user_id or len(user_id) > MAX_ID_LENGTH:
        raise _text_error("user_id", user_id, MAX_ID_LENGTH)
    session_id = get("session_id")
    if session_id is not None and (type(session_id) is not str or not session_id or len(session_id) > MAX_ID_LENGTH):
        raise _text_error("session_id", session_id, MAX_ID_LENGTH)
    ip = get("ip")
    if ip is not None:
        if type(ip) is not str:
            raise InvalidEventError("ip", f"must be a string, got {type(ip).__name__}")
        if not is_ip_or_pseudonym(ip):
            raise InvalidEventError("ip", f"not an IPv4/IPv6 address or pseudonym: {ip[:64]!r}")
    user_agent = get("user_agent")
    if user_agent is not None and (
        type(user_agent) is not str or not user_agent or len(user_agent) > MAX_USER_AGENT_LENGTH
    ):
        raise _text_error("user_agent", user_agent, MAX_USER_AGENT_LENGTH)
    resource = get("resource")
    if resource is not None and (type(resource) is not str or not resource or len(resource) > MAX_RESOURCE_LENGTH):
        raise _text_error("resource", resource, MAX_RESOURCE_LENGTH)
    status = get("status")
    if status is not None:
        kind = type(status)
        if not (
            (kind is int and MIN_STATUS_CODE <= status <= MAX_STATUS_CODE)
            or (kind is str and 0 < len(status) <= MAX_OUTCOME_LENGTH)
        ):
            raise _status_error(status)
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": _normalize_event_id(get("event_id")),
        "occurred_at": _normalize_occurred_at(get("occurred_at")),
        "event_type": event_type,
        "user_id": user_id,
        "session_id": session_id,
        "ip": ip,
        "user_agent": user_agent,
        "resource": resource,
        "status": status,
        "properties": _normalize_properties(get("properties")),
    }


def encode_event(wire: dict[str, Any]) -> bytes:
    """Serialize a normalized event, enforcing the size limits on the whole and on ``properties``."""
    data = encode_json(wire)
    # Only an event longer than the properties limit can hold properties over it.
    if len(data) > MAX_PROPERTIES_BYTES and wire["properties"]:
        properties_size = len(encode_json(wire["properties"]))
        if properties_size > MAX_PROPERTIES_BYTES:
            raise EventTooLargeError("properties", properties_size, MAX_PROPERTIES_BYTES)
    if len(data) > MAX_EVENT_BYTES:
        raise EventTooLargeError("event", len(data), MAX_EVENT_BYTES)
    return data


# The compiled fast path (vedette.compiled) validates and encodes events that already have the
# shapes the producer writes, against these limits, and leaves anything else to the code above.
if speedups is not None:
    speedups.configure_events(
        FIELDS,
        SCHEMA_VERSION,
        is_ip_or_pseudonym,
        new_event_id=new_event_id,
        now=_clock.now,
        max_event_bytes=MAX_EVENT_BYTES,
        max_properties_bytes=MAX_PROPERTIES_BYTES,
        max_properties=MAX_PROPERTIES,
        max_property_key_length=MAX_PROPERTY_KEY_LENGTH,
        max_id_length=MAX_ID_LENGTH,
        max_user_agent_length=MAX_USER_AGENT_LENGTH,
        max_resource_length=MAX_RESOURCE_LENGTH,
        max_outcome_length=MAX_OUTCOME_LENGTH,
        max_event_type_length=MAX_EVENT_TYPE_LENGTH,
        min_status_code=MIN_STATUS_CODE,
        max_status_code=MAX_STATUS_CODE,
    )


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


def decode_event(data: bytes | str) -> dict[str, Any]:
    """Decode one user record into its validated wire dict; raises ``InvalidEventError`` on any defect.

    The consumer-side twin of ``encode_event``: what the scorer and training read.
    """
    if len(data) > MAX_EVENT_BYTES:
        raise EventTooLargeError("event", len(data), MAX_EVENT_BYTES)
    try:
        wire = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidEventError("event", f"not UTF-8 JSON: {error}") from None
    if not isinstance(wire, dict):
        raise InvalidEventError("event", f"must be a JSON object, got {type(wire).__name__}")
    for name in ("event_id", "occurred_at"):
        if wire.get(name) is None:
            # Producers fill these; a record on the wire without them was not made by the contract.
            raise InvalidEventError(name, "required field is missing")
    return normalize_event(wire)


def parse_event(data: bytes | str) -> InteractionEvent:
    """Decode one user record into an event; raises ``InvalidEventError`` on any defect."""
    wire = decode_event(data)
    wire["occurred_at"] = parse_timestamp(wire["occurred_at"])
    return InteractionEvent(**wire)


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
        return PSEUDONYM_PREFIX + digest[:_PSEUDONYM_HEX_CHARS]

    def apply(self, wire: dict[str, Any]) -> dict[str, Any]:
        """Replace the configured fields of a normalized event with their pseudonyms, in place."""
        for name in self.fields:
            value = wire[name]
            if value is not None:
                wire[name] = self.pseudonym(value)
        return wire
