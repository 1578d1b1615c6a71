"""Whether the site is failing its visitors now: ``Outages``.

A server error (5xx) is usually the site's doing, not its client's: an origin timing out, a
deploy gone wrong, a database overloaded. Counted against each client it reached, an outage makes
every visitor of those minutes look like a prober: on a news site's CloudFront log, 20 minutes of
origin timeouts (5 % of the requests, a quarter of the pages) were behind 203 of the 294 normal
sessions that still alerted, "failed requests", "requests flagged as anomalous".

So the featurizer also counts, over the last five to ten minutes (two ``SLOT_SECONDS`` slots), the
requests answered to clients outside hosting networks and the server errors among them, with the
networks (/24s, /48s) those errors reached. The site is failing a request when at least
``FAILING_SHARE`` of those requests failed, the errors reached about ``MIN_FAILING_NETWORKS``
networks besides the request's own, and the last of them came within two slots of it; a server
error then is the site's, and the request reads as answered (``model.features.featurize``), unless
it carries attack fragments (an injection that broke the page is its sender's). One client whose
requests break a page, a cloud fleet, and a busy site's usual trickle of errors make no outage. The
price: clients of eight networks or more whose requests fail (a botnet's) make an outage, and the
server errors of others in it read as answered; their paths, pace and clients still count.

Time is the events' (``model.features.clock``): the clock moves on by at most ``CLOCK_STEP`` per
request, so that one request stamped a month ahead cannot end an outage, and a run of requests more
than two slots behind it sets it back to theirs (a first request stamped ahead, a log replayed from
its start). Each shard's scorer counts its own share of the clients: the share of errors does not
depend on the number of shards, the networks do.
"""

from __future__ import annotations

import math
import struct
from dataclasses import astuple, dataclass, field

from model.exceptions import InvalidStateError
from model.features.clock import EventClock
from model.features.popularity import network_hash

# Errors are counted in slots this long; the site is judged on the current slot and the one before.
SLOT_SECONDS = 300
CLOCK_STEP = SLOT_SECONDS / 10
FAR_BEHIND = 2 * SLOT_SECONDS
# Failing: at least this share of the requests answered in the two slots were server errors...
FAILING_SHARE = 0.005
# ...that reached clients of about this many networks or more (bits of a 64-bit mask: 8 bits are about
# 8.5 networks, by linear counting).
MIN_FAILING_NETWORKS = 8
_NETWORK_BITS = 64
_MAX_COUNT = 2**32 - 1
_LATEST_TIME = 253_402_300_800.0  # 10000-01-01T00:00:00Z: past any time an event may carry
# Stored form: the clock and the time of the last error (NaN for none), the current slot, the
# requests behind the clock in a row, then the slot's and the one before's requests, errors and
# mask of the networks the errors reached.
_STORED = struct.Struct("<ddqI IIQ IIQ")


@dataclass(slots=True)
class Outages:
    """Requests and server errors of the current slot (``slot``) and the one before, and the networks
    the errors reached, as bit masks; ``clock``, the time of the requests counted; ``last_error``,
    the time of the last error counted (its own: a site fails a request only that close to it,
    however slowly the clock of a quiet site moves)."""

    clock: EventClock = field(default_factory=lambda: EventClock(CLOCK_STEP, FAR_BEHIND))
    last_error: float | None = None
    slot: int = 0
    requests: int = 0
    errors: int = 0
    networks: int = 0
    requests_before: int = 0
    errors_before: int = 0
    networks_before: int = 0

    def copy(self) -> Outages:
        return Outages(self.clock.copy(), *astuple(self)[1:])

    def count(self, now: float, server_error: bool, ip: str | None) -> None:
        """Count one request answered at ``now`` to a client outside hosting networks at ``ip``
        (``server_error``: a 5xx)."""
        if self.clock.skips(now):
            return
        moment = self.clock.advance(now)
        slot = int(moment // SLOT_SECONDS)
        if slot != self.slot:
            following = slot == self.slot + 1
            self.requests_before = self.requests if following else 0
            self.errors_before = self.errors if following else 0
            self.networks_before = self.networks if following else 0
            self.requests = self.errors = self.networks = 0
            self.slot = slot
        # (a late request counts in its own slot while that is the one before, and no longer)
        own = int(min(now, moment) // SLOT_SECONDS)
        bit = 1 << (network_hash(ip) % _NETWORK_BITS) if ip and server_error else 0
        if own == self.slot:
            self.requests = min(self.requests + 1, _MAX_COUNT)
            self.errors = min(self.errors + server_error, _MAX_COUNT)
            self.networks |= bit
        elif own == self.slot - 1:
            self.requests_before = min(self.requests_before + 1, _MAX_COUNT)
            self.errors_before = min(self.errors_before + server_error, _MAX_COUNT)
            self.networks_before |= bit
        if server_error and own >= self.slot - 1:
            self.last_error = now

    def failing(self, now: float, ip: str | None) -> bool:
        """Whether the site is failing a request at ``now`` from ``ip``: at least ``FAILING_SHARE``
        of the two slots' requests were server errors, they reached about ``MIN_FAILING_NETWORKS``
        networks besides ``ip``'s, and the last of them came within two slots of ``now``."""
        errors = self.errors + self.errors_before
        if errors < MIN_FAILING_NETWORKS or errors < FAILING_SHARE * (self.requests + self.requests_before):
            return False
        if self.last_error is None or abs(now - self.last_error) > 2 * SLOT_SECONDS:
            return False
        own = 1 << (network_hash(ip) % _NETWORK_BITS) if ip else 0
        return ((self.networks | self.networks_before) & ~own).bit_count() >= MIN_FAILING_NETWORKS

    def to_bytes(self) -> bytes:
        nan = math.nan
        clock = nan if self.clock.time is None else self.clock.time
        last_error = nan if self.last_error is None else self.last_error
        behind = min(self.clock.behind, _MAX_COUNT)
        return _STORED.pack(clock, last_error, self.slot, behind, *astuple(self)[3:])

    @classmethod
    def from_bytes(cls, data: bytes) -> Outages:
        """Rebuild from ``to_bytes``; raises ``InvalidStateError`` on anything else (a clock that is
        not a time, a slot that is not the clock's, more errors than requests)."""
        if len(data) != _STORED.size:
            raise InvalidStateError("outages", f"{len(data)} bytes, not {_STORED.size}")
        clock, last_error, slot, *counts = _STORED.unpack(data)
        behind, *counts = counts
        time = None if math.isnan(clock) else clock
        outages = cls(EventClock(CLOCK_STEP, FAR_BEHIND, time, behind), None if math.isnan(last_error) else last_error)
        outages.slot, outages.requests, outages.errors, outages.networks = slot, *counts[:3]
        (outages.requests_before, outages.errors_before, outages.networks_before) = counts[3:]
        # (NaN or a time the event contract can hold, up to the year 9999: an infinite one cannot be slotted)
        times_valid = all(moment is None or abs(moment) <= _LATEST_TIME for moment in (time, outages.last_error))
        if not times_valid or (time is not None and int(time // SLOT_SECONDS) != slot):
            raise InvalidStateError("outages", f"clock {clock!r} and slot {slot} are not a time and its slot")
        if outages.errors > outages.requests or outages.errors_before > outages.requests_before:
            raise InvalidStateError("outages", "more errors than requests")
        return outages
