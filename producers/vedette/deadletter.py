"""Parking for events Kinesis never took: a JSON-lines file to inspect and replay.

A producer given ``dead_letter_path`` appends one line per event it reports failed (TTL expired,
non-retryable error, closed with events pending), before the delivery callback runs, so the event
survives even if the callback or the process does not::

    {"failed_at": "2026-11-25T18:00:00.000000Z", "event_id": "...", "partition_key": "u-42",
     "attempts": 7, "error": "RecordExpiredError: ...", "event": {...the event as sent...}}

``python -m vedette.deadletter replay FILE --stream NAME`` puts the parked events again; their
``event_id`` is unchanged, so consumers that deduplicate on it see each event once.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from vedette.events import format_timestamp

if TYPE_CHECKING:
    from vedette.producer import DeliveryReport


class DeadLetterFile:
    """Appends failed delivery reports to a JSON-lines file; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()

    def write(self, report: DeliveryReport) -> None:
        line = {
            "failed_at": format_timestamp(datetime.now(UTC)),
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


def main(argv: list[str] | None = None) -> int:
    from vedette.metrics import FAILED, InMemoryMetrics
    from vedette.producer import Producer

    parser = argparse.ArgumentParser(prog="python -m vedette.deadletter", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    replay_command = commands.add_parser("replay", help="put the parked events of FILE into a stream again")
    replay_command.add_argument("file")
    replay_command.add_argument("--stream", required=True, help="Kinesis stream name")
    replay_command.add_argument("--endpoint-url", help="Kinesis endpoint (default: boto3's for the region)")
    replay_command.add_argument("--region", help="AWS region (default: boto3's configuration)")
    arguments = parser.parse_args(argv)

    failed_again = arguments.file + ".failed"
    metrics = InMemoryMetrics()
    with Producer(
        arguments.stream,
        endpoint_url=arguments.endpoint_url,
        region_name=arguments.region,
        dead_letter_path=failed_again,
        metrics=metrics,
    ) as producer:
        count = replay(arguments.file, producer)
        pending = producer.flush()
    failed = metrics.snapshot().get(FAILED, 0)
    sys.stdout.write(
        f"replayed {count} event(s); {failed} failed again (parked in {failed_again}); {pending} pending at exit\n"
    )
    return 1 if failed or pending else 0


if __name__ == "__main__":
    sys.exit(main())
