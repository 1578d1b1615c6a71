"""The simulated world: customers with homes and devices, and the factory that writes events.

Times are integer microseconds since the Unix epoch, so simulated time is exact and a run is
bit-for-bit reproducible from its seed.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from traffic import agents, catalog, geo
from vedette.events import SCHEMA_VERSION

MICROS = 1_000_000

# What a generator of traffic yields: (time in µs, event wire dict, label or None).
Emission = tuple[int, dict[str, Any], Any]


@dataclass(slots=True)
class UserProfile:
    """A returning customer: a home country and addresses, a few devices, a payment card."""

    user_id: str
    country: str
    utc_offset_micros: int
    home_ips: tuple[str, ...]
    devices: tuple[tuple[str, str], ...]  # (device kind, user agent)
    card_last4: str
    currency: str


def make_users(rng: random.Random, count: int) -> list[UserProfile]:
    """``count`` customers spread over countries by their user weight."""
    codes = [country.code for country in geo.COUNTRIES]
    weights = [country.user_weight for country in geo.COUNTRIES]
    users = []
    for number in range(count):
        code = rng.choices(codes, weights)[0]
        country = geo.COUNTRY_BY_CODE[code]
        home_ips = [geo.random_ip(rng, code, geo.RESIDENTIAL, ipv6=rng.random() < 0.15)]
        if rng.random() < 0.3:  # a second home: office, partner's place
            home_ips.append(geo.random_ip(rng, code, geo.RESIDENTIAL))
        kinds = [rng.choice((agents.DESKTOP, agents.DESKTOP, agents.MOBILE, agents.APP))]
        while len(kinds) < 3 and rng.random() < 0.35:
            kinds.append(rng.choice((agents.DESKTOP, agents.MOBILE, agents.APP)))
        users.append(
            UserProfile(
                user_id=f"u-{number:06d}",
                country=code,
                utc_offset_micros=int(country.utc_offset_hours * 3600 * MICROS),
                home_ips=tuple(home_ips),
                devices=tuple((kind, agents.device_agent(rng, kind)) for kind in kinds),
                card_last4=f"{rng.randrange(10_000):04d}",
                currency=catalog.CURRENCY_BY_COUNTRY.get(code, catalog.DEFAULT_CURRENCY),
            )
        )
    return users


class EventFactory:
    """Builds wire dicts already in the contract's canonical form (``normalize_event`` leaves them
    unchanged), with event ids drawn from the simulation's random generator."""

    __slots__ = ("_prefix", "_rng", "_second")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._second = -1
        self._prefix = ""

    def timestamp(self, micros: int) -> str:
        second, fraction = divmod(micros, MICROS)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{fraction:06d}Z"

    def event_id(self) -> str:
        # A version 4 UUID whose random bits come from the seeded generator.
        value = (self._rng.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        text = f"{value:032x}"
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


@dataclass
class Context:
    """What every traffic generator shares: the random generator, the factory and the customers."""

    rng: random.Random
    factory: EventFactory
    users: list[UserProfile]
    _fresh_accounts: int = field(default=0)

    def session_id(self) -> str:
        return f"s-{self.rng.getrandbits(64):016x}"

    def latency_ms(self) -> int:
        return int(self.rng.lognormvariate(4.0, 0.6)) + 1

    def random_user(self) -> UserProfile:
        return self.users[self.rng.randrange(len(self.users))]

    def fresh_account_id(self) -> str:
        """A user id never used by a customer (an account registered for abuse)."""
        self._fresh_accounts += 1
        return f"u-n{self._fresh_accounts:05d}{self.rng.randrange(100):02d}"

    def unknown_user_id(self) -> str:
        """A user id that belongs to nobody (credential stuffing tries leaked usernames)."""
        return f"u-{len(self.users) + self.rng.randrange(10 * len(self.users) + 1_000_000):06d}"
