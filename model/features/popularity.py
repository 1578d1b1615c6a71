"""Which pages the site's visitors are reaching now: ``PathPopularity``.

The vocabulary's path rarity (``resource_path_rarity``) is what training saw, so a kind of page
that appeared since reads as rare until the next model learns it. On a real site that moment is
often the busiest and the most ordinary: a breaking story's live blog and the calls it polls, a new
section, a product launch, a deploy's new bundle. A new-user trial of a news site's CloudFront log
alerted on 92.6 % of the 5,891 sessions that read the site's first live blog, "pages rarely or
never seen in normal traffic".

So the scorer also counts, over the last hour or so (decayed with ``POPULARITY_TAU``), the visits
to each template that training found rare: a client's request to a template that is not among its
recent ones (``UserState.recent_paths``), answered 2xx (or with no status), from outside hosting
networks. Such a template is popular now once ``MIN_POPULAR_CLIENTS`` decayed visits came from at
least ``MIN_POPULAR_NETWORKS`` networks (/24s, /48s) within the last hour or two: one client that
rotates its cookies, user agents or slugs, a scanner's 404s and redirects, and a cloud fleet make
nothing popular. Once it was, it stays so for ``ESTABLISHED_SECONDS`` after, however few come
(its rarity, not its parameters: those of a page training never saw count as unknown again), and
is kept before others when the templates followed are trimmed (up to half of them): a new-user trial of a hotel site's
promotion, launched at midnight, read its page as popular through the day's busy hours and as
never seen in the quiet ones around them, and alerted 188 of the promotion's visitors in the night
and the evening (at the thresholds of before, 20 visits and 16 networks' bits, which its first
quiet hours never reached, and where it flickered in and out around them). Vocabularies of version
7 and later read the visits so (``lasting``); those before keep the thresholds of before and no day,
as their models were calibrated. A popular template's rarity is the lower of training's and its share of all the
visits now (``ResourceVocabulary.read``), and one whose clients each request it again and again
(``POLL_REPEATS``) is a call that pages poll while they are open (``Reading.polled``). The price:
a probe that succeeds from about thirteen networks (a botnet's; twelve requests from networks
chosen to hash apart) within an hour or two makes its path as common as its share of the visits,
for a day, and its parameters unknown to training uncounted while it is popular now, and a page
answered 2xx one or two levels under it as common too (``ResourceVocabulary.read``); what else is
unusual about its requests still counts.

Time is the events' (``model.features.clock``): the clock moves on by at most ``CLOCK_STEP`` per
event, so one request stamped a month ahead neither decays every count away nor overflows a weight,
and a run of requests more than ``FAR_BEHIND`` behind it sets it back to theirs, the counts starting
again (a shard's first request stamped a month ahead had held every later one at its time, where
each weighed nothing, until real time caught up). Kinesis partitions events by user, so
each shard's scorer sees a random share of the clients: a share of visits does not depend on how
many shards there are, but the visits and networks are counted per shard, and training (one
process, on a sample of its users) and the backtest (one process) count more of them than one of
several shards does. The state is one item per shard (``PathPopularity.to_bytes``), bounded by
twice ``MAX_POPULAR_TEMPLATES`` templates.
"""

from __future__ import annotations

import ipaddress
import math
import struct
import zlib
from dataclasses import astuple, dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from model.exceptions import InvalidStateError
from model.features.clock import EventClock

# Visits decay by a factor e every hour: a share of the visits is of the last hour or so.
POPULARITY_TAU = 3600.0
# Decayed visits a template must have had (on one shard) before its share counts...
MIN_POPULAR_CLIENTS = 10.0
# ...from at least about this many networks (bits of a 64-bit mask of networks seen in the last hour
# or two: 12 bits are about 13 networks, by linear counting).
MIN_POPULAR_NETWORKS = 12
# The same for vocabularies before version 7 (not ``lasting``): 16 bits are about 19 networks.
_FIRST_MIN_POPULAR_CLIENTS = 20.0
_FIRST_MIN_POPULAR_NETWORKS = 16
# A template that was popular stays so this long after, its rarity still its share of the visits
# now: a day, so that a page the day made popular is not new again in the quiet hours of the night.
ESTABLISHED_SECONDS = 86_400.0
_NETWORK_BITS = 64
_HOUR = 3600
# Only templates training saw no more often than this share of its requests (one in a thousand) are
# followed, and those it never saw: the share of visits now can lower no others' rarity by much.
FOLLOWED_SHARE = 0.001
# A template popular now requested this many times per visit, or more, again by clients of about
# MIN_POLLING_NETWORKS networks or more (bits of a mask as above: 8 bits are about 8.5 networks), is a
# call that pages poll while they are open (a live blog's updates, a notification count); one client
# repeating it, however often, makes no call polled.
POLL_REPEATS = 3.0
MIN_POLLING_NETWORKS = 8
# Past twice this many templates, the most visited this many are kept: a stored state holds at most
# twice as many, 4.1 KB (five DynamoDB write units, once per batch and shard).
MAX_POPULAR_TEMPLATES = 32
# The clock moves on by at most this much per event counted; events this far behind it go uncounted.
CLOCK_STEP = 600.0
FAR_BEHIND = 2 * POPULARITY_TAU
# Counts are stored scaled by exp((time - origin) / tau), so one visit adds one weight and nothing
# decays event by event; the origin moves forward (and the counts scale down) past this many taus.
_RESCALE_TAUS = 20.0
# The stored form: a version byte, the origin and the clock (NaN for none) and the total as doubles,
# the number of templates, the requests in a row far behind the clock, then each template's hash
# (unsigned 32 bits) and its ``Followed`` fields in order (visits and requests as doubles, the hour of
# its networks, and the masks of that hour's and the hour before's, of visits then of requests
# again, then the moment it was last popular, minus infinity for never): exact. Version 3, stored before
# popular templates stayed so, has no moment; version 2, stored before the clock could be set back,
# has no requests behind it either.
POPULARITY_VERSION = 4
_BEFORE_ESTABLISHED_VERSION = 3
STORED_ALONE_VERSION = 2  # (the version stored alone, before ``model.features.site``)
_HEAD = struct.Struct("<BdddII")
_HEAD_V2 = struct.Struct("<BdddI")
_TEMPLATE = struct.Struct("<IddIQQQQd")
_TEMPLATE_BEFORE_ESTABLISHED = struct.Struct("<IddIQQQQ")


class Reading(NamedTuple):
    """What the visits now say of a template: its rarity (None while it is not popular) and
    whether pages poll it."""

    rarity: float | None
    polled: bool
    # Popular by the day that followed its last popular moment alone, not by the visits now.
    established_only: bool = False


NOT_POPULAR = Reading(None, False)


@dataclass(slots=True)
class Followed:
    """A followed template's decayed visits and requests (scaled weights), and the networks its
    visits came from, and its requests again: a bit per network, in the hour ``hour`` and the hour
    before; and the last moment it was popular (``popular_at``, minus infinity for never)."""

    visits: float = 0.0
    requests: float = 0.0
    hour: int = 0
    networks: int = 0
    networks_before: int = 0
    repeats: int = 0
    repeats_before: int = 0
    popular_at: float = -math.inf

    def networks_within(self, hour: int, repeated: bool = False) -> int:
        """How many bits of networks visits (``repeated``: requests again) set in ``hour`` and the
        hour before."""
        now, before = (self.repeats, self.repeats_before) if repeated else (self.networks, self.networks_before)
        if self.hour == hour:
            return (now | before).bit_count()
        return now.bit_count() if self.hour == hour - 1 else 0

    def add_network(self, hour: int, network: int, repeated: bool) -> None:
        bit = 1 << (network % _NETWORK_BITS)
        if hour > self.hour:
            following = hour == self.hour + 1
            self.networks_before = self.networks if following else 0
            self.repeats_before = self.repeats if following else 0
            self.networks = self.repeats = 0
            self.hour = hour
        if hour == self.hour:
            if repeated:
                self.repeats |= bit
            else:
                self.networks |= bit
        elif hour == self.hour - 1:
            if repeated:
                self.repeats_before |= bit
            else:
                self.networks_before |= bit


@lru_cache(maxsize=65_536)
def network_hash(ip: str) -> int:
    """A 32-bit hash of the address's network, its /24 (IPv4, and an IPv4-mapped IPv6 address) or
    its /48 (IPv6, however it is written), whose low bits are as well mixed as its high ones: a
    network's bit in a 64-bit mask is its hash modulo 64, and CRC-32's low bits alone put fifty
    networks of similar addresses in ten bits."""
    if ":" in ip:
        try:
            address = ipaddress.IPv6Address(ip)
        except ValueError:
            prefix = ip.encode("utf-8", "surrogatepass")
        else:
            mapped = address.ipv4_mapped
            prefix = str(mapped).rpartition(".")[0].encode() if mapped is not None else address.packed[:6]
    else:
        prefix = ip.rpartition(".")[0].encode("utf-8", "surrogatepass")
    mixed = (zlib.crc32(prefix) * 0x9E3779B1) & 0xFFFFFFFF  # (Fibonacci hashing, then its high half folded down)
    return mixed ^ (mixed >> 16)


@dataclass(slots=True)
class PathPopularity:
    """Decayed visits to all templates, and per followed template (keys: ``stable_hash`` of the
    vocabulary's template) its ``Followed`` counts, as weights relative to ``origin`` (see
    ``_RESCALE_TAUS``); ``clock``, the time of the events counted."""

    origin: float | None = None
    clock: EventClock = field(default_factory=lambda: EventClock(CLOCK_STEP, FAR_BEHIND))
    total: float = 0.0
    followed: dict[int, Followed] = field(default_factory=dict)
    limit: int = MAX_POPULAR_TEMPLATES  # templates kept past twice as many (not stored: its owner's)

    def copy(self) -> PathPopularity:
        followed = {key: replace(item) for key, item in self.followed.items()}
        return PathPopularity(self.origin, self.clock.copy(), self.total, followed, self.limit)

    def read(self, key: int, now: float, lasting: bool = True) -> Reading:
        """-log of the template's share of recent visits, and whether its clients poll it; or
        ``NOT_POPULAR`` while it is not popular (``MIN_POPULAR_CLIENTS``, ``MIN_POPULAR_NETWORKS``,
        and ``ESTABLISHED_SECONDS`` after it was; ``lasting`` False, for vocabularies before version
        7: the thresholds of before and no day after)."""
        item = self.followed.get(key)
        if item is None or self.origin is None:
            return NOT_POPULAR
        moment = self.clock.read(now)
        scale = math.exp(-(moment - self.origin) / POPULARITY_TAU)
        hour = int(moment // _HOUR)
        popular = self._popular(item, moment, lasting)
        if not (popular or (lasting and self._established(item, moment))):
            return NOT_POPULAR
        rarity = -math.log((item.visits * scale + 1.0) / (self.total * scale + 1.0))
        polled = item.requests >= POLL_REPEATS * item.visits
        polling = polled and item.networks_within(hour, repeated=True) >= MIN_POLLING_NETWORKS
        return Reading(rarity, polling, established_only=not popular)

    def _popular(self, item: Followed, moment: float, lasting: bool = True) -> bool:
        """Whether enough visits from enough networks reached ``item`` lately."""
        assert self.origin is not None  # (it has a followed template)
        visits = item.visits * math.exp(-(moment - self.origin) / POPULARITY_TAU)
        least_visits, least_networks = (
            (MIN_POPULAR_CLIENTS, MIN_POPULAR_NETWORKS)
            if lasting
            else (_FIRST_MIN_POPULAR_CLIENTS, _FIRST_MIN_POPULAR_NETWORKS)
        )
        return visits >= least_visits and item.networks_within(int(moment // _HOUR)) >= least_networks

    @staticmethod
    def _established(item: Followed, moment: float) -> bool:
        """Whether ``item`` was popular within ``ESTABLISHED_SECONDS`` (lasting counts only)."""
        return moment - item.popular_at <= ESTABLISHED_SECONDS

    def count(self, key: int, now: float, followed: bool, visit: bool, ip: str | None, lasting: bool = True) -> None:
        """Count one answered request to a template (``followed``: one rare in training), a
        client's visit if it is the client's first to it lately (``visit``), from ``ip``
        (``lasting``: as ``read``'s)."""
        if not (followed or visit) or self.clock.skips(now):
            return
        if self.clock.time is None:  # (the first count, or the clock set back: the counts start again)
            self.origin, self.total, self.followed = None, 0.0, {}
        moment = self.clock.advance(now)
        if self.origin is None:
            self.origin = moment
        elif moment - self.origin > _RESCALE_TAUS * POPULARITY_TAU:
            self._rescale(moment)
        # (a late event weighs what it would have weighed in its time)
        weight = math.exp((min(now, moment) - self.origin) / POPULARITY_TAU)
        if visit:
            self.total += weight
        if not followed:
            return
        item = self.followed.get(key)
        if item is None:
            if not visit:
                return  # (a template is followed from a client's visit on)
            item = self.followed[key] = Followed(hour=int(moment // _HOUR))
        item.requests += weight
        if visit:
            item.visits += weight
        if ip:
            item.add_network(int(min(now, moment) // _HOUR), network_hash(ip), repeated=not visit)
        if visit and lasting and self._popular(item, moment):
            item.popular_at = moment
        if len(self.followed) > 2 * self.limit:
            self._trim(moment)

    def _trim(self, moment: float) -> None:
        """Keep ``limit`` templates: those popular within the day first, the latest
        popular first, up to half of them (fewer come at night than to the day's rare pages, and
        trimmed such a page would be new again; but the day's pages must not crowd out a page on
        its way to being popular, which a client could make them do), then the most visited."""
        established = sorted(
            (pair for pair in self.followed.items() if self._established(pair[1], moment)),
            key=lambda pair: (-pair[1].popular_at, pair[0]),
        )[: self.limit // 2]
        kept = dict(established)
        rest = sorted(
            (pair for pair in self.followed.items() if pair[0] not in kept), key=lambda pair: (-pair[1].visits, pair[0])
        )
        kept.update(rest[: self.limit - len(kept)])
        self.followed = kept

    def _rescale(self, moment: float) -> None:
        assert self.origin is not None
        factor = math.exp(-(moment - self.origin) / POPULARITY_TAU)
        self.origin = moment
        self.total *= factor
        for item in self.followed.values():
            item.visits *= factor
            item.requests *= factor

    def to_bytes(self) -> bytes:
        head = _HEAD.pack(
            POPULARITY_VERSION,
            math.nan if self.origin is None else self.origin,
            math.nan if self.clock.time is None else self.clock.time,
            self.total,
            len(self.followed),
            min(self.clock.behind, 2**32 - 1),
        )
        return head + b"".join(_TEMPLATE.pack(key, *astuple(item)) for key, item in self.followed.items())

    @classmethod
    def from_bytes(cls, data: bytes, limit: int = MAX_POPULAR_TEMPLATES) -> PathPopularity:
        """Rebuild from ``to_bytes`` (with its owner's ``limit``); raises ``InvalidStateError`` on
        anything else."""
        version = data[0] if data else None
        if version not in (POPULARITY_VERSION, _BEFORE_ESTABLISHED_VERSION, STORED_ALONE_VERSION):
            raise InvalidStateError("popularity", f"version {version} is not {POPULARITY_VERSION}")
        head = _HEAD_V2 if version == STORED_ALONE_VERSION else _HEAD
        template = _TEMPLATE if version == POPULARITY_VERSION else _TEMPLATE_BEFORE_ESTABLISHED
        if len(data) < head.size:
            raise InvalidStateError("popularity", f"{len(data)} bytes, shorter than its head")
        _, origin, clock, total, count, *behind = head.unpack_from(data)
        if len(data) != head.size + count * template.size:
            raise InvalidStateError("popularity", f"{len(data)} bytes for {count} templates")
        # (a template stored before popular ones stayed so was never popular by that rule yet)
        followed = {key: Followed(*counts) for key, *counts in template.iter_unpack(data[head.size :])}
        time = None if math.isnan(clock) else clock
        return cls(
            None if math.isnan(origin) else origin,
            EventClock(CLOCK_STEP, FAR_BEHIND, time, behind[0] if behind else 0),
            total,
            followed,
            limit,
        )
