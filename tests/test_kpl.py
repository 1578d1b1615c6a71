"""The hand-written KPL format is proven against aws-kinesis-agg, the reference implementation."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import deaggregate_records

from vedette.kpl import MAGIC, AggregateBuilder, deaggregate, encode_varint, is_aggregated


def _random_user_records(seed: int, count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    keys = [f"user-{rng.randrange(10**6)}" for _ in range(max(1, count // 3))] + ["ü-ñicode-key"]
    sizes = [0, 1, 127, 128, 300, 16_383, 16_384, 20_000]  # around the varint length boundaries
    return [(rng.choice(keys), rng.randbytes(rng.choice(sizes))) for _ in range(count)]


def _kinesis_event_record(data: bytes, partition_key: str) -> dict:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "approximateArrivalTimestamp": 1_700_000_000.0,
            "partitionKey": partition_key,
            "data": base64.b64encode(data),
        }
    }


@pytest.mark.parametrize("seed", range(6))
def test_aggregate_is_byte_identical_to_aws_kinesis_agg(seed):
    # GIVEN the same user records fed to aws-kinesis-agg and to our builder
    records = _random_user_records(seed, count=40)
    reference = RecordAggregator()
    builder = AggregateBuilder(max_bytes=1024 * 1024)
    for partition_key, data in records:
        assert reference.add_user_record(partition_key, data) is None
        assert builder.try_add(partition_key, data)
    reference_pk, _, reference_bytes = reference.clear_and_get().get_contents()
    # WHEN both serialize THEN the bytes are identical, and so is the outer partition key
    ours = builder.build()
    assert ours == reference_bytes
    assert builder.partition_key == reference_pk
    # AND the builder knew the exact Kinesis record size (data plus partition key) in advance
    assert builder.size == len(ours) + len(builder.partition_key.encode())


def test_aws_kinesis_agg_deaggregates_our_output_to_the_same_user_records():
    records = _random_user_records(7, count=60)
    builder = AggregateBuilder(max_bytes=1024 * 1024)
    for partition_key, data in records:
        builder.try_add(partition_key, data)
    user_records = deaggregate_records([_kinesis_event_record(builder.build(), builder.partition_key)])
    assert [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in user_records] == records
    assert [r["kinesis"]["subSequenceNumber"] for r in user_records] == list(range(len(records)))


def test_our_deaggregation_reads_aws_kinesis_agg_output():
    records = _random_user_records(8, count=60)
    reference = RecordAggregator()
    for partition_key, data in records:
        reference.add_user_record(partition_key, data, explicit_hash_key="12345")
    pk, ehk, data = reference.clear_and_get().get_contents()
    user_records = deaggregate(data, pk, ehk)
    assert [(r.partition_key, r.data) for r in user_records] == records
    assert {r.explicit_hash_key for r in user_records} == {"12345"}
    assert [r.sub_sequence_number for r in user_records] == list(range(len(records)))


def _framed(body: bytes) -> bytes:
    import hashlib

    return MAGIC + body + hashlib.md5(body).digest()


def _length_delimited(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + encode_varint(len(payload)) + payload


@pytest.mark.parametrize(
    "layout",
    ["many keys", "tags on a record", "unknown field", "records before the key table", "wide key index varint"],
)
def test_layouts_beyond_the_common_one_read_the_same(layout):
    # GIVEN valid AggregatedRecord bodies that the fast path does not take (other writers may produce
    # them): 200 keys (two-byte indexes), Record.tags, an unknown field, fields out of order
    if layout == "many keys":
        records = [(f"user-{n}", f"event-{n}".encode()) for n in range(200)]
        builder = AggregateBuilder(max_bytes=1024 * 1024)
        for key, data in records:
            builder.try_add(key, data)
        data = builder.build()
    else:
        tag = _length_delimited(0x22, _length_delimited(0x0A, b"k") + _length_delimited(0x12, b"v"))
        record = b"\x08\x00" + _length_delimited(0x1A, b"event-0")
        if layout == "tags on a record":
            record += tag
        if layout == "wide key index varint":
            record = b"\x08\x80\x00" + _length_delimited(0x1A, b"event-0")  # 0 written in two bytes
        key_table = _length_delimited(0x0A, b"user-0")
        body = key_table + _length_delimited(0x1A, record)
        if layout == "unknown field":
            body += b"\x28\x07"  # field 5, varint
        if layout == "records before the key table":
            body = _length_delimited(0x1A, record) + key_table
        data = _framed(body)
        records = [("user-0", b"event-0")]
    # THEN deaggregation reads them, and agrees with aws-kinesis-agg
    ours = [(r.partition_key, r.data) for r in deaggregate(data, "outer")]
    reference = deaggregate_records([_kinesis_event_record(data, "outer")])
    assert ours == records
    assert ours == [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in reference]


def test_plain_and_digest_mismatch_records_pass_through_whole():
    plain = b'{"event_type":"page_view"}'
    assert deaggregate(plain, "pk") == [deaggregate(plain, "pk")[0]]
    assert deaggregate(plain, "pk")[0].data == plain
    assert deaggregate(plain, "pk")[0].sub_sequence_number is None
    builder = AggregateBuilder()
    builder.try_add("a", b"x")
    builder.try_add("b", b"y")
    tampered = builder.build()[:-1] + b"\x00"
    assert not is_aggregated(tampered)
    assert deaggregate(tampered, "a")[0].data == tampered  # as the KCL and aws-kinesis-agg do


def test_corrupt_body_with_valid_digest_raises():
    import hashlib

    body = b"\x1a\x05\x08\x00\x1a\x09ab"  # data length runs past the record
    corrupt = MAGIC + body + hashlib.md5(body).digest()
    with pytest.raises(ValueError, match="runs past"):
        deaggregate(corrupt, "pk")


def test_builder_never_exceeds_its_budget():
    # GIVEN many records of varied size and a small budget
    rng = random.Random(3)
    budget = 51_200
    builder = AggregateBuilder(budget)
    closed = []
    for index in range(5_000):
        key, data = f"user-{index % 300}", rng.randbytes(rng.randrange(50, 2_000))
        if not builder.try_add(key, data):
            closed.append(builder)
            builder = AggregateBuilder(budget)
            assert builder.try_add(key, data)
    # THEN each closed aggregate is within budget and full to within one record
    for full in closed:
        size = len(full.build()) + len(full.partition_key.encode())
        assert size == full.size <= budget
        assert size > budget - 2_100


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16_383, 16_384, 2**21, 2**64 - 1])
def test_varint_matches_protobuf(value):
    from google.protobuf.internal.encoder import _VarintBytes

    assert encode_varint(value) == _VarintBytes(value)


def test_an_empty_aggregate_and_a_lone_record_over_budget():
    assert AggregateBuilder().build() == MAGIC + hashlib.md5(b"").digest()
    builder = AggregateBuilder(max_bytes=10)  # a record over budget still goes, alone
    assert builder.try_add("ü", b"x" * 100)
    assert not builder.try_add("ü", b"y")
    assert (builder.count, builder.partition_key) == (1, "ü")
    assert builder.size == len(builder.build()) + len("ü".encode())


def test_the_builder_refuses_a_key_that_is_not_valid_utf8():
    builder = AggregateBuilder()
    with pytest.raises(UnicodeEncodeError):
        builder.try_add("\ud800", b"x")
    assert (builder.count, builder.size) == (0, 0)
