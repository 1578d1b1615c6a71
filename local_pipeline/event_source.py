"""Lambda's event source mapping for Kinesis, on loopback, invoking the real handler.

Per shard, as Lambda does with ParallelizationFactor 1: poll at a base rate of once per second (at
once again after a read that filled a batch), gather up to ``batch_size`` records (or what arrived
within the batching window, within the 6 MB invoke payload), invoke the function with the event
shaped exactly as Lambda's, then:

- a success with an empty ``batchItemFailures`` checkpoints after the batch;
- a partial batch response checkpoints before the lowest reported sequence number and retries from
  there (with bisect on, that split spends no retry when it made progress, as in Lambda); an empty
  or unknown identifier fails the whole batch, as Lambda treats it;
- a function error retries the batch, split in two first when ``bisect_on_error`` is set;
- a batch that has been retried ``maximum_retry_attempts`` times, or whose records are older than
  ``maximum_record_age_seconds``, goes to the on-failure destination (an SQS message in Lambda's
  format, with the shard and the sequence range) and the shard moves on.

Each shard's invocations run in one ``LambdaProcess``: a separate Python process that imported the
handler once, like a warm Lambda execution environment.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_pipeline.lambda_runtime import LambdaProcess
from stack.settings import StackSettings
from vedette.kpl import deaggregate

logger = logging.getLogger(__name__)

MAX_INVOKE_PAYLOAD_BYTES = 6 * 1000 * 1000
POLL_SECONDS = 1.0


_STACK = StackSettings()


@dataclass(frozen=True)
class MappingSettings:
    """The mapping's settings, under the names of ``aws.lambda_.EventSourceMapping``; the defaults
    are the stack's (``stack.settings``), except the starting position: the local pipeline reads
    from the stream's beginning so the scorer builds users' state from the training stretch."""

    batch_size: int = _STACK.batch_size
    maximum_batching_window_in_seconds: float = _STACK.batching_window_seconds
    bisect_batch_on_function_error: bool = True  # as stack/scorer.py sets it
    maximum_retry_attempts: int = _STACK.max_retry_attempts
    maximum_record_age_in_seconds: int = _STACK.max_record_age_seconds
    starting_position: str = "TRIM_HORIZON"


@dataclass
class ShardCounters:
    invocations: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    acknowledged_records: int = 0
    acknowledged_events: int = 0
    dead_lettered_records: int = 0
    dead_lettered_events: int = 0
    lag_records: int = 0


@dataclass(frozen=True)
class _Part:
    """Records of a batch on their way: retries spent (splits spend none), invocations that held
    them, and whether the last of those raised."""

    records: list[dict[str, Any]]
    retries: int = 0
    invocations: int = 0
    function_error: bool = False


@dataclass
class Acknowledgement:
    """What one successful checkpoint covered: its user events' ids (None for undecodable ones),
    each event's record's arrival in the stream, when the invocation that answered for them started
    (``time.time()``) and how long it ran inside the function (seconds; None if it did not say)."""

    shard_id: str
    event_ids: list[str | None]
    at: float = field(default_factory=time.time)
    arrivals: list[float] = field(default_factory=list)
    invoked_at: float | None = None
    function_seconds: float | None = None


class ShardPoller:
    """One shard's poller and its execution environment."""

    def __init__(
        self,
        mapping: LocalEventSourceMapping,
        shard_id: str,
        function: LambdaProcess,
    ) -> None:
        self.mapping = mapping
        self.shard_id = shard_id
        self.function = function
        self.counters = ShardCounters()
        self.last_fetched: str | None = None
        self.iterator: str | None = self._iterator_after(None)
        self.backlog: deque[dict[str, Any]] = deque()
        self.next_read_at = -math.inf  # on the mapping's clock; no read yet
        self.thread = threading.Thread(target=self._run, name=f"esm-{shard_id}", daemon=True)

    def _iterator_after(self, sequence_number: str | None) -> str:
        """An iterator after ``sequence_number``, or at the mapping's starting position."""
        kinesis, stream = self.mapping.kinesis, self.mapping.stream_name
        if sequence_number is None:
            position = {"ShardIteratorType": self.mapping.settings.starting_position}
        else:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": sequence_number}
        iterator: str = kinesis.get_shard_iterator(StreamName=stream, ShardId=self.shard_id, **position)[
            "ShardIterator"
        ]
        return iterator

    def _fill(self) -> list[dict[str, Any]]:
        """Gather a batch: up to batch_size records, or what arrived within the batching window,
        which begins as the previous invocation ends; within the 6 MB invoke payload.

        Reads keep Lambda's base rate of once per second per shard, except after a read that filled
        a batch: the function is behind, and "Lambda keeps processing batches until it receives a
        batch that's smaller than the configured maximum batch size" (Lambda's Kinesis guide). So
        with a zero window a caught-up shard is invoked at most once a second, not back to back.
        """
        mapping, settings = self.mapping, self.mapping.settings
        deadline = mapping.now() + settings.maximum_batching_window_in_seconds
        if not self.backlog:
            mapping.pause(self.next_read_at - mapping.now())
        while len(self.backlog) < settings.batch_size and self.iterator is not None:
            read_at = mapping.now()
            try:
                page = mapping.kinesis.get_records(ShardIterator=self.iterator, Limit=settings.batch_size)
            except mapping.kinesis.exceptions.ExpiredIteratorException:
                # Iterators live five minutes; a long retry outlives them. Resume after what was read.
                self.iterator = self._iterator_after(self.last_fetched)
                continue
            self.iterator = page.get("NextShardIterator")
            self.backlog.extend(page["Records"])
            if page["Records"]:
                self.last_fetched = page["Records"][-1]["SequenceNumber"]
            self.counters.lag_records = len(self.backlog)
            behind = len(self.backlog) >= settings.batch_size
            self.next_read_at = read_at if behind else read_at + POLL_SECONDS
            if behind or mapping.now() >= deadline or mapping.stopping.is_set():
                break
            # Within the window: read at the base rate, and once more as the window ends.
            mapping.pause(max(0.05, min(self.next_read_at, deadline) - mapping.now()))
        batch: list[dict[str, Any]] = []
        size = 0
        while self.backlog and len(batch) < settings.batch_size:
            record_size = len(self.backlog[0]["Data"]) * 4 // 3 + 512
            if batch and size + record_size > MAX_INVOKE_PAYLOAD_BYTES:
                break
            batch.append(self.backlog.popleft())
            size += record_size
        return batch

    def _run(self) -> None:
        try:
            while not self.mapping.stopping.is_set():
                batch = self._fill()
                if batch:
                    self._deliver(batch)
                elif self.iterator is None:
                    return
                # Nothing new: the next _fill reads again at the base rate.
        except BaseException as error:
            if self.mapping.stopping.is_set():
                return  # shutting down (Ctrl-C): the environment may already be gone
            self.mapping.errors.append(f"{self.shard_id}: {type(error).__name__}: {error}")
            logger.exception("shard poller %s stopped", self.shard_id)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch is checkpointed or sent to the on-failure destination."""
        settings = self.mapping.settings
        parts: deque[_Part] = deque([_Part(batch)])
        while parts:
            part = parts.popleft()
            records = part.records
            expired = self._expired(records)
            if expired:
                self._dead_letter(records[:expired], part, "RecordAgeExceeded")
                records = records[expired:]
                if not records:
                    continue
            if not self.function.alive:
                # Lambda replaces an execution environment that died (crash, out of memory).
                self.function.close()
                self.function = self.mapping.start_function(self.shard_id)
            self.counters.invocations += 1
            invoked_at = time.time()
            ok, response = self.function.invoke(self.mapping.lambda_event(self.shard_id, records))
            invoked = _Part(records, part.retries, part.invocations + 1, function_error=not ok)
            if ok:
                duration_ms = self.function.last_duration_ms
                function_seconds = None if duration_ms is None else duration_ms / 1000
                lowest = self._lowest_failure(records, response)
                if lowest is None:
                    self._acknowledge(records, invoked_at, function_seconds)
                    continue
                self.counters.partial_failures += 1
                self._acknowledge(records[:lowest], invoked_at, function_seconds)
                failed = records[lowest:]
                if lowest > 0 and settings.bisect_batch_on_function_error:
                    # With bisect on, a partial response splits the batch at the reported record, and
                    # splitting does not consume the retry quota: the rest is retried as a new part.
                    parts.appendleft(_Part(failed, part.retries, invoked.invocations))
                    continue
            else:
                self.counters.function_errors += 1
                failed = records
                if settings.bisect_batch_on_function_error and len(records) > 1:
                    # Splitting a batch does not count towards the retry quota, as in Lambda.
                    half = len(records) // 2
                    parts.appendleft(_Part(records[half:], part.retries, invoked.invocations, function_error=True))
                    parts.appendleft(_Part(records[:half], part.retries, invoked.invocations, function_error=True))
                    continue
            if part.retries >= settings.maximum_retry_attempts:
                self._dead_letter(failed, invoked, "RetryAttemptsExhausted")
            else:
                parts.appendleft(_Part(failed, part.retries + 1, invoked.invocations, invoked.function_error))

    def _expired(self, records: list[dict[str, Any]]) -> int:
        """How many leading records are older than the mapping's maximum record age."""
        limit = self.mapping.settings.maximum_record_age_in_seconds
        if limit < 0:
            return 0
        now = time.time()
        count = 0
        while count < len(records) and now - _arrival_seconds(records[count]) > limit:
            count += 1
        return count

    @staticmethod
    def _lowest_failure(records: list[dict[str, Any]], response: Any) -> int | None:
        """Index of the lowest reported record; 0 (the whole batch) for a malformed response."""
        if response is None:
            return None
        if not isinstance(response, dict):
            return 0
        failures = response.get("batchItemFailures") or []
        if not failures:
            return None
        positions = {record["SequenceNumber"]: index for index, record in enumerate(records)}
        lowest: int | None = None
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in positions:
                return 0  # Lambda fails the whole batch on an empty or unknown identifier
            index = positions[identifier]
            lowest = index if lowest is None else min(lowest, index)
        return lowest

    def _acknowledge(self, records: list[dict[str, Any]], invoked_at: float, function_seconds: float | None) -> None:
        if not records:
            return
        event_ids: list[str | None] = []
        arrivals: list[float] = []
        for record in records:
            ids = _event_ids(record)
            event_ids += ids
            arrivals += [_arrival_seconds(record)] * len(ids)
        self.counters.acknowledged_records += len(records)
        self.counters.acknowledged_events += len(event_ids)
        self.mapping.on_acknowledged(
            Acknowledgement(
                self.shard_id, event_ids, arrivals=arrivals, invoked_at=invoked_at, function_seconds=function_seconds
            )
        )

    def _dead_letter(self, records: list[dict[str, Any]], part: _Part, condition: str) -> None:
        """Send Lambda's on-failure record: ``approximateInvokeCount`` is the invocations that held
        these records (none for records that aged out before any), and ``functionError`` is there
        only when the last of them raised (not when it answered with a partial batch response)."""
        events = sum(len(_event_ids(record)) for record in records)
        self.counters.dead_lettered_records += len(records)
        self.counters.dead_lettered_events += events
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if part.function_error:
            response["functionError"] = "Unhandled"
        message = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": part.invocations,
            },
            "responseContext": response,
            "KinesisBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": records[0]["SequenceNumber"],
                "endSequenceNumber": records[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(_arrival_seconds(records[0])),
                "approximateArrivalOfLastRecord": _iso(_arrival_seconds(records[-1])),
                "batchSize": len(records),
                "streamArn": self.mapping.stream_arn,
            },
        }
        self.mapping.sqs.send_message(QueueUrl=self.mapping.on_failure_queue_url, MessageBody=json.dumps(message))


class LocalEventSourceMapping:
    """Polls every shard of a stream and invokes the handler in one environment per shard."""

    def __init__(
        self,
        kinesis: Any,
        sqs: Any,
        stream_name: str,
        on_failure_queue_url: str,
        settings: MappingSettings,
        start_function: Callable[[str], LambdaProcess],
        on_acknowledged: Callable[[Acknowledgement], None],
        function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:vedette-scorer",
    ) -> None:
        self.kinesis = kinesis
        self.sqs = sqs
        self.stream_name = stream_name
        self.on_failure_queue_url = on_failure_queue_url
        self.settings = settings
        self.on_acknowledged = on_acknowledged
        self.start_function = start_function
        self.function_arn = function_arn
        description = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.stream_arn = description["StreamARN"]
        self.stopping = threading.Event()
        self.errors: list[str] = []
        shards = [shard["ShardId"] for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]]
        self.pollers: list[ShardPoller] = []
        try:
            for shard_id in shards:
                self.pollers.append(ShardPoller(self, shard_id, start_function(shard_id)))
        except BaseException:
            for poller in self.pollers:
                poller.function.close()
            raise

    def now(self) -> float:
        """The pollers' clock, in seconds (monotonic); a test may run them on a virtual one."""
        return time.monotonic()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` on the pollers' clock, or until the mapping stops."""
        if seconds > 0:
            self.stopping.wait(seconds)

    def start(self) -> LocalEventSourceMapping:
        for poller in self.pollers:
            poller.thread.start()
        return self

    def totals(self) -> ShardCounters:
        total = ShardCounters()
        for poller in self.pollers:
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(poller.counters, name))
        return total

    def lambda_event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The event Lambda passes for these Kinesis records."""
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(),
                        "approximateArrivalTimestamp": _arrival_seconds(record),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::000000000000:role/vedette-scorer",
                    "awsRegion": "us-east-1",
                    "eventSourceARN": self.stream_arn,
                }
                for record in records
            ]
        }

    def stop(self) -> None:
        self.stopping.set()
        for poller in self.pollers:
            if poller.thread.is_alive():
                poller.thread.join(timeout=60)
            poller.function.close()


def _arrival_seconds(record: dict[str, Any]) -> float:
    arrival = record["ApproximateArrivalTimestamp"]
    return arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_ids(record: dict[str, Any]) -> list[str | None]:
    """The event_id of each user record (None where it cannot be read: the scorer parks those)."""
    try:
        users = deaggregate(record["Data"], record["PartitionKey"])
    except ValueError:
        return [None]
    ids: list[str | None] = []
    for user in users:
        try:
            event_id = json.loads(user.data).get("event_id")
        except (ValueError, AttributeError):
            event_id = None
        ids.append(event_id if isinstance(event_id, str) else None)
    return ids
