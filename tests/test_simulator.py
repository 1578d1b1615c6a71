"""The simulator: deterministic, labeled, realistic, and every event in the contract."""

from __future__ import annotations

import itertools
import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from traffic import SCENARIO_NAMES, LabeledEvent, Simulator
from traffic.exceptions import SimulationConfigError
from traffic.geo import country_of, distance_km
from vedette.events import FIELDS, encode_event, normalize_event, parse_timestamp

COUNT = 20_000


@cache
def run(seed: int = 11, share: float = 0.03, count: int = COUNT) -> tuple[Simulator, tuple[LabeledEvent, ...]]:
    simulator = Simulator(seed=seed, users=800, attack_share=share)
    return simulator, tuple(simulator.events(count=count))


def test_same_seed_gives_the_same_events_and_episodes() -> None:
    _, first = run()
    again = Simulator(seed=11, users=800, attack_share=0.03)
    second = list(again.events(count=COUNT))
    assert list(first) == second
    assert [e.to_json() for e in again.episodes] == [e.to_json() for e in run()[0].episodes]
    _, other = run(seed=12)
    assert [e.event["event_id"] for e in other[:100]] != [e.event["event_id"] for e in first[:100]]


def test_every_event_is_in_the_contract_and_in_time_order() -> None:
    _, labeled = run()
    assert len(labeled) == COUNT
    times = [item.event["occurred_at"] for item in labeled]
    assert times == sorted(times)
    for item in labeled:
        assert tuple(item.event) == FIELDS
        assert normalize_event(item.event) == item.event
        encode_event(item.event)
    assert len({item.event["event_id"] for item in labeled}) == COUNT
    for item in labeled[:1000]:
        identifier = uuid.UUID(item.event["event_id"])
        assert (identifier.version, identifier.variant) == (4, uuid.RFC_4122)


@pytest.mark.parametrize("share", [0.01, 0.03])
def test_attack_share_matches_the_setting_and_every_scenario_appears(share: float) -> None:
    simulator, labeled = run(share=share)
    labels = [item.label for item in labeled if item.label is not None]
    assert abs(len(labels) / COUNT - share) <= share * 0.2
    assert set(label.scenario for label in labels) == set(SCENARIO_NAMES)
    # Labels travel beside events: no field or property names the scenario.
    for item in labeled:
        assert "scenario" not in item.event["properties"]
        assert "episode" not in str(item.event["properties"])
    # Episode metadata agrees with the labels it produced.
    per_episode = Counter(label.episode_id for label in labels)
    for episode in simulator.episodes:
        assert episode.events == per_episode[episode.episode_id]
        if episode.events:
            assert episode.start is not None
            assert episode.end is not None
            assert episode.start <= episode.end


def test_attack_start_keeps_a_clean_history_and_the_share_after_it() -> None:
    # GIVEN attacks that start two days into a four-day run
    start = datetime(2026, 11, 2, tzinfo=UTC)
    simulator = Simulator(seed=4, users=400, attack_share=0.05, start=start, attack_start=start + timedelta(days=2))
    labeled = list(simulator.events(duration=timedelta(days=4)))
    boundary = "2026-11-04T00:00:00"
    before = [item for item in labeled if item.event["occurred_at"] < boundary]
    after = [item for item in labeled if item.event["occurred_at"] >= boundary]
    # THEN the first two days hold no attack, and the share holds over the last two
    assert before
    assert all(item.label is None for item in before)
    share = sum(item.label is not None for item in after) / len(after)
    assert abs(share - 0.05) <= 0.01
    assert {episode.scenario for episode in simulator.episodes} == set(SCENARIO_NAMES)


def test_zero_events_is_an_empty_run() -> None:
    assert list(Simulator(seed=1).events(count=0)) == []


def test_no_attacks_when_the_share_is_zero() -> None:
    simulator = Simulator(seed=3, users=200, attack_share=0.0)
    assert all(item.label is None for item in simulator.events(count=3_000))
    assert simulator.episodes == []


def by_episode(labeled: tuple[LabeledEvent, ...], scenario: str) -> dict[str, list[dict[str, object]]]:
    grouped: dict[str, list[dict[str, object]]] = defaultdict(list)
    for item in labeled:
        if item.label is not None and item.label.scenario == scenario:
            grouped[item.label.episode_id].append(item.event)
    assert grouped, f"no {scenario} episode"
    return grouped


def test_credential_stuffing_is_few_ips_many_users_mostly_failures() -> None:
    _simulator, labeled = run()
    for events in by_episode(labeled, "credential_stuffing").values():
        types = Counter(event["event_type"] for event in events)
        assert types["login_failed"] / len(events) > 0.85
        assert len({event["ip"] for event in events}) <= 5
        assert len({event["user_id"] for event in events}) > 0.8 * len(events)


def test_account_takeover_comes_from_a_new_country_and_device_and_resets_the_password() -> None:
    simulator, labeled = run()
    for events in by_episode(labeled, "account_takeover").values():
        for event in events:
            profile = simulator.profiles[str(event["user_id"])]
            assert country_of(str(event["ip"])) != profile.country
            assert event["user_agent"] not in {agent for _, agent in profile.devices}
        types = {event["event_type"] for event in events}
        assert {"login_succeeded", "password_reset", "purchase"} <= types


def test_scraping_bot_is_fast_and_regular() -> None:
    _, labeled = run()
    for events in by_episode(labeled, "scraping_bot").values():
        times = [parse_timestamp(str(event["occurred_at"])).timestamp() for event in events]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert statistics.mean(gaps) <= 1.55
        assert statistics.pstdev(gaps) / statistics.mean(gaps) < 0.05
        assert {event["event_type"] for event in events} == {"page_view"}


def test_card_testing_is_small_purchases_mostly_declined() -> None:
    _, labeled = run()
    for events in by_episode(labeled, "card_testing").values():
        purchases = [event for event in events if event["event_type"] == "purchase"]
        assert purchases
        assert all(float(p["properties"]["amount"]) <= 5.0 for p in purchases)  # type: ignore[index]
        assert len({p["properties"]["card_last4"] for p in purchases}) > 1  # type: ignore[index]
    all_purchases = [
        event for events in by_episode(labeled, "card_testing").values() for event in events if event["status"] == 402
    ]
    assert len(all_purchases) > 0


def test_impossible_travel_is_the_same_user_far_away_within_minutes() -> None:
    _simulator, labeled = run()
    last_seen: dict[str, tuple[datetime, str]] = {}
    checked = 0
    for item in labeled:
        user, ip = str(item.event["user_id"]), str(item.event["ip"])
        moment = parse_timestamp(str(item.event["occurred_at"]))
        if item.label is not None and item.label.scenario == "impossible_travel" and user in last_seen:
            previous_time, previous_country = last_seen[user]
            country = country_of(ip)
            if country != previous_country:
                assert country is not None
                assert distance_km(previous_country, country) >= 6000
                assert moment - previous_time <= timedelta(minutes=31)
                checked += 1
        country = country_of(ip)
        if country is not None:
            last_seen[user] = (moment, country)
    assert checked >= 1


def test_normal_traffic_follows_local_days_and_returning_users() -> None:
    simulator, labeled = run()
    local_hours: Counter[int] = Counter()
    per_user: dict[str, set[str]] = defaultdict(set)
    for item in labeled:
        if item.label is not None:
            continue
        profile = simulator.profiles[str(item.event["user_id"])]
        moment = parse_timestamp(str(item.event["occurred_at"]))
        local = moment + timedelta(microseconds=profile.utc_offset_micros)
        local_hours[local.hour] += 1
        per_user[profile.user_id].add(str(item.event["user_agent"]))
    night = sum(local_hours[h] for h in range(1, 6))
    evening = sum(local_hours[h] for h in range(18, 23))
    assert evening > 4 * night
    # Returning customers keep to a few devices.
    assert statistics.mean(len(agents) for agents in per_user.values()) < 3.5
    types = Counter(item.event["event_type"] for item in labeled if item.label is None)
    assert types["purchase"] > 0
    assert types["password_reset"] > 0
    assert types["login_failed"] > 0


def test_weekends_are_quieter_than_weekdays_in_local_time() -> None:
    simulator = Simulator(seed=8, users=600, attack_share=0.0)
    per_weekday: Counter[int] = Counter()
    for item in simulator.events(duration=timedelta(days=14)):
        profile = simulator.profiles[str(item.event["user_id"])]
        local = parse_timestamp(str(item.event["occurred_at"])) + timedelta(microseconds=profile.utc_offset_micros)
        per_weekday[local.weekday()] += 1
    weekdays = statistics.mean(per_weekday[day] for day in range(4))  # Monday-Thursday
    weekend = statistics.mean(per_weekday[day] for day in (5, 6))
    assert weekend < 0.95 * weekdays


def test_duration_bounds_simulated_time() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    simulator = Simulator(seed=5, users=300, start=start)
    labeled = list(simulator.events(duration=timedelta(hours=6)))
    assert labeled
    assert all(
        start <= parse_timestamp(str(item.event["occurred_at"])) < start + timedelta(hours=6) for item in labeled
    )


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(SimulationConfigError, match="attack_share"):
        Simulator(attack_share=0.9)
    with pytest.raises(SimulationConfigError, match="scenarios: unknown"):
        Simulator(scenarios=["ddos"])
    with pytest.raises(SimulationConfigError, match="count"):
        Simulator().events()
    with pytest.raises(SimulationConfigError, match="start"):
        Simulator(start=datetime(2026, 1, 1))
