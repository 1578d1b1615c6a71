"""This user's pace, habits and novelty: the columns read from (and written to) ``UserState``."""

from __future__ import annotations

import math

from model.enrichment import NetworkInfo
from model.features.events import stable_hash
from model.features.resources import resource_template
from model.features.state import (
    FAST_TAU,
    GAP_SMOOTHING,
    MAX_DECAYED_COUNT,
    MAX_RECENT_AGENTS,
    MAX_RECENT_COUNTRIES,
    MAX_RECENT_IPS,
    MAX_RECENT_NETWORKS,
    MAX_RECENT_PATHS,
    MAX_TOTAL_EVENTS,
    SLOW_TAU,
    UserState,
    capped,
    holds,
    touch,
    touch_timed,
)
from model.features.travel import beyond_flight, travel_speed_kmh

USER_COLUMNS = (
    # Timing and rates
    "first_event",
    "log_seconds_since_previous",
    "log_rate_1m",
    "log_rate_1h",
    "failure_ratio_1h",
    "log_failures_1h",
    "log_user_history",
    "hour_rarity",
    "interval_deviation",
    # Novelty: what this user had not used lately
    "new_ip",
    "new_user_agent",
    "new_country",
    "new_asn",
    "new_resource_path",
    "ips_1h",
    "countries_1h",
    "log_new_agents_10m",
    # The speed from the user's recent countries to this one beyond a flight's (model.features.travel)
    "travel_beyond_flight",
)
# Decay time constants of the user's own counters, seconds (the rates use state's FAST_TAU and SLOW_TAU).
HOUR_HABIT_TAU = 30 * 86400.0
# The rarity of an hour that holds nine tenths of the user's activity, below which no hour reads: as
# habitual as an hour gets. Unbounded, a job that runs at 2 a.m. every night sees its hour's rarity
# fall a little every night toward 0, tomorrow's below any that training saw, and the detector read
# that as anomalous: the integration alerted every night for doing what it always does.
HABITUAL_HOUR_RARITY = -math.log(0.9)
AGENT_TAU = 600.0
# The gap reported for a user's first event (and the cap on any gap): 30 days.
MAX_GAP_SECONDS = 30 * 86400.0


def user_columns(
    state: UserState,
    now: float,
    failure: bool,
    ip_hash: int | None,
    agent: str | None,
    resource: str | None,
    network: NetworkInfo | None,
) -> tuple[float, ...]:
    """Update ``state`` (a private copy) with one event and return its ``USER_COLUMNS``.

    ``ip_hash``: the ``stable_hash`` of the event's address (None without one), which the caller
    has computed already to tell whether the user is new to the address.

    This runs once per event in training and in the scorer, so the decay factors are computed once
    per time constant and the counters' cap is written out inline; the arithmetic is ``capped``'s.
    """
    last_seen = state.last_seen
    first = last_seen is None
    # Late events (earlier than the last one seen) count as simultaneous: state never goes backwards.
    elapsed = 0.0 if last_seen is None else max(0.0, now - last_seen)
    gap = MAX_GAP_SECONDS if first else min(elapsed, MAX_GAP_SECONDS)
    hour = int(now // 3600) % 24
    histogram = state.hour_histogram
    # Additive smoothing: a user with no history gets log(24) for every hour.
    hour_rarity = max(-math.log((histogram[hour] + 0.5) / (sum(histogram) + 12.0)), HABITUAL_HOUR_RARITY)
    history = state.rate_slow

    if elapsed > 0:
        fast, slow, agent_decay = (
            math.exp(-elapsed / FAST_TAU),
            math.exp(-elapsed / SLOW_TAU),
            math.exp(-elapsed / AGENT_TAU),
        )
    else:
        fast = slow = agent_decay = 1.0
    rate_fast = state.rate_fast = min(state.rate_fast * fast + 1.0, MAX_DECAYED_COUNT)
    rate_slow = state.rate_slow = min(state.rate_slow * slow + 1.0, MAX_DECAYED_COUNT)
    failures_slow = state.failures_slow = min(state.failures_slow * slow + (1.0 if failure else 0.0), MAX_DECAYED_COUNT)
    state.total_events = min(state.total_events + 1, MAX_TOTAL_EVENTS)
    # The habit decays in whole days (at the first event of each UTC day): a day is 1/30 of its time
    # constant, and decaying on every event would cost 24 multiplications each time.
    days = 0 if last_seen is None else int(now // 86400) - int(last_seen // 86400)
    if days > 0:
        habit_decay = math.exp(-days * 86400.0 / HOUR_HABIT_TAU)
        histogram[:] = [count * habit_decay for count in histogram]
    histogram[hour] = min(histogram[hour] + 1.0, MAX_DECAYED_COUNT)
    if last_seen is None or now > last_seen:
        state.last_seen = now

    minute = int(now // 60)
    new_ip = touch_timed(state.recent_ips, ip_hash, minute, MAX_RECENT_IPS) if ip_hash is not None else False
    new_agent = touch(state.recent_agents, stable_hash(agent), MAX_RECENT_AGENTS) if agent else False
    new_agents = state.new_agents = min(
        state.new_agents * agent_decay + (1.0 if new_agent and not first else 0.0), MAX_DECAYED_COUNT
    )
    if not first:
        log_gap = math.log1p(gap)
        if state.gap_mean is None:
            state.gap_mean = capped(log_gap)
        else:
            deviation = abs(log_gap - state.gap_mean)
            state.gap_deviation = capped((1 - GAP_SMOOTHING) * state.gap_deviation + GAP_SMOOTHING * deviation)
            state.gap_mean = capped((1 - GAP_SMOOTHING) * state.gap_mean + GAP_SMOOTHING * log_gap)
    country = network.country if network is not None else None
    travel_kmh = 0.0
    new_country = False
    if country and network is not None:
        country_hash = stable_hash(country)
        if not first and not network.hosting:
            travel_kmh = travel_speed_kmh(state.recent_countries, country_hash, now)
        if network.hosting or failure:
            # Not a place the person has been: a VPN or cloud exit says where its provider is, and a
            # failed login where whoever typed the account's name was. Either is new to the user or
            # not, but recording it would make the user's next request from home read as a flight.
            new_country = not holds(state.recent_countries, country_hash)
        else:
            new_country = touch_timed(state.recent_countries, country_hash, minute, MAX_RECENT_COUNTRIES)
    network_key = network.network_key if network is not None else None
    new_network = touch(state.recent_networks, stable_hash(network_key), MAX_RECENT_NETWORKS) if network_key else False
    new_path = (
        touch(state.recent_paths, stable_hash(resource_template(resource)), MAX_RECENT_PATHS) if resource else False
    )

    oldest_minute = minute - 60
    return (
        1.0 if first else 0.0,
        math.log1p(gap),
        math.log1p(rate_fast),
        math.log1p(rate_slow),
        failures_slow / rate_slow,
        math.log1p(failures_slow),
        math.log1p(history),
        hour_rarity,
        state.gap_deviation,
        # With no history every IP, agent and country would be "new": novelty only for known users.
        0.0 if first else float(new_ip),
        0.0 if first else float(new_agent),
        0.0 if first else float(new_country),
        0.0 if first else float(new_network),
        0.0 if first else float(new_path),
        float(len([None for _, seen in state.recent_ips if seen >= oldest_minute])),
        float(len([None for _, seen in state.recent_countries if seen >= oldest_minute])),
        math.log1p(new_agents),
        beyond_flight(travel_kmh),
    )
