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
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

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
_EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")

# Compact, UTF-8, no NaN: the wire format. One encoder instance avoids per-call argument parsing.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON bytes, as events travel on the wire."""
    return _ENCODER.encode(value).encode()


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z`` suffix; naive datetimes are rejected."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError("occurred_at", "naive datetime; pass a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset into an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEventError("occurred_at", f"not an RFC 3339 timestamp: {text[:64]!r}") from None
    if moment.tzinfo is None:
        raise InvalidEventError("occurred_at", "timestamp has no UTC offset; add 'Z' or '+00:00'")
    return moment.astimezone(UTC)


def _check_text(name: str, value: object, max_length: int, *, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidEventError(name, "required field is missing")
        return
    if type(value) is not str:
        raise InvalidEventError(name, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidEventError(name, "must not be empty")
    if len(value) > max_length:
        raise InvalidEventError(name, f"longer than {max_length} characters ({len(value)})")


@lru_cache(maxsize=65_536)
def _is_ip_or_pseudonym(value: str) -> bool:
    # IPs repeat heavily (one user, one address), so the cache makes this check nearly free.
    if _PSEUDONYM_RE.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _normalize_event_id(value: object) -> str:
    if value is None:
        return str(uuid.uuid4())
    if isinstance(value, uuid.UUID):
        return str(value)
    if type(value) is not str:
        raise InvalidEventError("event_id", f"must be a UUID string, got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidEventError("event_id", f"not a UUID: {value[:64]!r}") from None


def _normalize_occurred_at(value: object) -> str:
    if value is None:
        return format_timestamp(datetime.now(UTC))
    if isinstance(value, datetime):
        return format_timestamp(value)
    if type(value) is not str:
        raise InvalidEventError("occurred_at", f"must be an RFC 3339 string or datetime, got {type(value).__name__}")
    return format_timestamp(parse_timestamp(value))


def _check_status(value: object) -> None:
    if value is None:
        return
    if type(value) is int:
        if not 100 <= value <= 599:
            raise InvalidEventError("status", f"HTTP-like code must be within 100-599, got {value}")
        return
    if type(value) is str:
        if not value or len(value) > MAX_OUTCOME_LENGTH:
            raise InvalidEventError("status", f"outcome must be 1-{MAX_OUTCOME_LENGTH} characters")
        return
    raise InvalidEventError("status", f"must be an integer code or a string, got {type(value).__name__}")


def _normalize_properties(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEventError("properties", f"must be a JSON object, got {type(value).__name__}")
    if len(value) > MAX_PROPERTIES:
        raise InvalidEventError("properties", f"more than {MAX_PROPERTIES} keys ({len(value)})")
    for key, item in value.items():
        if type(key) is not str or not key or len(key) > MAX_PROPERTY_KEY_LENGTH:
            raise InvalidEventError(
                "properties", f"keys must be strings of 1-{MAX_PROPERTY_KEY_LENGTH} characters: {key!r}"
            )
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                raise InvalidEventError(f"properties.{key}", "NaN and infinity are not valid JSON")
        elif item is not None and kind is not str and kind is not int and kind is not bool:
            raise InvalidEventError(
                f"properties.{key}",
                f"values must be string, number, boolean or null (flat map), got {kind.__name__}",
            )
    return value if type(value) is dict else dict(value)


def normalize_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against the contract and return the wire dict in canonical field order.

    Fills ``event_id`` and ``occurred_at`` when absent. Raises ``InvalidEventError`` naming the
    first offending field; size limits are checked by ``encode_event``.
    """
    if not isinstance(raw, Mapping):
        raise InvalidEventError("event", f"must be a mapping, got {type(raw).__name__}")
    unknown = raw.keys() - _KNOWN_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidEventError(name, "unknown field; put extra data in 'properties'")
    version = raw.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or type(version) is not int:
        raise InvalidEventError("schema_version", f"unsupported version {version!r}; this code knows {SCHEMA_VERSION}")
    get = raw.get
    event_type = get("event_type")
    _check_text("event_type", event_type, 64, required=True)
    if not _EVENT_TYPE_RE.fullmatch(str(event_type)):
        raise InvalidEventError("event_type", f"must be a snake_case word, got {event_type!r}")
    user_id = get("user_id")
    _check_text("user_id", user_id, MAX_ID_LENGTH, required=True)
    session_id = get("session_id")
    _check_text("session_id", session_id, MAX_ID_LENGTH, required=False)
    ip = get("ip")
    if ip is not None:
        if type(ip) is not str:
            raise InvalidEventError("ip", f"must be a string, got {type(ip).__name__}")
        if not _is_ip_or_pseudonym(ip):
            raise InvalidEventError("ip", f"not an IPv4/IPv6 address or pseudonym: {ip[:64]!r}")
    user_agent = get("user_agent")
    _check_text("user_agent", user_agent, MAX_USER_AGENT_LENGTH, required=False)
    resource = get("resource")
    _check_text("resource", resource, MAX_RESOURCE_LENGTH, required=False)
    status = get("status")
    _check_status(status)
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
    if len(data) > MAX_EVENT_BYTES:
        raise EventTooLargeError("event", len(data), MAX_EVENT_BYTES)
    try:
        wire = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEventError("event", f"not UTF-8 JSON: {error}") from None
    if not isinstance(wire, dict):
        raise InvalidEventError("event", f"must be a JSON object, got {type(wire).__name__}")
    for name in ("event_id", "occurred_at"):
        if wire.get(name) is None:
            # Producers fill these; a record on the wire without them was not made by the contract.
            raise InvalidEventError(name, "required field is missing")
    return InteractionEvent.from_wire(wire)


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
