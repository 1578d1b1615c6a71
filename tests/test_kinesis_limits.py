"""The limit-enforcing Kinesis proxy (emulators.kinesis_limits) the capacity tests and benchmarks run through."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from botocore.config import Config
from botocore.exceptions import ClientError

from emulators import kinesis_limits_proxy
from emulators.kinesis_limits import LIMIT_ALGORITHMS, MIB, Caller, SlidingWindow, TokenBucket, caller_of
from emulators.proxying import fetch_stats
from tests.conftest import LimitedKinesis, read_stream, shard_ranges
from vedette.shards import hash_key

THROTTLED = "ProvisionedThroughputExceededException"


def client_for(endpoint: str) -> Any:
    """A client that shows the proxy's answers as they are: no retries of its own."""
    return boto3.client(
        "kinesis", endpoint_url=endpoint, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )


def test_an_entry_over_its_shards_byte_limit_is_refused_at_its_index_and_not_forwarded(
    limited_kinesis: LimitedKinesis, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a one-shard stream behind the proxy
    stream = make_stream(1)
    client = client_for(limited_kinesis.endpoint)
    # WHEN one call carries three 400,000-byte entries (1 MiB is 1,048,576 bytes)
    entries = [{"Data": bytes([n]) * 400_000, "PartitionKey": f"k{n}"} for n in range(3)]
    answer = client.put_records(StreamName=stream, Records=entries)
    # THEN the first two are stored and the third is refused at its index, as Kinesis answers
    assert answer["FailedRecordCount"] == 1
    results = answer["Records"]
    assert all("SequenceNumber" in result for result in results[:2])
    assert results[2]["ErrorCode"] == THROTTLED
    assert results[2]["ErrorMessage"] == (
        f"Rate exceeded for shard shardId-000000000000 in stream {stream} under account 000000000000."
    )
    # AND the refused entry never reached the emulator
    stored = read_stream(kinesis, stream)
    assert [record.data for record in stored] == [entries[0]["Data"], entries[1]["Data"]]
    # AND the proxy counted it (bytes are the data plus the partition key)
    shard = limited_kinesis.stream_stats(stream)["shards"]["shardId-000000000000"]
    assert (shard["admitted_entries"], shard["admitted_bytes"]) == (2, 800_004)
    assert (shard["throttled_entries"], shard["throttled_bytes"]) == (1, 400_002)


@pytest.mark.parametrize("limit_algo", LIMIT_ALGORITHMS)
def test_an_entry_over_its_shards_record_limit_is_refused(
    limit_algo: str, kinesis_endpoint: str, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a proxy whose shards take 10 records a second (so that one call goes over)
    stream = make_stream(1)
    with kinesis_limits_proxy(kinesis_endpoint, limit_algo, shard_records=10) as endpoint:
        # WHEN one call carries 12 small entries
        answer = client_for(endpoint).put_records(
            StreamName=stream, Records=[{"Data": b"x", "PartitionKey": f"k{n}"} for n in range(12)]
        )
        totals = fetch_stats(endpoint)["streams"][stream]["totals"]
    # THEN the last two are refused and not stored
    assert [result.get("ErrorCode") for result in answer["Records"]] == [None] * 10 + [THROTTLED] * 2
    assert len(read_stream(kinesis, stream)) == 10
    assert (totals["admitted_entries"], totals["throttled_entries"]) == (10, 2)


def test_each_shard_has_its_own_allowance_whether_routed_by_hash_key_or_partition_key(
    limited_kinesis: LimitedKinesis, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a two-shard stream, and a partition key that hashes to the second shard
    stream = make_stream(2)
    (first, (first_low, _)), (second, (second_low, second_high)) = sorted(
        shard_ranges(kinesis, stream).items(), key=lambda item: item[1][0]
    )
    second_shard_key = next(f"user-{n}" for n in range(1000) if second_low <= hash_key(f"user-{n}") <= second_high)
    # WHEN one call sends three 400,000-byte entries to each shard, interleaved: the first
    # shard's by ExplicitHashKey, the second's by partition key
    entries = []
    for _ in range(3):
        entries.append({"Data": b"a" * 400_000, "PartitionKey": "p", "ExplicitHashKey": str(first_low)})
        entries.append({"Data": b"b" * 400_000, "PartitionKey": second_shard_key})
    answer = client_for(limited_kinesis.endpoint).put_records(StreamName=stream, Records=entries)
    # THEN each shard refuses only its own third entry
    assert [result.get("ErrorCode") for result in answer["Records"]] == [None] * 4 + [THROTTLED] * 2
    assert first in answer["Records"][4]["ErrorMessage"]
    assert second in answer["Records"][5]["ErrorMessage"]
    shards = limited_kinesis.stream_stats(stream)["shards"]
    assert {shard_id: counts["admitted_entries"] for shard_id, counts in shards.items()} == {first: 2, second: 2}
    assert {shard_id: counts["throttled_entries"] for shard_id, counts in shards.items()} == {first: 1, second: 1}


def test_put_record_over_the_limit_is_answered_with_the_throttling_error(
    limited_kinesis: LimitedKinesis, kinesis: Any, make_stream: Any
) -> None:
    stream = make_stream(1)
    client = client_for(limited_kinesis.endpoint)
    client.put_record(StreamName=stream, Data=b"x" * 700_000, PartitionKey="k")
    with pytest.raises(ClientError) as refused:
        client.put_record(StreamName=stream, Data=b"y" * 700_000, PartitionKey="k")
    assert refused.value.response["Error"]["Code"] == THROTTLED
    assert len(read_stream(kinesis, stream)) == 1


def test_counts_user_records_inside_kpl_aggregates_and_writes_its_stats_when_stopped(
    kinesis_endpoint: str, make_stream: Any, tmp_path: Any
) -> None:
    # GIVEN an aggregate of five user records made by aws-kinesis-agg (the reference) and a plain record
    stream = make_stream(1)
    aggregator = RecordAggregator()
    for n in range(5):
        aggregator.add_user_record(f"user-{n}", json.dumps({"n": n}).encode())
    partition_key, _, aggregate = aggregator.clear_and_get().get_contents()
    stats_path = tmp_path / "stats.json"
    with kinesis_limits_proxy(kinesis_endpoint, "window", stats_path=str(stats_path)) as endpoint:
        # WHEN both are sent through the proxy, which then stops (SIGTERM)
        client_for(endpoint).put_records(
            StreamName=stream,
            Records=[{"Data": aggregate, "PartitionKey": partition_key}, {"Data": b"{}", "PartitionKey": "u"}],
        )
        live = fetch_stats(endpoint)
    # THEN it counted six user records in two entries, in its live stats and in the file it wrote
    written = json.loads(stats_path.read_text())
    for stats in (live, written):
        totals = stats["streams"][stream]["totals"]
        assert (totals["admitted_entries"], totals["admitted_user_records"]) == (2, 6)
        (second,) = stats["streams"][stream]["timeline"]
        assert second["admitted_user_records"] == 6
    assert written["limit_algo"] == "window"


def test_logs_each_put_call_under_the_sdks_invocation_id_with_its_arrival_and_what_it_decided(
    limited_kinesis: LimitedKinesis, make_stream: Any
) -> None:
    # GIVEN a one-shard stream behind the proxy, and a client whose invocation ids the test sees
    stream = make_stream(1)
    client = client_for(limited_kinesis.endpoint)
    sent: list[tuple[str, float]] = []

    def note(request: Any, **_: Any) -> None:
        sent.append((request.headers["amz-sdk-invocation-id"].decode(), time.time()))

    client.meta.events.register("before-send.kinesis.*", note)
    # WHEN one PutRecords call goes partly over the limit, then a PutRecord call wholly
    entries = [{"Data": bytes([n]) * 400_000, "PartitionKey": f"k{n}"} for n in range(3)]
    client.put_records(StreamName=stream, Records=entries)
    with pytest.raises(ClientError):
        client.put_record(StreamName=stream, Data=b"y" * 400_000, PartitionKey="k")
    answered_at = time.time()
    # THEN its log has each call once, named as the client named it, with what was admitted and throttled
    calls = limited_kinesis.stream_stats(stream)["calls"]
    assert [(call["invocation_id"], call["attempt"]) for call in calls] == [(sent[0][0], 1), (sent[1][0], 1)]
    decided = [
        (call["admitted_entries"], call["admitted_bytes"], call["admitted_user_records"], call["throttled_entries"])
        for call in calls
    ]
    assert decided == [(2, 800_004, 2, 1), (0, 0, 0, 1)]
    # AND the instant each arrived, after the client sent it and before the next was sent
    assert sent[0][1] <= calls[0]["arrived"] <= sent[1][1] <= calls[1]["arrived"] <= answered_at


def test_reads_the_attempt_number_from_the_sdks_request_header() -> None:
    headers = {"amz-sdk-invocation-id": "3f0c", "amz-sdk-request": "ttl=20261202T191500Z; attempt=2; max=3"}
    assert caller_of(headers) == Caller("3f0c", 2)
    assert caller_of({"amz-sdk-request": "attempt=1; max=1"}) == Caller(None, 1)
    assert caller_of({}) == Caller(None, None)


# The meters themselves, on a clock the test controls.


def test_the_sliding_window_never_admits_more_than_the_limit_within_one_second() -> None:
    window = SlidingWindow(MIB, 1000)
    assert window.admit(MIB, now=10.0)
    assert not window.admit(1, now=10.999)  # still within the second of the first entry
    assert window.admit(MIB, now=11.0)  # the first entry has left the window


def test_the_token_bucket_refills_continuously_and_lets_a_burst_follow_a_quiet_second() -> None:
    bucket = TokenBucket(MIB, 1000)
    assert bucket.admit(MIB, now=10.0)
    assert not bucket.admit(MIB // 2 + 1, now=10.5)
    assert bucket.admit(MIB // 2, now=10.5)  # half a second refilled half the allowance
    # After a quiet second the bucket is full again: a whole second's burst now, and the refill
    # on top within the same second, which a sliding window would refuse
    assert bucket.admit(MIB, now=11.5)
    assert bucket.admit(MIB // 2, now=12.0)
    assert not bucket.admit(1, now=12.0)


def test_the_meters_count_records_as_well_as_bytes() -> None:
    for meter in (SlidingWindow(MIB, 3), TokenBucket(MIB, 3)):
        assert [meter.admit(1, now=5.0) for _ in range(4)] == [True, True, True, False]
