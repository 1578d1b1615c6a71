"""Whether the site is failing its visitors now: ``Outages``.

A server error (5xx) is usually the site's doing, not its client's: an origin timing out, a
deploy gone wrong, a database overloaded. Counted against each client it reached, an outage makes
every visitor of those minutes look like a prober: on a news site's CloudFront log, 20 minutes of
origin timeouts (5 % of the requests, a quarter of the pages) were behind 203 of the 294 normal
sessions that still alerted, "failed requests", "requests flagged as anomalous".

So the featurizer also counts, over the last five to ten minutes (two ``SLOT_SECONDS`` slots), the
requests answered to clients outside hosting networks and the server errors among them, with the
networks (/24s, /48s) those errors reached. While at least ``FAILING_SHARE`` of the requests failed,
for clients of about ``MIN_FAILING_NETWORKS`` networks or more, the site is failing, and a server
error then is the site's: the request reads as answered (``model.features.featurize``). One client
whose requests break a page (an injection that raises a 500, a scanner), a cloud fleet, and a
site's usual trickle of errors make no outage; an attack big enough to take the site down makes its
own errors the site's, and its pace and paths still count.

Time is the events', as for ``model.features.popularity``: the clock is the latest event time
counted, though it moves on by at most ``CLOCK_STEP`` per request, so that one request stamped a
month ahead cannot end an outage; on a quiet site the two slots then hold at least twenty requests.
Each shard's scorer counts its own share of the clients: the share of errors does not depend on the
number of shards, the networks do.
"""

from __future__ import annotations

import math
import struct
from dataclasses import astuple, dataclass

from model.exceptions import InvalidStateError
from model.features.popularity import network_of

# Errors are counted in slots this long; the site is judged on the current slot and the one before.
SLOT_SECONDS = 300
CLOCK_STEP = SLOT_SECONDS / 10
# Failing: at least this share of the requests answered in the two slots were server errors...
FAILING_SHARE = 0.005
# ...that reached clients of about this many networks or more (bits of a 64-bit mask: 8 bits are about
# 8.5 networks, by linear counting).
MIN_FAILING_NETWORKS = 8
_NETWORK_BITS = 64
# Stored form: the clock (NaN for none), the current slot, then the slot's and the one before's
# requests, errors and the mask of the networks the errors reached.
_STORED = struct.Struct("<dq IIQ IIQ")


@dataclass(slots=True)
class Outages:
    """Requests and server errors of the current slot (``slot``) and the one before, and the networks
    the errors reached, as bit masks; ``clock``, the latest event time counted."""

    clock: float | None = None
    slot: int = 0
    requests: int = 0
    errors: int = 0
    networks: int = 0
    requests_before: int = 0
    errors_before: int = 0
    networks_before: int = 0

    def copy(self) -> Outages:
        return Outages(*astuple(self))

    def count(self, now: float, server_error: bool, ip: str | None) -> bool:
        """Count one request answered at ``now`` to a client outside hosting networks at ``ip``
        (``server_error``: a 5xx); returns whether the site is failing now, this request counted."""
        moment = now if self.clock is None else max(self.clock, min(now, self.clock + CLOCK_STEP))
        self.clock = moment
        slot = int(moment // SLOT_SECONDS)
        if slot > self.slot:
            following = slot == self.slot + 1
            self.requests_before = self.requests if following else 0
            self.errors_before = self.errors if following else 0
            self.networks_before = self.networks if following else 0
            self.requests = self.errors = self.networks = 0
            self.slot = slot
        # (a late request counts in its own slot while that is the one before, and no longer)
        own = int(min(now, moment) // SLOT_SECONDS)
        bit = 1 << (network_of(ip) % _NETWORK_BITS) if ip and server_error else 0
        if own == self.slot:
            self.requests += 1
            self.errors += server_error
            self.networks |= bit
        elif own == self.slot - 1:
            self.requests_before += 1
            self.errors_before += server_error
            self.networks_before |= bit
        return self.failing()

    def failing(self) -> bool:
        """Whether at least ``FAILING_SHARE`` of the two slots' requests were server errors, and they
        reached about ``MIN_FAILING_NETWORKS`` networks or more."""
        errors = self.errors + self.errors_before
        if errors < MIN_FAILING_NETWORKS or errors < FAILING_SHARE * (self.requests + self.requests_before):
            return False
        return (self.networks | self.networks_before).bit_count() >= MIN_FAILING_NETWORKS

    def to_bytes(self) -> bytes:
        clock = math.nan if self.clock is None else self.clock
        return _STORED.pack(
            clock,
            self.slot,
            *(min(count, 2**32 - 1) for count in (self.requests, self.errors)),
            self.networks,
            *(min(count, 2**32 - 1) for count in (self.requests_before, self.errors_before)),
            self.networks_before,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Outages:
        """Rebuild from ``to_bytes``; raises ``InvalidStateError`` on anything else."""
        if len(data) != _STORED.size:
            raise InvalidStateError("outages", f"{len(data)} bytes, not {_STORED.size}")
        clock, *counts = _STORED.unpack(data)
        return cls(None if math.isnan(clock) else clock, *counts)
