"""simulate: labeled events/s the simulator generates on one core, against the producer's own cost.

Ours: ``Simulator(...).events(count)`` (normal sessions, attack episodes, labels) consumed as a
stream, best of five rounds.
Baseline in the same run, on the same events: the producer's per-event work before buffering
(``prepare_record``: validation, serialization, partition-key hash). The load test runs both in
one process, so the simulator must not cost more per event than the producer it feeds. Also
reported: the full ``simulate`` command path (generate then encode a JSON line), and the importer
on a combined access log made from the same events.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from traffic import Simulator
from traffic.importer import LogImporter
from vedette.events import encode_event, parse_timestamp
from vedette.producer import prepare_record

EVENTS = 100_000
REPEATS = 5
USERS = 5_000
ATTACK_SHARE = 0.02


def simulate() -> None:
    # Consumed as a stream, as the load test and the command do: nothing is kept.
    deque(Simulator(seed=1, users=USERS, attack_share=ATTACK_SHARE).events(count=EVENTS), maxlen=0)


def simulate_and_encode() -> int:
    size = 0
    for event, _ in Simulator(seed=1, users=USERS, attack_share=ATTACK_SHARE).events(count=EVENTS):
        size += len(encode_event(event) + b"\n")
    return size


def producer_prepare(events: list[dict[str, Any]]) -> None:
    for event in events:
        prepare_record(event, None, None, None, 0.0, 30.0)


def combined_line(event: dict[str, Any]) -> str:
    moment: datetime = parse_timestamp(event["occurred_at"])
    agent = (event["user_agent"] or "-").replace('"', '\\"')
    method = event["properties"].get("method", "GET")
    return (
        f'{event["ip"]} - - [{moment:%d/%b/%Y:%H:%M:%S +0000}] "{method} {event["resource"]} HTTP/1.1" '
        f'{event["status"]} {event["properties"].get("latency_ms", 0)} "-" "{agent}"'
    )


def interleaved_best(functions: list[Callable[[], Any]]) -> list[float]:
    """Best time of each function over REPEATS rounds, taking turns so load from other processes on
    this shared machine falls on all of them alike."""
    best = [float("inf")] * len(functions)
    for _ in range(REPEATS):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def main() -> None:
    # Warm up (imports, allocator, caches) so the first measurement is not penalised.
    warm = [item.event for item in Simulator(seed=2, users=USERS).events(count=EVENTS // 5)]
    producer_prepare(warm)
    labeled = list(Simulator(seed=1, users=USERS, attack_share=ATTACK_SHARE).events(count=EVENTS))
    events = [item.event for item in labeled]
    attack = sum(1 for item in labeled if item.label is not None)
    lines = [combined_line(event) for event in events]

    def import_combined() -> int:
        importer = LogImporter("combined")
        return sum(1 for _ in importer.import_lines(lines, "bench.log"))

    seconds, baseline_seconds, encode_seconds, import_seconds = interleaved_best(
        [simulate, lambda: producer_prepare(events), simulate_and_encode, import_combined]
    )
    imported = import_combined()
    rate = EVENTS / seconds
    baseline = EVENTS / baseline_seconds
    print(
        json.dumps(
            {
                "bench": "simulate",
                "events": EVENTS,
                "users": USERS,
                "attack_share": round(attack / EVENTS, 4),
                "events_per_second": round(rate),
                "baseline": {
                    "name": "producer prepare_record (validate, serialize, hash key) on the same events",
                    "events_per_second": round(baseline),
                },
                "ratio": round(rate / baseline, 2),
                "simulate_command_path": {
                    "name": "generate then encode each event as a JSON line",
                    "events_per_second": round(EVENTS / encode_seconds),
                },
                "import_combined": {
                    "name": "LogImporter('combined') on the same events as access-log lines",
                    "lines_per_second": round(EVENTS / import_seconds),
                    "events": imported,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
