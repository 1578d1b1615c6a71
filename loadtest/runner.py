"""Producer processes that push simulated events at a target rate and report every second.

Each process runs its own simulator (seeded by its index) and its own ``vedette.Producer``, the
library services embed, and sends one ``Interval`` per second to the parent through a queue. The
baseline mode sends the same events with boto3 ``put_records`` and no aggregation, 500 per call,
retrying failed entries, as a service without the library would.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vedette import metrics as m
from vedette.events import encode_event, normalize_event
from vedette.limits import MAX_RECORDS_PER_PUT, put_payload_units

REPORT_SECONDS = 1.0
PROBE_USER_PREFIX = "vedette-loadtest-probe-"
MAX_LATENCY_SAMPLES_PER_INTERVAL = 2000


@dataclass(frozen=True)
class WorkerSettings:
    stream: str
    endpoint_url: str | None
    region: str | None
    rate: float  # events/s for this process; 0 = unlimited
    seconds: float
    users: int
    attack_share: float
    pad_bytes: int
    seed: int
    baseline: bool = False
    probes: bool = False  # one probe event a second per process, to time produce-to-scored (--e2e)


@dataclass
class Interval:
    """What one process did in one reporting interval."""

    worker: int
    ended_at: float
    events_put: int = 0
    delivered: int = 0
    failed: int = 0
    event_bytes: int = 0
    kinesis_records: int = 0
    kinesis_bytes: int = 0
    payload_units: int = 0
    retries: int = 0
    throttles: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False


def simulated_events(settings: WorkerSettings, worker: int) -> Iterator[dict[str, Any]]:
    """Endless simulated events for one worker (a new simulated week after each one)."""
    from traffic.simulator import Simulator

    round_number = 0
    padding = {"padding": "x" * settings.pad_bytes} if settings.pad_bytes else None
    while True:
        simulator = Simulator(
            # The baseline gets the same mix with other ids, so both runs can share a stream.
            seed=settings.seed * 1000 + worker * 100 + round_number + (50 if settings.baseline else 0),
            users=settings.users,
            attack_share=settings.attack_share,
        )
        for event, _ in simulator.events(duration=timedelta(days=7)):
            if padding:
                event["properties"] = {**event.get("properties", {}), **padding}
            yield event
        round_number += 1


class _Pacer:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.rate > 0 and self.count % 50 == 0:
            ahead = self.count / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


class _LatencyMetrics(m.InMemoryMetrics):
    """Counters as usual, plus the put latencies of the current interval."""

    def __init__(self) -> None:
        super().__init__()
        self.recent: list[float] = []

    def observe(self, name: str, value: float) -> None:
        super().observe(name, value)
        if name == m.PUT_LATENCY_MS and len(self.recent) < MAX_LATENCY_SAMPLES_PER_INTERVAL:
            self.recent.append(value)


def run_worker(settings: WorkerSettings, worker: int, reports: Any, stop: Any) -> None:
    """Entry point of a producer process."""
    if settings.baseline:
        _run_baseline(settings, worker, reports, stop)
        return
    from vedette import Producer

    metrics = _LatencyMetrics()
    producer = Producer(
        settings.stream,
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        metrics=metrics,
        buffer_full_timeout_seconds=30.0,
    )
    events = simulated_events(settings, worker)
    pacer = _Pacer(settings.rate)
    deadline = time.monotonic() + settings.seconds
    next_report = time.monotonic() + REPORT_SECONDS
    previous: dict[str, float] = {}
    put = 0
    probes: list[dict[str, Any]] = []
    try:
        while time.monotonic() < deadline and not stop.is_set():
            producer.put(next(events))
            put += 1
            pacer.tick()
            if time.monotonic() >= next_report:
                if settings.probes:
                    probes.append(put_probe(producer, worker, len(probes)))
                previous = _report(reports, worker, metrics, previous, put, probes)
                put, probes = 0, []
                next_report += REPORT_SECONDS
    finally:
        producer.close(60)
        _report(reports, worker, metrics, previous, put, probes, done=True)


PROBE_RESOURCE = "/search?q=shoes' union select password,1,2 from users where '1'='1' --&page=1"


def put_probe(producer: Any, worker: int, number: int) -> dict[str, Any]:
    """A probe: an SQL injection the model flags, so the scorer records it with the time it scored it."""
    from vedette.events import format_timestamp, new_event_id

    event = {
        "event_id": new_event_id(),
        "occurred_at": format_timestamp(datetime.now(UTC)),
        "event_type": "api_call",
        "user_id": f"{PROBE_USER_PREFIX}{worker}",
        "ip": "198.51.100.250",
        "user_agent": "sqlmap/1.8 (vedette load test probe)",
        "resource": PROBE_RESOURCE,
        "status": 500,
        "properties": {"probe": number},
    }
    put_at = time.time()
    producer.put(event)
    return {
        "event_id": event["event_id"],
        "occurred_at": event["occurred_at"],
        "user_id": event["user_id"],
        "put_at": put_at,
    }


def _report(
    reports: Any,
    worker: int,
    metrics: _LatencyMetrics,
    previous: dict[str, float],
    put: int,
    probes: list[dict[str, Any]],
    done: bool = False,
) -> dict[str, float]:
    now = metrics.snapshot()

    def delta(name: str) -> int:
        return int(now.get(name, 0) - previous.get(name, 0))

    latencies, metrics.recent = metrics.recent, []
    reports.put(
        asdict(
            Interval(
                worker,
                time.time(),
                events_put=put,
                delivered=delta(m.DELIVERED),
                failed=delta(m.FAILED),
                event_bytes=delta(m.EVENT_BYTES),
                kinesis_records=delta(m.KINESIS_RECORDS),
                kinesis_bytes=delta(m.KINESIS_BYTES),
                payload_units=delta(m.PUT_PAYLOAD_UNITS),
                retries=delta(m.RETRIES),
                throttles=delta(m.THROTTLES),
                latencies_ms=latencies,
                probes=probes,
                done=done,
            )
        )
    )
    return now


def _run_baseline(settings: WorkerSettings, worker: int, reports: Any, stop: Any) -> None:
    """boto3 put_records, one Kinesis record per event, failed entries retried until they succeed."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "kinesis",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )
    events = simulated_events(settings, worker)
    pacer = _Pacer(settings.rate)
    deadline = time.monotonic() + settings.seconds
    interval = Interval(worker, 0.0)
    next_report = time.monotonic() + REPORT_SECONDS
    pending: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not stop.is_set():
        while len(pending) < MAX_RECORDS_PER_PUT:
            wire = normalize_event(next(events))
            pending.append({"Data": encode_event(wire), "PartitionKey": wire["user_id"]})
            interval.events_put += 1
            interval.event_bytes += len(pending[-1]["Data"])
            pacer.tick()
        started = time.monotonic()
        response = client.put_records(StreamName=settings.stream, Records=pending)
        interval.latencies_ms.append((time.monotonic() - started) * 1000)
        retry = []
        for entry, result in zip(pending, response["Records"], strict=True):
            if "ErrorCode" in result:
                retry.append(entry)
                interval.retries += 1
                if result["ErrorCode"] == "ProvisionedThroughputExceededException":
                    interval.throttles += 1
            else:
                size = len(entry["Data"]) + len(entry["PartitionKey"])
                interval.delivered += 1
                interval.kinesis_records += 1
                interval.kinesis_bytes += size
                interval.payload_units += put_payload_units(size)
        pending = retry
        if time.monotonic() >= next_report:
            interval.ended_at = time.time()
            reports.put(asdict(interval))
            interval = Interval(worker, 0.0)
            next_report += REPORT_SECONDS
    # What was generated but never accepted counts as failed: the baseline has no buffer to flush.
    interval.failed += len(pending)
    interval.ended_at = time.time()
    interval.done = True
    reports.put(asdict(interval))


def run_processes(
    settings: WorkerSettings, processes: int, on_interval: Any, poll_seconds: float = 0.2
) -> list[dict[str, Any]]:
    """Run ``processes`` workers to completion; ``on_interval`` sees every interval as it arrives."""
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    stop = context.Event()
    share = settings.rate / processes if settings.rate else 0.0
    workers = [
        context.Process(
            target=run_worker,
            args=(WorkerSettings(**{**asdict(settings), "rate": share}), index, reports, stop),
            name=f"loadtest-{index}",
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    intervals: list[dict[str, Any]] = []
    finished = 0
    try:
        while finished < processes:
            try:
                interval = reports.get(timeout=poll_seconds)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    break
                continue
            intervals.append(interval)
            on_interval(interval)
            finished += interval["done"]
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=90)
            if worker.is_alive():
                worker.terminate()
    return intervals
