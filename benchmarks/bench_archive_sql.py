"""archive_sql: rows/s scanned by ``python -m archive.sql`` (DuckDB) over a day of simulated archive.

Ours: a new ``archive.sql`` connection per round (listing included) answering "events and distinct
users per event type" over every object of the day, best of three rounds.
Baseline in the same run, on the same files: the project's archive reader in Python
(``archive.iter_events``: list, gunzip, split, validate with the contract) computing the same
answer. Both answers are compared. Also reported: a query filtered on one hour's partitions, with
the objects it opened out of those listed.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archive import ArchiveWriter, iter_events, sql
from traffic import Simulator

USERS = 20_000
REPEATS = 3
START = datetime(2026, 11, 2, tzinfo=UTC)
QUESTION = "SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users FROM events GROUP BY 1"
ONE_HOUR = "SELECT count(*) FROM events WHERE year = 2026 AND month = 11 AND day = 2 AND hour = 14"


def write_day(root: Path) -> int:
    written = 0
    with ArchiveWriter(root) as writer:
        for event, _ in Simulator(seed=5, users=USERS, start=START).events(duration=timedelta(days=1)):
            writer.put_event(event)
            written += 1
    return written


def with_duckdb(root: Path) -> dict[str, tuple[int, int]]:
    connection = sql.connect(root)
    try:
        rows = sql.query(connection, QUESTION).rows
    finally:
        connection.close()
    return {event_type: (events, users) for event_type, events, users in rows}


def with_python_reader(root: Path) -> dict[str, tuple[int, int]]:
    events: Counter[str] = Counter()
    users: defaultdict[str, set[str]] = defaultdict(set)
    for event in iter_events(root):
        events[event["event_type"]] += 1
        users[event["event_type"]].add(event["user_id"])
    return {event_type: (count, len(users[event_type])) for event_type, count in events.items()}


def best_of(functions: list[Callable[[], Any]]) -> list[float]:
    """Best time of each over REPEATS rounds, taking turns so other load on the machine hits both."""
    best = [float("inf")] * len(functions)
    for _ in range(REPEATS):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-archive-sql-") as folder:
        root = Path(folder)
        events = write_day(root)
        objects = sum(1 for _ in root.rglob("*.gz"))
        megabytes = sum(path.stat().st_size for path in root.rglob("*.gz")) / 1e6
        same_answer = with_duckdb(root) == with_python_reader(root)
        seconds, baseline_seconds = best_of([lambda: with_duckdb(root), lambda: with_python_reader(root)])
        stats = sql.ScanStats()
        connection = sql.connect(root, stats=stats)
        try:
            started = time.perf_counter()
            ((hour_rows,),) = sql.query(connection, ONE_HOUR).rows
            hour_seconds = time.perf_counter() - started
        finally:
            connection.close()
    rate = events / seconds
    baseline = events / baseline_seconds
    print(
        json.dumps(
            {
                "bench": "archive_sql",
                "events": events,
                "objects": objects,
                "gzip_mb": round(megabytes, 1),
                "query": QUESTION,
                "rows_per_second": round(rate),
                "seconds": round(seconds, 3),
                "same_answer": same_answer,
                "baseline": {
                    "name": "archive.iter_events (the project's Python reader) computing the same answer",
                    "rows_per_second": round(baseline),
                    "seconds": round(baseline_seconds, 3),
                },
                "ratio": round(rate / baseline, 2),
                "one_hour": {
                    "query": ONE_HOUR,
                    "rows": hour_rows,
                    "objects_opened": stats.objects_opened,
                    "objects_listed": stats.objects_listed,
                    "seconds": round(hour_seconds, 3),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
