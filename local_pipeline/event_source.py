"""Lambda's event source mapping for Kinesis, on loopback, invoking the real handler.

Per shard, as Lambda does with ParallelizationFactor 1: poll once per second, gather up to
``batch_size`` records (or what arrived within ``batching_window_seconds``, within the 6 MB invoke
payload), invoke the function with the event shaped exactly as Lambda's, then:

- a success with an empty ``batchItemFailures`` checkpoints after the batch;
- a partial batch response checkpoints before the lowest reported sequence number and retries from
  there; an empty or unknown identifier fails the whole batch, as Lambda treats it;
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
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_pipeline.lambda_runtime import LambdaProcess
from vedette.kpl import deaggregate

logger = logging.getLogger(__name__)

MAX_INVOKE_PAYLOAD_BYTES = 6 * 1000 * 1000
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class MappingSettings:
    """The mapping's settings, under the names of ``aws.lambda_.EventSourceMapping``."""

    batch_size: int = 100
    maximum_batching_window_in_seconds: float = 1.0
    bisect_batch_on_function_error: bool = True
    maximum_retry_attempts: int = 3
    maximum_record_age_in_seconds: int = 3600
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


@dataclass
class Acknowledgement:
    """What one successful checkpoint covered: its user events' ids (None for undecodable ones)."""

    shard_id: str
    event_ids: list[str | None]
    at: float = field(default_factory=time.time)


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
        self.iterator: str | None = mapping.kinesis.get_shard_iterator(
            StreamName=mapping.stream_name, ShardId=shard_id, ShardIteratorType=mapping.settings.starting_position
        )["ShardIterator"]
        self.backlog: deque[dict[str, Any]] = deque()
        self.thread = threading.Thread(target=self._run, name=f"esm-{shard_id}", daemon=True)

    def _fill(self) -> list[dict[str, Any]]:
        """Gather a batch: up to batch_size records, waiting at most the batching window."""
        settings = self.mapping.settings
        deadline = time.monotonic() + settings.maximum_batching_window_in_seconds
        while len(self.backlog) < settings.batch_size and self.iterator is not None:
            page = self.mapping.kinesis.get_records(ShardIterator=self.iterator, Limit=settings.batch_size)
            self.iterator = page.get("NextShardIterator")
            self.backlog.extend(page["Records"])
            self.counters.lag_records = len(self.backlog)
            if page["Records"] and len(self.backlog) >= settings.batch_size:
                break
            if time.monotonic() >= deadline or self.mapping.stopping.is_set():
                break
            self.mapping.stopping.wait(max(0.05, min(POLL_SECONDS, deadline - time.monotonic())))
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
        except BaseException as error:
            if self.mapping.stopping.is_set():
                return  # shutting down (Ctrl-C): the environment may already be gone
            self.mapping.errors.append(f"{self.shard_id}: {type(error).__name__}: {error}")
            logger.exception("shard poller %s stopped", self.shard_id)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch is checkpointed or sent to the on-failure destination."""
        settings = self.mapping.settings
        parts: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])
        while parts:
            records, attempts = parts.popleft()
            oldest = _arrival_seconds(records[0])
            if (
                settings.maximum_record_age_in_seconds >= 0
                and time.time() - oldest > settings.maximum_record_age_in_seconds
            ):
                self._dead_letter(records, attempts, "RecordAgeExceeded")
                continue
            self.counters.invocations += 1
            ok, response = self.function.invoke(self.mapping.lambda_event(self.shard_id, records))
            if ok:
                lowest = self._lowest_failure(records, response)
                if lowest is None:
                    self._acknowledge(records)
                    continue
                self.counters.partial_failures += 1
                self._acknowledge(records[:lowest])
                failed = records[lowest:]
            else:
                self.counters.function_errors += 1
                failed = records
                if settings.bisect_batch_on_function_error and len(records) > 1:
                    half = len(records) // 2
                    if attempts < settings.maximum_retry_attempts:
                        parts.appendleft((records[half:], attempts + 1))
                        parts.appendleft((records[:half], attempts + 1))
                        continue
            if attempts >= settings.maximum_retry_attempts:
                self._dead_letter(failed, attempts, "RetryAttemptsExhausted")
            else:
                parts.appendleft((failed, attempts + 1))

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

    def _acknowledge(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        event_ids = [event_id for record in records for event_id in _event_ids(record)]
        self.counters.acknowledged_records += len(records)
        self.counters.acknowledged_events += len(event_ids)
        self.mapping.on_acknowledged(Acknowledgement(self.shard_id, event_ids))

    def _dead_letter(self, records: list[dict[str, Any]], attempts: int, condition: str) -> None:
        events = sum(len(_event_ids(record)) for record in records)
        self.counters.dead_lettered_records += len(records)
        self.counters.dead_lettered_events += events
        message = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
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
        self.function_arn = function_arn
        description = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.stream_arn = description["StreamARN"]
        self.stopping = threading.Event()
        self.errors: list[str] = []
        shards = [shard["ShardId"] for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]]
        self.pollers = [ShardPoller(self, shard_id, start_function(shard_id)) for shard_id in shards]

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
