"""Training's user sample: bounded memory, whole users, the same users in every run."""

from __future__ import annotations

from collections import Counter

import pytest

from model.sampling import sample_users
from tests.model_factories import normal_traffic


def test_a_cap_keeps_whole_users_and_bounds_the_events() -> None:
    # GIVEN 200 users' traffic, and a cap at about a quarter of it
    events = normal_traffic(users=200, days=5)
    per_user = Counter(event["user_id"] for event in events)
    cap = len(events) // 4
    # WHEN it is sampled from a stream
    sample = sample_users(iter(events), cap)
    # THEN no more than the cap is kept, every kept user whole, in time order
    kept = Counter(event["user_id"] for _, _, event in sample.ordered)
    assert 0 < len(sample.ordered) <= cap
    assert all(count == per_user[user] for user, count in kept.items())
    assert [moment for moment, _, _ in sample.ordered] == sorted(moment for moment, _, _ in sample.ordered)
    assert sample.events_read == len(events)
    assert sample.users_kept == len(kept)
    assert 0.1 < sample.to_json(cap)["user_share"] < 0.3
    # AND the same users in another run over the same stream
    assert {event["user_id"] for _, _, event in sample_users(iter(events), cap).ordered} == set(kept)


def test_without_reaching_the_cap_every_event_is_kept() -> None:
    events = normal_traffic(users=20, days=2)
    sample = sample_users(events, len(events))
    assert len(sample.ordered) == len(events)
    assert sample.to_json(len(events))["user_share"] == 1.0
    with pytest.raises(ValueError, match="max_events"):
        sample_users(events, 0)


def test_memory_is_bounded_by_the_users_kept_not_the_users_read() -> None:
    import tracemalloc

    def one_event_users(count: int):  # type: ignore[no-untyped-def]
        for number in range(count):
            yield {"user_id": f"visitor-{number:07d}", "occurred_at": "2026-11-02T00:00:00.000000Z"}

    # GIVEN ten and a hundred times more one-event users than the cap
    peaks = []
    for count in (10_000, 100_000):
        tracemalloc.start()
        sample = sample_users(one_event_users(count), 1_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(sample.ordered) <= 1_000
    # THEN reading ten times more users costs well under ten times the memory
    assert peaks[1] < 3 * peaks[0]
