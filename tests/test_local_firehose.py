"""The local Firehose: the stream archived as Firehose writes it, time-only or, with the user-hash
layout, through the partitioner's own handler (dynamic partitioning)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from archive import iter_events
from archive.layout import USER_HASH_LIMIT, user_hash_start_of_key
from local_pipeline.firehose import LocalFirehose
from model.sampling import user_hash
from tests.conftest import make_event
from vedette.events import encode_event, normalize_event
from vedette.kpl import AggregateBuilder

LEGACY_RECORD = b"legacy,writer,not,json"


def put_traffic(kinesis: Any, stream: str, events: list[dict[str, Any]]) -> None:
    """The events as the producer sends them (KPL aggregates of 25), then one record from a legacy writer."""
    entries = []
    for first in range(0, len(events), 25):
        builder = AggregateBuilder()
        for event in events[first : first + 25]:
            assert builder.try_add(event["user_id"], encode_event(event))
        entries.append({"Data": builder.build(), "PartitionKey": builder.partition_key})
    entries.append({"Data": LEGACY_RECORD, "PartitionKey": "legacy"})
    assert kinesis.put_records(StreamName=stream, Records=entries)["FailedRecordCount"] == 0


def archive(kinesis: Any, s3: Any, stream: str, bucket: str, buckets: int) -> tuple[LocalFirehose, list[str]]:
    """The stream archived by the local Firehose into ``bucket``, drained; the keys it wrote."""
    s3.create_bucket(Bucket=bucket)
    firehose = LocalFirehose(kinesis, s3, stream, bucket, delivery_stream_name="vedette-archive",
                             buffer_bytes=5 * 2**20, buffer_seconds=300, user_hash_buckets=buckets)  # fmt: skip
    firehose.start()
    firehose.stop(drain=True)
    assert firehose.error is None
    return firehose, [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]


@pytest.fixture
def traffic(kinesis: Any, make_stream: Callable[[int], str]) -> tuple[str, list[dict[str, Any]]]:
    stream = make_stream(2)
    events = [normalize_event(make_event(number, user_id=f"user-{number % 30}")) for number in range(150)]
    put_traffic(kinesis, stream, events)
    return stream, events


def test_with_the_user_hash_layout_each_event_lands_in_its_users_bucket(
    kinesis: Any, aws_endpoint: str, traffic: tuple[str, list[dict[str, Any]]]
) -> None:
    stream, events = traffic
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    # WHEN the local Firehose archives the stream with 8 buckets
    firehose, keys = archive(kinesis, s3, stream, "local-firehose-by-hash", 8)
    event_keys = [key for key in keys if key.startswith("events/")]
    # THEN every event is under the bucket of its user's hash, one object per bucket used
    width = USER_HASH_LIMIT // 8
    archived: dict[str, int] = {}
    for key in event_keys:
        start = user_hash_start_of_key(key)
        assert start is not None
        assert start % width == 0
        body = gzip.decompress(s3.get_object(Bucket="local-firehose-by-hash", Key=key)["Body"].read())
        for line in body.splitlines():
            event = json.loads(line)
            assert start <= user_hash(event) < start + width
            archived[event["event_id"]] = start
    assert sorted(archived) == sorted(event["event_id"] for event in events)
    assert len(event_keys) == len({user_hash(event) // width for event in events}) > 1
    # AND the legacy record the partitioner failed is under the error prefix, its bytes in rawData
    (failed_key,) = [key for key in keys if not key.startswith("events/")]
    assert failed_key.startswith("errors/processing-failed/")
    body = gzip.decompress(s3.get_object(Bucket="local-firehose-by-hash", Key=failed_key)["Body"].read())
    (failure,) = [json.loads(line) for line in body.splitlines()]
    assert base64.b64decode(failure["rawData"]) == LEGACY_RECORD
    assert firehose.processing_failed == 1
    assert firehose.archived_as_errors == 1
    assert firehose.archived == len(events) + 1  # every record reached the bucket: events, and errors
    # AND the archive reads back whole
    read = list(iter_events("s3://local-firehose-by-hash", endpoint_url=aws_endpoint))
    assert sorted(event["event_id"] for event in read) == sorted(archived)


def test_without_it_the_archive_stays_time_only_and_keeps_what_is_not_an_event(
    kinesis: Any, aws_endpoint: str, traffic: tuple[str, list[dict[str, Any]]]
) -> None:
    stream, events = traffic
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    firehose, keys = archive(kinesis, s3, stream, "local-firehose-time-only", 0)
    # THEN one object under the hour, no user_hash folder, the legacy record beside the events
    assert len(keys) == 1
    assert user_hash_start_of_key(keys[0]) is None
    assert keys[0].count("/") == 5
    assert firehose.archived == len(events) + 1
    assert firehose.failed_writer is None
