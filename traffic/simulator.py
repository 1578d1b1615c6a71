"""The simulator: normal customers plus labeled attack episodes, merged in time order.

Sessions start as a Poisson process thinned by each customer's local time of day and day of
week; customers are picked with heavy-tailed activity (a few shop daily, most now and then).
Attack episodes start whenever the labeled events planned so far fall behind
``attack_share`` of the events emitted, so the share holds over any run length; scenarios take
turns in a shuffled order, so every one of them appears early. Newcomers sign up every day (a
Poisson process thinned by their local time, like sessions) and then return like everyone else.
Everything draws from one
``random.Random(seed)``: the same settings give the same events, ids included.
"""

from __future__ import annotations

import heapq
import itertools
import random
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from traffic.exceptions import SimulationConfigError
from traffic.normal import MEAN_ACTIVITY, MEAN_EVENTS_PER_SESSION, activity, normal_session
from traffic.scenarios import SCENARIO_NAMES, SCENARIOS, Episode, Label
from traffic.world import MICROS, Context, EventFactory, UserProfile, make_user, make_users, newcomer_id

DEFAULT_START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday, midnight UTC
DEFAULT_ATTACK_SHARE = 0.02
MAX_ATTACK_SHARE = 0.5
DEFAULT_SESSIONS_PER_USER_PER_DAY = 1.5
# New customers signing up per day, as a share of ``users``: about 3 % of a day's active customers
# are then on their first visit, so a first visit is ordinary in the simulated data.
DEFAULT_DAILY_SIGNUP_SHARE = 0.02
# A start time later than any run reaches: "no newcomers".
_NEVER = 2**63

__all__ = ["DEFAULT_ATTACK_SHARE", "DEFAULT_START", "Episode", "Label", "LabeledEvent", "Simulator"]


class LabeledEvent(NamedTuple):
    """An event (a wire dict valid under ``normalize_event``) and its label (None when normal)."""

    event: dict[str, Any]
    label: Label | None


@dataclass(frozen=True)
class _Plan:
    scenario: str
    size: int


class Simulator:
    """Generates labeled interaction events.

    ::

        simulator = Simulator(seed=7, users=2_000, attack_share=0.02)
        for event, label in simulator.events(count=100_000):
            ...
        simulator.episodes  # what attacked, when, whom, from where

    ``events`` can be called again: each call restarts from the seed. ``attack_start`` keeps a
    clean history before the attacks (for training on the first part of a run).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        users: int = 1_000,
        attack_share: float = DEFAULT_ATTACK_SHARE,
        start: datetime = DEFAULT_START,
        scenarios: Sequence[str] = SCENARIO_NAMES,
        sessions_per_user_per_day: float = DEFAULT_SESSIONS_PER_USER_PER_DAY,
        attack_start: datetime | None = None,
        daily_signup_share: float = DEFAULT_DAILY_SIGNUP_SHARE,
    ) -> None:
        if users < 1:
            raise SimulationConfigError("users", f"must be at least 1, got {users}")
        if not 0.0 <= attack_share <= MAX_ATTACK_SHARE:
            raise SimulationConfigError("attack_share", f"must be within 0-{MAX_ATTACK_SHARE}, got {attack_share}")
        if start.tzinfo is None or start.utcoffset() is None:
            raise SimulationConfigError("start", "must be timezone-aware")
        unknown = [name for name in scenarios if name not in SCENARIOS]
        if unknown:
            raise SimulationConfigError("scenarios", f"unknown {unknown}; known: {list(SCENARIO_NAMES)}")
        if attack_share > 0 and not scenarios:
            raise SimulationConfigError("scenarios", "at least one is needed when attack_share > 0")
        if sessions_per_user_per_day <= 0:
            raise SimulationConfigError("sessions_per_user_per_day", "must be positive")
        if daily_signup_share < 0:
            raise SimulationConfigError("daily_signup_share", f"must not be negative, got {daily_signup_share}")
        if attack_start is not None and (attack_start.tzinfo is None or attack_start.utcoffset() is None):
            raise SimulationConfigError("attack_start", "must be timezone-aware")
        self.seed = seed
        self.users = users
        self.attack_share = attack_share
        self.start = start.astimezone(timezone.utc)
        self.scenarios = tuple(scenarios)
        self.sessions_per_user_per_day = sessions_per_user_per_day
        self.daily_signup_share = daily_signup_share
        # Attacks begin here (default: at the start); the share applies to the events from then on.
        self.attack_start = (
            self.start if attack_start is None else max(self.start, attack_start.astimezone(timezone.utc))
        )
        self.episodes: list[Episode] = []
        self.profiles: dict[str, UserProfile] = {}

    def expected_events_per_day(self) -> float:
        """About how many normal events a simulated day holds with these settings."""
        return self.users * (self.sessions_per_user_per_day + self.daily_signup_share) * MEAN_EVENTS_PER_SESSION

    def events(self, count: int | None = None, duration: timedelta | float | None = None) -> Iterator[LabeledEvent]:
        """Labeled events in time order: ``count`` of them, or all within ``duration`` of ``start``."""
        if count is None and duration is None:
            raise SimulationConfigError("count", "give a count or a duration")
        if count is not None and count < 0:
            raise SimulationConfigError("count", f"must not be negative, got {count}")
        seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
        if seconds is not None and seconds <= 0:
            raise SimulationConfigError("duration", f"must be positive, got {seconds}")
        return self._run(count, seconds)

    def _run(self, count: int | None, seconds: float | None) -> Iterator[LabeledEvent]:
        rng = random.Random(self.seed)
        context = Context(rng, EventFactory(rng), make_users(rng, self.users))
        self.profiles = {user.user_id: user for user in context.users}
        self.episodes = []
        episodes: dict[str, Episode] = {}
        users = context.users
        # Heavy-tailed activity: a Pareto weight per customer.
        cumulative = list(itertools.accumulate(rng.paretovariate(1.5) for _ in users))
        total_weight = cumulative[-1]
        start = int(self.start.timestamp() * MICROS)
        end = None if seconds is None else start + int(seconds * MICROS)
        # Candidate session starts come at the peak rate; thinning by local activity keeps the mean.
        candidate_rate = self.users * self.sessions_per_user_per_day / 86_400 / MEAN_ACTIVITY / MICROS
        # Newcomers take their share of that rate once they have signed up (others drift away as they
        # join), so the volume stays the one ``users`` sets and the attack share can be planned.
        signup_rate = self.users * self.daily_signup_share / 86_400 / MEAN_ACTIVITY / MICROS
        signups_by_day: dict[int, int] = {}
        attack_start = int(self.attack_start.timestamp() * MICROS)
        expected = count if count is not None else self.expected_events_per_day() * (seconds or 0) / 86_400
        expected -= self.expected_events_per_day() * (attack_start - start) / MICROS / 86_400
        episode_cap = self.attack_share * max(0.0, expected) / max(1, len(self.scenarios)) / 2
        order: list[str] = []
        episode_numbers = itertools.count(1)

        def next_plan() -> _Plan:
            if not order:
                order.extend(self.scenarios)
                rng.shuffle(order)
            name = order.pop()
            spec = SCENARIOS[name]
            size = rng.randint(spec.min_events, spec.max_events)
            return _Plan(name, max(spec.least_events, min(size, int(episode_cap))))

        heap: list[tuple[int, int, dict[str, Any], Label | None, Iterator[Any]]] = []
        sequence = itertools.count()

        def push(source: Iterator[Any]) -> None:
            item = next(source, None)
            if item is not None:
                heapq.heappush(heap, (item[0], next(sequence), item[1], item[2], source))

        plan = next_plan() if self.attack_share > 0 else None
        planned = 0
        emitted = 0
        emitted_before_attacks = 0
        next_session = start + int(rng.expovariate(candidate_rate))
        next_signup = start + int(rng.expovariate(signup_rate)) if signup_rate > 0 else _NEVER
        share = self.attack_share
        while count is None or emitted < count:
            while not heap or min(next_session, next_signup) <= heap[0][0]:
                if next_signup < next_session:
                    newcomer = make_user(rng, "")
                    if rng.random() < activity(newcomer, next_signup):
                        day = next_signup // (86_400 * MICROS)
                        signups_by_day[day] = signups_by_day.get(day, 0) + 1
                        newcomer = replace(newcomer, user_id=newcomer_id(next_signup, signups_by_day[day]))
                        push(normal_session(context, newcomer, next_signup, first_visit=True))
                        users.append(newcomer)
                        total_weight += rng.paretovariate(1.5)
                        cumulative.append(total_weight)
                        self.profiles[newcomer.user_id] = newcomer
                    next_signup += int(rng.expovariate(signup_rate)) + 1
                    continue
                user = users[bisect_left(cumulative, rng.random() * total_weight)]
                if rng.random() < activity(user, next_session):
                    push(normal_session(context, user, next_session))
                next_session += int(rng.expovariate(candidate_rate)) + 1
            moment, _, event, label, source = heap[0]
            if end is not None and moment >= end:
                return
            following = next(source, None)
            if following is None:
                heapq.heappop(heap)
            else:  # replace the head by the same source's next event: one sift instead of two
                heapq.heapreplace(heap, (following[0], next(sequence), following[1], following[2], source))
            if label is not None:
                episodes[label.episode_id].record(moment)
            yield LabeledEvent(event, label)
            emitted += 1
            if moment < attack_start:
                emitted_before_attacks += 1
            elif plan is not None and planned + plan.size / 2 <= share * (emitted - emitted_before_attacks):
                episode = Episode(plan.scenario, f"{plan.scenario}-{next(episode_numbers):04d}", plan.size)
                episodes[episode.episode_id] = episode
                self.episodes.append(episode)
                push(SCENARIOS[plan.scenario].run(context, episode, moment + 1, plan.size))
                planned += plan.size
                plan = next_plan()
