"""The simulator: deterministic, labeled, realistic, and every event in the contract."""

from __future__ import annotations

import itertools
import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from traffic import BLATANT_SCENARIOS, EVASIVE_SCENARIOS, SCENARIO_NAMES, LabeledEvent, Simulator, catalog, geo
from traffic.agents import SCRIPT_AGENTS
from traffic.exceptions import SimulationConfigError
from traffic.geo import country_of, distance_km
from traffic.scenarios import NOT_REPLAYED
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
    # (enough events that a one-percent share holds the least episode of each scenario)
    count = 2 * COUNT
    simulator, labeled = run(share=share, count=count)
    labels = [item.label for item in labeled if item.label is not None]
    assert abs(len(labels) / count - share) <= share * 0.2
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


def test_every_scenario_is_either_blatant_or_evasive_and_runs_by_default() -> None:
    assert sorted(BLATANT_SCENARIOS + EVASIVE_SCENARIOS) == sorted(SCENARIO_NAMES)
    assert Simulator().scenarios == SCENARIO_NAMES


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


def test_customers_abroad_got_there_no_faster_than_a_flight() -> None:
    # GIVEN two attack-free days of 2,000 customers (0.3 % of sessions are taken abroad)
    simulator = Simulator(seed=5, users=2_000, attack_share=0.0)
    events = [item.event for item in simulator.events(duration=timedelta(days=2))]
    # THEN some customers were abroad, and none sooner than a flight from where they last were
    # allows: between the starts of their sessions in two countries there is the distance at
    # 900 km/h and two hours for the airports
    last: dict[str, tuple[datetime, str, str]] = {}  # user -> (session start, session, country)
    trips = 0
    for event in events:
        user, session, country = str(event["user_id"]), str(event["session_id"]), country_of(str(event["ip"]))
        assert country is not None
        moment = parse_timestamp(str(event["occurred_at"]))
        before = last.get(user)
        if before is not None and before[1] == session:
            continue
        if before is not None and before[2] != country:
            trips += 1
            hours = distance_km(before[2], country) / 900 + 2
            assert moment - before[0] >= timedelta(hours=hours) - timedelta(seconds=1), (user, before, country)
        last[user] = (moment, session, country)
    assert trips >= 3


def test_every_labeled_event_is_from_its_episodes_users_and_addresses() -> None:
    # GIVEN a run with every scenario
    simulator, labeled = run()
    episodes = {episode.episode_id: episode for episode in simulator.episodes}
    # THEN each labeled event's user and address are in its episode's metadata, and in its time span
    for item in labeled:
        if item.label is None:
            continue
        episode = episodes[item.label.episode_id]
        assert episode.scenario == item.label.scenario
        assert item.event["user_id"] in episode.user_ids, item.label
        assert item.event["ip"] in episode.source_ips, item.label
        assert episode.start is not None
        assert episode.end is not None
        assert episode.start <= parse_timestamp(str(item.event["occurred_at"])) <= episode.end


def seconds_of(events: list[dict[str, object]]) -> list[float]:
    return [parse_timestamp(str(event["occurred_at"])).timestamp() for event in events]


def is_browser(agent: object) -> bool:
    return isinstance(agent, str) and agent.startswith("Mozilla/5.0 (") and agent not in SCRIPT_AGENTS


def customer_agents(labeled: tuple[LabeledEvent, ...]) -> set[object]:
    return {item.event["user_agent"] for item in labeled if item.label is None}


def catalogue_position(resource: str) -> int:
    """Where a page sits in a walk of the whole catalogue: products in SKU order, or category pages."""
    if resource.startswith("/products/SKU-"):
        return int(resource.removeprefix("/products/SKU-"))
    category, _, page = resource.removeprefix("/catalog/").partition("?page=")
    return catalog.CATEGORIES.index(category) * 40 + int(page or 1) - 1


def test_low_and_slow_scraping_walks_the_catalogue_at_a_customers_pace_with_customers_browsers() -> None:
    # GIVEN a run with low-and-slow scrapers
    _, labeled = run()
    browsers = customer_agents(labeled)
    for events in by_episode(labeled, "low_and_slow_scraping").values():
        # THEN only page views, with browser agents that customers of the same run also use
        assert {event["event_type"] for event in events} == {"page_view"}
        assert all(is_browser(event["user_agent"]) and event["user_agent"] in browsers for event in events)
        # AND a few pages a minute at most, as a reading customer would
        times = seconds_of(events)
        assert len(events) / ((times[-1] - times[0]) / 60) <= 6
        assert min(b - a for a, b in itertools.pairwise(times)) >= 5
        # AND the pages follow the catalogue's order, each read once: the walk no customer makes
        positions = [catalogue_position(str(event["resource"])) for event in events]
        modulus = (
            catalog.PRODUCTS if str(events[0]["resource"]).startswith("/products/") else 40 * len(catalog.CATEGORIES)
        )
        assert all((b - a) % modulus == 1 for a, b in itertools.pairwise(positions))


def test_residential_proxy_stuffing_is_many_home_addresses_one_or_two_attempts_each_mostly_failures() -> None:
    # GIVEN a run with credential stuffing through residential proxies
    _, labeled = run()
    for events in by_episode(labeled, "residential_proxy_stuffing").values():
        per_ip = Counter(event["ip"] for event in events)
        # THEN addresses are many, each used once or twice, all consumer (home or mobile) in many countries
        assert max(per_ip.values()) <= 2
        assert len(per_ip) >= 0.6 * len(events)
        records = [geo.lookup(str(ip)) for ip in per_ip]
        assert all(record is not None and record.kind in {geo.RESIDENTIAL, geo.MOBILE} for record in records)
        assert len({record.country for record in records if record is not None}) >= 5
        # AND logins on many accounts, mostly failing, from browser agents
        assert {event["event_type"] for event in events} <= {"login_failed", "login_succeeded"}
        assert sum(event["event_type"] == "login_failed" for event in events) / len(events) >= 0.85
        assert len({event["user_id"] for event in events}) >= 0.8 * len(events)
        assert all(is_browser(event["user_agent"]) for event in events)


def test_human_like_bot_pauses_like_a_customer_but_repeats_a_narrow_task() -> None:
    # GIVEN a run with human-like bots
    _, labeled = run()
    for events in by_episode(labeled, "human_like_bot").values():
        # THEN the pauses vary like a person's (nothing like a fixed period)
        gaps = [b - a for a, b in itertools.pairwise(seconds_of(events))]
        assert statistics.pstdev(gaps) / statistics.mean(gaps) > 0.5
        # AND it is one logged-in account on one browser and address
        assert events[0]["event_type"] == "login_succeeded"
        assert len({(event["user_id"], event["ip"], event["user_agent"]) for event in events}) == 1
        assert is_browser(events[0]["user_agent"])
        # AND it keeps to a handful of resources, and never fetches the static files a browser would
        assert len({event["resource"] for event in events}) <= 8 < len(events)
        assert all(event["event_type"] != "static_asset" for event in events)


def test_session_replay_bot_replays_a_customers_session_at_a_fixed_pace_from_data_centres() -> None:
    # GIVEN a run with session replay bots, and the customers' sessions of that run
    _, labeled = run()
    sessions: dict[object, list[dict[str, object]]] = defaultdict(list)
    for item in labeled:
        if item.label is None:
            sessions[item.event["session_id"]].append(item.event)

    def replayable(session: list[dict[str, object]]) -> list[tuple[object, object]]:
        return [
            (event["event_type"], event["resource"]) for event in session if event["event_type"] not in NOT_REPLAYED
        ]

    for events in by_episode(labeled, "session_replay_bot").values():
        replays: dict[object, list[dict[str, object]]] = defaultdict(list)
        for event in events:
            replays[event["session_id"]].append(event)
        first, *others = replays.values()
        # THEN the first replay's requests are, in order, those of a customer's session that came before
        started = str(first[0]["occurred_at"])
        recorded = [
            session
            for session in sessions.values()
            if str(session[-1]["occurred_at"]) < started
            and replayable(session)[: len(first)] == replayable(first)
            and session[0]["user_agent"] == first[0]["user_agent"]
        ]
        assert recorded
        if others:  # the first replay ran to its end: the whole session was replayed
            assert any(replayable(session) == replayable(first) for session in recorded)
        for replay in (first, *others):
            # AND each replay repeats the same requests at a fixed pace, from a hosting provider
            assert replayable(replay) == replayable(first)[: len(replay)]
            gaps = [b - a for a, b in itertools.pairwise(seconds_of(replay))]
            if len(gaps) > 1:
                assert statistics.pstdev(gaps) / statistics.mean(gaps) < 0.05
            record = geo.lookup(str(replay[0]["ip"]))
            assert record is not None
            assert record.kind == geo.HOSTING


def test_newcomers_sign_up_every_day_then_browse_and_come_back() -> None:
    # GIVEN three attack-free days
    start = datetime(2026, 11, 2, tzinfo=UTC)
    simulator = Simulator(seed=21, users=600, attack_share=0.0, start=start)
    events = [event for event, _ in simulator.events(duration=timedelta(days=3))]
    seen: set[object] = set()
    active: dict[str, set[object]] = defaultdict(set)
    newcomers: dict[str, set[object]] = defaultdict(set)
    for event in events:
        day, user = str(event["occurred_at"])[:10], event["user_id"]
        active[day].add(user)
        if event["event_type"] == "signup":
            # THEN a sign-up is a customer's first event ever, and their profile exists
            assert user not in seen
            assert user in simulator.profiles
            newcomers[day].add(user)
        seen.add(user)
    # AND every day, a few percent of the active customers are on their first visit
    assert sorted(active) == ["2026-11-02", "2026-11-03", "2026-11-04"]
    for day, users in active.items():
        assert 0.01 <= len(newcomers[day]) / len(users) <= 0.1, day
    # AND a first session signs up, logs in and browses like anyone else's
    signups = {event["session_id"] for event in events if event["event_type"] == "signup"}
    first_sessions: dict[object, list[str]] = defaultdict(list)
    for event in events:
        if event["session_id"] in signups:
            first_sessions[event["session_id"]].append(str(event["event_type"]))
    for types in first_sessions.values():
        assert types[:2] == ["signup", "login_succeeded"]
    assert statistics.mean(len(types) for types in first_sessions.values()) > 4
    # AND newcomers return in later sessions
    all_newcomers = set().union(*newcomers.values())
    assert any(event["user_id"] in all_newcomers and event["session_id"] not in signups for event in events)


def test_newcomers_of_different_dates_never_share_an_id() -> None:
    # GIVEN two runs with the same seed over different dates (a training stretch and a later test)
    start = datetime(2026, 11, 2, tzinfo=UTC)
    ids = []
    for offset in (0, 1):
        simulator = Simulator(seed=5, users=300, attack_share=0.0, start=start + timedelta(days=offset))
        ids.append(
            {e["user_id"] for e, _ in simulator.events(duration=timedelta(days=1)) if e["event_type"] == "signup"}
        )
    # THEN they sign up different people under different ids
    assert ids[0]
    assert ids[1]
    assert not ids[0] & ids[1]


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
    with pytest.raises(SimulationConfigError, match="daily_signup_share"):
        Simulator(daily_signup_share=-0.1)
