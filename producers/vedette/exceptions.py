"""Errors raised by the event contract and the producer.

Every error says what happened in its name and carries the offending field or cause, so a service
can log it or route it without parsing the message.
"""

from __future__ import annotations


class VedetteError(Exception):
    """Base class of every error this package raises."""


class InvalidEventError(VedetteError, ValueError):
    """An event does not satisfy the contract; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EventTooLargeError(InvalidEventError):
    """An event (or its ``properties``) serializes to more bytes than the contract allows."""

    def __init__(self, field: str, size: int, limit: int) -> None:
        super().__init__(field, f"serializes to {size} bytes, more than the {limit}-byte limit")
        self.size = size
        self.limit = limit


class BufferFullError(VedetteError, BufferError):
    """The producer's buffer stayed full for the whole ``buffer_full_timeout_seconds``; nothing was queued."""


class ShardBacklogFullError(BufferFullError):
    """The event's shard has more accepted than it can send in time: its backlog would take
    ``backlog_seconds`` to drain at the shard's current pace, beyond the producer's
    ``shard_backlog_max_seconds`` (``max_seconds``). Nothing was queued; other shards still accept.
    ``shard_id`` names the shard."""

    def __init__(self, shard_id: str, backlog_seconds: float, max_seconds: float) -> None:
        super().__init__(
            f"shard {shard_id} backlog full: it would take {backlog_seconds:.1f} s to drain at the shard's "
            f"current pace, more than shard_backlog_max_seconds ({max_seconds:.1f} s)"
        )
        self.shard_id = shard_id
        self.backlog_seconds = backlog_seconds
        self.max_seconds = max_seconds


class ProducerClosedError(VedetteError):
    """The producer was closed: ``put`` after ``close``, or records still pending when close gave up."""


class RecordExpiredError(VedetteError):
    """A record could not be delivered within its time to live; ``last_error`` says why."""

    def __init__(self, attempts: int, last_error: str) -> None:
        super().__init__(f"not delivered after {attempts} attempt(s); last error: {last_error}")
        self.attempts = attempts
        self.last_error = last_error


class DeliveryFailedError(VedetteError):
    """Kinesis rejected a record with an error that retrying cannot fix (for example AccessDenied)."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
