"""The simulated world: customers with homes and devices, and the factory that writes events.

Times are integer microseconds since the Unix epoch, so simulated time is exact and a run is
bit-for-bit reproducible from its seed.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from traffic import agents, catalog, geo
from vedette.events import SCHEMA_VERSION

MICROS = 1_000_000

_COUNTRY_CODES = [country.code for country in geo.COUNTRIES]
_USER_WEIGHTS = [country.user_weight for country in geo.COUNTRIES]

# What a generator of traffic yields: (time in µs, event wire dict, label or None).
Emission = tuple[int, dict[str, Any], Any]


@dataclass(slots=True)
class UserProfile:
    """A customer: a home country and addresses, a few devices, a payment card."""

    user_id: str
    country: str
    utc_offset_micros: int
    home_ips: tuple[str, ...]
    devices: tuple[tuple[str, str], ...]  # (device kind, user agent)
    card_last4: str
    currency: str


def make_user(rng: random.Random, user_id: str) -> UserProfile:
    """One customer, placed in a country by the countries' user weights."""
    code = rng.choices(_COUNTRY_CODES, _USER_WEIGHTS)[0]
    country = geo.COUNTRY_BY_CODE[code]
    home_ips = [geo.random_ip(rng, code, geo.RESIDENTIAL, ipv6=rng.random() < 0.15)]
    if rng.random() < 0.3:  # a second home: office, partner's place
        home_ips.append(geo.random_ip(rng, code, geo.RESIDENTIAL))
    kinds = [rng.choice((agents.DESKTOP, agents.DESKTOP, agents.MOBILE, agents.APP))]
    while len(kinds) < 3 and rng.random() < 0.35:
        kinds.append(rng.choice((agents.DESKTOP, agents.MOBILE, agents.APP)))
    return UserProfile(
        user_id=user_id,
        country=code,
        utc_offset_micros=int(country.utc_offset_hours * 3600 * MICROS),
        home_ips=tuple(home_ips),
        devices=tuple((kind, agents.device_agent(rng, kind)) for kind in kinds),
        card_last4=f"{rng.randrange(10_000):04d}",
        currency=catalog.CURRENCY_BY_COUNTRY.get(code, catalog.DEFAULT_CURRENCY),
    )


def make_users(rng: random.Random, count: int) -> list[UserProfile]:
    """``count`` customers spread over countries by their user weight."""
    return [make_user(rng, f"u-{number:06d}") for number in range(count)]


def newcomer_id(micros: int, number: int) -> str:
    """The id of the ``number``-th customer who signed up on the UTC day of ``micros``.

    The date keeps ids unique across runs that share a seed but not their dates (a training
    stretch and a later test stretch), so one id never names two different people.
    """
    return f"u-{time.strftime('%Y%m%d', time.gmtime(micros // MICROS))}-{number:04d}"


# UUID version 4 bits (version nibble 0100, variant bits 10) over 128 random bits.
_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID_SET = (0x4 << 76) | (0x2 << 62)


class EventFactory:
    """Builds wire dicts already in the contract's canonical form (``normalize_event`` leaves them
    unchanged), with event ids drawn from the simulation's random generator."""

    __slots__ = ("_getrandbits", "_minutes")

    def __init__(self, rng: random.Random) -> None:
        self._getrandbits = rng.getrandbits
        self._minutes: dict[int, str] = {}

    def timestamp(self, micros: int) -> str:
        """RFC 3339 UTC with microseconds, as the contract writes it; the part up to the minute is cached.

        Sessions create their next event ahead of time, so consecutive calls jump between a few
        minutes: a small map of minutes, not the last one, is what hits.
        """
        second, fraction = divmod(micros, MICROS)
        minute, seconds = divmod(second, 60)
        prefix = self._minutes.get(minute)
        if prefix is None:
            if len(self._minutes) >= 4096:
                self._minutes.clear()
            prefix = self._minutes[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(second))
        return f"{prefix}{seconds:02d}.{fraction:06d}Z"

    def event_id(self) -> str:
        """A version 4 UUID whose random bits come from the seeded generator."""
        text = "%032x" % (self._getrandbits(128) & _UUID_CLEAR | _UUID_SET)
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def make(
        self,
        micros: int,
        event_type: str,
        user_id: str,
        session_id: str | None,
        ip: str | None,
        user_agent: str | None,
        resource: str | None,
        status: int | str | None,
        properties: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "event_id": self.event_id(),
            "occurred_at": self.timestamp(micros),
            "event_type": event_type,
            "user_id": user_id,
            "session_id": session_id,
            "ip": ip,
            "user_agent": user_agent,
            "resource": resource,
            "status": status,
            "properties": properties,
        }


# Log-normal draws cost two logarithms and a square root each; these tables of quantiles give
# the same distributions for a table lookup (the draw is still from the seeded generator).
_TABLE_SIZE = 4096


def _lognormal_quantiles(mu: float, sigma: float) -> list[float]:
    normal = NormalDist(mu, sigma)
    return [math.exp(normal.inv_cdf((index + 0.5) / _TABLE_SIZE)) for index in range(_TABLE_SIZE)]


_LATENCIES_MS = [int(value) + 1 for value in _lognormal_quantiles(4.0, 0.6)]
_THINK_MICROS = [int(min(900.0, 0.3 + value) * MICROS) for value in _lognormal_quantiles(2.64, 1.0)]


# A trip: an airliner's cruising speed, and the hours spent getting to and from the airports.
FLIGHT_KMH = 900.0
AIRPORT_HOURS = 2.0


@dataclass
class Context:
    """What every traffic generator shares: the random generator, the factory and the customers."""

    rng: random.Random
    factory: EventFactory
    users: list[UserProfile]
    _fresh_accounts: int = field(default=0)
    # Where each customer's latest session was: (its start, country). People fly, they do not jump:
    # a session abroad (or back home) is only as soon as an airliner could have brought them.
    _whereabouts: dict[str, tuple[int, str]] = field(default_factory=dict)

    def can_be_in(self, user: UserProfile, country: str, micros: int) -> bool:
        """Whether ``user`` could have reached ``country`` by ``micros`` from their latest session."""
        latest, there = self._whereabouts.get(user.user_id, (None, user.country))
        if latest is None or there == country:
            return True
        hours = geo.distance_km(there, country) / FLIGHT_KMH + AIRPORT_HOURS
        return micros - latest >= hours * 3600 * MICROS

    def where(self, user: UserProfile) -> str:
        """The country of ``user``'s latest session (home before any)."""
        return self._whereabouts.get(user.user_id, (0, user.country))[1]

    def arrive(self, user: UserProfile, country: str, micros: int) -> None:
        self._whereabouts[user.user_id] = (micros, country)

    def session_id(self) -> str:
        return f"s-{self.rng.getrandbits(64):016x}"

    def latency_ms(self) -> int:
        """A server latency in ms, log-normal (median about 55 ms)."""
        return _LATENCIES_MS[int(self.rng.random() * _TABLE_SIZE)]

    def think_micros(self) -> int:
        """A customer's pause between two pages: log-normal, median about 14 s, 0.3 s to 15 min."""
        return _THINK_MICROS[int(self.rng.random() * _TABLE_SIZE)]

    def random_user(self) -> UserProfile:
        return self.users[self.rng.randrange(len(self.users))]

    def fresh_account_id(self) -> str:
        """A user id never used by a customer (an account registered for abuse)."""
        self._fresh_accounts += 1
        return f"u-n{self._fresh_accounts:05d}{self.rng.randrange(100):02d}"

    def unknown_user_id(self) -> str:
        """A user id that belongs to nobody (credential stuffing tries leaked usernames)."""
        return f"u-{len(self.users) + self.rng.randrange(10 * len(self.users) + 1_000_000):06d}"
