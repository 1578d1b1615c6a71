"""Producer processes that push simulated events at a target rate, counting by wall-clock second.

Each process runs its own simulator (seeded by its index) and its own ``vedette.Producer``, the
library services embed. Every process starts on the same whole wall-clock second and stops putting
at the same moment, so the warm-up, the measured window and the close flush are the same seconds
for all. Each counts what it does in a ``loadtest.timeline.SecondLedger`` (PutRecords attempts are
observed on its Kinesis client, on the wire) and a reporting thread sends the counts to the parent
every second, even while ``put`` blocks.

The baseline sends the same events with boto3 ``put_records`` and no aggregation, 500 per call, as
a service without the library would do it fairly: botocore's standard retry mode for failed calls,
and the entries a call did not store retried with the same exponential backoff and full jitter.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loadtest.timeline import (
    CLOSED,
    EXPIRED,
    FAILED,
    PUT,
    REFUSED,
    PutRecordsObserver,
    SecondLedger,
    Timeline,
)
from vedette.events import encode_event, normalize_event
from vedette.limits import MAX_RECORDS_PER_PUT

REPORT_SECONDS = 1.0
PROBE_USER_PREFIX = "vedette-loadtest-probe-"
PROBE_SECONDS = 1.0  # with --e2e, one probe a second per process
# How long put may wait for buffer space before BufferFullError (the producer's backpressure).
PUT_BLOCK_SECONDS = 30.0
# How long the producer's close may flush what is still buffered when the run ends.
CLOSE_SECONDS = 60.0
# Processes start on a whole second at least this far ahead of the moment all are ready.
START_MARGIN_SECONDS = 0.5
# Processes import boto3 and build a simulator before they are ready; give up on one after this.
READY_TIMEOUT_SECONDS = 120.0

# The baseline's client: botocore's standard retry mode with its default of 3 attempts in all, so
# throttled and transient call errors are retried after rand(0, 1) x min(2 ** (attempt - 1), 20) s.
BASELINE_RETRIES = {"mode": "standard", "total_max_attempts": 3}
# The same backoff for entries a PutRecords call answered with an error (botocore does not retry
# those: the call succeeded), as botocore's standard mode computes it.
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 20.0


@dataclass(frozen=True)
class WorkerSettings:
    stream: str
    endpoint_url: str | None
    region: str | None
    rate: float  # events/s for this process; 0 = unlimited
    seconds: float  # warm-up and measured seconds: how long the process puts
    users: int
    attack_share: float
    pad_bytes: int
    seed: int
    baseline: bool = False
    probes: bool = False  # one probe event a second per process, to time produce-to-scored (--e2e)


@dataclass(frozen=True)
class Schedule:
    """The run's clock, common to every process: it starts on the whole wall-clock second
    ``started``, puts for ``warmup + duration`` seconds, then the producers close."""

    started: int
    warmup: float
    duration: float

    @property
    def ends(self) -> float:
        return self.started + self.warmup + self.duration

    @property
    def measured(self) -> range:
        """The whole seconds inside the measured window (all of them when both lengths are whole)."""
        return range(math.ceil(self.started + self.warmup), math.floor(self.ends))

    def phase(self, second: int) -> str:
        if second < self.measured.start:
            return "warm-up"
        return "measured" if second in self.measured else "close"


@dataclass
class Run:
    """Everything the processes reported: the timeline, probes, and when the close flush ended."""

    schedule: Schedule
    timeline: Timeline = field(default_factory=Timeline)
    probes: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, int] = field(default_factory=dict)  # events buffered per process, last reported
    finished: int = 0
    closed_at: float | None = None  # when the last process finished closing


@dataclass
class WorkerControl:
    go: Any  # multiprocessing Event: every process is ready, ``start`` is set
    stop: Any  # multiprocessing Event: stop putting now (Ctrl-C)
    start: Any  # multiprocessing Value("d"): the schedule's first second


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


def _primed(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``events`` with its first one made now: the simulator is built before the clock starts."""
    return itertools.chain([next(events)], events)


def backoff_seconds(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """botocore's standard-mode delay before retry ``attempt`` (1 for the first retry)."""
    return rand() * min(BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1), BACKOFF_MAX_SECONDS)


def baseline_client(settings: WorkerSettings) -> Any:
    """The boto3 Kinesis client of the baseline."""
    import boto3
    from botocore.config import Config

    config = Config(retries=BASELINE_RETRIES)
    return boto3.client("kinesis", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config)


def _loss_of(error: BaseException) -> str:
    from vedette.exceptions import ProducerClosedError, RecordExpiredError

    if isinstance(error, RecordExpiredError):
        return EXPIRED
    return CLOSED if isinstance(error, ProducerClosedError) else FAILED


class _Reporter:
    """Sends the ledger's counts to the parent every ``REPORT_SECONDS`` from its own thread."""

    def __init__(
        self, reports: Any, worker: int, ledger: SecondLedger, observer: PutRecordsObserver, pending: Callable[[], int]
    ) -> None:
        self.reports, self.worker, self.ledger, self.observer, self.pending = reports, worker, ledger, observer, pending
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="loadtest-reporter", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.finished.wait(REPORT_SECONDS):
            self.reports.put({"worker": self.worker, "cells": self.ledger.take(), "pending": self.pending()})
            self.observer.forget_old_calls()

    def finish(self) -> None:
        self.finished.set()
        self.thread.join()
        self.reports.put(
            {"worker": self.worker, "cells": self.ledger.take(), "pending": 0, "done": True, "closed_at": time.time()}
        )


def _wait_for_start(worker: int, reports: Any, control: WorkerControl) -> float | None:
    """Say ready, wait for the common start; None when stopped first."""
    reports.put({"worker": worker, "ready": True})
    while not control.go.wait(0.2):
        if control.stop.is_set():
            return None
    started: float = control.start.value
    time.sleep(max(0.0, started - time.time()))
    return started


def run_worker(settings: WorkerSettings, worker: int, reports: Any, control: WorkerControl) -> None:
    """Entry point of a producer process."""
    if settings.baseline:
        _run_baseline(settings, worker, reports, control)
        return
    from vedette import Producer
    from vedette.exceptions import BufferFullError
    from vedette.producer import ProducerConfig, make_kinesis_client
    from vedette.reports import DeliveryReport

    ledger = SecondLedger()
    client = make_kinesis_client(
        ProducerConfig(settings.stream), endpoint_url=settings.endpoint_url, region_name=settings.region
    )
    observer = PutRecordsObserver(client, ledger, entries_are_events=False)

    def on_delivery(report: DeliveryReport) -> None:
        if report.error is None:
            observer.delivered(report.shard_id, report.sequence_number)
        else:
            ledger.add(_loss_of(report.error))

    producer = Producer(
        settings.stream, client=client, on_delivery=on_delivery, buffer_full_timeout_seconds=PUT_BLOCK_SECONDS
    )
    events = _primed(simulated_events(settings, worker))
    started = _wait_for_start(worker, reports, control)
    reporter = _Reporter(reports, worker, ledger, observer, lambda: producer.pending)
    try:
        if started is None:
            return
        deadline = started + settings.seconds
        pacer = _Pacer(settings.rate)
        next_probe, probes_put = started + PROBE_SECONDS, 0
        while time.time() < deadline and not control.stop.is_set():
            try:
                producer.put(next(events))
                ledger.add(PUT)
            except BufferFullError:
                ledger.add(REFUSED)
            pacer.tick()
            if settings.probes and time.time() >= next_probe:
                # From now, not from the last one: after a blocked put, one probe, not a burst.
                next_probe = time.time() + PROBE_SECONDS
                try:
                    probe = put_probe(producer, worker, probes_put)
                except BufferFullError:
                    ledger.add(REFUSED)
                    continue
                ledger.add(PUT)
                probes_put += 1
                reports.put({"worker": worker, "probes": [probe]})
    finally:
        producer.close(CLOSE_SECONDS)
        reporter.finish()


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


def _run_baseline(settings: WorkerSettings, worker: int, reports: Any, control: WorkerControl) -> None:
    """boto3 put_records, one Kinesis record per event; entries not stored retried with backoff."""
    from botocore.exceptions import ClientError

    from vedette.producer import RETRYABLE_ERROR_CODES

    ledger = SecondLedger()
    client = baseline_client(settings)
    observer = PutRecordsObserver(client, ledger, entries_are_events=True)
    events = _primed(simulated_events(settings, worker))
    started = _wait_for_start(worker, reports, control)
    reporter = _Reporter(reports, worker, ledger, observer, lambda: 0)
    pending: list[dict[str, Any]] = []
    try:
        if started is None:
            return
        deadline = started + settings.seconds
        pacer = _Pacer(settings.rate)
        attempt = 0
        while time.time() < deadline and not control.stop.is_set():
            if not pending:
                attempt = 0
                while len(pending) < MAX_RECORDS_PER_PUT:
                    wire = normalize_event(next(events))
                    pending.append({"Data": encode_event(wire), "PartitionKey": wire["user_id"]})
                    ledger.add(PUT)
                    pacer.tick()
            try:
                response = client.put_records(StreamName=settings.stream, Records=pending)
            except ClientError as error:
                # botocore's own attempts ran out; what cannot succeed later is not retried.
                if error.response.get("Error", {}).get("Code") not in RETRYABLE_ERROR_CODES:
                    ledger.add(FAILED, len(pending))
                    pending = []
                    raise
            else:
                pending = [
                    entry for entry, result in zip(pending, response["Records"], strict=True) if "ErrorCode" in result
                ]
            if pending:
                attempt += 1
                control.stop.wait(min(backoff_seconds(attempt), max(0.0, deadline - time.time())))
    finally:
        # Generated but never stored when the run ended: the baseline has no buffer to flush.
        ledger.add(CLOSED, len(pending))
        reporter.finish()


def run_processes(
    settings: WorkerSettings,
    processes: int,
    warmup: float,
    on_report: Callable[[Run], None],
    poll_seconds: float = 0.2,
) -> Run:
    """Run ``processes`` workers on one schedule to completion; ``on_report`` sees the run after each report."""
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    control = WorkerControl(go=context.Event(), stop=context.Event(), start=context.Value("d", 0.0))
    share = settings.rate / processes if settings.rate else 0.0
    workers = [
        context.Process(
            target=run_worker,
            args=(WorkerSettings(**{**asdict(settings), "rate": share}), index, reports, control),
            name=f"loadtest-{index}",
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    run: Run | None = None
    ready = 0
    ready_by = time.monotonic() + READY_TIMEOUT_SECONDS
    try:
        while run is None or run.finished < processes:
            try:
                message = reports.get(timeout=poll_seconds)
            except queue.Empty:
                if not any(worker.is_alive() for worker in workers):
                    break
                if run is None and time.monotonic() > ready_by:
                    raise RuntimeError(f"only {ready} of {processes} load test processes got ready") from None
                continue
            if message.get("ready"):
                ready += 1
                if ready == processes:
                    started = math.ceil(time.time() + START_MARGIN_SECONDS)
                    run = Run(Schedule(started, warmup, settings.seconds - warmup))
                    control.start.value = run.schedule.started
                    control.go.set()
                continue
            if run is None:
                continue
            _apply(run, message)
            on_report(run)
    except KeyboardInterrupt:
        control.stop.set()
        raise
    finally:
        control.stop.set()
        for worker in workers:
            worker.join(timeout=CLOSE_SECONDS + 30)
            if worker.is_alive():
                worker.terminate()
    if run is None:
        raise RuntimeError("the load test processes exited before they started")
    return run


def _apply(run: Run, message: dict[str, Any]) -> None:
    if "cells" in message:
        run.timeline.add(message["cells"])
    run.probes.extend(message.get("probes", []))
    if "pending" in message:
        run.pending[message["worker"]] = message["pending"]
    if message.get("done"):
        run.finished += 1
        run.closed_at = max(run.closed_at or 0.0, message["closed_at"])
