"""What a state item records of what it has applied: positions per shard and a user's recent event ids."""

from __future__ import annotations

from scorer.progress import (
    MAX_SEEN_EVENT_IDS,
    advanced,
    event_id_hash,
    legacy_applied,
    parse_positions,
    remember_seen,
    seen_hashes,
    shard_tag,
)

SHARD_A = shard_tag("shardId-000000000000")
SHARD_B = shard_tag("shardId-000000000001")
NUMBER = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000


def test_a_position_round_trips_and_never_moves_back():
    # GIVEN an item that applied shard A through NUMBER + 5
    applied = advanced(b"", SHARD_A, NUMBER + 5, keep=2)
    # WHEN a late attempt reports an earlier record, and another shard writes
    applied = advanced(applied, SHARD_A, NUMBER + 1, keep=2)
    applied = advanced(applied, SHARD_B, 7, keep=2)
    # THEN each shard keeps its own highest position
    assert parse_positions(applied) == {SHARD_A: NUMBER + 5, SHARD_B: 7}


def test_an_item_keeps_the_shards_that_wrote_it_last():
    # GIVEN an item keeping two shards, written by A, then B, then A again
    applied = b""
    for tag, number in ((SHARD_A, 1), (SHARD_B, 2), (SHARD_A, 3)):
        applied = advanced(applied, tag, number, keep=2)
    # WHEN a third shard writes it
    shard_c = shard_tag("shardId-000000000002")
    applied = advanced(applied, shard_c, 4, keep=2)
    # THEN the shard that wrote it longest ago (B) is forgotten, A is not
    assert parse_positions(applied) == {SHARD_A: 3, shard_c: 4}


def test_an_item_of_an_earlier_release_reads_as_one_position():
    # GIVEN the applied_through an earlier release wrote
    applied = legacy_applied(f"shardId-000000000000:{NUMBER}")
    # THEN it is the same position
    assert parse_positions(applied) == {SHARD_A: NUMBER}


def test_the_seen_window_keeps_the_newest_event_ids():
    # GIVEN a window filled past its size in two batches
    seen = remember_seen(b"", [f"id-{n}" for n in range(10)])
    seen = remember_seen(seen, [f"id-{n}" for n in range(10, 10 + MAX_SEEN_EVENT_IDS)])
    # THEN it holds the newest ids only
    hashes = seen_hashes(seen)
    assert len(hashes) == MAX_SEEN_EVENT_IDS
    assert event_id_hash(f"id-{9 + MAX_SEEN_EVENT_IDS}") in hashes
    assert event_id_hash("id-9") not in hashes
