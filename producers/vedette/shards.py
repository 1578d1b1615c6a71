"""Which open shard a partition key lands on, from the stream's hash key ranges."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from typing import Any


def hash_key(partition_key: str) -> int:
    """Kinesis's hash of a partition key: MD5 of its UTF-8 bytes as an unsigned 128-bit integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


# Partition keys are user ids, which repeat; a bounded memo saves the MD5 on every put.
HASH_KEY_MEMO: dict[str, int] = {}
_HASH_KEY_MEMO_SIZE = 100_000


def cached_hash_key(partition_key: str) -> int:
    """``hash_key`` with a bounded memo (cleared whole when full; safe to share across threads)."""
    key = HASH_KEY_MEMO.get(partition_key)
    if key is None:
        if len(HASH_KEY_MEMO) >= _HASH_KEY_MEMO_SIZE:
            HASH_KEY_MEMO.clear()
        key = HASH_KEY_MEMO[partition_key] = hash_key(partition_key)
    return key


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    starting_hash_key: int
    ending_hash_key: int

    @property
    def explicit_hash_key(self) -> str:
        """A hash key inside this shard's range: aggregates sent with it land on this shard."""
        return str(self.starting_hash_key)


class ShardMap:
    """The stream's open shards ordered by hash key range, for routing records to shards."""

    def __init__(self, shards: list[Shard]) -> None:
        if not shards:
            raise ValueError("a stream has at least one open shard")
        self.shards = sorted(shards, key=lambda shard: shard.starting_hash_key)
        self._starts = [shard.starting_hash_key for shard in self.shards]
        self.by_id = {shard.shard_id: shard for shard in self.shards}

    def shard_for(self, key: int) -> Shard:
        """The open shard whose range holds ``key``."""
        return self.shards[bisect.bisect_right(self._starts, key) - 1]

    @classmethod
    def from_list_shards(cls, pages: list[dict[str, Any]]) -> ShardMap:
        """Build from ListShards responses, keeping only open shards (no ending sequence number)."""
        shards = [
            Shard(
                item["ShardId"],
                int(item["HashKeyRange"]["StartingHashKey"]),
                int(item["HashKeyRange"]["EndingHashKey"]),
            )
            for page in pages
            for item in page["Shards"]
            if "EndingSequenceNumber" not in item["SequenceNumberRange"]
        ]
        return cls(shards)


def fetch_shard_map(client: Any, stream_name: str | None = None, stream_arn: str | None = None) -> ShardMap:
    """List the stream's shards (all pages) and return the map of the open ones."""
    request: dict[str, Any] = {"StreamARN": stream_arn} if stream_arn else {"StreamName": stream_name}
    pages = []
    while True:
        page = client.list_shards(**request)
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return ShardMap.from_list_shards(pages)
        # ListShards rejects the stream name alongside a continuation token.
        request = {"NextToken": token}
