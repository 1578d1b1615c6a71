"""producer_loopback: sustained events/s into a 4-shard stream on kinesalite (127.0.0.1).

Our producer runs with its per-shard rate limit at Kinesis's real limits (1 MiB/s and 1,000
records/s per shard), fed by two service threads; the figure is the share of the four shards'
byte capacity it used over a steady window, and the busiest shard-second read back from the
stream (what Kinesis would have throttled above 1 MiB). In the same run and conditions:
boto3 put_records without aggregation (500 events a call, one thread; the emulator does not
throttle, so its rate is also shown capped at the shard limits it would hit on AWS), and
async-kinesis in its KPL and JSON modes (from .venv-peers).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import boto3

from benchmarks.workload import realistic_events
from emulators import DUMMY_CREDENTIALS, kinesalite
from vedette import metrics as m
from vedette.events import encode_json
from vedette.limits import MIB, SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND
from vedette.producer import Producer

SHARDS = 4
WARMUP_SECONDS = 3.0
SECONDS = 20.0
ROOT = pathlib.Path(__file__).resolve().parent.parent
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"


def create_stream(client: Any, name: str) -> str:
    client.create_stream(StreamName=name, ShardCount=SHARDS)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def busiest_shard_second(client: Any, stream: str) -> dict[str, float]:
    """Max bytes and records any shard took in one arrival second, read back from the stream."""
    bytes_per_second: Counter[tuple[str, int]] = Counter()
    records_per_second: Counter[tuple[str, int]] = Counter()
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            for record in page["Records"]:
                second = (shard["ShardId"], int(record["ApproximateArrivalTimestamp"].timestamp()))
                bytes_per_second[second] += len(record["Data"]) + len(record["PartitionKey"].encode())
                records_per_second[second] += 1
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return {
        "max_shard_mib_per_second": round(max(bytes_per_second.values(), default=0) / MIB, 3),
        "max_shard_records_per_second": max(records_per_second.values(), default=0),
    }


def run_ours(endpoint: str, client: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    stream = create_stream(client, "bench-vedette")
    producer = Producer(
        stream,
        endpoint_url=endpoint,
        region_name="us-east-1",
        rate_limit_percent=100,
        buffer_max_records=20_000,
        buffer_full_timeout_seconds=30,
    )
    stop = threading.Event()
    templates = [{k: v for k, v in event.items() if k != "event_id"} for event in events]

    def service() -> None:
        while not stop.is_set():
            for event in templates[:2000]:
                producer.put(event)

    threads = [threading.Thread(target=service) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(WARMUP_SECONDS)
    before, started = producer.metrics.snapshot(), time.monotonic()
    time.sleep(SECONDS)
    after, elapsed = producer.metrics.snapshot(), time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    producer.close(60)
    delivered = after[m.DELIVERED] - before[m.DELIVERED]
    kinesis_bytes = after[m.KINESIS_BYTES] - before[m.KINESIS_BYTES]
    capacity = SHARDS * SHARD_WRITE_BYTES_PER_SECOND * elapsed
    return {
        "events_per_second": round(delivered / elapsed),
        "mib_per_second": round(kinesis_bytes / elapsed / MIB, 3),
        "byte_capacity_used": round(kinesis_bytes / capacity, 3),
        "kinesis_records_per_second": round((after[m.KINESIS_RECORDS] - before[m.KINESIS_RECORDS]) / elapsed, 1),
        "retries": after.get(m.RETRIES, 0),
        "put_latency_ms_p50": round(after.get(f"{m.PUT_LATENCY_MS}_p50", 0), 1),
        "put_latency_ms_p99": round(after.get(f"{m.PUT_LATENCY_MS}_p99", 0), 1),
        **busiest_shard_second(client, stream),
    }


def run_boto3(client: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    stream = create_stream(client, "bench-boto3")
    sent = 0
    sent_bytes = 0
    started = time.monotonic()
    while time.monotonic() - started < SECONDS:
        for offset in range(0, 10_000, 500):
            entries = [
                {"Data": encode_json(event), "PartitionKey": event["user_id"]}
                for event in events[offset : offset + 500]
            ]
            response = client.put_records(StreamName=stream, Records=entries)
            sent += len(entries) - response["FailedRecordCount"]
            sent_bytes += sum(len(entry["Data"]) + len(entry["PartitionKey"]) for entry in entries)
    elapsed = time.monotonic() - started
    rate = sent / elapsed
    mean_record = sent_bytes / sent
    limit = min(SHARDS * SHARD_WRITE_RECORDS_PER_SECOND, SHARDS * SHARD_WRITE_BYTES_PER_SECOND / mean_record)
    return {
        "name": "boto3 put_records, no aggregation",
        "events_per_second": round(rate),
        "events_per_second_at_shard_limits": round(min(rate, limit)),
        "byte_capacity_used_at_shard_limits": round(min(rate, limit) * mean_record / (SHARDS * MIB), 3),
    }


def run_async_kinesis(endpoint: str, client: Any, mode: str, events: int) -> dict[str, Any]:
    """About SECONDS of work at the rates measured before (about 2,300 and 1,000 events/s)."""
    if not PEERS_PYTHON.exists():
        return {"name": f"async-kinesis {mode}", "skipped": "no .venv-peers (make bench creates it)"}
    stream = create_stream(client, f"bench-async-kinesis-{mode}")
    result = subprocess.run(
        [
            *(str(PEERS_PYTHON), "-m", "benchmarks.peers.async_kinesis_loopback"),
            *("--endpoint", endpoint, "--stream", stream, "--mode", mode, "--events", str(events)),
        ],
        cwd=ROOT,
        env={**os.environ, **DUMMY_CREDENTIALS, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"name": f"async-kinesis {mode}", "error": result.stderr.strip().splitlines()[-1:]}
    return {"name": f"async-kinesis {mode}", **json.loads(result.stdout), **busiest_shard_second(client, stream)}


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    events = realistic_events(20_000)
    with kinesalite() as endpoint:
        client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
        ours = run_ours(endpoint, client, events)
        boto3_baseline = run_boto3(client, events)
        async_kpl = run_async_kinesis(endpoint, client, "kpl", 45_000)
        async_json = run_async_kinesis(endpoint, client, "json", 20_000)
    best_async = max(
        (peer.get("events_per_second", 0) for peer in (async_kpl, async_json)),
        default=0,
    )
    print(
        json.dumps(
            {
                "bench": "producer_loopback",
                "emulator": "kinesalite",
                "shards": SHARDS,
                "seconds": SECONDS,
                "rate_limit": "1 MiB/s and 1,000 records/s per shard",
                **ours,
                "baseline": boto3_baseline,
                "async_kinesis": [async_kpl, async_json],
                "ratio_to_boto3_at_shard_limits": round(
                    ours["events_per_second"] / boto3_baseline["events_per_second_at_shard_limits"], 2
                ),
                "ratio_to_best_async_kinesis": round(ours["events_per_second"] / best_async, 2) if best_async else None,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
