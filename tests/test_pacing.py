"""The producer's per-shard pacing (vedette.pacing), on a clock the tests control."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from emulators.kinesis_limits import SlidingWindow, TokenBucket
from vedette.limits import KPL_AGGREGATION_MAX_BYTES, MIB, SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND
from vedette.pacing import PACING_SLICE_SECONDS, ShardBacklog, ShardPacer


def full_pacer(now: float = 0.0) -> ShardPacer:
    return ShardPacer(SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND, now)


def simulate_busy_shard(seed: int, max_latency: float, seconds: float = 30.0) -> list[tuple[float, int]]:
    """A shard that always has aggregates ready, sent as the pacer allows by up to four calls in
    flight, each answering after a random latency up to ``max_latency``; each entry arrives at a
    random moment between its hand-off and its answer. Returns (arrival, size) in arrival order."""
    rng = random.Random(seed)
    pacer = full_pacer()
    answers: list[tuple[float, float, int, int]] = []  # (answered at, handed at, bytes, records)
    arrivals: list[tuple[float, int]] = []
    now = 0.0
    while now < seconds:
        while answers and answers[0][0] <= now:
            answered_at, handed_at, sent, records = heapq.heappop(answers)
            pacer.answered(sent, records, sent, records, False, handed_at, answered_at)
        size = rng.randrange(20_000, KPL_AGGREGATION_MAX_BYTES + 1)
        wait = pacer.ready_in(size, 4 * KPL_AGGREGATION_MAX_BYTES, 4, now)
        if wait <= 0 and len(answers) < 4:
            latency = rng.uniform(0, max_latency)
            sizes = []
            while pacer.allows(size, now) and len(sizes) < 4:
                pacer.take(size)
                sizes.append(size)
                size = rng.randrange(20_000, KPL_AGGREGATION_MAX_BYTES + 1)
            arrivals.extend((rng.uniform(now, now + latency), sent) for sent in sizes)
            heapq.heappush(answers, (now + latency, now, sum(sizes), len(sizes)))
            continue
        # Next: an answer, or the moment the pacer has room (if a call could go then).
        candidates = [answers[0][0]] if answers else []
        if 0 < wait < math.inf:
            candidates.append(now + wait)
        now = min(candidates)
    return sorted(arrivals)


@pytest.mark.parametrize(("seed", "max_latency"), [(1, 0.0), (2, 0.05), (3, 0.3), (4, 1.5)])
def test_whatever_the_arrival_times_neither_meter_at_the_shard_refuses_anything(seed: int, max_latency: float) -> None:
    # GIVEN a shard kept busy through calls of random latency, arriving at random moments
    arrivals = simulate_busy_shard(seed, max_latency)
    # THEN a strict sliding window and a token bucket at the shard's limits both admit every entry
    window = SlidingWindow(SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND)
    bucket = TokenBucket(SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND)
    assert all(window.admit(size, at) for at, size in arrivals)
    assert all(bucket.admit(size, at) for at, size in arrivals)
    # AND the shard was kept busy: at least its limit less the calls' latency, less one aggregate
    sent = sum(size for _, size in arrivals)
    assert sent / 30 >= SHARD_WRITE_BYTES_PER_SECOND / (1 + max_latency) - KPL_AGGREGATION_MAX_BYTES


def test_a_busy_shard_is_sent_a_slice_at_a_time_not_a_seconds_worth() -> None:
    # GIVEN a pacer with a full bucket and an empty window
    pacer = full_pacer()
    # WHEN 10,000-byte records are taken for as long as it allows, at one instant
    taken = 0
    while pacer.allows(10_000, 0.0):
        pacer.take(10_000)
        taken += 10_000
    # THEN it gave one slice (a tenth of a second's worth), not the whole second's budget
    assert 0 < taken <= SHARD_WRITE_BYTES_PER_SECOND * PACING_SLICE_SECONDS
    # AND the next slice is due within the next tenth of a second, not now
    assert 0 < pacer.ready_in(10_000, 10 * 10_000, 10, 0.0) <= PACING_SLICE_SECONDS


def test_an_entry_counts_against_the_shard_until_a_second_after_its_call_answered() -> None:
    pacer = full_pacer()
    for at in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        assert pacer.allows(100_000, at)
        pacer.take(100_000)
    pacer.answered(1_000_000, 10, 1_000_000, 10, False, handed_at=0.0, answered_at=1.2)
    # Still within a second of the answer: the entries may have arrived as late as 1.2 s
    assert not pacer.allows(100_000, 2.1)
    assert pacer.ready_in(100_000, 100_000, 1, 2.1) == pytest.approx(0.1, abs=1e-5)
    assert pacer.allows(100_000, 2.21)


def test_unanswered_calls_hold_their_bytes_however_long_they_take() -> None:
    # GIVEN a shard's whole budget handed to calls that have not answered
    pacer = full_pacer()
    for at in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        assert pacer.allows(100_000, at)
        pacer.take(100_000)
    # THEN nothing more goes, however long it waits: only an answer can make room
    assert not pacer.allows(100_000, 5.0)
    assert pacer.ready_in(100_000, 100_000, 1, 5.0) == math.inf
    # AND entries the shard refused (throttled, nothing stored) leave the window with the answer
    pacer.answered(1_000_000, 10, 0, 0, True, handed_at=0.0, answered_at=5.0)
    assert pacer.allows(100_000, 5.0)


def test_throttles_lower_the_share_once_a_second_and_quiet_seconds_win_it_back() -> None:
    # GIVEN a pacer at its full share
    pacer = full_pacer()
    # WHEN a call comes back throttled, then another within the same second
    pacer.answered(0, 0, 0, 0, True, handed_at=0.0, answered_at=1.0)
    pacer.answered(0, 0, 0, 0, True, handed_at=1.0, answered_at=1.5)
    # THEN the share dropped once (one crowded second counts once)
    assert pacer.share == pytest.approx(0.8)
    # AND a throttle a second later lowers it again
    pacer.answered(0, 0, 0, 0, True, handed_at=2.0, answered_at=2.0)
    assert pacer.share == pytest.approx(0.64)
    # AND each second without a throttle wins back 5 % of the budget, up to all of it
    pacer.advance(4.0)
    assert pacer.share == pytest.approx(0.74)
    pacer.advance(60.0)
    assert pacer.share == 1.0
    # AND the share scales what the shard is sent and how fast its backlog drains
    pacer.answered(0, 0, 0, 0, True, handed_at=60.0, answered_at=60.0)
    assert pacer.budget_bytes == pytest.approx(0.8 * MIB)
    assert pacer.drain_bytes_per_second() < 0.8 * MIB  # the calls' latency costs too


def test_a_record_larger_than_the_budget_still_goes_alone() -> None:
    pacer = ShardPacer(0.5 * MIB, 500, now=0.0)
    assert pacer.allows(MIB - 100, 0.0)
    pacer.take(MIB - 100)
    assert not pacer.allows(1, 0.0)


def test_a_shard_backlog_refuses_what_it_could_not_drain_within_the_bound() -> None:
    backlog = ShardBacklog("shard-1")
    backlog.bytes_per_second, backlog.events_per_second = 1000.0, math.inf
    assert backlog.has_room(50_000, max_seconds=10)  # empty: takes any event, however large
    backlog.bytes, backlog.events = 9_500, 20
    assert backlog.has_room(500, max_seconds=10)
    assert not backlog.has_room(501, max_seconds=10)
    assert backlog.seconds_to_drain(501) == pytest.approx(10.001)
    backlog.events_per_second = 2.0  # one event a record: the record rate binds too
    assert not backlog.has_room(1, max_seconds=10)
