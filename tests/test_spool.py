"""The durable spool (spool_dir): what reaches the stream across crashes, torn writes, a full spool."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from typing import Any

import pytest

from tests.conftest import make_event, read_stream
from tests.test_producer import Reports
from tests.test_producer_shutdown import start_service
from vedette.exceptions import ProducerClosedError
from vedette.producer import Producer
from vedette.spool import Spool, SpoolFullError, SpoolLockedError

SPOOL_FILES = {"lock"}


def stored_event_ids(kinesis: Any, stream: str) -> list[str]:
    return [json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)]


def spool_producer(endpoint: str, stream: str, spool_dir: Any, **settings: Any) -> Producer:
    return Producer(stream, endpoint_url=endpoint, region_name="us-east-1", spool_dir=str(spool_dir), **settings)


def test_acknowledged_events_leave_the_spool(kinesis_endpoint, kinesis, make_stream, tmp_path):
    # GIVEN a producer with a spool, small segments so that several fill and are deleted
    stream = make_stream(2)
    reports = Reports()
    producer = spool_producer(kinesis_endpoint, stream, tmp_path, on_delivery=reports, spool_segment_bytes=50_000)
    event_ids = [producer.put(make_event(n)) for n in range(3_000)]
    # WHEN everything is delivered and it closes
    assert producer.close(timeout=60) == 0
    # THEN every event is in the stream once, and the spool holds nothing but its lock file
    assert sorted(stored_event_ids(kinesis, stream)) == sorted(event_ids)
    assert all(report.ok for report in reports.items)
    assert set(os.listdir(tmp_path)) == SPOOL_FILES
    # AND the next producer to open it sends nothing
    assert spool_producer(kinesis_endpoint, stream, tmp_path).close(timeout=10) == 0
    assert len(stored_event_ids(kinesis, stream)) == len(event_ids)


def test_a_full_spool_refuses_events_and_keeps_the_accepted_ones_for_the_next_producer(
    kinesis_endpoint, kinesis, make_stream, tmp_path
):
    # GIVEN a producer that holds events (a long linger) in a spool of 30,000 bytes
    stream = make_stream(1)
    reports = Reports()
    producer = spool_producer(
        kinesis_endpoint, stream, tmp_path, linger_seconds=60, spool_max_bytes=30_000, on_delivery=reports
    )
    accepted = []
    # WHEN events are put until it is full
    refused: SpoolFullError | None = None
    for n in range(1_000):
        try:
            accepted.append(producer.put(make_event(n)))
        except SpoolFullError as error:
            refused = error
            break
    assert refused is not None
    assert "spool_max_bytes" in str(refused)
    assert 10 < len(accepted) < 1_000
    # AND it closes at once, nothing sent
    assert producer.close(timeout=0) == len(accepted)
    # THEN the events were reported closed-but-kept, and none reached the stream
    assert {report.event_id for report in reports.items} == set(accepted)
    assert all(isinstance(report.error, ProducerClosedError) for report in reports.items)
    assert "stays in the spool" in str(reports.items[0].error)
    assert stored_event_ids(kinesis, stream) == []
    # WHEN the next producer opens the spool
    later = Reports()
    assert spool_producer(kinesis_endpoint, stream, tmp_path, on_delivery=later).close(timeout=30) == 0
    # THEN it sends exactly the accepted events, with their event_id, and reports each delivered
    assert sorted(stored_event_ids(kinesis, stream)) == sorted(accepted)
    assert sorted(report.event_id for report in later.items) == sorted(accepted)
    assert all(report.ok for report in later.items)
    assert set(os.listdir(tmp_path)) == SPOOL_FILES


def test_one_producer_per_spool_directory(kinesis_endpoint, make_stream, tmp_path):
    stream = make_stream(1)
    first = spool_producer(kinesis_endpoint, stream, tmp_path)
    with pytest.raises(SpoolLockedError, match=f"pid {os.getpid()}"):
        spool_producer(kinesis_endpoint, stream, tmp_path)
    first.close()
    spool_producer(kinesis_endpoint, stream, tmp_path).close()


@pytest.mark.parametrize("damage", ["cut", "garbage", "zeros"])
def test_a_torn_last_write_is_dropped_and_the_intact_events_recovered(tmp_path, damage):
    # GIVEN a spool holding three unacknowledged events
    spool = Spool(str(tmp_path), max_bytes=1 << 20, segment_bytes=1 << 20, fsync_interval=0.1)
    events = [(f"00000000-0000-4000-8000-00000000000{n}", f"user-{n}", b'{"n": %d}' % n) for n in range(3)]
    for event in events:
        spool.append(*event)
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    # WHEN the last write was torn by a crash (cut short), or followed by garbage or a zero-filled tail
    data = segment.read_bytes()
    if damage == "cut":
        segment.write_bytes(data[:-5])
        intact = events[:2]
    else:
        segment.write_bytes(data + (os.urandom(37) if damage == "garbage" else bytes(4096)))
        intact = events
    # THEN reopening recovers the intact events, in order, and new events still append and recover
    spool = Spool(str(tmp_path), max_bytes=1 << 20, segment_bytes=1 << 20, fsync_interval=0.1)
    assert [(e.event_id, e.partition_key, e.data) for e in spool.recovered] == intact
    spool.append("00000000-0000-4000-8000-000000000009", "user-9", b"{}")
    spool.close()
    spool = Spool(str(tmp_path), max_bytes=1 << 20, segment_bytes=1 << 20, fsync_interval=0.1)
    assert [e.event_id for e in spool.recovered] == [e[0] for e in intact] + ["00000000-0000-4000-8000-000000000009"]
    spool.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_sigkill_the_next_producer_sends_every_accepted_unacknowledged_event(
    kinesis_endpoint, kinesis, make_stream, tmp_path, seed
):
    # GIVEN a service putting events continuously through a producer with a spool
    stream = make_stream(2)
    spool_dir = tmp_path / "spool"
    options = ["--count", "500", "--forever", "--seed", str(seed), "--spool-dir", str(spool_dir)]
    process = start_service(kinesis_endpoint, stream, *options)
    lines: list[str] = []
    assert process.stdout is not None
    # Read as it writes: a full pipe would stall its puts.
    reader = threading.Thread(target=lambda: lines.extend(line.strip() for line in process.stdout or ()))
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while "READY" not in lines[:501] and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the service exited before it was killed"
        # WHEN it is killed with SIGKILL at a random point
        time.sleep(random.Random(seed).uniform(0.2, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=30)
        process.stdout.close()
    accepted = [line for line in lines if line and line != "READY"]
    assert len(accepted) > 500
    before = set(stored_event_ids(kinesis, stream))
    owed = set(accepted) - before
    assert owed, "the kill came after every accepted event was stored: nothing tested"
    # AND the next producer opens the spool
    assert spool_producer(kinesis_endpoint, stream, spool_dir).close(timeout=60) == 0
    # THEN every accepted event is in the stream
    stored = Counter(stored_event_ids(kinesis, stream))
    assert set(accepted) <= set(stored)
    # AND duplicates come only from the in-flight window: events stored before the kill, sent
    # again because their acknowledgement had not reached the spool, each at most once more
    duplicated = {event_id for event_id, count in stored.items() if count > 1}
    assert duplicated <= before
    assert max(stored.values()) <= 2
    # AND the spool is empty
    assert set(os.listdir(spool_dir)) == SPOOL_FILES
