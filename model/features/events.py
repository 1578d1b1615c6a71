"""What the features read of an event: its fields, its time, its outcome.

Events are wire dicts (as archived and as the scorer decodes them) or ``InteractionEvent`` objects;
both are read through ``event_field``. Nothing here depends on other events or on state.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from model.exceptions import InvalidFeatureEventError

FAILURE_OUTCOMES = frozenset({"failed", "failure", "denied", "error", "rejected", "declined", "invalid", "blocked"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Status classes (``status_class``): a failure outcome string, an answer (2xx), a client error (4xx),
# a server error (5xx); those that record a failure.
FAILURE_OUTCOME_CLASS, ANSWERED_CLASS, CLIENT_ERROR_CLASS, SERVER_ERROR_CLASS = 1, 2, 4, 5
FAILURE_CLASSES = frozenset({FAILURE_OUTCOME_CLASS, CLIENT_ERROR_CLASS, SERVER_ERROR_CLASS})
_EVENT_FIELDS = ("event_type", "status", "ip", "user_agent", "resource", "properties")


def stable_hash(text: str) -> int:
    """A 32-bit hash that is the same in every process (Python's ``hash`` is salted per process)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def event_field(event: Any, name: str) -> Any:
    """One field of a wire dict or an ``InteractionEvent`` (None where it is absent)."""
    if type(event) is dict or isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def event_fields(event: Any) -> tuple[Any, ...]:
    """event_type, status, ip, user_agent, resource, properties."""
    if type(event) is dict:
        get = event.get
        return (
            get("event_type"),
            get("status"),
            get("ip"),
            get("user_agent"),
            get("resource"),
            get("properties"),
        )
    return tuple(event_field(event, name) for name in _EVENT_FIELDS)


def event_time(event: Any) -> float:
    """Seconds since the epoch of an event's ``occurred_at`` (wire string or aware datetime)."""
    return _seconds(event_field(event, "occurred_at"))


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        try:
            # Python 3.10 (the SageMaker container's) does not read the "Z" suffix itself.
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] == "Z" else value)
        except ValueError:
            raise InvalidFeatureEventError("occurred_at", f"not an RFC 3339 timestamp: {value[:64]!r}") from None
        if moment.tzinfo is None:
            raise InvalidFeatureEventError("occurred_at", "timestamp has no UTC offset")
        return moment.timestamp()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidFeatureEventError("occurred_at", "naive datetime")
        return value.timestamp()
    raise InvalidFeatureEventError("occurred_at", f"must be a timestamp string or datetime, got {type(value).__name__}")


def status_class(status: Any) -> int:
    """2-5 for HTTP-like codes, 1 for a failure outcome string, 0 for other strings or none."""
    if type(status) is int:
        return status // 100
    if isinstance(status, str) and status.lower() in FAILURE_OUTCOMES:
        return 1
    return 0


def is_failure(event_type: str, status: Any) -> bool:
    """Whether an event records a failed attempt: a failed login, a 4xx/5xx code or a failure outcome."""
    return event_type == "login_failed" or status_class(status) in FAILURE_CLASSES
