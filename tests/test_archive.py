"""The archive layout, writer and reader: exact keys and bytes, locally and on moto's S3."""

from __future__ import annotations

import gzip
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest

from archive import (
    FIREHOSE_ERROR_OUTPUT_PREFIX,
    FIREHOSE_PREFIX,
    USER_HASH_PREFIX,
    ArchiveLocationError,
    ArchiveWriter,
    PrefixExpressionError,
    ReadStats,
    archive_prefix,
    evaluate_prefix,
    iter_events,
    iter_records,
    list_window,
    object_key,
)
from archive.exceptions import ArchiveWriteError
from archive.layout import (
    arrival_of_key,
    check_user_hash_buckets,
    format_java_datetime,
    user_hash_bucket_start,
    user_hash_partition_value,
    user_hash_start_of_key,
)
from archive.reader import split_records
from tests.conftest import make_event
from vedette.events import encode_event, normalize_event

T0 = datetime(2026, 11, 2, 9, 58, 30, 250_000, tzinfo=UTC)


def counting_uuids() -> Callable[[], uuid.UUID]:
    numbers = itertools.count(1)
    return lambda: uuid.UUID(int=next(numbers), version=4)


def events_at(times: list[datetime]) -> list[dict[str, Any]]:
    return [
        normalize_event(make_event(number, occurred_at=moment, event_id=str(uuid.UUID(int=number + 10**6, version=4))))
        for number, moment in enumerate(times)
    ]


def test_object_key_is_the_prefix_evaluated_in_utc_then_firehose_object_name() -> None:
    # GIVEN an arrival time with a non-UTC offset (11:58:30+02:00 is 09:58:30Z)
    arrival = datetime(2026, 11, 2, 11, 58, 30, tzinfo=timezone(timedelta(hours=2)))
    object_uuid = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
    # WHEN the key is rendered
    key = object_key(arrival, object_uuid, stream_name="vedette-prod", stream_version=3)
    # THEN it matches Firehose's documented <prefix><name>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz
    assert key == f"events/2026/11/02/09/vedette-prod-3-2026-11-02-09-58-30-{object_uuid}.gz"
    assert arrival_of_key(key) == datetime(2026, 11, 2, 9, 58, 30, tzinfo=UTC)


def test_error_output_prefix_needs_and_renders_the_error_type() -> None:
    assert (
        evaluate_prefix(FIREHOSE_ERROR_OUTPUT_PREFIX, T0, error_output_type="processing-failed")
        == "errors/processing-failed/2026/11/02/09/"
    )
    with pytest.raises(PrefixExpressionError, match="error_output_type"):
        evaluate_prefix(FIREHOSE_ERROR_OUTPUT_PREFIX, T0)


def test_java_date_time_patterns_with_quoted_literals() -> None:
    assert format_java_datetime("'dt='yyyy-MM-dd'/h='HH", T0) == "dt=2026-11-02/h=09"
    assert format_java_datetime("yy/M/d/H''", T0) == "26/11/2/9'"
    with pytest.raises(PrefixExpressionError, match="unsupported DateTimeFormatter field 'EEE'"):
        format_java_datetime("EEE", T0)
    with pytest.raises(PrefixExpressionError, match="dynamic partitioning"):
        evaluate_prefix("x/!{partitionKeyFromQuery:customer}/", T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_prefix(FIREHOSE_PREFIX, datetime(2026, 1, 1))


def test_writer_splits_objects_by_interval_and_names_them_by_their_oldest_record(tmp_path: Path) -> None:
    # GIVEN events arriving across an hour boundary, the second group more than 60 s after the first
    times = [T0, T0 + timedelta(seconds=20), T0 + timedelta(seconds=50), T0 + timedelta(seconds=95)]
    events = events_at(times)
    # WHEN they are written with a 60-second interval hint
    with ArchiveWriter(tmp_path, buffer_seconds=60, uuid_factory=counting_uuids()) as writer:
        for event in events:
            writer.put_event(event)
    # THEN two objects exist, keyed by their oldest record's arrival (the second in hour 10)
    first = f"events/2026/11/02/09/vedette-archive-1-2026-11-02-09-58-30-{uuid.UUID(int=1, version=4)}.gz"
    second = f"events/2026/11/02/10/vedette-archive-1-2026-11-02-10-00-05-{uuid.UUID(int=2, version=4)}.gz"
    assert writer.written_keys == [first, second]
    files = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert files == [first, second]
    # AND each holds exactly the encoded events, each followed by a newline
    assert gzip.decompress((tmp_path / first).read_bytes()) == b"".join(encode_event(e) + b"\n" for e in events[:3])
    assert gzip.decompress((tmp_path / second).read_bytes()) == encode_event(events[3]) + b"\n"


def test_writer_flushes_when_the_buffered_size_reaches_the_hint(tmp_path: Path) -> None:
    events = events_at([T0 + timedelta(milliseconds=n) for n in range(10)])
    sizes = [len(encode_event(event)) + 1 for event in events]
    with ArchiveWriter(tmp_path, buffer_bytes=sum(sizes[:4]), uuid_factory=counting_uuids()) as writer:
        for event in events:
            writer.put_event(event)
    # 4 + 4 + the 2 left at close
    counts = [len(split_list(gzip.decompress((tmp_path / key).read_bytes()))) for key in writer.written_keys]
    assert counts == [4, 4, 2]


def split_list(data: bytes) -> list[bytes]:
    return list(split_records(data))


def test_reader_round_trips_events_in_time_order_and_filters_by_occurrence(tmp_path: Path) -> None:
    times = [T0 + timedelta(minutes=7 * n) for n in range(30)]
    events = events_at(times)
    with ArchiveWriter(tmp_path, buffer_seconds=600) as writer:
        for event in events:
            writer.put_event(event)
    assert list(iter_events(tmp_path)) == events
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    assert list(iter_events(tmp_path, start, end)) == [
        e for e, t in zip(events, times, strict=True) if start <= t < end
    ]


def test_reader_splits_records_written_back_to_back_and_counts_invalid_ones(tmp_path: Path) -> None:
    # GIVEN an object as Firehose writes it without the newline delimiter, plus broken records
    events = events_at([T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)])
    tricky = normalize_event({**events[2], "resource": "/odd}{path"})
    body = encode_event(events[0]) + encode_event(events[1]) + b"\n" + encode_event(tricky) + b"\r\n"
    body += b"\n" + b'{"event_type":"login_failed"}\n' + b"[1,2]\n" + b"not json at all\n"
    key = object_key(T0, uuid.UUID(int=7, version=4))
    path = tmp_path / key
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(body))
    (path.parent / "README.txt").write_text("not an object of the archive")
    # WHEN it is read
    stats = ReadStats()
    read = list(iter_events(tmp_path, stats=stats))
    # THEN the three valid events come back, the three broken records are counted with reasons
    assert read == [events[0], events[1], tricky]
    assert stats.invalid == 3
    assert [reason.split(":")[0] for _, reason, _ in stats.invalid_examples] == ["event_id", "event", "event"]
    assert {key for key, _, _ in stats.invalid_examples} == {key}
    assert stats.skipped_keys == 1


def test_iter_records_filters_objects_by_arrival(tmp_path: Path) -> None:
    events = events_at([T0, T0 + timedelta(hours=2)])
    with ArchiveWriter(tmp_path, buffer_seconds=60) as writer:
        for event in events:
            writer.put_event(event)
    assert list(iter_records(tmp_path, start=T0 + timedelta(hours=1))) == [encode_event(events[1])]
    assert list(iter_records(tmp_path, end=T0 + timedelta(hours=1))) == [encode_event(events[0])]


def test_bad_locations_are_rejected_with_the_reason() -> None:
    with pytest.raises(ArchiveLocationError, match="no bucket name"):
        ArchiveWriter("s3:///events")
    with pytest.raises(ArchiveLocationError, match="only local folders"):
        list(iter_records("gs://bucket/x"))
    with pytest.raises(ValueError, match="buffer_seconds"):
        ArchiveWriter("/tmp/x", buffer_seconds=901)


def test_a_missing_bucket_fails_before_anything_is_buffered(aws_endpoint: str) -> None:
    with pytest.raises(ArchiveLocationError, match="'s3://no-such-bucket/x/': bucket not reachable \\(404\\)"):
        ArchiveWriter("s3://no-such-bucket/x", endpoint_url=aws_endpoint)


def test_s3_archive_has_the_exact_keys_and_bytes_and_reads_back(aws_endpoint: str) -> None:
    # GIVEN a bucket on moto's S3 server and events spanning three hours
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="archive-test")
    times = [T0 + timedelta(minutes=40 * n) for n in range(6)]
    events = events_at(times)
    # WHEN they are written under a prefix with a 30-minute interval
    with ArchiveWriter(
        "s3://archive-test/firehose/", endpoint_url=aws_endpoint, buffer_seconds=900, uuid_factory=counting_uuids()
    ) as writer:
        for event in events:
            writer.put_event(event)
    # THEN each object is where Firehose would put it, holding exactly the newline-terminated records
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket="archive-test")["Contents"]]
    expected = [f"firehose/{object_key(t, uuid.UUID(int=n + 1, version=4))}" for n, t in enumerate(times)]
    assert listed == expected
    for key, event in zip(expected, events, strict=True):
        body = s3.get_object(Bucket="archive-test", Key=key)["Body"].read()
        assert gzip.decompress(body) == encode_event(event) + b"\n"
    # AND the reader returns them in order, with time filters applied server-side and locally
    assert list(iter_events("s3://archive-test/firehose", endpoint_url=aws_endpoint)) == events
    start = T0 + timedelta(hours=2)
    assert list(iter_events("s3://archive-test/firehose", start, endpoint_url=aws_endpoint)) == [
        e for e, t in zip(events, times, strict=True) if t >= start
    ]


def test_flush_due_writes_an_aged_buffer_for_a_live_writer(tmp_path: Path) -> None:
    # GIVEN a record buffered at T0 by a live writer (records put as raw bytes)
    writer = ArchiveWriter(tmp_path, buffer_seconds=60, uuid_factory=counting_uuids())
    writer.put(b'{"raw":"record"}', arrival=T0)
    # WHEN time passes, THEN nothing is written before the interval and the object is after it
    assert writer.flush_due(T0 + timedelta(seconds=59)) is None
    key = writer.flush_due(T0 + timedelta(seconds=60))
    assert key == object_key(T0, uuid.UUID(int=1, version=4))
    assert gzip.decompress((tmp_path / key).read_bytes()) == b'{"raw":"record"}\n'
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.put(b"{}")
    with pytest.raises(ValueError, match="timezone-aware"):
        ArchiveWriter(tmp_path).put(b"{}", arrival=datetime(2026, 1, 1))


def test_a_writer_dropped_with_buffered_records_warns(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path)
    writer.put(b"{}", arrival=T0)
    with pytest.warns(ResourceWarning, match="1 record\\(s\\) buffered and not written"):
        writer.__del__()
    writer.close()  # and closing writes the record after all
    assert len(list(tmp_path.rglob("*.gz"))) == 1


def test_user_hash_layout_keys_buckets_and_their_validation() -> None:
    # GIVEN the layout with 4 buckets of the 32-bit user hash
    width = 2**30
    # THEN a hash's bucket starts at the multiple of a quarter of the range below it
    assert [user_hash_bucket_start(value, 4) for value in (0, width - 1, width, 3 * width + 5, 2**32 - 1)] == [
        0, 0, width, 3 * width, 3 * width,
    ]  # fmt: skip
    # AND the key names the bucket by its first hash, ten digits, between the hour and the name
    key = object_key(T0, "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9", prefix=USER_HASH_PREFIX,
                     partition_keys={"user_hash": user_hash_partition_value(width)})  # fmt: skip
    assert key == (
        "events/2026/11/02/09/user_hash=1073741824/vedette-archive-1-2026-11-02-09-58-30-0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9.gz"
    )
    assert user_hash_start_of_key(key) == width
    assert arrival_of_key(key) == T0.replace(microsecond=0)
    assert user_hash_start_of_key("events/2026/11/02/09/vedette-archive-1-x.gz") is None
    assert user_hash_start_of_key("events/2026/11/02/09/user_hash=12/x.gz") is None
    # AND the prefix of each layout, and a missing partition key, a bad count, are refused clearly
    assert archive_prefix(0) == FIREHOSE_PREFIX
    assert archive_prefix(128) == "events/!{timestamp:yyyy/MM/dd/HH}/user_hash=!{partitionKeyFromLambda:user_hash}/"
    with pytest.raises(PrefixExpressionError, match="no partition key 'user_hash'"):
        object_key(T0, uuid.uuid4(), prefix=USER_HASH_PREFIX)
    for bad in (1, 3, 96, 4096, -4):
        with pytest.raises(ValueError, match="0 \\(time-only layout\\) or a power of two from 2 to 2048"):
            check_user_hash_buckets(bad)


def test_writer_buffers_each_partition_apart_and_the_reader_reads_both_layouts(tmp_path: Path) -> None:
    # GIVEN an hour archived time-only, then an hour archived by user hash (the switch mid-way)
    first_hour = events_at([T0 + timedelta(seconds=10 * n) for n in range(6)])
    second_hour = events_at([T0 + timedelta(hours=1, seconds=10 * n) for n in range(6)])
    with ArchiveWriter(tmp_path, buffer_seconds=900, uuid_factory=counting_uuids()) as writer:
        for event in first_hour:
            writer.put_event(event)
    buckets = {event["event_id"]: str(n % 2 * 2**31).zfill(10) for n, event in enumerate(second_hour)}
    with ArchiveWriter(tmp_path, prefix=USER_HASH_PREFIX, buffer_seconds=900, uuid_factory=counting_uuids()) as writer:
        for event in second_hour:
            writer.put_event(event, partition_keys={"user_hash": buckets[event["event_id"]]})
        # WHEN the buffers flush, THEN one object per partition, under its folder
        assert writer.buffered_records == 6
        written = writer.flush()
        assert sorted(writer.written_keys) == [
            "events/2026/11/02/10/user_hash=0000000000/vedette-archive-1-2026-11-02-10-58-30-00000000-0000-4000-8000-000000000001.gz",
            "events/2026/11/02/10/user_hash=2147483648/vedette-archive-1-2026-11-02-10-58-40-00000000-0000-4000-8000-000000000002.gz",
        ]
        assert written in writer.written_keys
    for key in writer.written_keys:
        lines = gzip.decompress((tmp_path / key).read_bytes()).splitlines()
        start = user_hash_start_of_key(key)
        assert {buckets[normalize_event(orjson.loads(line))["event_id"]] for line in lines} == {f"{start:010d}"}
    # AND the reader reads both hours' events, and the listing says which users each object holds
    assert sorted(event["event_id"] for event in iter_events(tmp_path)) == sorted(
        event["event_id"] for event in first_hour + second_hour
    )
    listed = list(list_window(tmp_path))
    assert [item.user_hash_start for item in listed] == [None, 0, 2**31]
    assert all(item.size == (tmp_path / item.key).stat().st_size for item in listed)


def test_a_write_that_fails_keeps_the_records_buffered_for_the_next_flush(tmp_path: Path) -> None:
    # GIVEN a writer into a folder, holding two records, whose first write fails
    writer = ArchiveWriter(tmp_path / "archive")
    writer.put(b'{"n": 1}', datetime(2026, 11, 2, 9, tzinfo=UTC))
    writer.put(b'{"n": 2}', datetime(2026, 11, 2, 9, tzinfo=UTC))
    real_write = writer._write
    calls = []

    def failing_once(key: str, body: bytes) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise ArchiveWriteError(key, "disk full")
        real_write(key, body)

    writer._write = failing_once  # type: ignore[method-assign]

    # WHEN the flush fails
    with pytest.raises(ArchiveWriteError):
        writer.flush()

    # THEN nothing is lost: both records are still buffered, and the next flush writes them
    assert (writer.buffered_records, writer.records_written) == (2, 0)
    writer.flush()
    assert (writer.buffered_records, writer.records_written) == (0, 2)
    (key,) = writer.written_keys
    assert gzip.decompress((tmp_path / "archive" / key).read_bytes()) == b'{"n": 1}\n{"n": 2}\n'
