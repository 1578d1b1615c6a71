"""Routing, aggregation and collection: the producer's pure core.

User records are routed to the open shard their partition key hashes to, aggregated per shard (so
every aggregate carries an ``ExplicitHashKey`` inside that shard's range and the KCL never drops a
user record for landing on the wrong shard), and collected into PutRecords batches within the
service limits and each shard's pace (``vedette.pacing``). Nothing here does I/O or locking: the
producer's sender thread owns one ``Collector``, and the encode benchmark drives the same object
without a network.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec

from vedette.kpl import AggregateBuilder
from vedette.limits import (
    SHARD_WRITE_BYTES_PER_SECOND,
    SHARD_WRITE_RECORDS_PER_SECOND,
)
from vedette.pacing import ShardPacer
from vedette.shards import Shard, ShardMap


class PendingRecord(msgspec.Struct, gc=False, eq=False):
    """A user record accepted by ``put`` and not yet delivered or failed.

    A msgspec Struct without garbage-collector tracking: a busy producer buffers tens of thousands
    of these, and as tracked objects every collection walked them all (``make bench``
    producer_encode: the aggregation step took about 4.4 µs an event with tracked records, 2.6
    without). Safe because a record never refers back to itself: its fields are bytes, text,
    numbers and the caller's callback, which never receives the record. ``eq=False`` keeps identity
    comparison.
    """

    data: bytes
    partition_key: str
    hash_key: int
    event_id: str
    callback: Callable[..., None] | None
    enqueued_at: float
    deadline: float
    attempts: int = 0
    last_error: str = ""
    # Where the durable spool holds the event (vedette.spool); -1 without a spool.
    spool_position: int = -1
    # The shard whose backlog counts the event (the producer's per-shard bound); "" for none.
    backlog_shard: str = ""


class KinesisRecord:
    """One PutRecords entry: an aggregate of user records, or a lone user record sent as is."""

    __slots__ = ("data", "explicit_hash_key", "members", "partition_key", "ready_since", "shard", "size")

    def __init__(
        self,
        shard: Shard,
        partition_key: str,
        explicit_hash_key: str | None,
        data: bytes,
        members: list[PendingRecord],
        ready_since: float,
    ) -> None:
        self.shard = shard
        self.partition_key = partition_key
        self.explicit_hash_key = explicit_hash_key
        self.data = data
        self.members = members
        # Kinesis counts the partition key toward record size and shard throughput.
        self.size = len(data) + len(partition_key.encode())
        self.ready_since = ready_since

    @property
    def aggregated(self) -> bool:
        return self.explicit_hash_key is not None

    def entry(self) -> dict[str, Any]:
        """The PutRecords request entry."""
        if self.explicit_hash_key is None:
            return {"Data": self.data, "PartitionKey": self.partition_key}
        return {"Data": self.data, "PartitionKey": self.partition_key, "ExplicitHashKey": self.explicit_hash_key}


class _OpenAggregate:
    __slots__ = ("builder", "members", "opened_at")

    def __init__(self, max_bytes: int, opened_at: float) -> None:
        self.builder = AggregateBuilder(max_bytes)
        self.members: list[PendingRecord] = []
        self.opened_at = opened_at


class Collector:
    """Routes user records to shards, aggregates them, and hands out paced PutRecords batches."""

    def __init__(
        self,
        shard_map: ShardMap,
        *,
        aggregate: bool,
        aggregation_max_bytes: int,
        max_records_per_put: int,
        max_bytes_per_put: int,
        linger_seconds: float,
        rate_limit_percent: float,
        now: float,
    ) -> None:
        self.shard_map = shard_map
        self._shards = shard_map.shards
        self._starts = [shard.starting_hash_key for shard in shard_map.shards]
        self.aggregate = aggregate
        self.aggregation_max_bytes = aggregation_max_bytes
        self.max_records_per_put = max_records_per_put
        self.max_bytes_per_put = max_bytes_per_put
        self.linger_seconds = linger_seconds
        self.rate_limit_percent = rate_limit_percent
        self._open: dict[str, _OpenAggregate] = {}
        self._ready: dict[str, deque[KinesisRecord]] = {shard.shard_id: deque() for shard in shard_map.shards}
        self._ready_bytes: dict[str, int] = dict.fromkeys(self._ready, 0)
        self.pacers = {
            shard.shard_id: ShardPacer(
                SHARD_WRITE_BYTES_PER_SECOND * rate_limit_percent / 100,
                SHARD_WRITE_RECORDS_PER_SECOND * rate_limit_percent / 100,
                now,
            )
            for shard in shard_map.shards
        }
        self.ready_records = 0
        self.ready_bytes = 0
        self._rotation = 0

    def add(self, record: PendingRecord) -> None:
        """Route one user record to its shard's open aggregate, closing the aggregate when full."""
        # ShardMap.shard_for, inlined: this runs once per event.
        shard = self._shards[bisect_right(self._starts, record.hash_key) - 1]
        shard_id = shard.shard_id
        open_aggregate = self._open.get(shard_id)
        if open_aggregate is None or not open_aggregate.builder.try_add(record.partition_key, record.data):
            if open_aggregate is not None:
                self._close(shard, open_aggregate)
            open_aggregate = self._open[shard_id] = _OpenAggregate(self.aggregation_max_bytes, record.enqueued_at)
            open_aggregate.builder.try_add(record.partition_key, record.data)  # an empty builder takes any
        open_aggregate.members.append(record)
        if not self.aggregate:
            self._close(shard, open_aggregate)

    def _close(self, shard: Shard, open_aggregate: _OpenAggregate) -> None:
        members = open_aggregate.members
        if len(members) == 1:
            # A lone record goes as is: no framing bytes, and it hashes by its own key.
            only = members[0]
            record = KinesisRecord(shard, only.partition_key, None, only.data, members, open_aggregate.opened_at)
        else:
            builder = open_aggregate.builder
            record = KinesisRecord(
                shard,
                builder.partition_key,
                shard.explicit_hash_key,
                builder.build(),
                members,
                open_aggregate.opened_at,
            )
        self._ready[shard.shard_id].append(record)
        self._ready_bytes[shard.shard_id] += record.size
        self.ready_records += 1
        self.ready_bytes += record.size
        del self._open[shard.shard_id]

    def close_due(self, now: float, force: bool) -> None:
        """Close the aggregates whose oldest record has lingered long enough (all of them if forced)."""
        horizon = now - self.linger_seconds
        for shard_id, open_aggregate in list(self._open.items()):
            if force or open_aggregate.opened_at <= horizon:
                self._close(self.shard_map.by_id[shard_id], open_aggregate)

    def requeue(self, record: KinesisRecord) -> None:
        """Put a record that must be retried as is at the head of its shard's queue."""
        shard_id = record.shard.shard_id
        queue = self._ready.get(shard_id)
        if queue is None:
            raise KeyError(shard_id)
        queue.appendleft(record)
        self._ready_bytes[shard_id] += record.size
        self.ready_records += 1
        self.ready_bytes += record.size

    def _shard_waits(self, shard_id: str, now: float, force: bool) -> tuple[float, float]:
        """Seconds until the shard's pacer has room for a slice (or for all it holds, if less), and
        until its records have lingered enough (0 once it holds a slice, or if forced)."""
        queue = self._ready[shard_id]
        head = queue[0]
        pacer = self.pacers[shard_id]
        queued_bytes = self._ready_bytes[shard_id]
        slice_bytes = min(pacer.slice_bytes, self.max_bytes_per_put)
        slice_records = min(pacer.slice_records, self.max_records_per_put)
        pace_wait = pacer.ready_in(head.size, min(queued_bytes, slice_bytes), min(len(queue), slice_records), now)
        holds_a_slice = queued_bytes >= slice_bytes or len(queue) >= slice_records
        linger_wait = 0.0 if force or holds_a_slice else head.ready_since + self.linger_seconds - now
        return pace_wait, linger_wait

    def should_send(self, now: float, force: bool) -> bool:
        """KPL collection, per shard and paced: send when a shard's pacer has room for its slice and
        its records have lingered (or make a slice), or when the shards with room hold a full call."""
        if not self.ready_records:
            return False
        paced_records = paced_bytes = 0
        for shard_id, queue in self._ready.items():
            if not queue:
                continue
            pace_wait, linger_wait = self._shard_waits(shard_id, now, force)
            if pace_wait <= 0:
                if linger_wait <= 0:
                    return True
                paced_records += len(queue)
                paced_bytes += self._ready_bytes[shard_id]
        return paced_records >= self.max_records_per_put or paced_bytes >= self.max_bytes_per_put

    def take_batch(self, now: float) -> list[KinesisRecord]:
        """Up to one PutRecords call of ready records, round-robin over shards, each within its pace.

        Every shard gives what its pacer allows, due or not: the shards' slices then refill
        together, and the next call carries a slice for each of them."""
        batch: list[KinesisRecord] = []
        batch_bytes = 0
        shard_ids = list(self._ready)
        start = self._rotation % len(shard_ids)
        self._rotation += 1
        progress = True
        while progress and len(batch) < self.max_records_per_put:
            progress = False
            for shard_id in shard_ids[start:] + shard_ids[:start]:
                queue = self._ready[shard_id]
                if not queue:
                    continue
                head = queue[0]
                pacer = self.pacers[shard_id]
                if batch_bytes + head.size > self.max_bytes_per_put or not pacer.allows(head.size, now):
                    continue
                queue.popleft()
                pacer.take(head.size)
                batch.append(head)
                batch_bytes += head.size
                self._ready_bytes[shard_id] -= head.size
                self.ready_records -= 1
                self.ready_bytes -= head.size
                progress = True
                if len(batch) >= self.max_records_per_put:
                    break
        return batch

    def knows(self, shard: Shard) -> bool:
        """Whether ``shard`` is an open shard of this collector's map."""
        return shard.shard_id in self.pacers

    def next_deadline(self, now: float, force: bool = False) -> float | None:
        """When something becomes due: an aggregate's linger, or a shard's slice (see ``_shard_waits``);
        None when nothing is, or only a call's answer can make room."""
        # Forced (a flush or close waits), open aggregates are due now: the flush's wake-up may have
        # come while the sender was busy, and it must not then sleep out the linger.
        deadlines = [
            now if force else open_aggregate.opened_at + self.linger_seconds for open_aggregate in self._open.values()
        ]
        for shard_id, queue in self._ready.items():
            if queue:
                wait = max(self._shard_waits(shard_id, now, force))
                if wait != math.inf:
                    deadlines.append(now + wait)
        return min(deadlines) if deadlines else None

    def drain(self) -> list[PendingRecord]:
        """Remove every user record not yet handed out (for a shard map change or close)."""
        records = [record for open_aggregate in self._open.values() for record in open_aggregate.members]
        for shard_id, queue in self._ready.items():
            for kinesis_record in queue:
                records.extend(kinesis_record.members)
            queue.clear()
            self._ready_bytes[shard_id] = 0
        self._open.clear()
        self.ready_records = 0
        self.ready_bytes = 0
        return records

    @property
    def has_pending(self) -> bool:
        return bool(self._open) or self.ready_records > 0
