"""The producer under Kinesis's per-shard write limits: pacing measured where the records arrive
(emulators.kinesis_limits, under both of its meters) and per-shard backpressure at ``put``."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import LimitedKinesis, make_event, read_stream, shard_ranges
from tests.test_producer import Reports
from vedette.exceptions import BufferFullError, ShardBacklogFullError
from vedette.limits import SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND
from vedette.producer import Producer
from vedette.shards import hash_key


def _producer(endpoint: str, stream: str, reports: Reports, **settings: Any) -> Producer:
    return Producer(stream, endpoint_url=endpoint, region_name="us-east-1", on_delivery=reports, **settings)


def offer(producer: Producer, events_per_second: float, seconds: float, first: int = 0) -> tuple[list[str], int]:
    """Put ``make_event`` events at ``events_per_second`` for ``seconds``; returns the ids put
    accepted and how many it refused with BufferFullError."""
    accepted: list[str] = []
    refused = 0
    started = time.monotonic()
    number = first
    while (elapsed := time.monotonic() - started) < seconds:
        if number - first > elapsed * events_per_second:
            time.sleep(0.005)
            continue
        try:
            accepted.append(producer.put(make_event(number)))
        except BufferFullError:
            refused += 1
        number += 1
    return accepted, refused


def put_until_refused(producer: Producer, count: int, partition_key: str | None = None) -> tuple[list[str], Exception]:
    """Put up to ``count`` events; returns the ids accepted before put raised, and what it raised."""
    accepted: list[str] = []
    for number in range(1, count + 1):
        try:
            accepted.append(producer.put(make_event(number), partition_key=partition_key))
        except BufferFullError as error:
            return accepted, error
    raise AssertionError(f"put accepted all {count} events")


def key_on_shard(shard_range: tuple[int, int], avoid: int = -1) -> str:
    low, high = shard_range
    return next(f"user-{n}" for n in range(100_000) if low <= hash_key(f"user-{n}") <= high and n != avoid)


def wait_for_shard_map(producer: Producer) -> None:
    """One event delivered: the producer has its shard map, so put routes to per-shard backlogs."""
    producer.put(make_event(0))
    assert producer.flush(30) == 0


def test_at_twice_a_shards_capacity_the_shard_never_throttles_and_every_accepted_event_arrives(
    limited_kinesis: LimitedKinesis, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a one-shard stream behind the limits, and a producer with its default pacing (a short
    # backlog bound so that the test's close is quick)
    stream = make_stream(1)
    reports = Reports()
    producer = _producer(limited_kinesis.endpoint, stream, reports, shard_backlog_max_seconds=1.0)
    # WHEN a service offers about twice what the shard takes (about 2,500 of these events a
    # second) for four seconds
    accepted, refused = offer(producer, 5_000, 4.0)
    assert producer.close(60) == 0
    # THEN the shard never had more than its limit in any one second, as it counted arrivals, and
    # so throttled nothing
    shard = limited_kinesis.stream_stats(stream)["shards"]["shardId-000000000000"]
    assert shard["throttled_entries"] == 0
    assert shard["max_offered_bytes_in_any_second"] <= SHARD_WRITE_BYTES_PER_SECOND
    assert shard["max_offered_entries_in_any_second"] <= SHARD_WRITE_RECORDS_PER_SECOND
    # AND the excess was refused at put, while every accepted event was delivered, none expired
    assert refused > 0
    assert sorted(report.event_id for report in reports.items) == sorted(accepted)
    assert all(report.ok for report in reports.items), [r.error for r in reports.items if not r.ok][:3]
    assert shard["admitted_user_records"] == len(accepted)


def test_put_refuses_events_for_a_shard_that_cannot_send_them_in_time_and_other_shards_still_accept(
    kinesis_endpoint: str, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a two-shard stream and a producer allowed 1 % of a shard's throughput (about 10 KiB/s),
    # whose shards may hold at most one second of backlog
    stream = make_stream(2)
    (hot_shard, hot_range), (cold_shard, cold_range) = sorted(shard_ranges(kinesis, stream).items())
    hot_key, cold_key = key_on_shard(hot_range), key_on_shard(cold_range)
    reports = Reports()
    producer = _producer(kinesis_endpoint, stream, reports, rate_limit_percent=1, shard_backlog_max_seconds=1.0)
    wait_for_shard_map(producer)
    # WHEN a service puts 100 events (about 45 KB) for one shard at once
    accepted, refused = put_until_refused(producer, 100, partition_key=hot_key)
    # THEN put refuses the first event that shard could not send within the bound, naming the
    # shard (a BufferFullError, so code that handles a full buffer handles it)
    assert isinstance(refused, ShardBacklogFullError)
    assert accepted
    assert refused.shard_id == hot_shard
    assert refused.backlog_seconds > refused.max_seconds == 1.0
    # AND events for the other shard are still accepted
    cold_ids = [producer.put(make_event(number), partition_key=cold_key) for number in range(10)]
    assert producer.close(60) == 0
    # AND every accepted event was delivered, the refused one never stored
    delivered = {report.event_id: report for report in reports.items if report.ok}
    assert set(accepted) | set(cold_ids) <= set(delivered)
    assert {delivered[event_id].shard_id for event_id in accepted} == {hot_shard}
    assert {delivered[event_id].shard_id for event_id in cold_ids} == {cold_shard}
    assert len(read_stream(kinesis, stream)) == 1 + len(accepted) + len(cold_ids)


def test_with_a_timeout_put_waits_for_its_shard_to_drain_and_no_accepted_event_expires(
    kinesis_endpoint: str, kinesis: Any, make_stream: Any
) -> None:
    # GIVEN a producer allowed about 10 KiB/s per shard, a 5 s time to live, one second of backlog
    # per shard, and put allowed to wait up to 30 s for room
    stream = make_stream(1)
    reports = Reports()
    producer = _producer(
        kinesis_endpoint,
        stream,
        reports,
        rate_limit_percent=1,
        record_ttl_seconds=5,
        shard_backlog_max_seconds=1.0,
        buffer_full_timeout_seconds=30,
    )
    wait_for_shard_map(producer)
    # WHEN a service puts 100 events (about 45 KB: several times what the shard takes within the
    # time to live)
    accepted = [producer.put(make_event(number)) for number in range(1, 101)]
    assert producer.close(60) == 0
    # THEN put waited rather than refused, and every event was delivered: none expired, though
    # the last was put long after the first one's time to live had passed
    assert len(accepted) == 100
    assert len(reports.items) == 101
    assert all(report.ok for report in reports.items), [r.error for r in reports.items if not r.ok][:3]


def test_a_wait_that_runs_out_raises_the_shards_error(kinesis_endpoint: str, make_stream: Any) -> None:
    stream = make_stream(1)
    reports = Reports()
    producer = _producer(
        kinesis_endpoint,
        stream,
        reports,
        rate_limit_percent=1,
        shard_backlog_max_seconds=0.5,
        buffer_full_timeout_seconds=0.2,
    )
    wait_for_shard_map(producer)
    _, refused = put_until_refused(producer, 200)
    assert isinstance(refused, ShardBacklogFullError)
    assert producer.close(60) == 0
    assert all(report.ok for report in reports.items)
