"""The local event source mapping keeps Lambda's Kinesis semantics: checkpoints, bisect, retries, destination."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_pipeline.event_source import Acknowledgement, LocalEventSourceMapping, MappingSettings
from local_pipeline.lambda_runtime import InitError, LambdaProcess

REPOSITORY = Path(__file__).resolve().parent.parent
_names = itertools.count()


@pytest.fixture
def clients(kinesis: Any, aws_endpoint: str) -> dict[str, Any]:
    return {"kinesis": kinesis, "sqs": boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")}


def run_mapping(
    clients: dict[str, Any], handler: str, payloads: list[bytes], settings: MappingSettings, age_first: float = 0.0
) -> dict[str, Any]:
    """Put ``payloads`` on a one-shard stream, run the mapping until every record is settled."""
    kinesis, sqs = clients["kinesis"], clients["sqs"]
    name = f"esm-{next(_names)}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    queue_url = sqs.create_queue(QueueName=f"{name}-on-failure")["QueueUrl"]
    sequence_numbers = [
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")["SequenceNumber"] for data in payloads
    ]
    time.sleep(age_first)  # records this old when the mapping starts
    acknowledged: list[Acknowledgement] = []
    mapping = LocalEventSourceMapping(
        kinesis,
        sqs,
        name,
        queue_url,
        settings,
        lambda shard: LambdaProcess(handler, dict(os.environ), lambda line: None, pythonpath=str(REPOSITORY)),
        acknowledged.append,
    ).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            totals = mapping.totals()
            if totals.acknowledged_records + totals.dead_lettered_records >= len(payloads):
                break
            time.sleep(0.1)
    finally:
        mapping.stop()
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return {
        "sequence_numbers": sequence_numbers,
        "totals": mapping.totals(),
        "acknowledged": acknowledged,
        "dead_letters": [json.loads(message["Body"]) for message in messages],
    }


def test_a_reported_failure_is_retried_from_its_record_then_sent_to_the_destination(clients):
    # GIVEN six records, the fourth one poisoned and always reported as a batch item failure
    payloads = [b"ok-0", b"ok-1", b"ok-2", b"POISON", b"ok-4", b"ok-5"]
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0.5, maximum_retry_attempts=2)

    result = run_mapping(clients, "tests.esm_functions.report_poison", payloads, settings)

    # THEN the records before it are checkpointed once; the split at it spends no retry (bisect is
    # on), so the rest is invoked three times (once and two retries), then goes to the destination
    totals = result["totals"]
    assert (totals.acknowledged_records, totals.dead_lettered_records) == (3, 3)
    assert (totals.invocations, totals.partial_failures) == (4, 4)
    [message] = result["dead_letters"]
    info = message["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == result["sequence_numbers"][3]
    assert info["endSequenceNumber"] == result["sequence_numbers"][5]
    assert (info["batchSize"], message["requestContext"]["condition"]) == (3, "RetryAttemptsExhausted")
    # AND the record says how often they were invoked, and no function error: the function answered
    assert message["requestContext"]["approximateInvokeCount"] == 4
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}


def test_a_partial_response_that_made_progress_spends_no_retry(clients):
    # GIVEN a poisoned record after two good ones and before four, no retries, and a function (like
    # the scorer) that reports the record it stopped at, and raises when it is the first one
    payloads = [b"ok-0", b"ok-1", b"POISON", b"ok-3", b"ok-4", b"ok-5", b"ok-6"]
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0.5, maximum_retry_attempts=0)

    result = run_mapping(clients, "tests.esm_functions.report_or_raise_on_poison", payloads, settings)

    # THEN the split at the reported record spends no retry, bisect isolates it, and only it is lost
    totals = result["totals"]
    assert (totals.acknowledged_records, totals.dead_lettered_records) == (6, 1)
    [message] = result["dead_letters"]
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == result["sequence_numbers"][2]
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["responseContext"]["functionError"] == "Unhandled"


def test_records_too_old_to_invoke_go_to_the_destination_with_no_invocation_counted(clients):
    # GIVEN records older than the maximum record age when the mapping first reads them
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0.5, maximum_record_age_in_seconds=1)

    result = run_mapping(clients, "tests.esm_functions.report_poison", [b"ok-0", b"ok-1"], settings, age_first=1.5)

    # THEN they are sent to the destination without an invocation, and the record says so
    totals = result["totals"]
    assert (totals.invocations, totals.dead_lettered_records) == (0, 2)
    [message] = result["dead_letters"]
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert "functionError" not in message["responseContext"]


def test_bisect_on_function_error_isolates_the_poisoned_record(clients):
    # GIVEN eight records, one poisoned, and a function that fails any batch holding it
    payloads = [b"ok"] * 5 + [b"POISON"] + [b"ok"] * 2
    settings = MappingSettings(batch_size=8, maximum_batching_window_in_seconds=0.5, maximum_retry_attempts=3)

    result = run_mapping(clients, "tests.esm_functions.raise_on_poison", payloads, settings)

    # THEN only the poisoned record goes to the destination; every other record is processed
    totals = result["totals"]
    assert (totals.acknowledged_records, totals.dead_lettered_records) == (7, 1)
    [message] = result["dead_letters"]
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == result["sequence_numbers"][5]
    assert message["KinesisBatchInfo"]["batchSize"] == 1


def test_an_empty_identifier_fails_the_whole_batch(clients):
    payloads = [b"a", b"b", b"c"]
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0.5)

    result = run_mapping(clients, "tests.esm_functions.malformed_once", payloads, settings)

    totals = result["totals"]
    assert (totals.invocations, totals.acknowledged_records, totals.dead_lettered_records) == (2, 3, 0)


def test_a_checkpoint_says_when_its_records_arrived_and_when_and_how_long_the_function_ran(clients):
    # GIVEN three records the function takes whole
    payloads = [b"a", b"b", b"c"]
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0)

    result = run_mapping(clients, "tests.esm_functions.report_poison", payloads, settings)

    # THEN each event of the checkpoint has its record's arrival, before the invocation, which
    # started before the checkpoint and ran inside the function no longer than that
    events = [(ack, arrived) for ack in result["acknowledged"] for arrived in ack.arrivals]
    assert len(events) == sum(len(ack.event_ids) for ack in result["acknowledged"]) == 3
    for ack, arrived in events:
        assert ack.invoked_at is not None
        assert ack.function_seconds is not None
        assert arrived <= ack.invoked_at <= ack.at
        assert 0 <= ack.function_seconds <= ack.at - ack.invoked_at


def test_an_environment_whose_init_fails_says_why():
    with pytest.raises(InitError, match="ModuleNotFoundError"):
        LambdaProcess("tests.no_such_module.handler", dict(os.environ), lambda line: None, pythonpath=str(REPOSITORY))


def test_a_crashed_environment_is_replaced_and_only_the_poisoned_record_is_lost(clients):
    # GIVEN a function whose process dies on one record of three
    payloads = [b"ok-0", b"POISON", b"ok-2"]
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0.5, maximum_retry_attempts=1)

    result = run_mapping(clients, "tests.esm_functions.crash_on_poison", payloads, settings)

    # THEN new environments process the records around it; the poisoned one goes to the destination
    totals = result["totals"]
    assert (totals.acknowledged_records, totals.dead_lettered_records) == (2, 1)
    [message] = result["dead_letters"]
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == result["sequence_numbers"][1]


# Reads and invocations on a virtual clock: the polling rules are checked by when things happen on
# the mapping's own clock, which only the fakes below advance (no wall-clock time is measured).


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0


class VirtualClockMapping(LocalEventSourceMapping):
    """The mapping on a virtual clock: its pauses advance the clock instead of taking time."""

    def __init__(self, clock: VirtualClock, *args: Any) -> None:
        self.clock = clock
        super().__init__(*args)

    def now(self) -> float:
        return self.clock.now

    def pause(self, seconds: float) -> None:
        self.clock.now += max(0.0, seconds)


class ScriptedShard:
    """A one-shard stream whose every read returns ``per_read`` new records; it notes the clock at
    each read and stops the mapping after ``reads`` of them."""

    class exceptions:
        ExpiredIteratorException = type("ExpiredIteratorException", (Exception,), {})

    def __init__(self, clock: VirtualClock, per_read: int, reads: int) -> None:
        self.clock, self.per_read, self.reads = clock, per_read, reads
        self.read_at: list[float] = []
        self.stopping: Any = None

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:
        return {"StreamDescriptionSummary": {"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s"}}

    def list_shards(self, StreamName: str) -> dict[str, Any]:
        return {"Shards": [{"ShardId": "shardId-000000000000"}]}

    def get_shard_iterator(self, **position: Any) -> dict[str, Any]:
        return {"ShardIterator": "iterator"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        first = len(self.read_at) * self.per_read
        arrival = time.time()  # just arrived, for the mapping's maximum record age (a wall-clock rule)
        self.read_at.append(self.clock.now)
        if len(self.read_at) >= self.reads:
            self.stopping.set()
        records = [
            {
                "SequenceNumber": str(first + n),
                "PartitionKey": "k",
                "Data": b"{}",
                "ApproximateArrivalTimestamp": arrival,
            }
            for n in range(min(self.per_read, Limit))
        ]
        return {"Records": records, "NextShardIterator": "iterator"}


class TimedFunction:
    """An execution environment whose every invocation succeeds after ``seconds`` of the clock."""

    alive = True
    last_duration_ms = None

    def __init__(self, clock: VirtualClock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds
        self.invoked: list[tuple[float, int]] = []  # (when, records)

    def invoke(self, event: dict[str, Any]) -> tuple[bool, Any]:
        self.invoked.append((self.clock.now, len(event["Records"])))
        self.clock.now += self.seconds
        return True, {"batchItemFailures": []}

    def close(self) -> None:
        pass


def run_on_virtual_clock(per_read: int, reads: int, settings: MappingSettings, function_seconds: float):
    clock = VirtualClock()
    shard = ScriptedShard(clock, per_read, reads)
    function = TimedFunction(clock, function_seconds)
    mapping = VirtualClockMapping(clock, shard, None, "s", "", settings, lambda shard_id: function, lambda ack: None)
    shard.stopping = mapping.stopping
    mapping.start()
    for poller in mapping.pollers:
        poller.thread.join(timeout=30)  # the scripted shard stops the mapping after its last read
    mapping.stop()
    assert mapping.errors == []
    return [round(at, 3) for at in shard.read_at], [(round(at, 3), size) for at, size in function.invoked]


def test_with_no_batching_window_a_caught_up_shard_is_read_once_a_second():
    # GIVEN a zero batching window and reads that bring fewer records than the batch size (the
    # function is caught up), and a function that takes 0.3 s
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0)

    reads, invocations = run_on_virtual_clock(per_read=3, reads=4, settings=settings, function_seconds=0.3)

    # THEN each read is invoked at once, and the next read waits for Lambda's base rate (once a second)
    assert reads == [0.0, 1.0, 2.0, 3.0]
    assert invocations == [(0.0, 3), (1.0, 3), (2.0, 3), (3.0, 3)]


def test_with_no_batching_window_a_shard_behind_is_read_again_as_each_batch_ends():
    # GIVEN a zero batching window and reads that fill the batch (the function is behind)
    settings = MappingSettings(batch_size=10, maximum_batching_window_in_seconds=0)

    reads, invocations = run_on_virtual_clock(per_read=10, reads=4, settings=settings, function_seconds=0.3)

    # THEN Lambda keeps processing batches: the next read follows each invocation at once
    assert reads == [0.0, 0.3, 0.6, 0.9]
    assert [size for _, size in invocations] == [10, 10, 10, 10]


def test_a_batching_window_begins_as_the_previous_invocation_ends():
    # GIVEN a 2 s batching window, reads that never fill the batch, and a function that takes 0.3 s
    settings = MappingSettings(batch_size=100, maximum_batching_window_in_seconds=2)

    reads, invocations = run_on_virtual_clock(per_read=3, reads=6, settings=settings, function_seconds=0.3)

    # THEN the first batch is invoked as its window ends, with what the reads of the window brought,
    # and the second window starts when that invocation ends (2.3 s) and ends 2 s later
    assert [at for at, _ in invocations] == [2.0, 4.3]
    assert [size for _, size in invocations] == [9, 9]
    # AND the reads keep the base rate, with one more as each window ends
    assert reads == [0.0, 1.0, 2.0, 3.0, 4.0, 4.3]
