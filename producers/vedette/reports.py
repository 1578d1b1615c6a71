"""What the producer tells a service about each event it accepted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The outcome of one event: ``error`` is None when Kinesis stored it."""

    event_id: str
    partition_key: str
    error: Exception | None
    shard_id: str | None = None
    sequence_number: str | None = None
    # The event's index inside its aggregated Kinesis record; None when sent alone.
    sub_sequence_number: int | None = None
    attempts: int = 0
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.error is None


DeliveryCallback = Callable[[DeliveryReport], None]
