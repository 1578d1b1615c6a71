"""Per-shard pacing: when the producer may send to a shard, and how fast a shard's backlog drains.

Kinesis throttles a shard that takes more than 1 MiB or 1,000 records within a second, counted
where the records arrive, by a meter AWS does not document (a sliding window and a token bucket
both fit what it says). The sender's clock cannot see arrivals: an entry handed to a call at ``t``
arrives somewhere between ``t`` and the call's answer. So ``ShardPacer`` counts every entry as
present at the shard from the moment it is handed to a call until one second after its answer, and
keeps what is present within the shard's budget. Whatever the arrival times turn out to be, no
second at the shard then holds more than the budget: a strict sliding window admits everything,
and so does a token bucket of one second's allowance (which is never stricter than the window).
The price is the call's latency: a busy shard sustains ``budget / (1 + latency)``.

Within that, a token bucket holding ``PACING_SLICE_SECONDS`` of the budget spreads the sends over
the second in small slices: a shard is never sent a whole second's worth at once, so an entry
refused anyway costs a slice, not a second.

When Kinesis throttles anyway (another producer writes to the same shard), the pacer lowers its
share of the budget: multiplicative decrease at most once a second, additive increase for every
second without a throttle, as TCP's congestion control does. Two producers sharing a stream so
converge to equal shares (Chiu and Jain, 1989); the KPL has a fixed rate limit instead.

``ShardBacklog`` is what a shard has accepted and not yet delivered: ``put`` refuses (or waits)
once that would take the shard longer than the configured bound to drain at the pacer's rate.
"""

from __future__ import annotations

import math
from collections import deque

# The span over which Kinesis's per-shard limits hold.
WINDOW_SECONDS = 1.0
# A shard's sends are spread in slices of this much of its budget: ten a second.
PACING_SLICE_SECONDS = 0.1
# Adaptive share of the budget (AIMD): on a throttle, keep this much of the share, at most once
# per second (one crowded second throttles several calls at once, and should count once) ...
THROTTLED_SHARE_FACTOR = 0.8
SHARE_ADJUST_SECONDS = 1.0
# ... and win back this much of the budget for each second without a throttle.
SHARE_RECOVERY_PER_SECOND = 0.05
# Never below this share, so that a shard keeps sending (and learning) under heavy contention.
MIN_SHARE = 0.05
# Added to the waits, so that rounding never lets an entry leave the window early or finds the
# bucket a byte short when the wait is over.
ROUNDING_SECONDS = 1e-6
# How long after its call's answer an entry still counts against its shard.
HOLD_SECONDS = WINDOW_SECONDS + ROUNDING_SECONDS
# Weight of the newest call in the smoothed latency.
LATENCY_SMOOTHING = 0.2


class ShardPacer:
    """How much one shard may be sent, and when (see the module's docstring)."""

    __slots__ = (
        "bytes_per_second",
        "decreased_at",
        "latency",
        "records_per_second",
        "refilled_at",
        "share",
        "share_changed_at",
        "stored",
        "stored_bytes",
        "stored_records",
        "tokens_bytes",
        "tokens_records",
        "unanswered_bytes",
        "unanswered_records",
    )

    def __init__(self, bytes_per_second: float, records_per_second: float, now: float) -> None:
        # The budget at a full share: the shard's limits times the producer's rate limit.
        self.bytes_per_second = bytes_per_second
        self.records_per_second = records_per_second
        self.share = 1.0
        # Since when the share has held (recovery counts from here), and when it was last lowered.
        self.share_changed_at = now
        self.decreased_at = -math.inf
        self.tokens_bytes = self.slice_bytes
        self.tokens_records = self.slice_records
        self.refilled_at = now
        # Handed to calls that have not answered yet: they may have arrived already.
        self.unanswered_bytes = 0
        self.unanswered_records = 0
        # (answered at, bytes, records) the shard stored, counted until a second after the answer.
        self.stored: deque[tuple[float, int, int]] = deque()
        self.stored_bytes = 0
        self.stored_records = 0
        self.latency = 0.0  # smoothed seconds from hand-off to answer

    @property
    def budget_bytes(self) -> float:
        return self.bytes_per_second * self.share

    @property
    def budget_records(self) -> float:
        return self.records_per_second * self.share

    @property
    def slice_bytes(self) -> float:
        return self.budget_bytes * PACING_SLICE_SECONDS

    @property
    def slice_records(self) -> float:
        return self.budget_records * PACING_SLICE_SECONDS

    def advance(self, now: float) -> None:
        """Bring the share, the slice bucket and the window up to ``now``."""
        if self.share < 1.0 and now - self.share_changed_at >= SHARE_ADJUST_SECONDS:
            seconds = math.floor((now - self.share_changed_at) / SHARE_ADJUST_SECONDS)
            self.share = min(1.0, self.share + SHARE_RECOVERY_PER_SECOND * seconds)
            self.share_changed_at += seconds * SHARE_ADJUST_SECONDS
        elapsed = now - self.refilled_at
        if elapsed > 0:
            self.tokens_bytes = min(self.slice_bytes, self.tokens_bytes + elapsed * self.budget_bytes)
            self.tokens_records = min(self.slice_records, self.tokens_records + elapsed * self.budget_records)
            self.refilled_at = now
        stored = self.stored
        # The same sum as _window_wait's, so that a wait of 0 there means expired here.
        while stored and stored[0][0] + HOLD_SECONDS <= now:
            _, size, records = stored.popleft()
            self.stored_bytes -= size
            self.stored_records -= records

    def allows(self, size: int, now: float) -> bool:
        """Whether a record of ``size`` bytes may be handed to a call now."""
        self.advance(now)
        return self._window_fits(size, self.stored_bytes, self.stored_records) and self._bucket_holds(size, 1)

    def take(self, size: int) -> None:
        """A record of ``size`` bytes was handed to a call (after ``allows``)."""
        self.tokens_bytes -= size
        self.tokens_records -= 1
        self.unanswered_bytes += size
        self.unanswered_records += 1

    def ready_in(self, head_size: int, want_bytes: float, want_records: float, now: float) -> float:
        """Seconds until the shard may be sent its next slice: ``head_size`` fits its window and its
        bucket holds ``want_bytes`` and ``want_records`` (or is full). ``math.inf`` while only a
        call's answer can make room (the answer wakes the sender)."""
        self.advance(now)
        window_wait = self._window_wait(head_size, now)
        if window_wait == math.inf:
            return window_wait
        if head_size > self.slice_bytes:
            want_bytes, want_records = math.inf, math.inf  # goes only from a full bucket
        target_bytes = min(max(want_bytes, head_size), self.slice_bytes)
        target_records = min(max(want_records, 1), self.slice_records)
        bucket_wait = max(
            (target_bytes - self.tokens_bytes) / self.budget_bytes,
            (target_records - self.tokens_records) / self.budget_records,
        )
        if bucket_wait > 0:
            bucket_wait += ROUNDING_SECONDS
        return max(window_wait, bucket_wait, 0.0)

    def answered(
        self,
        sent_bytes: int,
        sent_records: int,
        stored_bytes: int,
        stored_records: int,
        throttled: bool,
        handed_at: float,
        answered_at: float,
    ) -> None:
        """A call answered: of what it carried for this shard, the shard stored ``stored_*``."""
        self.advance(answered_at)
        self.unanswered_bytes -= sent_bytes
        self.unanswered_records -= sent_records
        if stored_records:
            # Answers reach the sender in about the order they came; keep the window in order.
            at = max(answered_at, self.stored[-1][0]) if self.stored else answered_at
            self.stored.append((at, stored_bytes, stored_records))
            self.stored_bytes += stored_bytes
            self.stored_records += stored_records
        self.latency += LATENCY_SMOOTHING * (answered_at - handed_at - self.latency)
        if throttled:
            # No recovery in a second with a throttle; a decrease at most once a second.
            self.share_changed_at = answered_at
            if answered_at - self.decreased_at >= SHARE_ADJUST_SECONDS:
                self.share = max(MIN_SHARE, self.share * THROTTLED_SHARE_FACTOR)
                self.decreased_at = answered_at
                self.tokens_bytes = min(self.tokens_bytes, self.slice_bytes)
                self.tokens_records = min(self.tokens_records, self.slice_records)

    def drain_bytes_per_second(self) -> float:
        """What the shard sustains now: its budget, less the time its calls take to answer."""
        return self.budget_bytes / (1 + self.latency)

    def drain_records_per_second(self) -> float:
        return self.budget_records / (1 + self.latency)

    def _window_fits(self, size: int, stored_bytes: int, stored_records: int) -> bool:
        present_records = self.unanswered_records + stored_records
        if not present_records:
            return True  # an empty window takes any record, so one larger than the budget still goes, alone
        return (
            self.unanswered_bytes + stored_bytes + size <= self.budget_bytes
            and present_records + 1 <= self.budget_records
        )

    def _window_wait(self, size: int, now: float) -> float:
        if self._window_fits(size, self.stored_bytes, self.stored_records):
            return 0.0
        stored_bytes, stored_records = self.stored_bytes, self.stored_records
        for answered_at, entry_bytes, entry_records in self.stored:
            stored_bytes -= entry_bytes
            stored_records -= entry_records
            if self._window_fits(size, stored_bytes, stored_records):
                return answered_at + HOLD_SECONDS - now
        return math.inf

    def _bucket_holds(self, size: int, records: int) -> bool:
        if self.tokens_bytes >= self.slice_bytes and self.tokens_records >= self.slice_records:
            return True  # a full bucket takes any record, however large
        return self.tokens_bytes >= size and self.tokens_records >= records


class ShardBacklog:
    """Events accepted for one shard and not yet delivered or failed, and the rate it drains at."""

    __slots__ = ("bytes", "bytes_per_second", "events", "events_per_second", "shard_id")

    def __init__(self, shard_id: str) -> None:
        self.shard_id = shard_id
        self.bytes = 0
        self.events = 0
        self.bytes_per_second = math.inf
        self.events_per_second = math.inf

    def has_room(self, size: int, max_seconds: float) -> bool:
        """Whether one more event of ``size`` bytes still drains within ``max_seconds``."""
        if not self.events:
            return True  # an empty backlog takes any event, so a shard is never closed for good
        return (
            self.bytes + size <= max_seconds * self.bytes_per_second
            and self.events + 1 <= max_seconds * self.events_per_second
        )

    def seconds_to_drain(self, size: int) -> float:
        """How long the backlog would take to drain with one more event of ``size`` bytes."""
        return max((self.bytes + size) / self.bytes_per_second, (self.events + 1) / self.events_per_second)
