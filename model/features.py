"""The one feature definition: training, the Lambda scorer and the endpoint all import this module.

``featurize(user_state, events)`` turns one user's events (in time order) into feature rows, given
the compact state the scorer kept for that user, and returns the new state. It is a pure function:
inputs are never mutated, the same inputs give the same rows, and a state that went through
``to_bytes``/``from_bytes`` gives exactly the same rows as the original (floats are stored as
doubles; the layout is described at ``STATE_FORMAT``).

Two kinds of state, both stored by the scorer between batches (e.g. one DynamoDB item each):

``UserState`` (key: user_id), at most ``MAX_USER_STATE_BYTES`` serialized:
  time of the previous event; exponentially decayed event counts (1 minute and 1 hour), failure
  count (1 hour) and new-user-agent count (10 minutes); moving averages of the log gap between
  events and of its deviation; total events; a 24-bin hour-of-day histogram decayed over 30 days
  (in whole-day steps); bounded
  most-recently-used sets of CRC32 hashes: the last ``MAX_RECENT_IPS`` IPs and
  ``MAX_RECENT_COUNTRIES`` countries (each with the minute last seen, to count those of the last
  hour), ``MAX_RECENT_AGENTS`` user agents, ``MAX_RECENT_PATHS`` resource templates and
  ``MAX_RECENT_NETWORKS`` networks (ASNs).

``IpState`` (key: ip), at most ``MAX_IP_STATE_BYTES`` serialized:
  time of the previous event; decayed event, failure and new-user counts; the last
  ``MAX_IP_USERS`` distinct users (CRC32 hash, minute last seen) to count distinct users per day.

Sizes are bounded because every set is capped and evicts its least recently seen member; the
bounds are checked by tests with adversarial input (thousands of distinct IPs, agents and users).
Counters are capped at ``MAX_DECAYED_COUNT``. Earlier releases also rounded them to 6 decimals, for
the JSON form they were stored in; the binary form keeps every double exactly, and ``round(x, 6)``,
which formats and re-parses a decimal string, took about 8% of the scorer's instructions. The rows
are rounded instead, all at once with numpy, to ``ROW_DECIMALS`` (see ``_with_shapes``).

This module needs only the standard library and numpy (for the batch helper), so the scorer's
Lambda bundle can carry it. It runs once per event in training and in the scorer, so its hot path
(``_featurize_one``, ``resource_shapes``) is written for speed; ``make bench BENCH=scorer`` measures it.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from model.enrichment import AgentInfo, AgentLookup, NetworkInfo, NetworkLookup
from model.exceptions import InvalidFeatureEventError, InvalidStateError
from vedette.schema import CORE_EVENT_TYPES

FEATURES_VERSION = 2

# Decay time constants, seconds: a counter decays by a factor e every tau.
FAST_TAU = 60.0
SLOW_TAU = 3600.0
HOUR_HABIT_TAU = 30 * 86400.0
IP_USERS_WINDOW = 86400.0
AGENT_TAU = 600.0
# Weight of the newest gap in the gap averages, and the deviation assumed before two gaps are seen.
GAP_SMOOTHING = 0.3
GAP_DEVIATION_PRIOR = 1.0
# The gap reported for a user's first event (and the cap on any gap): 30 days.
MAX_GAP_SECONDS = 30 * 86400.0
MAX_DECAYED_COUNT = 1e6
# Feature values are rounded to this many decimals, so that values equal up to float noise tie.
ROW_DECIMALS = 6
MAX_TOTAL_EVENTS = 2**53

MAX_RECENT_IPS = 8
MAX_RECENT_AGENTS = 4
MAX_RECENT_COUNTRIES = 4
MAX_RECENT_PATHS = 16
MAX_RECENT_NETWORKS = 4
MAX_IP_USERS = 32


FAILURE_OUTCOMES = frozenset({"failed", "failure", "denied", "error", "rejected", "declined", "invalid", "blocked"})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

# Fragments seen in injection, traversal and scripting attacks, matched on the lower-cased resource
# (in this order: where several match at one position, the first listed wins).
_SUSPICIOUS_LITERALS = (
    *("select", "union", "insert", "drop", "delete", "update", "truncate", "exec", "sleep(", "benchmark("),
    *("waitfor", "char(", "concat(", "<script", "script>", "javascript:", "onerror", "onload", "alert("),
    *("eval(", "document.", "<img", "<iframe", "<svg", "../", "..\\", "/etc/", "passwd", "cmd", "%00", "\x00"),
)
# "or 1=1", as (first character, regex of the rest): the "or" must start a word, which a lookbehind
# after its first letter checks (\b before a letter: no word character before it).
_SUSPICIOUS_TAUTOLOGY = ("o", r"(?<!\w.)r\b\s*\d+\s*=")
_SUSPICIOUS_SYMBOLS = ("--", "/*", "*/", ";", "'", '"', "<", ">", "||", "&&", "${", "{{")


def _alternation_by_first_character(fragments: Sequence[tuple[str, str]]) -> str:
    """One alternation of fragments, given as (first character, regex of the rest), grouped by their
    first character, each group in the fragments' order: where several match at one position, the
    first listed still wins (fragments with different first characters never match at the same
    position). The regex engine then scans for the first characters in C and tries only the group at
    hand, where a plain alternation tries every fragment at every position: half the time on URLs."""
    groups: dict[str, list[str]] = {}
    for first, rest in fragments:
        groups.setdefault(first, []).append(rest)
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items())


_SUSPICIOUS_RE = re.compile(
    _alternation_by_first_character(
        [
            *((literal[0], re.escape(literal[1:])) for literal in _SUSPICIOUS_LITERALS),
            _SUSPICIOUS_TAUTOLOGY,
            *((symbol[0], re.escape(symbol[1:])) for symbol in _SUSPICIOUS_SYMBOLS),
        ]
    )
)
_SPECIAL_CHARS = frozenset("'\"<>();|`{}$\\*!%[]^~,")
_ASCII_ALNUM_PLUS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+"
_DIGITS_RE = re.compile(r"\d+")

FEATURE_NAMES: tuple[str, ...] = (
    # Timing and rates of this user
    "first_event",
    "log_seconds_since_previous",
    "log_rate_1m",
    "log_rate_1h",
    "failure_ratio_1h",
    "log_failures_1h",
    "log_user_history",
    "hour_rarity",
    "interval_deviation",
    # Novelty for this user
    "new_ip",
    "new_user_agent",
    "new_country",
    "new_asn",
    "new_resource_path",
    "ips_1h",
    "countries_1h",
    "log_new_agents_10m",
    # This IP across users, and its network (model.network)
    "ip_distinct_users_24h",
    "log_ip_new_users_1h",
    "log_ip_rate_1m",
    "ip_failure_ratio_1h",
    "ip_hosting",
    # Resource shape
    "resource_missing",
    "log_resource_length",
    "resource_path_depth",
    "resource_param_count",
    "log_resource_max_value_length",
    "resource_digit_ratio",
    "resource_nonalnum_ratio",
    "resource_special_ratio",
    "resource_value_nonalnum_ratio",
    "resource_entropy",
    "resource_suspicious_tokens",
    # Resource against the vocabulary learned in training (all 0 without one)
    "resource_path_rarity",
    "resource_unknown_params",
    "resource_value_class_violations",
    "resource_value_length_excess",
    "agent_family_rarity",
    # The client, as maintained user-agent parsers see it (model.user_agents; all 0 without one)
    "agent_known_bot",
    "agent_headless",
    "agent_http_library",
    "agent_unrecognised",
    "write_method",
    # Outcome
    "failure",
    "status_missing",
    "status_2xx",
    "status_3xx",
    "status_4xx",
    "status_5xx",
    # Event type one-hot over the core vocabulary, then everything else
    *(f"event_{name}" for name in CORE_EVENT_TYPES),
    "event_other",
)
FEATURE_COUNT = len(FEATURE_NAMES)
# Non-zero on a user's first event: detectors judge those rows against other first events.
FIRST_EVENT_COLUMN = FEATURE_NAMES.index("first_event")
# The resource shape columns (``resource_shapes``), from resource_missing to resource_suspicious_tokens.
_SHAPE_START = FEATURE_NAMES.index("resource_missing")
_SHAPE_WIDTH = FEATURE_NAMES.index("resource_suspicious_tokens") + 1 - _SHAPE_START
_NO_VOCABULARY = (0.0, 0.0, 0.0, 0.0, 0.0)
_NO_IP = (0.0, 0.0, 0.0, 0.0)
_TYPE_ONEHOT = {
    name: tuple(1.0 if index == position else 0.0 for index in range(len(CORE_EVENT_TYPES) + 1))
    for position, name in enumerate(CORE_EVENT_TYPES)
}
_OTHER_TYPE_ONEHOT = tuple(1.0 if index == len(CORE_EVENT_TYPES) else 0.0 for index in range(len(CORE_EVENT_TYPES) + 1))
_EVENT_FIELDS = ("event_type", "status", "ip", "user_agent", "resource", "properties")
# Status classes (``_status_class``) that record a failure: an outcome string, 4xx and 5xx.
_FAILURE_CLASSES = frozenset({1, 4, 5})

CountryLookup = Callable[[str], "str | None"]
_NO_AGENT = (0.0, 0.0, 0.0, 0.0)


def stable_hash(text: str) -> int:
    """A 32-bit hash that is the same in every process (Python's ``hash`` is salted per process)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _touch(recent: list[int], item: int, capacity: int) -> bool:
    """Move ``item`` to the front of the MRU list, evicting the oldest; True if it was not there."""
    new = item not in recent  # a membership test: cheaper than the exception of a failed remove
    if not new:
        recent.remove(item)
    recent.insert(0, item)
    del recent[capacity:]
    return new


def _pairs(values: Any, capacity: int) -> list[tuple[int, int]]:
    return [(int(item), int(minute)) for item, minute in values][:capacity]


def _stored(value: float) -> float:
    """Cap a float before it goes into state, so its counters stay bounded."""
    return min(value, MAX_DECAYED_COUNT)


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
        _check_version("user", data)
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
    """What the scorer keeps per IP address: how many users it serves and how it behaves."""

    last_seen: float | None = None
    rate_fast: float = 0.0
    rate_slow: float = 0.0
    failures_slow: float = 0.0
    new_users_slow: float = 0.0
    # (user hash, minute of last event) pairs, most recent first.
    recent_users: list[tuple[int, int]] = field(default_factory=list)

    def copy(self) -> IpState:
        """An independent copy."""
        return IpState(
            self.last_seen,
            self.rate_fast,
            self.rate_slow,
            self.failures_slow,
            self.new_users_slow,
            self.recent_users[:],
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
        }

    def to_bytes(self) -> bytes:
        """The stored form (``_ip_layout``), at most ``MAX_IP_STATE_BYTES``."""
        users = self.recent_users
        try:
            return _ip_layout(len(users)).pack(
                STATE_FORMAT,
                FEATURES_VERSION,
                self.last_seen is not None,
                0.0 if self.last_seen is None else self.last_seen,
                self.rate_fast,
                self.rate_slow,
                self.failures_slow,
                self.new_users_slow,
                len(users),
                *chain.from_iterable(users),
            )
        except struct.error as error:
            raise InvalidStateError("ip", f"cannot be stored: {error}") from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IpState:
        """Rebuild from ``to_json`` output; raises ``InvalidStateError`` on anything else."""
        _check_version("ip", data)
        try:
            users = [(int(user), int(minute)) for user, minute in data["u"]]
            state = cls(
                last_seen=_optional_float(data["t"]),
                rate_fast=float(data["rf"]),
                rate_slow=float(data["rs"]),
                failures_slow=float(data["fs"]),
                new_users_slow=float(data["nu"]),
                recent_users=users[:MAX_IP_USERS],
            )
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise InvalidStateError("ip", f"malformed: {error!r}") from None
        state.to_bytes()  # raises InvalidStateError for values the stored form cannot hold
        return state

    @classmethod
    def from_bytes(cls, data: bytes | str) -> IpState:
        """Decode ``to_bytes`` output (or the JSON form earlier releases stored)."""
        if isinstance(data, str) or data[:1] == b"{":  # JSON, as earlier releases stored it
            return cls.from_json(_load_json("ip", data))
        (count,) = _set_sizes("ip", data, _IP_SET_SIZES, 1)
        if count > MAX_IP_USERS:
            raise InvalidStateError("ip", f"holds {count} users, more than {MAX_IP_USERS}")
        values = _unpack("ip", _ip_layout(count), data)
        user_items = iter(values[_IP_SETS_START:])
        return cls(
            values[3] if values[2] else None,
            values[4],
            values[5],
            values[6],
            values[7],
            list(zip(user_items, user_items, strict=False)),
        )


# The stored form of a state: a format byte (JSON, the form of earlier releases, starts with "{"),
# FEATURES_VERSION, a byte of flags for the values that may be None, the numbers as little-endian
# doubles (exact, so a stored state featurizes exactly like the original), the size of each set,
# then the sets: 32-bit hashes, each followed by its 64-bit minute where it has one. No field
# names: the largest state takes about 500 bytes (half a DynamoDB write unit), and a state packs or
# unpacks in one to a few microseconds.
STATE_FORMAT = 2
_STATE_FORMAT_BYTE = bytes([STATE_FORMAT])
_USER_HEAD = "<BBB 7d Q 24d"
_USER_SET_SIZES = struct.Struct(f"{_USER_HEAD} 5B")
_IP_HEAD = "<BBB 5d"
_IP_SET_SIZES = struct.Struct(f"{_IP_HEAD} B")
# Where the unpacked values of the sets begin, and of the hour histogram (after 3 bytes, 7 doubles, 1 count).
_USER_SETS_START = len(_USER_SET_SIZES.unpack(bytes(_USER_SET_SIZES.size)))
_IP_SETS_START = len(_IP_SET_SIZES.unpack(bytes(_IP_SET_SIZES.size)))
_USER_HOURS = slice(11, 11 + 24)


@cache
def _user_layout(ips: int, agents: int, countries: int, paths: int, networks: int) -> struct.Struct:
    return struct.Struct(f"{_USER_HEAD} 5B {'Iq' * ips} {agents}I {'Iq' * countries} {paths}I {networks}I")


@cache
def _ip_layout(users: int) -> struct.Struct:
    return struct.Struct(f"{_IP_HEAD} B {'Iq' * users}")


MAX_USER_STATE_BYTES = _user_layout(
    MAX_RECENT_IPS, MAX_RECENT_AGENTS, MAX_RECENT_COUNTRIES, MAX_RECENT_PATHS, MAX_RECENT_NETWORKS
).size
MAX_IP_STATE_BYTES = _ip_layout(MAX_IP_USERS).size


def _set_sizes(kind: str, data: bytes, fixed_part: struct.Struct, sets: int) -> tuple[int, ...]:
    """The set sizes a stored state declares (the last bytes of its fixed part), after checking its
    format and features version."""
    if data[:1] != _STATE_FORMAT_BYTE:
        raise InvalidStateError(kind, f"unknown stored form {data[:1]!r}; this code writes {STATE_FORMAT}")
    if len(data) < fixed_part.size:
        raise InvalidStateError(kind, f"truncated: {len(data)} bytes, the fixed part alone is {fixed_part.size}")
    if data[1] != FEATURES_VERSION:
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


def _check_version(kind: str, data: Mapping[str, Any]) -> None:
    if data.get("v") != FEATURES_VERSION:
        raise InvalidStateError(kind, f"features version {data.get('v')!r}; this code is {FEATURES_VERSION}")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _hashes(values: Any, capacity: int) -> list[int]:
    return [int(value) for value in values][:capacity]


class Featurized(NamedTuple):
    """Rows for one user's events, the user's new state, and the new state of every IP they used."""

    rows: list[list[float]]
    state: UserState
    ip_states: dict[str, IpState]


class BatchFeatures(NamedTuple):
    """Rows for many users' events in input order, and the new state of every user and IP touched."""

    rows: np.ndarray[Any, np.dtype[np.float64]]
    user_states: dict[str, UserState]
    ip_states: dict[str, IpState]


def _get(event: Any, name: str) -> Any:
    if type(event) is dict or isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def event_time(event: Any) -> float:
    """Seconds since the epoch of an event's ``occurred_at`` (wire string or aware datetime)."""
    return _seconds(_get(event, "occurred_at"))


# Microseconds since the epoch at the start of each whole second ("YYYY-MM-DDTHH:MM:SS") parsed
# lately. Events come in time order, so a batch of thousands spans a few hundred seconds, and an
# event in the wire's canonical form ("...SS.ffffffZ", what producers write) then costs a slice and
# an integer parse instead of a datetime.
_SECOND_STARTS: dict[str, int] = {}
_MAX_CACHED_SECONDS = 100_000
_ONE_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # noqa: UP017 - the container runs Python 3.10


def _seconds(value: Any) -> float:
    if type(value) is str:
        canonical = len(value) == 27 and value[19] == "." and value[26] == "Z"
        if canonical:
            start = _SECOND_STARTS.get(value[:19])
            micros = value[20:26]
            if start is not None and micros.isdigit() and micros.isascii():
                # What datetime.timestamp() returns: whole microseconds over 10**6, rounded once.
                return (start + int(micros)) / 1_000_000
        try:
            # Python 3.10 (the SageMaker container's) does not read the "Z" suffix itself.
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] == "Z" else value)
        except ValueError:
            raise InvalidFeatureEventError("occurred_at", f"not an RFC 3339 timestamp: {value[:64]!r}") from None
        if moment.tzinfo is None:
            raise InvalidFeatureEventError("occurred_at", "timestamp has no UTC offset")
        if canonical:
            if len(_SECOND_STARTS) >= _MAX_CACHED_SECONDS:
                _SECOND_STARTS.clear()
            _SECOND_STARTS[value[:19]] = (moment.replace(microsecond=0) - _EPOCH) // _ONE_MICROSECOND
        return moment.timestamp()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidFeatureEventError("occurred_at", "naive datetime")
        return value.timestamp()
    if isinstance(value, str):  # a str subclass
        return _seconds(str(value))
    raise InvalidFeatureEventError("occurred_at", f"must be a timestamp string or datetime, got {type(value).__name__}")


def _status_class(status: Any) -> int:
    """2-5 for HTTP-like codes, 1 for a failure outcome string, 0 for other strings or none."""
    if type(status) is int:
        return status // 100
    if isinstance(status, str) and status.lower() in FAILURE_OUTCOMES:
        return 1
    return 0


def is_failure(event_type: str, status: Any) -> bool:
    """Whether an event records a failed attempt: a failed login, a 4xx/5xx code or a failure outcome."""
    return event_type == "login_failed" or _status_class(status) in _FAILURE_CLASSES


# count * log2(count) for the character counts of any resource the event contract admits.
_COUNT_LOG_COUNT = [0.0] + [count * math.log2(count) for count in range(1, 4097)]
_COUNT_LOG_COUNT_ARRAY = np.array(_COUNT_LOG_COUNT)
# Character classes of the 128 ASCII codes, as weights for a histogram of codes.
_ASCII_IS_DIGIT = np.array([chr(code).isdigit() for code in range(128)], dtype=np.float64)
_ASCII_IS_ALNUM = np.array([chr(code).isalnum() for code in range(128)], dtype=np.float64)
_ASCII_IS_SPECIAL = np.array([chr(code) in _SPECIAL_CHARS for code in range(128)], dtype=np.float64)


def _entropy(text: str) -> float:
    """Shannon entropy of the characters, bits: log2(n) - sum(c * log2(c)) / n over character counts."""
    total = len(text)
    counts = Counter(text).values()
    if total < len(_COUNT_LOG_COUNT):
        weighted = sum(map(_COUNT_LOG_COUNT.__getitem__, counts))
    else:
        weighted = sum(count * math.log2(count) for count in counts)
    return max(0.0, math.log2(total) - weighted / total)


def resource_template(resource: str) -> str:
    """The resource's path with digit runs collapsed: ``/items/123?x=1`` -> ``/items/0``."""
    path = resource.split("?", 1)[0]
    return _DIGITS_RE.sub("0", path)


def resource_shape(resource: str | None) -> list[float]:
    """The shape features of a resource, in ``FEATURE_NAMES`` order (``resource_missing`` first)."""
    return [float(value) for value in resource_shapes([resource])[0]]


def resource_shapes(resources: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``resource_shape`` of many resources at once: an array of ``_SHAPE_WIDTH`` columns per resource.

    Each distinct resource is shaped once, and the character counts and entropies of ASCII resources
    (nearly all: URLs are percent-encoded) are computed together with numpy; a resource's shape
    does not depend on what it is computed with.
    """
    slots = [0] * len(resources)  # 0: missing; n: the n-th distinct resource
    distinct: dict[str, int] = {}
    for position, resource in enumerate(resources):
        if isinstance(resource, str) and resource:
            slot = distinct.get(resource)
            if slot is None:
                slot = distinct[resource] = len(distinct) + 1
            slots[position] = slot
    table = np.zeros((len(distinct) + 1, _SHAPE_WIDTH))
    table[0, 0] = 1.0  # resource_missing
    if distinct:
        table[1:] = _text_shapes([resource.lower() for resource in distinct])
    return table[slots]


def _text_shapes(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    lengths = np.fromiter(map(len, texts), dtype=np.float64, count=len(texts))
    parts = np.array([_query_shape(text) for text in texts], dtype=np.float64).reshape(len(texts), 6)
    ascii_rows = [row for row, text in enumerate(texts) if text.isascii()]
    if len(ascii_rows) == len(texts):
        counts = _ascii_char_counts(texts, lengths)
    else:
        counts = np.array([_char_counts(text) for text in texts], dtype=np.float64).reshape(len(texts), 4)
        if ascii_rows:
            counts[ascii_rows] = _ascii_char_counts([texts[row] for row in ascii_rows], lengths[ascii_rows])
    shapes = np.zeros((len(texts), _SHAPE_WIDTH))
    shapes[:, 1:5] = parts[:, :4]  # log length, path depth, parameter count, log longest value
    shapes[:, 5] = counts[:, 0] / lengths  # digits
    shapes[:, 6] = counts[:, 1] / lengths  # not alphanumeric
    shapes[:, 7] = counts[:, 2] / lengths  # special characters
    shapes[:, 8] = parts[:, 4]  # value non-alphanumeric ratio
    shapes[:, 9] = counts[:, 3]  # entropy
    shapes[:, 10] = parts[:, 5]  # suspicious tokens
    return shapes


def _query_shape(text: str) -> tuple[float, int, int, float, float, int]:
    """Log length, path depth, parameter count, log longest value, share of value characters that
    are symbols, and suspicious tokens of a lower-cased resource."""
    path, _, query = text.partition("?")
    log_length = math.log1p(len(text))
    suspicious = len(_SUSPICIOUS_RE.findall(text))
    if not query:
        return log_length, path.count("/"), 0, 0.0, 0.0, suspicious
    values = [pair.partition("=")[2] for pair in query.split("&") if pair]
    joined = "".join(values)
    if not joined:
        return log_length, path.count("/"), len(values), 0.0, 0.0, suspicious
    # "+" encodes a space in query values: not a symbol there.
    if joined.isascii():
        symbols = len(joined.encode("ascii").translate(None, _ASCII_ALNUM_PLUS))
    else:
        symbols = len(joined) - sum(map(str.isalnum, joined)) - joined.count("+")
    longest = math.log1p(max(map(len, values)))
    return log_length, path.count("/"), len(values), longest, symbols / len(joined), suspicious


def _char_counts(text: str) -> tuple[int, int, int, float]:
    """Digits, characters that are not alphanumeric, special characters, and entropy of any text."""
    nonalnum = len(text) - sum(map(str.isalnum, text))
    return sum(map(str.isdigit, text)), nonalnum, sum(map(_SPECIAL_CHARS.__contains__, text)), _entropy(text)


def _ascii_char_counts(texts: list[str], lengths: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``_char_counts`` of ASCII texts, all at once: a histogram of character codes per text."""
    codes = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    owner = np.repeat(np.arange(len(texts)), lengths.astype(np.intp))
    histogram = np.bincount(owner * 128 + codes, minlength=len(texts) * 128).reshape(len(texts), 128)
    counts = np.empty((len(texts), 4))
    counts[:, 0] = histogram @ _ASCII_IS_DIGIT
    counts[:, 1] = lengths - histogram @ _ASCII_IS_ALNUM
    counts[:, 2] = histogram @ _ASCII_IS_SPECIAL
    weighted = _COUNT_LOG_COUNT_ARRAY[np.minimum(histogram, len(_COUNT_LOG_COUNT) - 1)].sum(axis=1)
    # A character repeated beyond the table needs a text longer than any resource the contract admits.
    for row in np.flatnonzero(lengths >= len(_COUNT_LOG_COUNT)):
        present = histogram[row][histogram[row] > 0]
        weighted[row] = float(np.sum(present * np.log2(present)))
    counts[:, 3] = np.maximum(0.0, np.log2(lengths) - weighted / lengths)
    return counts


# Character classes of parameter values, as bits of a mask.
_CLASS_DIGIT, _CLASS_LETTER, _CLASS_SPACE, _CLASS_PUNCT, _CLASS_SPECIAL, _CLASS_OTHER = 1, 2, 4, 8, 16, 32
_PUNCTUATION = frozenset(".-_@,/:")
MAX_VOCABULARY_PATHS = 20_000
MAX_VOCABULARY_PARAMS = 50_000
MAX_VOCABULARY_AGENTS = 2_000
_AGENT_FAMILY_LENGTH = 32


def agent_family(agent: str) -> str:
    """The product name a user agent starts with: ``mozilla``, ``okhttp``, ``python-requests``..."""
    return agent.split("/", 1)[0].split(" ", 1)[0].strip().lower()[:_AGENT_FAMILY_LENGTH]


def _char_classes(value: str) -> int:
    mask = 0
    for char in value:
        if char.isdigit():
            mask |= _CLASS_DIGIT
        elif char.isascii() and char.isalpha():
            mask |= _CLASS_LETTER
        elif char in " +":
            mask |= _CLASS_SPACE
        elif char in _PUNCTUATION:
            mask |= _CLASS_PUNCT
        elif char.isascii():
            mask |= _CLASS_SPECIAL
        else:
            mask |= _CLASS_OTHER
    return mask


def _parameters(resource: str) -> tuple[str, list[tuple[str, str]]]:
    text = resource.lower()
    path, _, query = text.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&") if pair] if query else []
    return _DIGITS_RE.sub("0", path), [(name, value) for name, _, value in pairs]


@dataclass(slots=True)
class ResourceVocabulary:
    """Which resources and clients normal traffic uses: path templates and, per template, each
    parameter's character classes and longest value; user-agent families (``agent_family``).
    Learned once from training events, shipped in the model artifact, and passed read-only to
    ``featurize`` by training and by the scorer alike.

    Bounded: the ``MAX_VOCABULARY_PATHS`` most frequent templates, ``MAX_VOCABULARY_PARAMS`` most
    frequent (template, parameter) pairs and ``MAX_VOCABULARY_AGENTS`` agent families, keyed by
    32-bit hashes.
    """

    total: int = 0
    paths: dict[int, int] = field(default_factory=dict)
    # hash(template ? name) -> [count, character class mask, longest value length]
    params: dict[int, list[int]] = field(default_factory=dict)
    agent_total: int = 0
    agents: dict[int, int] = field(default_factory=dict)

    @classmethod
    def learn(cls, events: Iterable[Any]) -> ResourceVocabulary:
        """Count the resources of ``events`` (wire dicts or InteractionEvent objects)."""
        vocabulary = cls()
        paths = vocabulary.paths
        params = vocabulary.params
        agents = vocabulary.agents
        for event in events:
            agent = _get(event, "user_agent")
            if isinstance(agent, str) and agent:
                vocabulary.agent_total += 1
                family = stable_hash(agent_family(agent))
                agents[family] = agents.get(family, 0) + 1
            resource = _get(event, "resource")
            if not isinstance(resource, str) or not resource:
                continue
            vocabulary.total += 1
            template, pairs = _parameters(resource)
            key = stable_hash(template)
            paths[key] = paths.get(key, 0) + 1
            for name, value in pairs:
                param_key = stable_hash(f"{template}?{name}")
                entry = params.get(param_key)
                if entry is None:
                    params[param_key] = [1, _char_classes(value), len(value)]
                else:
                    entry[0] += 1
                    entry[1] |= _char_classes(value)
                    entry[2] = max(entry[2], len(value))
        if len(paths) > MAX_VOCABULARY_PATHS:
            kept = sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:MAX_VOCABULARY_PATHS]
            vocabulary.paths = dict(kept)
        if len(params) > MAX_VOCABULARY_PARAMS:
            kept_params = sorted(params.items(), key=lambda item: (-item[1][0], item[0]))[:MAX_VOCABULARY_PARAMS]
            vocabulary.params = dict(kept_params)
        if len(agents) > MAX_VOCABULARY_AGENTS:
            kept_agents = sorted(agents.items(), key=lambda item: (-item[1], item[0]))[:MAX_VOCABULARY_AGENTS]
            vocabulary.agents = dict(kept_agents)
        return vocabulary

    def agent_rarity(self, agent: str | None) -> float:
        """How rare the agent's family was in training: -log((count + 1) / (total + 1)); 0 if none."""
        if not agent or not self.agent_total:
            return 0.0
        count = self.agents.get(stable_hash(agent_family(agent)), 0)
        return -math.log((count + 1.0) / (self.agent_total + 1.0))

    def features(self, resource: str | None) -> list[float]:
        """Path rarity, unknown parameters, character-class violations and value length excess."""
        if not resource or not self.total:
            return [0.0, 0.0, 0.0, 0.0]
        template, pairs = _parameters(resource)
        count = self.paths.get(stable_hash(template), 0)
        unknown = violations = 0
        excess = 0.0
        for name, value in pairs:
            entry = self.params.get(stable_hash(f"{template}?{name}"))
            if entry is None:
                unknown += 1
                continue
            if _char_classes(value) & ~entry[1]:
                violations += 1
            excess = max(excess, math.log1p(len(value)) - math.log1p(entry[2]))
        rarity = -math.log((count + 1.0) / (self.total + 1.0))
        return [rarity, float(unknown), float(violations), excess]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (hash keys as strings)."""
        return {
            "v": FEATURES_VERSION,
            "total": self.total,
            "paths": {str(key): count for key, count in self.paths.items()},
            "params": {str(key): entry for key, entry in self.params.items()},
            "agent_total": self.agent_total,
            "agents": {str(key): count for key, count in self.agents.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceVocabulary:
        """Rebuild from ``to_json`` output; raises ``InvalidStateError`` on anything else."""
        _check_version("vocabulary", data)
        try:
            return cls(
                total=int(data["total"]),
                paths={int(key): int(count) for key, count in data["paths"].items()},
                params={int(key): [int(item) for item in entry] for key, entry in data["params"].items()},
                agent_total=int(data["agent_total"]),
                agents={int(key): int(count) for key, count in data["agents"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidStateError("vocabulary", f"malformed: {error!r}") from None


def _decay_factor(elapsed: float, tau: float) -> float:
    """What a decayed count is multiplied by after ``elapsed`` seconds (exactly 1.0 for none)."""
    return math.exp(-elapsed / tau) if elapsed > 0 else 1.0


def _position_of(pairs: list[tuple[int, int]], item: int) -> int:
    for index, (known, _) in enumerate(pairs):
        if known == item:
            return index
    return -1


def _touch_timed(recent: list[tuple[int, int]], item: int, minute: int, capacity: int) -> bool:
    """``_touch`` for (hash, minute last seen) pairs; True if ``item`` was not there."""
    position = _position_of(recent, item)
    if position >= 0:
        del recent[position]
    recent.insert(0, (item, minute))
    del recent[capacity:]
    return position < 0


def _update_ip(ip_state: IpState, user_hash: int, now: float, failure: bool) -> None:
    last_seen = ip_state.last_seen
    elapsed = max(0.0, now - last_seen) if last_seen is not None else 0.0
    new_user = _touch_timed(ip_state.recent_users, user_hash, int(now // 60), MAX_IP_USERS)
    fast = _decay_factor(elapsed, FAST_TAU)
    slow = _decay_factor(elapsed, SLOW_TAU)
    ip_state.rate_fast = min(ip_state.rate_fast * fast + 1.0, MAX_DECAYED_COUNT)
    ip_state.rate_slow = min(ip_state.rate_slow * slow + 1.0, MAX_DECAYED_COUNT)
    ip_state.failures_slow = min(ip_state.failures_slow * slow + (1.0 if failure else 0.0), MAX_DECAYED_COUNT)
    ip_state.new_users_slow = min(ip_state.new_users_slow * slow + (1.0 if new_user else 0.0), MAX_DECAYED_COUNT)
    if last_seen is None or now > last_seen:
        ip_state.last_seen = now


def _ip_features(ip_state: IpState | None, now: float) -> tuple[float, float, float, float]:
    if ip_state is None:
        return _NO_IP
    oldest_minute = (now - IP_USERS_WINDOW) // 60
    distinct = len([None for _, minute in ip_state.recent_users if minute >= oldest_minute])
    return (
        float(distinct),
        math.log1p(ip_state.new_users_slow),
        math.log1p(ip_state.rate_fast),
        ip_state.failures_slow / ip_state.rate_slow if ip_state.rate_slow else 0.0,
    )


def _agent_features(info: AgentInfo) -> tuple[float, float, float, float]:
    return (
        1.0 if info.known_bot else 0.0,
        1.0 if info.headless else 0.0,
        1.0 if info.http_library else 0.0,
        1.0 if info.unrecognised else 0.0,
    )


def _country_only(country_of: CountryLookup) -> NetworkLookup:
    """A network lookup from a lookup that knows countries only (no ASN, never hosting)."""

    def network_of(ip: str) -> NetworkInfo | None:
        country = country_of(ip)
        return NetworkInfo(country, None, None, False) if country else None

    return network_of


def _network_lookup(network_of: NetworkLookup | None, country_of: CountryLookup | None) -> NetworkLookup | None:
    if network_of is not None and country_of is not None:
        raise ValueError("pass network_of or country_of, not both")
    return _country_only(country_of) if country_of is not None else network_of


def _event_fields(event: Any) -> tuple[Any, ...]:
    """event_type, status, ip, user_agent, resource, properties."""
    if type(event) is dict:
        get = event.get
        return (
            get("event_type"),
            get("status"),
            get("ip"),
            get("user_agent"),
            get("resource"),
            get("properties"),
        )
    return tuple(_get(event, name) for name in _EVENT_FIELDS)


def _featurize_one(
    state: UserState,
    event: Any,
    now: float,
    ip_states: dict[str, IpState],
    copied_ips: set[str],
    network_of: NetworkLookup | None,
    agent_of: AgentLookup | None,
    user_hash: int,
    vocabulary: ResourceVocabulary | None,
) -> list[float]:
    """Update ``state`` (a private copy) and ``ip_states`` with one event; return its feature row.

    This runs once per event in training and in the scorer, so the decay factors are computed once
    per time constant and the cap of ``_stored`` is written out inline; the arithmetic is the same.
    """
    event_type, status, ip, agent, resource, properties = _event_fields(event)
    if not isinstance(event_type, str):
        raise InvalidFeatureEventError("event_type", f"must be a string, got {type(event_type).__name__}")
    status_class = status // 100 if type(status) is int else _status_class(status)
    failure = event_type == "login_failed" or status_class in _FAILURE_CLASSES

    last_seen = state.last_seen
    first = last_seen is None
    # Late events (earlier than the last one seen) count as simultaneous: state never goes backwards.
    elapsed = 0.0 if last_seen is None else max(0.0, now - last_seen)
    gap = MAX_GAP_SECONDS if first else min(elapsed, MAX_GAP_SECONDS)
    hour = int(now // 3600) % 24
    histogram = state.hour_histogram
    # Additive smoothing: a user with no history gets log(24) for every hour.
    hour_rarity = -math.log((histogram[hour] + 0.5) / (sum(histogram) + 12.0))
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

    # With no history every IP, agent and country would be "new": report novelty only for known users.
    minute = int(now // 60)
    new_ip = _touch_timed(state.recent_ips, stable_hash(ip), minute, MAX_RECENT_IPS) if ip else False
    new_agent = _touch(state.recent_agents, stable_hash(agent), MAX_RECENT_AGENTS) if agent else False
    new_agents = state.new_agents = min(
        state.new_agents * agent_decay + (1.0 if new_agent and not first else 0.0), MAX_DECAYED_COUNT
    )
    if not first:
        log_gap = math.log1p(gap)
        if state.gap_mean is None:
            state.gap_mean = _stored(log_gap)
        else:
            deviation = abs(log_gap - state.gap_mean)
            state.gap_deviation = _stored((1 - GAP_SMOOTHING) * state.gap_deviation + GAP_SMOOTHING * deviation)
            state.gap_mean = _stored((1 - GAP_SMOOTHING) * state.gap_mean + GAP_SMOOTHING * log_gap)
    network = network_of(ip) if (network_of is not None and ip) else None
    country = network.country if network is not None else None
    new_country = (
        _touch_timed(state.recent_countries, stable_hash(country), minute, MAX_RECENT_COUNTRIES) if country else False
    )
    network_key = network.network_key if network is not None else None
    new_network = _touch(state.recent_networks, stable_hash(network_key), MAX_RECENT_NETWORKS) if network_key else False
    new_path = (
        _touch(state.recent_paths, stable_hash(resource_template(resource)), MAX_RECENT_PATHS) if resource else False
    )

    ip_state: IpState | None = None
    if ip:
        ip_state = ip_states.get(ip)
        if ip_state is None:
            ip_state = IpState()
            ip_states[ip] = ip_state
            copied_ips.add(ip)
        elif ip not in copied_ips:
            ip_state = ip_state.copy()
            ip_states[ip] = ip_state
            copied_ips.add(ip)
        _update_ip(ip_state, user_hash, now, failure)

    text_resource = resource if isinstance(resource, str) else None
    method = properties.get("method") if isinstance(properties, Mapping) else None
    oldest_minute = minute - 60
    row = [
        1.0 if first else 0.0,
        math.log1p(gap),
        math.log1p(rate_fast),
        math.log1p(rate_slow),
        failures_slow / rate_slow,
        math.log1p(failures_slow),
        math.log1p(history),
        hour_rarity,
        state.gap_deviation,
        0.0 if first else float(new_ip),
        0.0 if first else float(new_agent),
        0.0 if first else float(new_country),
        0.0 if first else float(new_network),
        0.0 if first else float(new_path),
        float(len([None for _, seen in state.recent_ips if seen >= oldest_minute])),
        float(len([None for _, seen in state.recent_countries if seen >= oldest_minute])),
        math.log1p(new_agents),
        *_ip_features(ip_state, now),
        1.0 if network is not None and network.hosting else 0.0,
        # (the resource shape columns are filled for all events at once: _with_shapes)
        *(
            (
                *vocabulary.features(text_resource),
                vocabulary.agent_rarity(agent if isinstance(agent, str) else None),
            )
            if vocabulary
            else _NO_VOCABULARY
        ),
        *(_agent_features(agent_of(agent)) if agent_of is not None and isinstance(agent, str) and agent else _NO_AGENT),
        1.0 if isinstance(method, str) and method.lower() in WRITE_METHODS else 0.0,
        1.0 if failure else 0.0,
        1.0 if status is None else 0.0,
        1.0 if status_class == 2 else 0.0,
        1.0 if status_class == 3 else 0.0,
        1.0 if status_class == 4 else 0.0,
        1.0 if status_class == 5 else 0.0,
    ]
    row.extend(_TYPE_ONEHOT.get(event_type, _OTHER_TYPE_ONEHOT))
    return row


def featurize(
    state: UserState | None,
    events: Iterable[Any],
    ip_states: Mapping[str, IpState] | None = None,
    *,
    network_of: NetworkLookup | None = None,
    agent_of: AgentLookup | None = None,
    country_of: CountryLookup | None = None,
    vocabulary: ResourceVocabulary | None = None,
) -> Featurized:
    """Feature rows for one user's events (in time order), given that user's state before them.

    ``events`` are wire dicts (as archived) or ``InteractionEvent`` objects. ``ip_states`` holds the
    known state of the IPs these events may use; the result carries the new state of each IP
    touched. ``network_of`` maps an IP to its country and network (``model.network``; None: the
    country and network features are 0), or ``country_of`` to a country code alone; ``agent_of``
    parses a user agent (``model.user_agents.parse_agent``; None: the client columns are 0);
    ``vocabulary`` is the one shipped with the model (None: the vocabulary features are 0). Nothing
    passed in is mutated.
    """
    network_of = _network_lookup(network_of, country_of)
    events = events if isinstance(events, Sequence) else list(events)
    new_state = state.copy() if state is not None else UserState()
    touched: dict[str, IpState] = dict(ip_states) if ip_states else {}
    copied: set[str] = set()
    rows: list[list[float]] = []
    user_hash: int | None = None
    for event in events:
        if user_hash is None:
            user_id = _get(event, "user_id")
            user_hash = stable_hash(str(user_id))
        now = event_time(event)
        rows.append(_featurize_one(new_state, event, now, touched, copied, network_of, agent_of, user_hash, vocabulary))
    return Featurized(_with_shapes(rows, events).tolist(), new_state, {ip: touched[ip] for ip in copied})


def featurize_batch(
    events: Iterable[Any],
    user_states: Mapping[str, UserState] | None = None,
    ip_states: Mapping[str, IpState] | None = None,
    *,
    network_of: NetworkLookup | None = None,
    agent_of: AgentLookup | None = None,
    country_of: CountryLookup | None = None,
    vocabulary: ResourceVocabulary | None = None,
    times: Sequence[float] | None = None,
) -> BatchFeatures:
    """Feature rows for many users' events, in the order given (which must be time order).

    Processing follows the input order across users, so per-IP features see other users' earlier
    events exactly as a replay of the archive does. Returns a float64 array of shape
    ``(len(events), FEATURE_COUNT)`` and the new state of every user and IP touched. ``times``, if
    given, are the events' ``event_time`` (a caller that sorted by it need not parse it again).
    The lookups are those of ``featurize``.
    """
    network_of = _network_lookup(network_of, country_of)
    users: dict[str, UserState] = {}
    known_users = user_states or {}
    touched_ips: dict[str, IpState] = dict(ip_states) if ip_states else {}
    copied_ips: set[str] = set()
    hashes: dict[str, int] = {}
    rows: list[list[float]] = []
    events = events if isinstance(events, Sequence) else list(events)
    if times is not None and len(times) != len(events):
        raise ValueError(f"{len(times)} times for {len(events)} events")
    for position, event in enumerate(events):
        user_id = _get(event, "user_id")
        if not isinstance(user_id, str) or not user_id:
            raise InvalidFeatureEventError("user_id", "required string is missing")
        state = users.get(user_id)
        if state is None:
            known = known_users.get(user_id)
            state = known.copy() if known is not None else UserState()
            users[user_id] = state
            hashes[user_id] = stable_hash(user_id)
        now = event_time(event) if times is None else times[position]
        rows.append(
            _featurize_one(
                state, event, now, touched_ips, copied_ips, network_of, agent_of, hashes[user_id], vocabulary
            )
        )
    return BatchFeatures(_with_shapes(rows, events), users, {ip: touched_ips[ip] for ip in copied_ips})


def _with_shapes(rows: list[list[float]], events: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The feature matrix: each row from ``_featurize_one`` with its resource's shape put in place."""
    width = FEATURE_COUNT - _SHAPE_WIDTH
    # From one flat iterator, numpy need not discover the nested lists' shape and types; the length
    # check keeps what that discovery would catch (fromiter would misalign a short row silently).
    if sum(map(len, rows)) != len(rows) * width:
        raise ValueError(f"feature rows must have {width} values before the resource shape")
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * width)
    partial = flat.reshape(len(rows), width)
    matrix = np.empty((len(rows), FEATURE_COUNT))
    matrix[:, :_SHAPE_START] = partial[:, :_SHAPE_START]
    matrix[:, _SHAPE_START : _SHAPE_START + _SHAPE_WIDTH] = resource_shapes(
        [_get(event, "resource") for event in events]
    )
    matrix[:, _SHAPE_START + _SHAPE_WIDTH :] = partial[:, _SHAPE_START:]
    # Values equal up to float noise must tie: ECOD ranks each feature (its tail probabilities are
    # empirical distribution functions), so noise in the tenth decimal would become signal. Without
    # this rounding, impossible-travel ROC-AUC fell from 0.83 to 0.71 in `make eval`.
    return np.round(matrix, ROW_DECIMALS, out=matrix)
