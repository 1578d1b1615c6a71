"""producer_loopback: the producer under Kinesis's per-shard limits, 4 shards on loopback.

kinesalite behind ``emulators.kinesis_limits`` (1 MiB and 1,000 records per shard per second), once
with each meter AWS might use: a sliding window and a token bucket. Our producer, default settings,
fed realistic events by two service threads at twice the stream's capacity (what put refuses is
counted, not retried): the share of the shards' byte capacity admitted over a steady window
(goal >= 90 %), the share of entries throttled (goal <= 1 %), accepted events that expired (goal
0) and put-to-delivery p50/p99 (at twice the capacity, that is about the shard backlog bound,
``shard_backlog_max_seconds``); then the same at half the capacity, for the latency of a stream
with room. Baseline in the same run and conditions: boto3 ``put_records`` with the standard retry
mode, failed entries resent with backoff, as fast as one thread goes. Also, through the window:
async-kinesis in its KPL and JSON modes (from .venv-peers), for a fixed number of events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from benchmarks.shard_limits import (
    LIMIT_ALGORITHMS,
    ROOT,
    SHARDS,
    create_stream,
    limited_kinesis,
    proxy_totals,
    run_boto3_standard_retries,
    run_producer,
    stream_figures,
)
from benchmarks.workload import realistic_events
from emulators import DUMMY_CREDENTIALS

WARMUP_SECONDS = 3.0
SECONDS = 10.0
# About 10,000 of these events a second fill the four shards.
CAPACITY_EVENTS_PER_SECOND = 10_000
PEERS_PYTHON = os.path.join(ROOT, ".venv-peers", "bin", "python")


def run_async_kinesis(endpoint: str, client: Any, mode: str, events: int) -> dict[str, Any]:
    """About ten seconds of work at the rates measured before (about 2,300 and 1,000 events/s)."""
    if not os.path.exists(PEERS_PYTHON):
        return {"name": f"async-kinesis {mode}", "skipped": "no .venv-peers (make bench creates it)"}
    stream = create_stream(client, f"bench-async-kinesis-{mode}")
    before = proxy_totals(endpoint, stream)
    result = subprocess.run(
        [
            *(PEERS_PYTHON, "-m", "benchmarks.peers.async_kinesis_loopback"),
            *("--endpoint", endpoint, "--stream", stream, "--mode", mode, "--events", str(events)),
        ],
        cwd=ROOT,
        env={**os.environ, **DUMMY_CREDENTIALS, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"name": f"async-kinesis {mode}", "error": result.stderr.strip().splitlines()[-1:]}
    figures = json.loads(result.stdout)
    return {
        "name": f"async-kinesis {mode}",
        **figures,
        **stream_figures(before, proxy_totals(endpoint, stream), figures["seconds"]),
    }


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    events = realistic_events(20_000)
    results: dict[str, Any] = {}
    baselines: dict[str, Any] = {}
    peers: list[dict[str, Any]] = []
    for limit_algo in LIMIT_ALGORITHMS:
        with limited_kinesis(limit_algo) as (endpoint, client):
            saturated = run_producer(
                endpoint,
                create_stream(client, "bench-vedette"),
                events,
                rate=2 * CAPACITY_EVENTS_PER_SECOND,
                warmup=WARMUP_SECONDS,
                seconds=SECONDS,
            )
            with_room = run_producer(
                endpoint,
                create_stream(client, "bench-vedette-half"),
                events,
                rate=CAPACITY_EVENTS_PER_SECOND / 2,
                warmup=1.0,
                seconds=SECONDS / 2,
            )
            saturated["at_half_capacity"] = {
                key: with_room[key]
                for key in ("admitted_events_per_second", "put_to_delivery_seconds_p50", "put_to_delivery_seconds_p99")
            }
            results[limit_algo] = saturated
            baselines[limit_algo] = run_boto3_standard_retries(
                endpoint, create_stream(client, "bench-boto3"), events, warmup=WARMUP_SECONDS, seconds=SECONDS
            )
            if limit_algo == "window":
                peers = [
                    run_async_kinesis(endpoint, client, "kpl", 23_000),
                    run_async_kinesis(endpoint, client, "json", 10_000),
                ]
    print(
        json.dumps(
            {
                "bench": "producer_loopback",
                "emulator": "kinesalite behind emulators.kinesis_limits",
                "shards": SHARDS,
                "seconds": SECONDS,
                "offered_events_per_second": 2 * CAPACITY_EVENTS_PER_SECOND,
                **results,
                "baseline": baselines,
                "async_kinesis_window": peers,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
