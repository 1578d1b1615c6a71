"""Producers against Kinesis's per-shard write limits on loopback, for the producer benchmarks.

kinesalite stores; ``emulators.kinesis_limits`` in front of it enforces 1 MiB and 1,000 records per
shard per second (a sliding window or a token bucket) and says what it admitted and throttled. A
``ServiceLoad`` plays a service: threads putting realistic events at a fixed offered rate, counting
what ``put`` refused, and timing each accepted event from ``put`` to its delivery report. The
figures of a steady window come from the proxy (what the shards took) and from the reports.

``python -m benchmarks.shard_limits producer|boto3 --endpoint URL --stream NAME ...`` runs one
writer in a process of its own and prints its figures as JSON: two of them share a stream in the
fairness benchmark, and ``previous_producer`` runs the producer of an earlier commit this way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from emulators import kinesalite, kinesis_limits_proxy
from emulators.proxying import fetch_stats
from vedette import metrics as m
from vedette.events import encode_json, new_event_id
from vedette.exceptions import BufferFullError, ProducerClosedError, RecordExpiredError
from vedette.limits import MIB, SHARD_WRITE_BYTES_PER_SECOND
from vedette.producer import Producer
from vedette.reports import DeliveryReport
from vedette.shards import hash_key

SHARDS = 4
LIMIT_ALGORITHMS = ("window", "bucket")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The producer before issue 23 (one burst a second per shard, one bound for the whole stream),
# measured in the same run as a baseline: its package is exported from this commit.
PREVIOUS_PRODUCER_COMMIT = "b699998d84be1d13e99a3e3045481f538a770a78"


@contextmanager
def limited_kinesis(limit_algo: str) -> Iterator[tuple[str, Any]]:
    """kinesalite behind the limit proxy; yields the proxy's endpoint and a client for setting up."""
    with kinesalite() as upstream, kinesis_limits_proxy(upstream, limit_algo) as endpoint:
        yield endpoint, boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")


def create_stream(client: Any, name: str, shards: int = SHARDS) -> str:
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def with_hot_shard(events: list[dict[str, Any]], share: float, shards: int = SHARDS) -> list[dict[str, Any]]:
    """The events with ``share`` of them moved to users of the first of ``shards`` equal shards,
    as a few very active users make one shard hot."""
    hot_users = [f"u-hot-{n:05d}" for n in range(5000) if hash_key(f"u-hot-{n:05d}") * shards >> 128 == 0]
    rng = random.Random(7)
    return [{**event, "user_id": rng.choice(hot_users)} if rng.random() < share else event for event in events]


def proxy_totals(endpoint: str, stream: str) -> dict[str, int]:
    streams = fetch_stats(endpoint)["streams"]
    totals: dict[str, int] = streams[stream]["totals"] if stream in streams else Counter()
    return dict(totals)


def stream_figures(
    before: dict[str, int], after: dict[str, int], seconds: float, shards: int = SHARDS
) -> dict[str, Any]:
    """What the shards took between two proxy snapshots ``seconds`` apart."""
    admitted_bytes = after.get("admitted_bytes", 0) - before.get("admitted_bytes", 0)
    admitted = after.get("admitted_entries", 0) - before.get("admitted_entries", 0)
    throttled = after.get("throttled_entries", 0) - before.get("throttled_entries", 0)
    user_records = after.get("admitted_user_records", 0) - before.get("admitted_user_records", 0)
    return {
        "byte_capacity_admitted": round(admitted_bytes / (shards * SHARD_WRITE_BYTES_PER_SECOND * seconds), 3),
        "admitted_mib_per_second": round(admitted_bytes / MIB / seconds, 3),
        "admitted_events_per_second": round(user_records / seconds),
        "entries_throttled": round(throttled / max(1, admitted + throttled), 4),
        "throttled_entries": throttled,
    }


def percentile(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


@dataclass
class Outcomes:
    """Delivery reports of one producer, and the put-to-delivery times of events put while measuring."""

    put_at: dict[str, float] = field(default_factory=dict)
    measuring: bool = False
    latencies: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, report: DeliveryReport) -> None:
        put_at = self.put_at.pop(report.event_id, None)
        if report.ok:
            self.counts["delivered"] += 1
            if put_at is not None:
                self.latencies.append(time.monotonic() - put_at)
        elif isinstance(report.error, RecordExpiredError):
            self.counts["expired"] += 1
        elif isinstance(report.error, ProducerClosedError):
            self.counts["undelivered_at_close"] += 1
        else:
            self.counts["failed"] += 1


class ServiceLoad:
    """Threads putting ``events`` (cycled, each with a fresh id) at ``rate`` events/s in all."""

    def __init__(self, producer: Producer, outcomes: Outcomes, events: list[dict[str, Any]], rate: float, threads: int):
        self.producer = producer
        self.outcomes = outcomes
        self.templates = [{key: value for key, value in event.items() if key != "event_id"} for event in events]
        self.rate = rate
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.counts_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._serve, args=(index, threads), name=f"service-{index}")
            for index in range(threads)
        ]

    def __enter__(self) -> ServiceLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _serve(self, index: int, threads: int) -> None:
        per_thread = self.rate / threads
        templates = self.templates[index::threads]
        put_at = self.outcomes.put_at
        accepted = refused = 0
        started = time.monotonic()
        number = 0
        while not self.stop.is_set():
            template = templates[number % len(templates)]
            number += 1
            event_id = new_event_id()
            measuring = self.outcomes.measuring
            if measuring:
                put_at[event_id] = time.monotonic()
            try:
                self.producer.put({**template, "event_id": event_id})
                accepted += measuring
            except BufferFullError:
                put_at.pop(event_id, None)
                refused += measuring
            if number % 50 == 0:
                ahead = number / per_thread - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        with self.counts_lock:
            self.counts["accepted"] += accepted
            self.counts["refused"] += refused


def run_producer(
    endpoint: str,
    stream: str,
    events: list[dict[str, Any]],
    *,
    rate: float,
    warmup: float,
    seconds: float,
    threads: int = 2,
    close_timeout: float = 60.0,
    **settings: Any,
) -> dict[str, Any]:
    """One producer with ``settings`` fed ``rate`` events/s: the steady window's figures, then
    what became of every accepted event once the producer closed."""
    outcomes = Outcomes()
    producer = Producer(stream, endpoint_url=endpoint, region_name="us-east-1", on_delivery=outcomes, **settings)
    with ServiceLoad(producer, outcomes, events, rate, threads) as load:
        time.sleep(warmup)
        outcomes.measuring = True
        started_bytes = producer.metrics.snapshot().get(m.KINESIS_BYTES, 0)
        before, started = proxy_totals(endpoint, stream), time.monotonic()
        time.sleep(seconds)
        after, elapsed = proxy_totals(endpoint, stream), time.monotonic() - started
        outcomes.measuring = False
        delivered_bytes = producer.metrics.snapshot().get(m.KINESIS_BYTES, 0)
    producer.close(close_timeout)
    counts = outcomes.counts
    latencies = outcomes.latencies
    capacity = SHARDS * SHARD_WRITE_BYTES_PER_SECOND * elapsed
    return {
        **stream_figures(before, after, elapsed),
        "own_share_of_byte_capacity": round((delivered_bytes - started_bytes) / capacity, 3),
        "offered_events_per_second": round(rate),
        "accepted_events_per_second": round(load.counts["accepted"] / elapsed),
        "refused_at_put": load.counts["refused"],
        "accepted_events_expired": counts["expired"],
        "accepted_events_undelivered_at_close": counts["undelivered_at_close"],
        "accepted_events_failed_otherwise": counts["failed"],
        "put_to_delivery_seconds_p50": _rounded(percentile(latencies, 50)),
        "put_to_delivery_seconds_p99": _rounded(percentile(latencies, 99)),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_boto3_standard_retries(
    endpoint: str, stream: str, events: list[dict[str, Any]], *, warmup: float, seconds: float
) -> dict[str, Any]:
    """The baseline a service would write with boto3: ``put_records`` of 500 events (no
    aggregation) as fast as one thread goes, botocore's standard retry mode for whole calls, and
    the entries a call reports failed sent again, first, after an exponential backoff with full
    jitter (0.1 s doubling to 5 s)."""
    client = boto3.client(
        "kinesis", endpoint_url=endpoint, region_name="us-east-1", config=Config(retries={"mode": "standard"})
    )
    rng = random.Random(3)
    entries = [{"Data": encode_json(event), "PartitionKey": event["user_id"]} for event in events]
    retry: list[tuple[dict[str, Any], float]] = []  # failed entries and when they were first sent
    latencies: list[float] = []
    failures_in_a_row = 0
    number = 0
    started = time.monotonic()
    measure_from, measure_to = started + warmup, started + warmup + seconds
    before: dict[str, int] = {}
    own_bytes = 0
    while (now := time.monotonic()) < measure_to:
        if not before and now >= measure_from:
            before, measure_from = proxy_totals(endpoint, stream), now
        batch = retry[:500]
        retry = retry[500:]
        while len(batch) < 500:
            batch.append((entries[number % len(entries)], time.monotonic()))
            number += 1
        answer = client.put_records(StreamName=stream, Records=[entry for entry, _ in batch])
        answered_at = time.monotonic()
        for (entry, first_sent), result in zip(batch, answer["Records"], strict=True):
            if "ErrorCode" in result:
                retry.append((entry, first_sent))
            elif before:
                own_bytes += len(entry["Data"]) + len(entry["PartitionKey"])
                if first_sent >= measure_from:
                    latencies.append(answered_at - first_sent)
        if answer["FailedRecordCount"]:
            failures_in_a_row += 1
            time.sleep(rng.uniform(0, min(5.0, 0.1 * 2 ** (failures_in_a_row - 1))))
        else:
            failures_in_a_row = 0
    after, elapsed = proxy_totals(endpoint, stream), time.monotonic() - measure_from
    return {
        "name": "boto3 put_records, standard retry mode, failed entries resent with backoff",
        **stream_figures(before, after, elapsed),
        "own_share_of_byte_capacity": round(own_bytes / (SHARDS * SHARD_WRITE_BYTES_PER_SECOND * elapsed), 3),
        "put_to_delivery_seconds_p50": _rounded(percentile(latencies, 50)),
        "put_to_delivery_seconds_p99": _rounded(percentile(latencies, 99)),
    }


def start_writer(
    kind: str, endpoint: str, stream: str, *, pythonpath: str = ROOT, **options: Any
) -> subprocess.Popen[str]:
    """``kind`` (producer or boto3) writing to ``stream`` in a process of its own; ``options`` are
    the command line's (rate, warmup, seconds, hot_share, close_timeout, settings)."""
    command = [sys.executable, "-m", "benchmarks.shard_limits", kind, "--endpoint", endpoint, "--stream", stream]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", json.dumps(value) if name == "settings" else str(value)]
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": pythonpath}, stdout=subprocess.PIPE, text=True
    )


def writer_figures(process: subprocess.Popen[str]) -> dict[str, Any]:
    output, _ = process.communicate()
    if process.returncode != 0:
        return {"error": f"exit code {process.returncode}"}
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def previous_producer(endpoint: str, stream: str, **options: Any) -> dict[str, Any]:
    """``run_producer`` on the producer package of ``PREVIOUS_PRODUCER_COMMIT`` (exported with git),
    in a process whose import path finds it before this checkout's."""
    with tempfile.TemporaryDirectory(prefix="vedette-previous-") as folder:
        archive = subprocess.run(
            ["git", "-C", ROOT, "archive", PREVIOUS_PRODUCER_COMMIT, "producers/vedette"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            return {"skipped": f"cannot export {PREVIOUS_PRODUCER_COMMIT[:12]} with git"}
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        pythonpath = os.pathsep.join([os.path.join(folder, "producers"), ROOT])
        figures = writer_figures(start_writer("producer", endpoint, stream, pythonpath=pythonpath, **options))
    return {"name": f"the producer of {PREVIOUS_PRODUCER_COMMIT[:7]} (before issue 23)", **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description="One writer against a limited stream; prints its figures.")
    parser.add_argument("kind", choices=["producer", "boto3"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--rate", type=float, default=20_000)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hot-share", type=float, default=0.0)
    parser.add_argument("--close-timeout", type=float, default=60)
    parser.add_argument("--settings", type=json.loads, default={})
    arguments = parser.parse_args()
    from benchmarks.workload import realistic_events
    from emulators import DUMMY_CREDENTIALS

    os.environ.update(DUMMY_CREDENTIALS)
    events = realistic_events(20_000)
    if arguments.hot_share:
        events = with_hot_shard(events, arguments.hot_share)
    if arguments.kind == "boto3":
        figures = run_boto3_standard_retries(
            arguments.endpoint, arguments.stream, events, warmup=arguments.warmup, seconds=arguments.seconds
        )
    else:
        import vedette

        figures = run_producer(
            arguments.endpoint,
            arguments.stream,
            events,
            rate=arguments.rate,
            warmup=arguments.warmup,
            seconds=arguments.seconds,
            close_timeout=arguments.close_timeout,
            **arguments.settings,
        )
        figures["vedette_from"] = os.path.dirname(vedette.__file__)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
