"""Parking for events Kinesis never took: a JSON-lines file to inspect and replay.

A producer given ``dead_letter_path`` appends one line per event it reports failed (TTL expired,
non-retryable error, closed with events pending), before the delivery callback runs, so the event
survives even if the callback or the process does not::

    {"failed_at": "2026-11-25T18:00:00.000000Z", "event_id": "...", "partition_key": "u-42",
     "attempts": 7, "error": "RecordExpiredError: ...", "event": {...the event as sent...}}

``python -m vedette.deadletter replay FILE --stream NAME`` (``vedette.deadletter.__main__``) puts the
parked events again; their
``event_id`` is unchanged, so consumers that deduplicate on it see each event once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson

from vedette.events import format_timestamp
from vedette.reports import DeliveryReport


class DeadLetterFile:
    """Appends failed delivery reports to a JSON-lines file; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()

    def write(self, report: DeliveryReport) -> None:
        line = {
            "failed_at": format_timestamp(datetime.now(timezone.utc)),
            "event_id": report.event_id,
            "partition_key": report.partition_key,
            "attempts": report.attempts,
            "error": f"{type(report.error).__name__}: {report.error}",
            # The event bytes are the producer's own compact JSON, so they embed as an object.
            "event": orjson.Fragment(report.data),
        }
        encoded = orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
        with self._lock, open(self.path, "ab") as file:
            file.write(encoded)
            file.flush()
            os.fsync(file.fileno())


def read_dead_letters(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The parked lines of a dead-letter file, oldest first."""
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise ValueError(f"{os.fspath(path)}:{number}: not a dead-letter line ({error})") from error


def replay(path: str | os.PathLike[str], producer: Any) -> int:
    """Put every parked event again (same event_id and partition key); returns how many."""
    count = 0
    for line in read_dead_letters(path):
        producer.put(line["event"], partition_key=line["partition_key"])
        count += 1
    return count
