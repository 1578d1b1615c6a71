"""What the scorer keeps between batches: ``UserState`` per user and ``IpState`` per address.

``UserState`` (key: user_id), at most ``MAX_USER_STATE_BYTES`` serialized:
  time of the previous event; exponentially decayed event counts (1 minute and 1 hour), failure
  count (1 hour) and new-user-agent count (10 minutes); moving averages of the log gap between
  events and of its deviation; total events; a 24-bin hour-of-day histogram decayed over 30 days
  (in whole-day steps); bounded most-recently-used sets of CRC32 hashes: the last
  ``MAX_RECENT_IPS`` IPs and ``MAX_RECENT_COUNTRIES`` countries (each with the minute last seen, to
  count those of the last hour and to measure travel; countries of hosting networks are not kept),
  ``MAX_RECENT_AGENTS`` user agents, ``MAX_RECENT_PATHS`` resource templates and
  ``MAX_RECENT_NETWORKS`` networks (ASNs).

``IpState`` (key: ip), at most ``MAX_IP_STATE_BYTES`` serialized:
  time of the latest event; decayed event, failure and new-user counts; the number of events
  applied; the ``MAX_IP_USERS`` users seen last (CRC32 hash, minute last seen: the greatest
  (minute, hash) pairs) to count distinct users per day.

An ``IpState`` is mergeable: Kinesis partitions events by user, so each shard's scorer sees a
disjoint set of an address's users, and the address's state is the merge (``merge_ip_states``) of
the states the shards built from their own events. Every part of it merges exactly: decayed counts
add once decayed to a common time, event counts add, and the kept users are the greatest (minute,
hash) pairs of the union, which do not depend on the order events came in. Whether an event brings
a new user to the address is read from the user's own recent addresses (``UserState.recent_ips``),
which one shard holds, so it is the same however the users are split between shards. Merging the
parts gives the state a single process reaches from all the events in time order (the tests check
it); ``scorer.ip_slices`` stores the parts.

Sizes are bounded because every set is capped and evicts its least recently seen member; the
bounds are checked by tests with adversarial input (thousands of distinct IPs, agents and users).
Counters are capped at ``MAX_DECAYED_COUNT``. A state that went through ``to_bytes``/``from_bytes``
featurizes exactly like the original: floats are stored as doubles (the layout is described at
``STATE_FORMAT``).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from typing import Any

from model.exceptions import InvalidStateError

# The version of the feature columns and of the states behind them: a state or vocabulary of
# another version is refused, and a model is trained and served with one version.
FEATURES_VERSION = 3
# States stored by these feature versions are read as they are: version 3 added a row column computed
# from what version 2 states hold already (the travel column) and stopped recording the countries of
# hosting networks, so an upgrade keeps every user's and address's history.
READABLE_STATE_VERSIONS = frozenset({2, FEATURES_VERSION})

# Decay time constants of the counters, seconds: a counter decays by a factor e every tau.
FAST_TAU = 60.0
SLOW_TAU = 3600.0
MAX_DECAYED_COUNT = 1e6
MAX_TOTAL_EVENTS = 2**53
# The weight of the newest gap in the gap averages, and the deviation assumed before two gaps are seen.
GAP_SMOOTHING = 0.3
GAP_DEVIATION_PRIOR = 1.0

MAX_RECENT_IPS = 8
MAX_RECENT_AGENTS = 4
MAX_RECENT_COUNTRIES = 4
MAX_RECENT_PATHS = 16
MAX_RECENT_NETWORKS = 4
MAX_IP_USERS = 32


def decay_factor(elapsed: float, tau: float) -> float:
    """What a decayed count is multiplied by after ``elapsed`` seconds (exactly 1.0 for none)."""
    return math.exp(-elapsed / tau) if elapsed > 0 else 1.0


def capped(value: float) -> float:
    """Cap a float before it goes into state, so its counters stay bounded."""
    return min(value, MAX_DECAYED_COUNT)


def touch(recent: list[int], item: int, capacity: int) -> bool:
    """Move ``item`` to the front of the MRU list, evicting the oldest; True if it was not there."""
    new = item not in recent
    if not new:
        recent.remove(item)
    recent.insert(0, item)
    del recent[capacity:]
    return new


def touch_timed(recent: list[tuple[int, int]], item: int, minute: int, capacity: int) -> bool:
    """``touch`` for (hash, minute last seen) pairs; True if ``item`` was not there."""
    for position, (known, _) in enumerate(recent):
        if known == item:
            del recent[position]
            break
    else:
        position = -1
    recent.insert(0, (item, minute))
    del recent[capacity:]
    return position < 0


def holds(recent: list[tuple[int, int]], item: int) -> bool:
    """Whether (hash, minute) pairs hold ``item``, without touching them."""
    return any(known == item for known, _ in recent)


def _pairs(values: Any, capacity: int) -> list[tuple[int, int]]:
    return [(int(item), int(minute)) for item, minute in values][:capacity]


@dataclass(slots=True)
class UserState:
    """What the scorer keeps per user between batches (see the module docstring for the bound)."""

    last_seen: float | None = None
    rate_fast: float = 0.0
    rate_slow: float = 0.0
    failures_slow: float = 0.0
    # Moving average of log gaps between events and of deviations from it: robots are regular.
    gap_mean: float | None = None
    gap_deviation: float = GAP_DEVIATION_PRIOR
    new_agents: float = 0.0
    total_events: int = 0
    hour_histogram: list[float] = field(default_factory=lambda: [0.0] * 24)
    # (hash, minute last seen) pairs, most recent first.
    recent_ips: list[tuple[int, int]] = field(default_factory=list)
    recent_agents: list[int] = field(default_factory=list)
    recent_countries: list[tuple[int, int]] = field(default_factory=list)
    recent_paths: list[int] = field(default_factory=list)
    # Hashes of the networks (ASN, or its organisation where the source has no number) of the
    # user's recent addresses, most recent first.
    recent_networks: list[int] = field(default_factory=list)

    def copy(self) -> UserState:
        """An independent copy (lists are not shared)."""
        return UserState(
            self.last_seen,
            self.rate_fast,
            self.rate_slow,
            self.failures_slow,
            self.gap_mean,
            self.gap_deviation,
            self.new_agents,
            self.total_events,
            self.hour_histogram[:],
            self.recent_ips[:],
            self.recent_agents[:],
            self.recent_countries[:],
            self.recent_paths[:],
            self.recent_networks[:],
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with short keys (``v`` is FEATURES_VERSION)."""
        return {
            "v": FEATURES_VERSION,
            "t": self.last_seen,
            "rf": self.rate_fast,
            "rs": self.rate_slow,
            "fs": self.failures_slow,
            "gm": self.gap_mean,
            "gd": self.gap_deviation,
            "na": self.new_agents,
            "n": self.total_events,
            "h": self.hour_histogram,
            "ip": [list(pair) for pair in self.recent_ips],
            "ua": self.recent_agents,
            "cc": [list(pair) for pair in self.recent_countries],
            "p": self.recent_paths,
            "as": self.recent_networks,
        }

    def to_bytes(self) -> bytes:
        """The stored form (``_user_layout``), at most ``MAX_USER_STATE_BYTES``."""
        ips, agents, countries, paths = self.recent_ips, self.recent_agents, self.recent_countries, self.recent_paths
        networks = self.recent_networks
        try:
            return _user_layout(len(ips), len(agents), len(countries), len(paths), len(networks)).pack(
                STATE_FORMAT,
                FEATURES_VERSION,
                (self.last_seen is not None) | (self.gap_mean is not None) << 1,
                0.0 if self.last_seen is None else self.last_seen,
                self.rate_fast,
                self.rate_slow,
                self.failures_slow,
                0.0 if self.gap_mean is None else self.gap_mean,
                self.gap_deviation,
                self.new_agents,
                self.total_events,
                *self.hour_histogram,
                len(ips),
                len(agents),
                len(countries),
                len(paths),
                len(networks),
                *chain.from_iterable(ips),
                *agents,
                *chain.from_iterable(countries),
                *paths,
                *networks,
            )
        except struct.error as error:
            raise InvalidStateError("user", f"cannot be stored: {error}") from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserState:
        """Rebuild from ``to_json`` output; raises ``InvalidStateError`` on anything else."""
        check_version("user", data)
        try:
            state = cls(
                last_seen=_optional_float(data["t"]),
                rate_fast=float(data["rf"]),
                rate_slow=float(data["rs"]),
                failures_slow=float(data["fs"]),
                gap_mean=_optional_float(data["gm"]),
                gap_deviation=float(data["gd"]),
                new_agents=float(data["na"]),
                total_events=int(data["n"]),
                hour_histogram=[float(value) for value in data["h"]],
                recent_ips=_pairs(data["ip"], MAX_RECENT_IPS),
                recent_agents=_hashes(data["ua"], MAX_RECENT_AGENTS),
                recent_countries=_pairs(data["cc"], MAX_RECENT_COUNTRIES),
                recent_paths=_hashes(data["p"], MAX_RECENT_PATHS),
                recent_networks=_hashes(data.get("as", ()), MAX_RECENT_NETWORKS),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise InvalidStateError("user", f"malformed: {error!r}") from None
        if len(state.hour_histogram) != 24:
            raise InvalidStateError("user", f"hour histogram has {len(state.hour_histogram)} bins, expected 24")
        state.to_bytes()  # raises InvalidStateError for values the stored form cannot hold
        return state

    @classmethod
    def from_bytes(cls, data: bytes | str) -> UserState:
        """Decode ``to_bytes`` output (or the JSON form earlier releases stored)."""
        if isinstance(data, str) or data[:1] == b"{":  # JSON, as earlier releases stored it
            return cls.from_json(_load_json("user", data))
        ips, agents, countries, paths, networks = _set_sizes("user", data, _USER_SET_SIZES, 5)
        if (
            ips > MAX_RECENT_IPS
            or agents > MAX_RECENT_AGENTS
            or countries > MAX_RECENT_COUNTRIES
            or paths > MAX_RECENT_PATHS
            or networks > MAX_RECENT_NETWORKS
        ):
            sizes = (ips, agents, countries, paths, networks)
            raise InvalidStateError("user", f"sets hold {sizes}, more than their capacities")
        values = _unpack("user", _user_layout(ips, agents, countries, paths, networks), data)
        flags = values[2]
        agents_start = _USER_SETS_START + 2 * ips
        countries_start = agents_start + agents
        paths_start = countries_start + 2 * countries
        networks_start = paths_start + paths
        # (hash, minute) pairs: zip takes two items at a time from one iterator.
        ip_items = iter(values[_USER_SETS_START:agents_start])
        country_items = iter(values[countries_start:paths_start])
        return cls(
            values[3] if flags & 1 else None,
            values[4],
            values[5],
            values[6],
            values[7] if flags & 2 else None,
            values[8],
            values[9],
            values[10],
            list(values[_USER_HOURS]),
            list(zip(ip_items, ip_items, strict=False)),
            list(values[agents_start:countries_start]),
            list(zip(country_items, country_items, strict=False)),
            list(values[paths_start:networks_start]),
            list(values[networks_start:]),
        )


@dataclass(slots=True)
class IpState:
    """What the scorer keeps per IP address (or per shard's part of it): how many users it serves
    and how it behaves. ``merge_ip_states`` adds parts together."""

    last_seen: float | None = None
    rate_fast: float = 0.0
    rate_slow: float = 0.0
    failures_slow: float = 0.0
    new_users_slow: float = 0.0
    # (user hash, minute of their latest event) pairs, greatest (minute, hash) first.
    recent_users: list[tuple[int, int]] = field(default_factory=list)
    events: int = 0  # events applied, exactly (not a feature: what a merge is checked by)

    def copy(self) -> IpState:
        """An independent copy."""
        return IpState(
            self.last_seen,
            self.rate_fast,
            self.rate_slow,
            self.failures_slow,
            self.new_users_slow,
            self.recent_users[:],
            self.events,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with short keys."""
        return {
            "v": FEATURES_VERSION,
            "t": self.last_seen,
            "rf": self.rate_fast,
            "rs": self.rate_slow,
            "fs": self.failures_slow,
            "nu": self.new_users_slow,
            "u": [list(pair) for pair in self.recent_users],
            "e": self.events,
        }

    def to_bytes(self) -> bytes:
        """The stored form (``_ip_layout``, format ``IP_STATE_FORMAT``), at most ``MAX_IP_STATE_BYTES``."""
        users = self.recent_users
        try:
            return _ip_layout(len(users)).pack(
                IP_STATE_FORMAT,
                FEATURES_VERSION,
                self.last_seen is not None,
                0.0 if self.last_seen is None else self.last_seen,
                self.rate_fast,
                self.rate_slow,
                self.failures_slow,
                self.new_users_slow,
                self.events,
                len(users),
                *chain.from_iterable(users),
            )
        except struct.error as error:
            raise InvalidStateError("ip", f"cannot be stored: {error}") from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IpState:
        """Rebuild from ``to_json`` output; raises ``InvalidStateError`` on anything else."""
        check_version("ip", data)
        try:
            users = [(int(user), int(minute)) for user, minute in data["u"]]
            state = cls(
                last_seen=_optional_float(data["t"]),
                rate_fast=float(data["rf"]),
                rate_slow=float(data["rs"]),
                failures_slow=float(data["fs"]),
                new_users_slow=float(data["nu"]),
                recent_users=_greatest_users(users),
                events=int(data.get("e", 0)),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise InvalidStateError("ip", f"malformed: {error!r}") from None
        state.to_bytes()  # raises InvalidStateError for values the stored form cannot hold
        return state

    @classmethod
    def from_bytes(cls, data: bytes | str) -> IpState:
        """Decode ``to_bytes`` output, or the forms earlier releases stored: JSON, and the binary form
        of ``STATE_FORMAT`` (no event count; users most recently seen first, reordered here)."""
        if isinstance(data, str) or data[:1] == b"{":  # JSON, as earlier releases stored it
            return cls.from_json(_load_json("ip", data))
        if data[:1] == _STATE_FORMAT_BYTE:
            (count,) = _set_sizes("ip", data, _IP_SET_SIZES_V2, 1)
            layout, sets_start = _ip_layout_v2, _IP_SETS_START_V2
        else:
            (count,) = _set_sizes("ip", data, _IP_SET_SIZES, 1, IP_STATE_FORMAT)
            layout, sets_start = _ip_layout, _IP_SETS_START
        if count > MAX_IP_USERS:
            raise InvalidStateError("ip", f"holds {count} users, more than {MAX_IP_USERS}")
        values = _unpack("ip", layout(count), data)
        user_items = iter(values[sets_start:])
        users = list(zip(user_items, user_items, strict=False))
        return cls(
            values[3] if values[2] else None,
            values[4],
            values[5],
            values[6],
            values[7],
            users if layout is _ip_layout else _greatest_users(users),
            values[8] if layout is _ip_layout else 0,
        )


def add_user(users: list[tuple[int, int]], user_hash: int, minute: int, capacity: int) -> None:
    """Note ``user_hash`` seen at ``minute`` in ``users`` (greatest (minute, hash) first): keep its
    latest minute and the ``capacity`` greatest pairs. The result depends only on the pairs noted,
    not on their order, so two shards' lists merge into the one a single process keeps."""
    for position, (known, seen) in enumerate(users):
        if known == user_hash:
            if seen >= minute:
                return
            del users[position]
            break
    position = 0
    while position < len(users) and (users[position][1], users[position][0]) > (minute, user_hash):
        position += 1
    if position < capacity:
        users.insert(position, (user_hash, minute))
        del users[capacity:]


def _greatest_users(users: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Users in the order ``add_user`` keeps, each once at its latest minute, at most ``MAX_IP_USERS``."""
    latest: dict[int, int] = {}
    for user, minute in users:
        if minute > latest.get(user, minute - 1):
            latest[user] = minute
    return sorted(latest.items(), key=lambda pair: (pair[1], pair[0]), reverse=True)[:MAX_IP_USERS]


def merge_ip_states(states: Iterable[IpState]) -> IpState:
    """One address's state from the states of disjoint sets of its events (one per shard): counts
    decayed to the latest event among them and added, events added, users the greatest (minute,
    hash) pairs of the union. Equal, up to float rounding, to the state one process reaches from all
    those events in time order."""
    parts = [state for state in states if state.last_seen is not None]
    if not parts:
        return IpState()
    if len(parts) == 1:
        return parts[0].copy()
    latest = max(state.last_seen for state in parts if state.last_seen is not None)
    fast = [decay_factor(latest - (state.last_seen or latest), FAST_TAU) for state in parts]
    slow = [decay_factor(latest - (state.last_seen or latest), SLOW_TAU) for state in parts]

    def added(values: Iterable[float]) -> float:
        # fsum rounds once: the merge is the same whatever order the parts come in.
        return capped(math.fsum(values))

    return IpState(
        last_seen=latest,
        rate_fast=added(state.rate_fast * factor for state, factor in zip(parts, fast, strict=True)),
        rate_slow=added(state.rate_slow * factor for state, factor in zip(parts, slow, strict=True)),
        failures_slow=added(state.failures_slow * factor for state, factor in zip(parts, slow, strict=True)),
        new_users_slow=added(state.new_users_slow * factor for state, factor in zip(parts, slow, strict=True)),
        recent_users=_greatest_users([pair for state in parts for pair in state.recent_users]),
        events=sum(state.events for state in parts),
    )


def keep_users_within(state: IpState, merged: IpState) -> IpState:
    """``state`` (one shard's part of an address) without the users that are not among ``merged``'s
    (the merge of every part, as read): another shard's users rank above them, and ranks only rise
    with new events, which this shard would see. Keeps the parts small where many shards share an
    address; merging gives the same state with or without them."""
    kept = {user for user, _ in merged.recent_users}
    if all(user in kept for user, _ in state.recent_users):
        return state
    trimmed = state.copy()
    trimmed.recent_users = [pair for pair in state.recent_users if pair[0] in kept]
    return trimmed


# The stored form of a state: a format byte (JSON, the form of earlier releases, starts with "{"),
# FEATURES_VERSION, a byte of flags for the values that may be None, the numbers as little-endian
# doubles (exact, so a stored state featurizes exactly like the original), the size of each set,
# then the sets: 32-bit hashes, each followed by its 64-bit minute where it has one. No field
# names: the largest state takes about 500 bytes (half a DynamoDB write unit), and a state packs or
# unpacks in one to a few microseconds.
STATE_FORMAT = 2
_STATE_FORMAT_BYTE = bytes([STATE_FORMAT])
# IP states since they became mergeable: the event count after the doubles, users in (minute, hash) order.
IP_STATE_FORMAT = 3
_USER_HEAD = "<BBB 7d Q 24d"
_USER_SET_SIZES = struct.Struct(f"{_USER_HEAD} 5B")
_IP_HEAD = "<BBB 5d Q"
_IP_SET_SIZES = struct.Struct(f"{_IP_HEAD} B")
_IP_HEAD_V2 = "<BBB 5d"
_IP_SET_SIZES_V2 = struct.Struct(f"{_IP_HEAD_V2} B")
# Where the unpacked values of the sets begin, and of the hour histogram (after 3 bytes, 7 doubles, 1 count).
_USER_SETS_START = len(_USER_SET_SIZES.unpack(bytes(_USER_SET_SIZES.size)))
_IP_SETS_START = len(_IP_SET_SIZES.unpack(bytes(_IP_SET_SIZES.size)))
_IP_SETS_START_V2 = len(_IP_SET_SIZES_V2.unpack(bytes(_IP_SET_SIZES_V2.size)))
_USER_HOURS = slice(11, 11 + 24)


@cache
def _user_layout(ips: int, agents: int, countries: int, paths: int, networks: int) -> struct.Struct:
    return struct.Struct(f"{_USER_HEAD} 5B {'Iq' * ips} {agents}I {'Iq' * countries} {paths}I {networks}I")


@cache
def _ip_layout(users: int) -> struct.Struct:
    return struct.Struct(f"{_IP_HEAD} B {'Iq' * users}")


@cache
def _ip_layout_v2(users: int) -> struct.Struct:
    return struct.Struct(f"{_IP_HEAD_V2} B {'Iq' * users}")


MAX_USER_STATE_BYTES = _user_layout(
    MAX_RECENT_IPS, MAX_RECENT_AGENTS, MAX_RECENT_COUNTRIES, MAX_RECENT_PATHS, MAX_RECENT_NETWORKS
).size
MAX_IP_STATE_BYTES = _ip_layout(MAX_IP_USERS).size


def _set_sizes(
    kind: str, data: bytes, fixed_part: struct.Struct, sets: int, form: int = STATE_FORMAT
) -> tuple[int, ...]:
    """The set sizes a stored state declares (the last bytes of its fixed part), after checking its
    format and features version."""
    if data[:1] != bytes([form]):
        raise InvalidStateError(kind, f"unknown stored form {data[:1]!r}; this code writes {form}")
    if len(data) < fixed_part.size:
        raise InvalidStateError(kind, f"truncated: {len(data)} bytes, the fixed part alone is {fixed_part.size}")
    if data[1] not in READABLE_STATE_VERSIONS:
        raise InvalidStateError(kind, f"features version {data[1]}; this code is {FEATURES_VERSION}")
    return tuple(data[fixed_part.size - sets : fixed_part.size])


def _unpack(kind: str, layout: struct.Struct, data: bytes) -> tuple[Any, ...]:
    if len(data) != layout.size:
        raise InvalidStateError(kind, f"{len(data)} bytes where its sets need {layout.size}")
    return layout.unpack(data)


def _load_json(kind: str, data: bytes | str) -> Mapping[str, Any]:
    try:
        loaded = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise InvalidStateError(kind, f"not JSON: {error!r}") from None
    if not isinstance(loaded, dict):
        raise InvalidStateError(kind, f"must be a JSON object, got {type(loaded).__name__}")
    return loaded


def check_version(kind: str, data: Mapping[str, Any], readable: frozenset[int] = READABLE_STATE_VERSIONS) -> None:
    """Refuse ``data`` (the JSON form of a state, or of a vocabulary) unless written by a version in ``readable``."""
    if data.get("v") not in readable:
        raise InvalidStateError(kind, f"features version {data.get('v')!r}; this code is {FEATURES_VERSION}")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _hashes(values: Any, capacity: int) -> list[int]:
    return [int(value) for value in values][:capacity]
