"""producer_spool: events/s through the producer with the durable spool, against the same producer
without it, in the same run, into a 4-shard stream on kinesalite (127.0.0.1).

One service thread puts EVENTS realistic events as fast as ``put`` returns (the buffer is large
enough never to refuse), then the producer closes. Figures: ``put`` events/s (the service's cost:
with the spool, every event is written to a segment file before ``put`` returns) and delivered
events/s (put until every event is acknowledged by Kinesis and, with the spool, released from it).
Each configuration runs ROUNDS times, alternating; the best round of each is shown. The spool's
fsync interval is the default (``spool_fsync_interval_seconds``), printed with the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any

import boto3

from benchmarks.workload import realistic_events
from emulators import DUMMY_CREDENTIALS, kinesalite
from vedette.producer import Producer, ProducerConfig

SHARDS = 4
EVENTS = 60_000
ROUNDS = 2


def run(endpoint: str, client: Any, events: list[dict[str, Any]], name: str, spool_dir: str | None) -> dict[str, float]:
    client.create_stream(StreamName=name, ShardCount=SHARDS)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    settings: dict[str, Any] = {"spool_dir": spool_dir} if spool_dir else {}
    producer = Producer(
        name,
        endpoint_url=endpoint,
        region_name="us-east-1",
        # The emulator does not throttle; the benchmark measures the producer, not the shard limits.
        rate_limit_percent=10_000,
        buffer_max_records=EVENTS + 1,
        buffer_max_bytes=1 << 30,
        **settings,
    )
    started = time.perf_counter()
    for event in events:
        producer.put(event)
    put_seconds = time.perf_counter() - started
    undelivered = producer.close(timeout=120)
    total_seconds = time.perf_counter() - started
    if undelivered:
        raise RuntimeError(f"{undelivered} events undelivered")
    return {
        "put_events_per_second": round(len(events) / put_seconds),
        "delivered_events_per_second": round(len(events) / total_seconds),
    }


def best(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: max(r[key] for r in rounds) for key in rounds[0]}


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    templates = [{k: v for k, v in event.items() if k != "event_id"} for event in realistic_events(EVENTS)]
    work = tempfile.mkdtemp(prefix="bench-spool-")
    with_spool: list[dict[str, float]] = []
    memory_only: list[dict[str, float]] = []
    try:
        with kinesalite() as endpoint:
            client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
            for round_number in range(ROUNDS):
                memory_only.append(run(endpoint, client, templates, f"bench-memory-{round_number}", None))
                spool_dir = os.path.join(work, f"spool-{round_number}")
                with_spool.append(run(endpoint, client, templates, f"bench-spool-{round_number}", spool_dir))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours, baseline = best(with_spool), best(memory_only)
    print(
        json.dumps(
            {
                "bench": "producer_spool",
                "emulator": "kinesalite",
                "shards": SHARDS,
                "events": EVENTS,
                "spool_fsync_interval_seconds": ProducerConfig("x").spool_fsync_interval_seconds,
                "spool_dir_under": tempfile.gettempdir(),
                **ours,
                "baseline": {"name": "same producer, memory only (no spool_dir)", **baseline},
                "ratio_put": round(ours["put_events_per_second"] / baseline["put_events_per_second"], 2),
                "ratio_delivered": round(
                    ours["delivered_events_per_second"] / baseline["delivered_events_per_second"], 2
                ),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
