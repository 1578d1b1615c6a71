"""Parking for events Kinesis never took: a JSON-lines file to inspect and replay.

A producer given ``dead_letter_path`` appends one line per event it reports failed (TTL expired,
non-retryable error, closed with events pending), before the delivery callback runs, so the event
survives even if the callback or the process does not::

    {"failed_at": "2026-11-25T18:00:00.000000Z", "event_id": "...", "partition_key": "u-42",
     "attempts": 7, "error": "RecordExpiredError: ...", "event": {...the event as sent...}}

``python -m vedette.deadletter replay FILE --stream NAME`` (``vedette.deadletter.__main__``) puts the
parked events again, with their ``event_id`` unchanged, so consumers that deduplicate on it see
each event once. A replay first moves FILE aside (``claim``), so a producer still parking events
starts a new FILE and a second replay finds nothing to send; when the replay has finished, the
claimed file is renamed ``FILE.replayed-<UTC time>`` (``finish``) and kept for inspection.
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

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no advisory locks, in-process locking only
    fcntl = None  # type: ignore[assignment]

CLAIMED_SUFFIX = ".replaying"
REPLAYED_SUFFIX = ".replayed-"


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
        with self._lock:
            _append_locked(self.path, encoded)


def _append_locked(path: str, data: bytes) -> None:
    """Append under the file's advisory lock, to the file that has ``path`` now.

    A replay renames the file, then takes the lock before reading it. A writer that opened the
    file before the rename would append to the claimed file after the replay read it, and the
    line would never be sent: so once locked, the writer checks that its file is still the one at
    ``path`` and opens again if not.
    """
    while True:
        with open(path, "ab") as file:
            if fcntl is not None:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)
                try:
                    current = os.stat(path)
                except FileNotFoundError:
                    continue
                opened = os.fstat(file.fileno())
                if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
                    continue
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            return  # closing the file releases the lock


def read_dead_letters(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The parked lines of a dead-letter file, oldest first."""
    with open(path, "rb") as file:
        if fcntl is not None:
            # Wait for a writer that holds the lock to finish its line.
            fcntl.flock(file.fileno(), fcntl.LOCK_SH)
        for number, line in enumerate(file, start=1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise ValueError(f"{os.fspath(path)}:{number}: not a dead-letter line ({error})") from error


def claim(path: str | os.PathLike[str]) -> str | None:
    """Move a dead-letter file aside for replay; returns the claimed file, or None if none is left.

    A claimed file left by a replay that did not finish (``FILE.replaying``) is returned as is:
    replaying it again may send some of its events twice, which ``event_id`` lets consumers drop.
    """
    path = os.fspath(path)
    claimed = path + CLAIMED_SUFFIX
    if os.path.exists(claimed):
        return claimed
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None
    return claimed


def finish(claimed: str | os.PathLike[str]) -> str:
    """Mark a claimed file replayed: rename it ``FILE.replayed-<UTC time>``; returns the new name."""
    claimed = os.fspath(claimed)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    done = claimed.removesuffix(CLAIMED_SUFFIX) + REPLAYED_SUFFIX + stamp
    os.rename(claimed, done)
    return done


def replay(path: str | os.PathLike[str], producer: Any) -> int:
    """Put every parked event of ``path`` again (same event_id and partition key); returns how many.

    This reads the file as it is; ``claim`` and ``finish`` around it make a replay happen once.
    """
    count = 0
    for line in read_dead_letters(path):
        producer.put(line["event"], partition_key=line["partition_key"])
        count += 1
    return count
