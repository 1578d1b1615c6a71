"""The producer against moto's Kinesis over HTTP on loopback."""

from __future__ import annotations

import gc
import json
import threading
import warnings
from collections import Counter

import pytest

from tests.conftest import make_event, read_stream, shard_ranges
from vedette import metrics as m
from vedette.exceptions import BufferFullError, InvalidEventError, ProducerClosedError
from vedette.producer import Producer
from vedette.reports import DeliveryReport
from vedette.shards import hash_key


class Reports:
    """Collects delivery reports from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[DeliveryReport] = []

    def __call__(self, report: DeliveryReport) -> None:
        with self.lock:
            self.items.append(report)


def _producer(endpoint: str, stream: str, reports: Reports, **settings) -> Producer:
    return Producer(stream, endpoint_url=endpoint, region_name="us-east-1", on_delivery=reports, **settings)


def test_round_trip_from_many_threads_lands_every_event_once_on_its_shard(kinesis_endpoint, kinesis, make_stream):
    # GIVEN a 4-shard stream and a producer shared by 8 threads
    stream = make_stream(4)
    reports = Reports()
    producer = _producer(kinesis_endpoint, stream, reports, linger_seconds=0.05)
    per_thread = 1_500
    event_ids: list[str] = []
    ids_lock = threading.Lock()

    def service_thread(offset: int) -> None:
        mine = [producer.put(make_event(offset * per_thread + n)) for n in range(per_thread)]
        with ids_lock:
            event_ids.extend(mine)

    threads = [threading.Thread(target=service_thread, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # WHEN it closes
    assert producer.close(timeout=60) == 0
    # THEN the stream holds exactly the events put, each once (read back and deaggregated with
    # aws-kinesis-agg), each on the shard whose hash key range holds its partition key
    stored = read_stream(kinesis, stream)
    stored_ids = Counter(json.loads(record.data)["event_id"] for record in stored)
    assert len(event_ids) == 8 * per_thread
    assert stored_ids == Counter(event_ids)
    ranges = shard_ranges(kinesis, stream)
    for record in stored:
        user_id = json.loads(record.data)["user_id"]
        assert record.partition_key == user_id
        low, high = ranges[record.shard_id]
        assert low <= hash_key(user_id) <= high, f"{user_id} stored on {record.shard_id}"
    # AND events were aggregated: far fewer Kinesis records than events
    assert sum(record.aggregated for record in stored) > 0.99 * len(stored)
    snapshot = producer.metrics.snapshot()
    assert snapshot[m.EVENTS] == snapshot[m.DELIVERED] == len(event_ids)
    assert snapshot[m.KINESIS_RECORDS] < len(event_ids) / 50
    # AND every event got one successful report with its shard and sequence number
    assert len(reports.items) == len(event_ids)
    assert all(report.ok for report in reports.items)
    by_id = {report.event_id: report for report in reports.items}
    stored_by_id = {json.loads(record.data)["event_id"]: record for record in stored}
    for event_id, report in by_id.items():
        assert (report.shard_id, report.sequence_number) == (
            stored_by_id[event_id].shard_id,
            stored_by_id[event_id].sequence_number,
        )


def test_invalid_event_raises_and_buffers_nothing(kinesis_endpoint, kinesis, make_stream):
    stream = make_stream(1)
    reports = Reports()
    with _producer(kinesis_endpoint, stream, reports) as producer:
        with pytest.raises(InvalidEventError) as caught:
            producer.put(make_event(1, ip="not-an-ip"))
        assert caught.value.field == "ip"
        with pytest.raises(InvalidEventError) as caught:
            producer.put(make_event(1, properties={"payload": b"bytes are not JSON"}))
        assert caught.value.field == "properties.payload"
        with pytest.raises(InvalidEventError) as caught:
            producer.put(make_event(1), partition_key="")
        assert caught.value.field == "partition_key"
        assert producer.pending == 0
        assert producer.flush(5) == 0
    assert read_stream(kinesis, stream) == []
    assert reports.items == []


def test_explicit_partition_key_routes_by_that_key(kinesis_endpoint, kinesis, make_stream):
    stream = make_stream(2)
    with _producer(kinesis_endpoint, stream, Reports()) as producer:
        for n in range(50):
            producer.put(make_event(n), partition_key="tenant-7")
    stored = read_stream(kinesis, stream)
    assert len(stored) == 50
    assert {record.partition_key for record in stored} == {"tenant-7"}
    assert len({record.shard_id for record in stored}) == 1


def test_without_aggregation_each_event_is_its_own_record(kinesis_endpoint, kinesis, make_stream):
    stream = make_stream(2)
    with _producer(kinesis_endpoint, stream, Reports(), aggregation=False) as producer:
        for n in range(300):
            producer.put(make_event(n))
    stored = read_stream(kinesis, stream)
    assert len(stored) == 300
    assert not any(record.aggregated for record in stored)


def test_full_buffer_raises_buffer_full_error_without_queuing(kinesis_endpoint, make_stream):
    # GIVEN a producer whose buffer holds 10 events and whose stream does not exist, so nothing drains
    reports = Reports()
    producer = _producer(kinesis_endpoint, "no-such-stream", reports, buffer_max_records=10, record_ttl_seconds=1)
    for n in range(10):
        producer.put(make_event(n))
    # WHEN one more is put THEN it is refused explicitly
    with pytest.raises(BufferFullError, match="buffer full"):
        producer.put(make_event(10))
    assert producer.pending == 10
    # AND the 10 accepted events expire with their error reported, none silently
    assert producer.flush(10) == 0
    assert len(reports.items) == 10
    assert all(not report.ok for report in reports.items)
    assert all("ResourceNotFound" in str(report.error) for report in reports.items)
    producer.close()


def test_put_blocks_up_to_the_timeout_while_the_buffer_drains(kinesis_endpoint, make_stream):
    stream = make_stream(1)
    reports = Reports()
    with _producer(
        kinesis_endpoint, stream, reports, buffer_max_records=50, buffer_full_timeout_seconds=10
    ) as producer:
        for n in range(1_000):
            producer.put(make_event(n))
    assert len(reports.items) == 1_000
    assert all(report.ok for report in reports.items)


def test_close_reports_undeliverable_events_instead_of_dropping_them(kinesis_endpoint):
    reports = Reports()
    producer = _producer(kinesis_endpoint, "no-such-stream", reports, record_ttl_seconds=60)
    for n in range(5):
        producer.put(make_event(n))
    assert producer.close(timeout=0.5) == 5
    assert len(reports.items) == 5
    assert all(isinstance(report.error, ProducerClosedError) for report in reports.items)
    with pytest.raises(ProducerClosedError):
        producer.put(make_event(6))


def test_unclosed_producer_warns_when_collected(kinesis_endpoint, make_stream):
    stream = make_stream(1)
    producer = _producer(kinesis_endpoint, stream, Reports())
    engine = producer._engine
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del producer
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "unclosed" in str(w.message) for w in caught)
    engine.close(5)


def test_reshard_is_detected_and_no_user_record_sits_outside_its_shard(aws_endpoint, moto_kinesis, make_moto_stream):
    # GIVEN a producer that has learned a 2-shard map, on moto (kinesalite cannot reshard); one
    # call in flight, because moto's Kinesis loses records under concurrent writes to a shard
    kinesis = moto_kinesis
    stream = make_moto_stream(2)
    reports = Reports()
    producer = _producer(aws_endpoint, stream, reports, linger_seconds=0.01, max_concurrent_puts=1)
    for n in range(500):
        producer.put(make_event(n))
    assert producer.flush(30) == 0
    # WHEN the stream is resharded to 4 shards behind its back and more events arrive
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    for n in range(500, 3_000):
        producer.put(make_event(n))
    assert producer.close(timeout=60) == 0
    # THEN every event was delivered, each reported on a shard whose range holds its key.
    # (moto keeps writing to the closed parents, so the wrong-shard path itself is covered with
    # a scripted client in test_producer_faults.py.)
    assert len(reports.items) >= 3_000
    assert {r.event_id for r in reports.items if r.ok} == {r.event_id for r in reports.items}
    delivered = {report.event_id: report for report in reports.items}
    ranges = shard_ranges(kinesis, stream)
    for report in delivered.values():
        key = hash_key(report.partition_key)
        low, high = ranges[report.shard_id]
        assert low <= key <= high, f"reported on {report.shard_id}, outside its range"
    stored_ids = {json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)}
    assert set(delivered) <= stored_ids
