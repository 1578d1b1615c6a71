"""Failure handling: injected Kinesis faults over HTTP, TTL expiry, non-retryable errors, reshards."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from tests.conftest import make_event, read_stream
from tests.fault_proxy import FaultyKinesisProxy
from tests.outage_proxy import OutageProxy
from tests.test_producer import Reports
from vedette import metrics as m
from vedette.deadletter import read_dead_letters
from vedette.deadletter.__main__ import main as deadletter_main
from vedette.exceptions import DeliveryFailedError, RecordExpiredError
from vedette.producer import Producer
from vedette.shards import hash_key

FAST_RETRIES = {"retry_base_delay_seconds": 0.01, "retry_max_delay_seconds": 0.2, "linger_seconds": 0.02}


def test_every_event_is_delivered_or_reported_under_injected_faults(kinesis_endpoint, kinesis, make_stream):
    # GIVEN a proxy that fails 20 % of entries, 10 % of calls, and lets 5 % of calls time out
    stream = make_stream(2)
    reports = Reports()
    with FaultyKinesisProxy(
        kinesis_endpoint, seed=7, entry_failure_rate=0.2, call_error_rate=0.1, timeout_rate=0.05, timeout_seconds=1.2
    ) as proxy:
        producer = Producer(
            stream,
            endpoint_url=proxy.endpoint,
            region_name="us-east-1",
            on_delivery=reports,
            request_timeout_seconds=0.5,
            record_ttl_seconds=30,
            aggregation_max_bytes=8_192,  # more Kinesis records, so more of them meet a fault
            **FAST_RETRIES,
        )
        event_ids = [producer.put(make_event(n)) for n in range(3_000)]
        # WHEN the producer closes
        undelivered = producer.close(timeout=90)
    # THEN faults of every kind were injected
    assert proxy.injected["entry_failure"] > 0
    assert proxy.injected["call_error"] > 0
    assert proxy.injected["timeout"] > 0
    # AND every event has exactly one report, and with a generous TTL every one is a success
    assert undelivered == 0
    assert Counter(report.event_id for report in reports.items) == Counter(event_ids)
    assert all(report.ok for report in reports.items), [r.error for r in reports.items if not r.ok][:3]
    # AND every event is in the stream (timed-out calls that were written anyway show up twice:
    # delivery is at least once, and event_id is the key consumers deduplicate on)
    stored_ids = {json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)}
    assert stored_ids == set(event_ids)
    snapshot = producer.metrics.snapshot()
    assert snapshot[m.RETRIES] > 0
    assert snapshot[m.THROTTLES] > 0


def test_a_ten_second_endpoint_outage_within_the_ttl_loses_nothing_and_reports_nothing_failed(
    kinesis_endpoint, kinesis, make_stream
):
    # GIVEN a producer sending through an endpoint that is up, with the default 30 s TTL
    stream = make_stream(2)
    reports = Reports()
    with OutageProxy(kinesis_endpoint) as proxy:
        producer = Producer(
            stream, endpoint_url=proxy.endpoint, region_name="us-east-1", on_delivery=reports, **FAST_RETRIES
        )
        event_ids = [producer.put(make_event(n)) for n in range(500)]
        assert producer.flush(timeout=10) == 0
        # WHEN the endpoint refuses connections for 10 s while events keep coming
        proxy.go_down()
        outage_started = time.monotonic()
        n = 500
        while time.monotonic() - outage_started < 10:
            event_ids.extend(producer.put(make_event(n + k)) for k in range(50))
            n += 50
            time.sleep(0.05)
        proxy.come_back()
        # AND then comes back
        undelivered = producer.close(timeout=30)
    # THEN calls were refused during the outage and retried (not failed), and nothing was lost
    snapshot = producer.metrics.snapshot()
    assert snapshot.get(m.RETRIES, 0) > 0
    assert snapshot.get(m.FAILED, 0) == 0
    assert undelivered == 0
    assert Counter(report.event_id for report in reports.items) == Counter(event_ids)
    failed = [report for report in reports.items if not report.ok]
    assert failed == [], failed[:3]
    # AND the refused calls left their mark on the retried events: more than one attempt
    assert any(report.attempts > 1 for report in reports.items)
    assert set(stored_event_ids(kinesis, stream)) == set(event_ids)


def test_records_expire_with_the_last_error_when_kinesis_keeps_throttling(kinesis_endpoint, kinesis, make_stream):
    stream = make_stream(1)
    reports = Reports()
    with FaultyKinesisProxy(
        kinesis_endpoint, seed=1, entry_failure_rate=1.0, entry_error="ProvisionedThroughputExceededException"
    ) as proxy:
        producer = Producer(
            stream,
            endpoint_url=proxy.endpoint,
            region_name="us-east-1",
            on_delivery=reports,
            record_ttl_seconds=1.0,
            **FAST_RETRIES,
        )
        for n in range(200):
            producer.put(make_event(n))
        assert producer.flush(timeout=20) == 0
        producer.close()
    assert len(reports.items) == 200
    assert all(isinstance(report.error, RecordExpiredError) for report in reports.items)
    assert all(report.attempts > 1 for report in reports.items)
    assert all("ProvisionedThroughputExceeded" in report.error.last_error for report in reports.items)
    assert read_stream(kinesis, stream) == []


def test_non_retryable_errors_fail_at_once_with_the_error_code(kinesis_endpoint, make_stream):
    stream = make_stream(1)
    reports = Reports()
    with FaultyKinesisProxy(kinesis_endpoint, seed=1, call_error=(400, "AccessDeniedException")) as proxy:
        producer = Producer(stream, endpoint_url=proxy.endpoint, region_name="us-east-1", on_delivery=reports)
        for n in range(20):
            producer.put(make_event(n))
        assert producer.flush(timeout=10) == 0
        producer.close()
    assert len(reports.items) == 20
    for report in reports.items:
        assert isinstance(report.error, DeliveryFailedError)
        assert report.error.error_code == "AccessDeniedException"
        assert report.attempts == 1


def test_failed_events_are_parked_in_the_dead_letter_file_and_replay_delivers_them(
    kinesis_endpoint, kinesis, make_stream, tmp_path
):
    # GIVEN a producer whose every call is refused, with a dead-letter file
    stream = make_stream(2)
    parked = tmp_path / "dead-letters.jsonl"
    with FaultyKinesisProxy(kinesis_endpoint, seed=1, call_error=(400, "AccessDeniedException")) as proxy:
        producer = Producer(stream, endpoint_url=proxy.endpoint, region_name="us-east-1", dead_letter_path=str(parked))
        event_ids = [producer.put(make_event(n)) for n in range(30)]
        producer.close(timeout=10)

    # THEN every event is parked with its error, its key and the event exactly as it was sent
    lines = list(read_dead_letters(parked))
    assert sorted(line["event_id"] for line in lines) == sorted(event_ids)
    for line in lines:
        assert line["error"].startswith("DeliveryFailedError: AccessDeniedException")
        assert line["partition_key"] == line["event"]["user_id"]
        assert line["event"]["event_id"] == line["event_id"]
    assert stored_event_ids(kinesis, stream) == []

    # WHEN the file is replayed through the CLI against the real endpoint, warnings made errors
    command = ["replay", str(parked), "--stream", stream, "--endpoint-url", kinesis_endpoint, "--region", "us-east-1"]
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "vedette.deadletter", *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN each parked event reaches the stream once, with its original event_id, without a warning
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(stored_event_ids(kinesis, stream)) == sorted(event_ids)
    assert not (tmp_path / "dead-letters.jsonl.failed").exists()
    # AND the file was moved aside and marked replayed, its lines kept for inspection
    assert not parked.exists()
    (replayed,) = tmp_path.glob("dead-letters.jsonl.replayed-*")
    assert sorted(line["event_id"] for line in read_dead_letters(replayed)) == sorted(event_ids)

    # WHEN it is replayed again
    assert deadletter_main(command) == 0
    # THEN nothing more is sent
    assert sorted(stored_event_ids(kinesis, stream)) == sorted(event_ids)


def test_a_replay_sends_only_what_was_parked_since_the_last_one(kinesis_endpoint, kinesis, make_stream, tmp_path):
    # GIVEN a dead-letter file that was replayed, then a producer that parks more events in it
    stream = make_stream(1)
    parked = tmp_path / "dead-letters.jsonl"
    command = ["replay", str(parked), "--stream", stream, "--endpoint-url", kinesis_endpoint, "--region", "us-east-1"]
    with FaultyKinesisProxy(kinesis_endpoint, seed=1, call_error=(400, "AccessDeniedException")) as proxy:
        producer = Producer(stream, endpoint_url=proxy.endpoint, region_name="us-east-1", dead_letter_path=str(parked))
        first = [producer.put(make_event(n)) for n in range(10)]
        assert producer.flush(timeout=10) == 0
        assert deadletter_main(command) == 0
        later = [producer.put(make_event(n)) for n in range(10, 15)]
        producer.close(timeout=10)
    # WHEN it is replayed again
    assert deadletter_main(command) == 0
    # THEN the stream holds each event once: the later ones were sent by the second replay only
    assert sorted(stored_event_ids(kinesis, stream)) == sorted(first + later)
    assert len(list(tmp_path.glob("dead-letters.jsonl.replayed-*"))) == 2


def stored_event_ids(kinesis: Any, stream: str) -> list[str]:
    return [json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)]


class ScriptedKinesis:
    """A Kinesis client double that reshards from 1 to 2 shards when told (``resharded``), the way
    real Kinesis then routes by hash key to the new open shards (moto keeps using the parent)."""

    HALF = 2**127

    def __init__(self) -> None:
        self.resharded = False
        self.list_calls = 0
        self.stored: list[tuple[str, dict[str, Any]]] = []

    def _shards(self) -> list[dict[str, Any]]:
        if not self.resharded:
            return [self._shard("shardId-0", 0, 2**128 - 1)]
        return [
            self._shard("shardId-0", 0, 2**128 - 1, closed=True),
            self._shard("shardId-1", 0, self.HALF - 1),
            self._shard("shardId-2", self.HALF, 2**128 - 1),
        ]

    @staticmethod
    def _shard(shard_id: str, start: int, end: int, closed: bool = False) -> dict[str, Any]:
        numbers = {"StartingSequenceNumber": "0", **({"EndingSequenceNumber": "9"} if closed else {})}
        return {
            "ShardId": shard_id,
            "HashKeyRange": {"StartingHashKey": str(start), "EndingHashKey": str(end)},
            "SequenceNumberRange": numbers,
        }

    def list_shards(self, **_: Any) -> dict[str, Any]:
        self.list_calls += 1
        return {"Shards": self._shards()}

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        results = []
        for entry in Records:
            key = int(entry["ExplicitHashKey"]) if "ExplicitHashKey" in entry else hash_key(entry["PartitionKey"])
            open_shards = [s for s in self._shards() if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
            shard = next(s for s in open_shards if int(s["HashKeyRange"]["EndingHashKey"]) >= key)
            self.stored.append((shard["ShardId"], entry))
            results.append({"ShardId": shard["ShardId"], "SequenceNumber": str(len(self.stored))})
        return {"FailedRecordCount": 0, "Records": results}


def test_aggregate_landing_on_an_unpredicted_shard_is_resent_after_refreshing_the_map():
    # GIVEN a stream that splits once the producer has delivered its first events (however many
    # calls that took: on a busy machine the linger can end mid-way)
    client = ScriptedKinesis()
    reports = Reports()
    producer = Producer("scripted", client=client, on_delivery=reports, linger_seconds=0.01)
    before_split = {producer.put(make_event(n)) for n in range(200)}
    assert producer.flush(10) == 0
    client.resharded = True
    after_split = {producer.put(make_event(n)) for n in range(200, 400)}
    # WHEN everything is delivered
    assert producer.close(10) == 0
    # THEN the wrong-shard aggregates were noticed, the map re-listed, and every event was reported
    # delivered on the shard whose range holds its partition key
    assert producer.metrics.snapshot()[m.WRONG_SHARD] > 0
    assert client.list_calls >= 2
    assert len(reports.items) == 400  # one report per event, even for the ones sent twice
    assert {report.event_id for report in reports.items} == before_split | after_split
    assert all(report.ok for report in reports.items)
    for report in reports.items:
        if report.event_id in before_split:
            assert report.shard_id == "shardId-0"
            continue
        child = "shardId-1" if hash_key(report.partition_key) < ScriptedKinesis.HALF else "shardId-2"
        assert report.shard_id == child
