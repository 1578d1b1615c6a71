"""The archive partitioner: Firehose's transformation contract for dynamic partitioning, answered
with the bucket of training's user hash."""

from __future__ import annotations

import base64
import importlib
from typing import Any

import pytest

from archive.layout import USER_HASH_LIMIT, user_hash_start_of_key
from archive_partitioner import handler
from model.sampling import user_hash
from tests.conftest import make_event
from vedette.events import encode_event, normalize_event


def invocation(payloads: list[bytes]) -> dict[str, Any]:
    """What Firehose sends a transformation Lambda (records already split from KPL aggregates)."""
    return {
        "invocationId": "6f8d1b6e-0000-4000-8000-000000000001",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/vedette-archive",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/vedette-events",
        "region": "us-east-1",
        "records": [
            {
                "recordId": f"4960{number:04d}",
                "approximateArrivalTimestamp": 1_793_000_000_000 + number,
                "data": base64.b64encode(payload).decode(),
            }
            for number, payload in enumerate(payloads)
        ],
    }


def test_every_event_comes_back_unchanged_with_its_users_bucket() -> None:
    # GIVEN Firehose's invocation with 200 events of 40 users
    events = [normalize_event(make_event(number, user_id=f"user-{number % 40}")) for number in range(200)]
    sent = invocation([encode_event(event) for event in events])
    # WHEN the partitioner answers for 16 buckets
    answer = handler.handle(sent, 16)
    # THEN each record is Ok, in order, with its id and the very data it came with
    assert [record["recordId"] for record in answer["records"]] == [record["recordId"] for record in sent["records"]]
    assert all(record["result"] == "Ok" for record in answer["records"])
    assert [record["data"] for record in answer["records"]] == [record["data"] for record in sent["records"]]
    # AND its partition key is the first hash of the sixteenth of the hash range its user's hash is in
    width = USER_HASH_LIMIT // 16
    for event, record in zip(events, answer["records"], strict=True):
        value = record["metadata"]["partitionKeys"]["user_hash"]
        assert len(value) == 10
        assert value.isdigit()
        assert int(value) % width == 0
        assert int(value) <= user_hash(event) < int(value) + width
    # AND the folder it names reads back as that start
    first = answer["records"][0]["metadata"]["partitionKeys"]["user_hash"]
    assert user_hash_start_of_key(f"events/2026/11/02/09/user_hash={first}/name.gz") == int(first)
    # AND 40 users spread over more than one bucket
    assert len({record["metadata"]["partitionKeys"]["user_hash"] for record in answer["records"]}) > 4


@pytest.mark.parametrize(
    "payload",
    [b"not json", b'{"event_type": "login_succeeded"}', b"[1, 2]", b""],
    ids=["not-json", "missing-fields", "not-an-object", "empty"],
)
def test_a_record_that_is_not_an_event_fails_processing_and_keeps_its_bytes(payload: bytes) -> None:
    # GIVEN a valid event beside one that is not
    good = encode_event(normalize_event(make_event(1)))
    sent = invocation([good, payload])
    # WHEN the partitioner answers
    good_answer, bad_answer = handler.handle(sent, 8)["records"]
    # THEN the bad one is ProcessingFailed, with its bytes as they came (Firehose writes them under
    # the error prefix) and no partition key, and the good one is unaffected
    assert bad_answer == {"recordId": sent["records"][1]["recordId"], "data": sent["records"][1]["data"],
                          "result": "ProcessingFailed"}  # fmt: skip
    assert good_answer["result"] == "Ok"


def test_data_that_is_not_base64_fails_processing() -> None:
    sent = invocation([b"x"])
    sent["records"][0]["data"] = "%%% not base64 %%%"
    assert handler.handle(sent, 8)["records"][0]["result"] == "ProcessingFailed"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3", "power of two"),
        ("4096", "power of two from 2 to 2048"),
        ("-2", "power of two"),
        ("many", "must be an integer, got 'many'"),
        ("0", "time-only layout"),
    ],
)
def test_a_bad_bucket_count_names_the_variable(text: str, reason: str) -> None:
    with pytest.raises(handler.PartitionerSettingError, match=f"VEDETTE_USER_HASH_BUCKETS: .*{reason}"):
        handler.buckets_from({handler.BUCKETS_VARIABLE: text})


def test_the_entry_point_reads_the_bucket_count_from_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = invocation([encode_event(normalize_event(make_event(1)))])
    try:
        # GIVEN the function deployed with 4 buckets, WHEN Firehose invokes it, THEN it partitions in 4
        monkeypatch.setenv(handler.BUCKETS_VARIABLE, "4")
        deployed = importlib.reload(handler)
        key = deployed.lambda_handler(sent, None)["records"][0]["metadata"]["partitionKeys"]["user_hash"]
        assert int(key) % (USER_HASH_LIMIT // 4) == 0
        # AND without the variable every invocation fails, saying what to set
        monkeypatch.delenv(handler.BUCKETS_VARIABLE)
        unset = importlib.reload(handler)
        with pytest.raises(unset.PartitionerSettingError, match="VEDETTE_USER_HASH_BUCKETS is not set"):
            unset.lambda_handler(sent, None)
    finally:
        monkeypatch.delenv(handler.BUCKETS_VARIABLE, raising=False)
        importlib.reload(handler)
