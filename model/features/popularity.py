"""Which pages the site's visitors are reaching now: ``PathPopularity``.

The vocabulary's path rarity (``resource_path_rarity``) is what training saw, so a kind of page
that appeared since reads as rare until the next model learns it. On a real site that moment is
often the busiest and the most ordinary: a breaking story's live blog and the calls it polls, a new
section, a product launch, a deploy's new bundle. A new-user trial of a news site's CloudFront log
alerted on 93 % of the sessions that read the first live blog, "pages rarely or never seen in
normal traffic", 5,455 alerts in an afternoon.

So the scorer also counts, over the last hour or so (decayed with ``POPULARITY_TAU``), how many
clients reached each template that training found rare, and the rarity a request reads is the
lower of training's and that template's share of the clients' visits now, once at least
``MIN_POPULAR_CLIENTS`` have reached it. A visit counts when a client reaches a template it had
not among its recent ones (``UserState.recent_paths``), got an answer that is not a failure, and
came from outside hosting networks: a live blog polled once a minute counts once per reader;
a scanner's 404s, failed logins and a cloud fleet count for nothing. The price: a probe that
succeeds from many residential addresses (a botnet's) makes its path as common as its share of the
visits once ``MIN_POPULAR_CLIENTS`` of them have reached it; what else is unusual about its
requests still counts.

Kinesis partitions events by user, so each shard's scorer sees a random share of the clients; a
share of visits does not depend on how many shards there are, but ``MIN_POPULAR_CLIENTS`` is
counted per shard. The state is one item per shard (``PathPopularity.to_bytes``), bounded by twice
``MAX_POPULAR_TEMPLATES`` templates. Training replays the archive through the same code, so a model
learns the rarity its scorer will read.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from model.exceptions import InvalidStateError

# Visits decay by a factor e every hour: a template stays popular about as long as people keep coming.
POPULARITY_TAU = 3600.0
# Decayed clients that must have reached a template (on one shard) before its share counts.
MIN_POPULAR_CLIENTS = 20.0
# Only templates training saw no more often than this share of its requests (one in a thousand) are
# followed, and those it never saw: the share of visits now can lower no others' rarity by much.
FOLLOWED_SHARE = 0.001
# Past twice this many templates, the most visited this many are kept: a stored state holds at most
# twice as many, 1.6 KB (two DynamoDB write units, once per batch and shard).
MAX_POPULAR_TEMPLATES = 64
# Counts are stored scaled by exp((time - origin) / tau), so one visit adds one weight and nothing
# decays event by event; the origin moves forward (and the counts scale down) past this many taus.
_RESCALE_TAUS = 20.0
# The stored form: a version byte, the origin (NaN for none) and the total as doubles, the number of
# templates, then each template's hash (unsigned 32 bits) and visits (a double): exact, and compact.
POPULARITY_VERSION = 1
_HEAD = struct.Struct("<BddI")
_TEMPLATE = struct.Struct("<Id")


@dataclass(slots=True)
class PathPopularity:
    """Decayed visits per followed template (keys: ``stable_hash`` of the vocabulary's template) and
    to all templates, as weights relative to ``origin`` (see ``_RESCALE_TAUS``)."""

    origin: float | None = None
    total: float = 0.0
    visits: dict[int, float] = field(default_factory=dict)

    def copy(self) -> PathPopularity:
        return PathPopularity(self.origin, self.total, dict(self.visits))

    def rarity(self, key: int, now: float) -> float | None:
        """-log of the template's share of recent visits, or None while fewer than
        ``MIN_POPULAR_CLIENTS`` decayed clients have reached it."""
        visits = self.visits.get(key)
        if visits is None or self.origin is None:
            return None
        scale = math.exp(-(now - self.origin) / POPULARITY_TAU)
        if visits * scale < MIN_POPULAR_CLIENTS:
            return None
        return -math.log((visits * scale + 1.0) / (self.total * scale + 1.0))

    def visit(self, key: int, now: float, followed: bool) -> None:
        """Count one client's visit to a template (``followed``: one rare in training)."""
        if self.origin is None:
            self.origin = now
        elif now - self.origin > _RESCALE_TAUS * POPULARITY_TAU:
            self._rescale(now)
        weight = math.exp((now - self.origin) / POPULARITY_TAU)
        self.total += weight
        if followed:
            self.visits[key] = self.visits.get(key, 0.0) + weight
            if len(self.visits) > 2 * MAX_POPULAR_TEMPLATES:
                self._keep_most_visited()

    def _rescale(self, now: float) -> None:
        assert self.origin is not None
        factor = math.exp(-(now - self.origin) / POPULARITY_TAU)
        self.origin = now
        self.total *= factor
        self.visits = {key: visits * factor for key, visits in self.visits.items()}

    def _keep_most_visited(self) -> None:
        kept = sorted(self.visits.items(), key=lambda item: (-item[1], item[0]))[:MAX_POPULAR_TEMPLATES]
        self.visits = dict(kept)

    def to_bytes(self) -> bytes:
        origin = math.nan if self.origin is None else self.origin
        parts = [_HEAD.pack(POPULARITY_VERSION, origin, self.total, len(self.visits))]
        parts.extend(_TEMPLATE.pack(key, visits) for key, visits in self.visits.items())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> PathPopularity:
        """Rebuild from ``to_bytes``; raises ``InvalidStateError`` on anything else."""
        if len(data) < _HEAD.size:
            raise InvalidStateError("popularity", f"{len(data)} bytes, shorter than its head")
        version, origin, total, count = _HEAD.unpack_from(data)
        if version != POPULARITY_VERSION:
            raise InvalidStateError("popularity", f"version {version} is not {POPULARITY_VERSION}")
        if len(data) != _HEAD.size + count * _TEMPLATE.size:
            raise InvalidStateError("popularity", f"{len(data)} bytes for {count} templates")
        visits = dict(_TEMPLATE.iter_unpack(data[_HEAD.size :]))
        return cls(None if math.isnan(origin) else origin, total, visits)
