"""What every load test process did, counted in the wall-clock second it happened.

A PutRecords attempt's outcome (records and bytes admitted, entries throttled, its latency, the
events it delivered) counts in the second the attempt was sent: Kinesis decides on a call when it
arrives and answers after the write, which through kinesalite behind a limit proxy took up to
0.4 s more, so counting by the answer's time moves whole calls into the next second. Events
accepted by ``put`` count in the second ``put`` returned; events the producer gave up on, in the
second it reported them.

Each process keeps a ``SecondLedger`` and sends what it counted since its last report; the parent
adds the reports up by second in a ``Timeline``. A report that arrives late (behind a blocked
``put``) or out of order still lands in the seconds it describes, and totals only grow.

Each attempt is also kept as a ``Call``, named as the SDK names it on the wire (the
``amz-sdk-invocation-id`` and ``amz-sdk-request`` attempt headers botocore sends), so the timeline
can be checked call by call against a log kept by the receiving end. By the second alone it cannot:
a call sent in the last milliseconds of a second arrives in the next one (through the limit proxy
on a busy two-core machine, 1 ms from ``before-send`` to the proxy at the median, 25 to 60 ms at
the 99th percentile, up to 0.3 s), which looks the same as a miscount.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from vedette.limits import put_payload_units
from vedette.producer import THROTTLING_ERROR_CODES

# Counter names of one second of one run.
PUT = "put"  # events accepted by put (the baseline: events generated)
REFUSED = "refused"  # events put refused with BufferFullError
DELIVERED = "delivered"  # events stored in the stream
EXPIRED = "expired"  # accepted events not delivered within their time to live
CLOSED = "closed"  # accepted events still pending when the producer closed (or the baseline stopped)
FAILED = "failed"  # accepted events rejected for good (another error)
KINESIS_RECORDS = "kinesis_records"  # PutRecords entries the stream admitted
KINESIS_BYTES = "kinesis_bytes"  # their data and partition key bytes, as the shard limits count them
PUT_PAYLOAD_UNITS = "put_payload_units"
THROTTLED = "throttled"  # entries refused for throughput, per entry or as a whole call
ENTRY_ERRORS = "entry_errors"  # entries refused for another reason (retried or not)
PUT_CALLS = "put_calls"  # PutRecords attempts answered or failed on the wire

LOST = (EXPIRED, CLOSED, FAILED)
COUNTERS = (
    PUT,
    REFUSED,
    DELIVERED,
    *LOST,
    KINESIS_RECORDS,
    KINESIS_BYTES,
    PUT_PAYLOAD_UNITS,
    THROTTLED,
    ENTRY_ERRORS,
    PUT_CALLS,
)

# Latency samples kept per second and process: enough for percentiles, bounded at any call rate.
MAX_LATENCY_SAMPLES_PER_SECOND = 500
# The producer reports an event right after the call that carried it returns (within its request
# timeout); a sent call is remembered this long to find the second its events were delivered in.
SENT_CALL_MEMORY_SECONDS = 120


class Call(NamedTuple):
    """One PutRecords attempt as the load test counted it (``answered`` False: no answer came)."""

    invocation_id: str | None
    attempt: int | None
    sent_at: float
    answered: bool
    kinesis_records: int
    kinesis_bytes: int
    throttled: int


class SecondLedger:
    """Counts by wall-clock second in one process, from any thread; ``take`` hands them over."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self._latencies: defaultdict[int, list[float]] = defaultdict(list)
        self._calls: list[Call] = []

    def add(self, name: str, value: int = 1, at: float | None = None) -> None:
        second = int(self.clock() if at is None else at)
        with self._lock:
            self._counts[second][name] += value

    def add_latency(self, at: float, milliseconds: float) -> None:
        with self._lock:
            samples = self._latencies[int(at)]
            if len(samples) < MAX_LATENCY_SAMPLES_PER_SECOND:
                samples.append(milliseconds)

    def add_call(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def take(self) -> dict[str, Any]:
        """What was counted since the last ``take``: ``{"counts": {second: {name: n}}, "latencies": ...,
        "calls": [Call, ...]}``."""
        with self._lock:
            counts, self._counts = self._counts, defaultdict(Counter)
            latencies, self._latencies = self._latencies, defaultdict(list)
            calls, self._calls = self._calls, []
        return {
            "counts": {second: dict(cell) for second, cell in counts.items()},
            "latencies": dict(latencies),
            "calls": calls,
        }


class Timeline:
    """The sum of every process's reports, by wall-clock second."""

    def __init__(self) -> None:
        self.seconds: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.latencies: defaultdict[int, list[float]] = defaultdict(list)
        self.totals: Counter[str] = Counter()
        self.calls: list[Call] = []

    def add(self, cells: Mapping[str, Any]) -> None:
        """Add one report's ``SecondLedger.take()``; order and arrival time do not matter."""
        for second, cell in cells["counts"].items():
            self.seconds[int(second)].update(cell)
            self.totals.update(cell)
        for second, samples in cells["latencies"].items():
            self.latencies[int(second)].extend(samples)
        self.calls.extend(Call(*call) for call in cells.get("calls", []))

    def total(self, name: str, seconds: Iterable[int] | None = None) -> int:
        """``name`` over the whole run, or over ``seconds``."""
        if seconds is None:
            return self.totals[name]
        return sum(self.seconds[second][name] for second in seconds if second in self.seconds)

    def span(self) -> range:
        """Every second from the first counted to the last."""
        if not self.seconds:
            return range(0)
        return range(min(self.seconds), max(self.seconds) + 1)

    def latency_samples(self, seconds: Iterable[int]) -> list[float]:
        return [value for second in seconds for value in self.latencies.get(second, [])]


class PutRecordsObserver:
    """Counts every PutRecords attempt a boto3 Kinesis client makes, as it happens on the wire.

    Hooks on botocore's documented client events (``before-parameter-build``, ``before-send``,
    ``response-received``), so each attempt is seen, including those botocore's own retries make.
    With ``entries_are_events`` (no aggregation: the baseline) an admitted entry is a delivered
    event; otherwise the producer's delivery reports call ``delivered``.
    """

    def __init__(self, client: Any, ledger: SecondLedger, *, entries_are_events: bool) -> None:
        self.ledger = ledger
        self.entries_are_events = entries_are_events
        self._sent_lock = threading.Lock()
        # (shard id, sequence number) of each admitted entry -> the second its call was sent.
        self._sent_second: dict[tuple[str, str], int] = {}
        events = client.meta.events
        events.register("before-parameter-build.kinesis.PutRecords", self._sizes)
        events.register("before-send.kinesis.PutRecords", self._sent)
        events.register("response-received.kinesis.PutRecords", self._answered)

    @staticmethod
    def _sizes(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["loadtest_entry_bytes"] = [
            len(entry["Data"]) + len(entry["PartitionKey"].encode()) for entry in params["Records"]
        ]

    def _sent(self, request: Any, **_: Any) -> None:
        request.context["loadtest_sent_at"] = self.ledger.clock()

    def _answered(
        self,
        parsed_response: Mapping[str, Any] | None,
        response_dict: Mapping[str, Any] | None,
        context: Mapping[str, Any],
        exception: BaseException | None,
        **_: Any,
    ) -> None:
        ledger = self.ledger
        # Both are set by the hooks above for every attempt that went out; the fallbacks keep an
        # attempt that failed before it was sent from breaking the caller's call.
        sizes: list[int] = context.get("loadtest_entry_bytes", [])
        sent_at: float = context.get("loadtest_sent_at", ledger.clock())
        # botocore's own record of the attempt: the invocation id and attempt number it sent as the
        # amz-sdk-invocation-id and amz-sdk-request headers.
        retries: Mapping[str, Any] = context.get("retries", {})

        def log_call(answered: bool, records: int = 0, size: int = 0, throttled: int = 0) -> None:
            call = Call(
                retries.get("invocation-id"), retries.get("attempt"), sent_at, answered, records, size, throttled
            )
            ledger.add_call(call)

        ledger.add(PUT_CALLS, at=sent_at)
        if exception is not None or parsed_response is None or response_dict is None:
            ledger.add(ENTRY_ERRORS, len(sizes), at=sent_at)
            log_call(answered=False)
            return
        ledger.add_latency(sent_at, (ledger.clock() - sent_at) * 1000)
        if response_dict["status_code"] >= 300:
            code = parsed_response.get("Error", {}).get("Code", "")
            whole_call_throttled = code in THROTTLING_ERROR_CODES
            ledger.add(THROTTLED if whole_call_throttled else ENTRY_ERRORS, len(sizes), at=sent_at)
            log_call(answered=True, throttled=len(sizes) if whole_call_throttled else 0)
            return
        admitted = admitted_bytes = units = throttled = errors = 0
        second = int(sent_at)
        stored: list[tuple[str, str]] = []
        for size, result in zip(sizes, parsed_response.get("Records", []), strict=False):
            code = result.get("ErrorCode")
            if code in THROTTLING_ERROR_CODES:
                throttled += 1
            elif code:
                errors += 1
            else:
                admitted += 1
                admitted_bytes += size
                units += put_payload_units(size)
                stored.append((result["ShardId"], result["SequenceNumber"]))
        for name, value in (
            (KINESIS_RECORDS, admitted),
            (KINESIS_BYTES, admitted_bytes),
            (PUT_PAYLOAD_UNITS, units),
            (THROTTLED, throttled),
            (ENTRY_ERRORS, errors),
        ):
            if value:
                ledger.add(name, value, at=sent_at)
        log_call(answered=True, records=admitted, size=admitted_bytes, throttled=throttled)
        if self.entries_are_events:
            ledger.add(DELIVERED, admitted, at=sent_at)
        else:
            with self._sent_lock:
                self._sent_second.update(dict.fromkeys(stored, second))

    def delivered(self, shard_id: str | None, sequence_number: str | None) -> None:
        """One event stored in the entry ``(shard_id, sequence_number)``: counted in its call's second
        (in the current one if the call is not known)."""
        with self._sent_lock:
            second = self._sent_second.get((shard_id or "", sequence_number or ""))
        self.ledger.add(DELIVERED, at=second)

    def forget_old_calls(self) -> None:
        """Drop the calls sent more than ``SENT_CALL_MEMORY_SECONDS`` ago (their events were reported)."""
        oldest = int(self.ledger.clock()) - SENT_CALL_MEMORY_SECONDS
        with self._sent_lock:
            self._sent_second = {key: second for key, second in self._sent_second.items() if second >= oldest}
