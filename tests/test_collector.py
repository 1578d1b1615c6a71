"""The producer's pure core: shard routing, per-shard aggregation, collection and rate limits."""

from __future__ import annotations

from vedette.collector import Collector, PendingRecord
from vedette.kpl import deaggregate
from vedette.limits import MAX_BYTES_PER_PUT, MAX_RECORDS_PER_PUT
from vedette.shards import Shard, ShardMap, hash_key


def shard_map(count: int) -> ShardMap:
    width = 2**128 // count
    return ShardMap(
        [Shard(f"shard-{i}", i * width, (i + 1) * width - 1 if i < count - 1 else 2**128 - 1) for i in range(count)]
    )


def collector(shards: int = 4, **overrides) -> Collector:
    settings = {
        "aggregate": True,
        "aggregation_max_bytes": 51_200,
        "max_records_per_put": MAX_RECORDS_PER_PUT,
        "max_bytes_per_put": MAX_BYTES_PER_PUT,
        "linger_seconds": 0.1,
        "rate_limit_percent": 1e9,
        "now": 0.0,
    } | overrides
    return Collector(shard_map(shards), **settings)


def record(number: int, size: int = 400, at: float = 0.0) -> PendingRecord:
    key = f"user-{number % 1000}"
    return PendingRecord(b"x" * size, key, hash_key(key), f"id-{number}", None, at, at + 30)


def test_aggregates_hold_only_keys_of_their_shard_and_carry_an_in_range_hash_key():
    core = collector(shards=4)
    for number in range(5_000):
        core.add(record(number))
    core.close_due(0.0, force=True)
    batch = core.take_batch(0.0)
    assert batch
    ranges = {shard.shard_id: (shard.starting_hash_key, shard.ending_hash_key) for shard in core.shard_map.shards}
    for kinesis_record in batch:
        low, high = ranges[kinesis_record.shard.shard_id]
        assert low <= int(kinesis_record.explicit_hash_key) <= high
        for user_record in deaggregate(kinesis_record.data, kinesis_record.partition_key):
            assert low <= hash_key(user_record.partition_key) <= high
        assert kinesis_record.size <= 51_200


def test_batches_respect_the_put_records_limits():
    # GIVEN more small unaggregated records than one call takes, and large ones worth over 5 MiB
    small = collector(aggregate=False)
    for number in range(1_200):
        small.add(record(number, size=100))
    assert small.should_send(0.0, force=False)  # a full call does not wait for the linger
    assert [len(small.take_batch(0.0)) for _ in range(3)] == [500, 500, 200]
    large = collector(aggregate=False)
    for number in range(12):
        large.add(record(number, size=900_000))
    sizes = [sum(r.size for r in large.take_batch(0.0)) for _ in range(3)]
    assert all(size <= MAX_BYTES_PER_PUT for size in sizes)
    assert sum(1 for size in sizes if size) == 3


def test_partial_aggregates_wait_for_the_linger_unless_flushed():
    core = collector()
    core.add(record(1, at=10.0))
    core.close_due(10.05, force=False)
    assert not core.should_send(10.05, force=False)
    assert core.next_deadline(10.05) == 10.1
    # (while a flush waits, the open aggregate is due at once: a sender that missed the flush's
    # wake-up must not sleep out the linger; with a 30 s linger, SIGTERM's flush timed out)
    assert core.next_deadline(10.05, force=True) == 10.05
    core.close_due(10.1, force=False)
    assert core.should_send(10.1, force=False)
    assert len(core.take_batch(10.1)) == 1
