"""Producer metrics: a two-method protocol, and an in-memory implementation used by default.

Plug in anything that implements ``count`` and ``observe`` (CloudWatch EMF, Prometheus, StatsD).
The producer calls them from its sender and worker threads, never from ``put``.
"""

from __future__ import annotations

import threading
from typing import Protocol

# Counters
EVENTS = "events"  # user records accepted by put
EVENT_BYTES = "event_bytes"
DELIVERED = "delivered"  # user records acknowledged by Kinesis
FAILED = "failed"  # user records reported failed to their callback
KINESIS_RECORDS = "kinesis_records"  # PutRecords entries acknowledged (aggregates count once)
KINESIS_BYTES = "kinesis_bytes"
PUT_PAYLOAD_UNITS = "put_payload_units"
PUT_CALLS = "put_calls"
RETRIES = "retries"  # Kinesis records scheduled for another attempt
THROTTLES = "throttles"  # entries or calls rejected for throughput
WRONG_SHARD = "wrong_shard"  # aggregates that landed off their predicted shard (reshard)
# Observations
PUT_LATENCY_MS = "put_latency_ms"  # one PutRecords call, request to response


class ProducerMetrics(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...

    def observe(self, name: str, value: float) -> None: ...


class InMemoryMetrics:
    """Thread-safe counters and bounded samples; ``snapshot()`` gives totals and percentiles."""

    def __init__(self, max_samples: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._samples: dict[str, list[float]] = {}
        self._max_samples = max_samples

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + value

    def observe(self, name: str, value: float) -> None:
        with self._lock:
            samples = self._samples.setdefault(name, [])
            if len(samples) < self._max_samples:
                samples.append(value)

    def snapshot(self) -> dict[str, float]:
        """Counters by name, plus ``<name>_p50/_p95/_p99`` for each observed series."""
        with self._lock:
            result: dict[str, float] = dict(self._counts)
            for name, samples in self._samples.items():
                ordered = sorted(samples)
                for percent in (50, 95, 99):
                    if ordered:
                        index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
                        result[f"{name}_p{percent}"] = ordered[index]
        return result
