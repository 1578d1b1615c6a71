"""What each state item has applied, kept on the item itself, so a retried batch applies nothing twice.

The scorer writes every state item (a user's, a shard's part of an address's, an entity's episode)
on its own: DynamoDB's
``BatchWriteItem`` takes no conditions and is not atomic, and transactions cost two write units per
item on the items that are 96 % of the pipeline's cost (docs/capacity.md). A batch that fails half
way is retried by Lambda from its checkpoint, and finds some items written and others not; so each
item says for itself which records it has applied:

- ``applied`` (B): per shard, the sequence number of the last Kinesis record whose events the item
  has applied. The scorer applies a shard's events to an item in sequence order (``scorer.batch``
  keeps to that), so a record at or before the item's position for its shard is applied. A user is
  written from one shard (the partition key is the user), and so is a shard's part of an address
  (``scorer.ip_slices``: one position); an episode's item may be written by several shards, so it
  keeps the positions of the ``MAX_IP_SHARD_POSITIONS`` shards that wrote it last (as an address's
  one item did in the releases before the parts).
- ``seen`` (B), on users: 64-bit hashes of the user's last ``MAX_SEEN_EVENT_IDS`` event ids, so a
  producer's duplicate (the same ``event_id`` sent again) arriving in a later batch is dropped.

Both are sized to keep the largest item of each kind within one write unit (1 KB; the tests
compute it): a position is 33 bytes (an 8-byte hash of the shard id, a length byte, the sequence
number as a big-endian integer: Kinesis sequence numbers are 56 digits, 24 bytes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SHARD_TAG_BYTES = 8
# Users: one shard writes a user (the partition key is the user); two positions cover a reshard's
# parent and child.
MAX_USER_SHARD_POSITIONS = 2
# Episodes (and an address's one item in the releases before its parts, still read): the shards that
# wrote the item last. A retry comes seconds after its failed attempt; twelve other shards writing
# the same item in between would evict its position (and the retry would apply that shard's events
# to the item again). An episode is a user's or a session's, which one shard holds but for a
# reshard's parent and child.
MAX_IP_SHARD_POSITIONS = 12
# The user's recent event ids kept for de-duplication across batches, 8 bytes each.
MAX_SEEN_EVENT_IDS = 16
SEEN_HASH_BYTES = 8

Positions = dict[bytes, int]  # shard tag -> last applied sequence number, oldest write first


def shard_tag(shard_id: str) -> bytes:
    """The 8 bytes a shard is known by in an item's positions."""
    return hashlib.blake2b(shard_id.encode(), digest_size=SHARD_TAG_BYTES).digest()


def parse_positions(applied: bytes) -> Positions:
    """The positions stored in an item's ``applied``."""
    positions: Positions = {}
    offset = 0
    while offset + SHARD_TAG_BYTES < len(applied):
        tag = applied[offset : offset + SHARD_TAG_BYTES]
        size = applied[offset + SHARD_TAG_BYTES]
        start = offset + SHARD_TAG_BYTES + 1
        positions[tag] = int.from_bytes(applied[start : start + size], "big")
        offset = start + size
    return positions


def advanced(applied: bytes, tag: bytes, sequence_number: int, keep: int) -> bytes:
    """An item's ``applied`` with the shard's position moved to ``sequence_number`` (never back) and
    made the newest, keeping the ``keep`` newest shards."""
    entry = _encoded(tag, sequence_number)
    if not applied:
        return entry
    if len(applied) == SHARD_TAG_BYTES + 1 + applied[SHARD_TAG_BYTES] and applied.startswith(tag):
        # Most items hold this shard's position alone: no need to decode the rest.
        return entry if sequence_number > int.from_bytes(applied[SHARD_TAG_BYTES + 1 :], "big") else applied
    positions = parse_positions(applied)
    previous = positions.pop(tag, -1)
    positions[tag] = max(previous, sequence_number)
    return b"".join(_encoded(shard, number) for shard, number in list(positions.items())[-keep:])


def _encoded(tag: bytes, sequence_number: int) -> bytes:
    size = (sequence_number.bit_length() + 7) // 8 or 1
    return tag + bytes([size]) + sequence_number.to_bytes(size, "big")


def legacy_applied(applied_through: str) -> bytes:
    """``applied`` for an item written by an earlier release, which kept one position as
    ``applied_through`` (``<shard>:<sequence number>``)."""
    shard, _, number = applied_through.rpartition(":")
    return advanced(b"", shard_tag(shard), int(number), 1)


def event_id_hash(event_id: str) -> bytes:
    """The 64-bit hash of an event id kept in its user's ``seen`` window."""
    return hashlib.blake2b(event_id.encode(), digest_size=SEEN_HASH_BYTES).digest()


def seen_hashes(seen: bytes) -> set[bytes]:
    return {seen[start : start + SEEN_HASH_BYTES] for start in range(0, len(seen), SEEN_HASH_BYTES)}


def remember_seen(seen: bytes, event_ids: Iterable[str]) -> bytes:
    """``seen`` with the hashes of ``event_ids`` (oldest first) appended, keeping the newest
    ``MAX_SEEN_EVENT_IDS``."""
    newest = list(event_ids)[-MAX_SEEN_EVENT_IDS:]
    joined = seen + b"".join(event_id_hash(event_id) for event_id in newest)
    return joined[-MAX_SEEN_EVENT_IDS * SEEN_HASH_BYTES :]
