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

Time is the events'. The clock is the latest event time counted, and moves on by at most
``CLOCK_STEP`` per request, so that one request stamped a month ahead cannot end an outage; a run of
``BEHIND_RESET`` requests more than two slots behind it sets it back to theirs (a first request
stamped ahead, a log replayed from its start). Each shard's scorer counts its own share of the
clients: the share of errors does not depend on the number of shards, the networks do.
"""

from __future__ import annotations

import math
import struct
from dataclasses import astuple, dataclass

from model.exceptions import InvalidStateError
from model.features.popularity import network_hash

# Errors are counted in slots this long; the site is judged on the current slot and the one before.
SLOT_SECONDS = 300
CLOCK_STEP = SLOT_SECONDS / 10
BEHIND_RESET = 10
# Failing: at least this share of the requests answered in the two slots were server errors...
FAILING_SHARE = 0.005
# ...that reached clients of about this many networks or more (bits of a 64-bit mask: 8 bits are about
# 8.5 networks, by linear counting).
MIN_FAILING_NETWORKS = 8
_NETWORK_BITS = 64
_MAX_COUNT = 2**32 - 1
# Stored form: the clock and the time of the last error (NaN for none), the current slot, the
# requests behind the clock in a row, then the slot's and the one before's requests, errors and
# mask of the networks the errors reached.
_STORED = struct.Struct("<ddqI IIQ IIQ")


@dataclass(slots=True)
class Outages:
    """Requests and server errors of the current slot (``slot``) and the one before, and the networks
    the errors reached, as bit masks; ``clock``, the latest event time counted; ``last_error``, the
    time of the last error counted (its own: a site fails a request only that close to it, however
    slowly the clock of a quiet site moves); ``behind``, the requests in a row that came more than two
    slots behind the clock."""

    clock: float | None = None
    last_error: float | None = None
    slot: int = 0
    behind: int = 0
    requests: int = 0
    errors: int = 0
    networks: int = 0
    requests_before: int = 0
    errors_before: int = 0
    networks_before: int = 0

    def copy(self) -> Outages:
        return Outages(*astuple(self))

    def _time(self, now: float) -> float:
        """The clock an event at ``now`` reads (see ``CLOCK_STEP``)."""
        return now if self.clock is None else max(self.clock, min(now, self.clock + CLOCK_STEP))

    def count(self, now: float, server_error: bool, ip: str | None) -> None:
        """Count one request answered at ``now`` to a client outside hosting networks at ``ip``
        (``server_error``: a 5xx)."""
        if self.clock is not None and now < self.clock - 2 * SLOT_SECONDS:
            self.behind += 1
            if self.behind < BEHIND_RESET:
                return
            self.clock = None  # (a run of them: the clock was set ahead, and is theirs again)
        self.behind = 0
        moment = self._time(now)
        self.clock = moment
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
        clock = nan if self.clock is None else self.clock
        last_error = nan if self.last_error is None else self.last_error
        return _STORED.pack(clock, last_error, self.slot, min(self.behind, _MAX_COUNT), *astuple(self)[4:])

    @classmethod
    def from_bytes(cls, data: bytes) -> Outages:
        """Rebuild from ``to_bytes``; raises ``InvalidStateError`` on anything else (a clock that is
        not a time, a slot that is not the clock's, more errors than requests)."""
        if len(data) != _STORED.size:
            raise InvalidStateError("outages", f"{len(data)} bytes, not {_STORED.size}")
        clock, last_error, slot, *counts = _STORED.unpack(data)
        outages = cls(None if math.isnan(clock) else clock, None if math.isnan(last_error) else last_error, slot)
        (outages.behind, outages.requests, outages.errors, outages.networks) = counts[:4]
        (outages.requests_before, outages.errors_before, outages.networks_before) = counts[4:]
        # (NaN or a time within a few thousand years: an infinite one cannot be slotted)
        times_valid = all(moment is None or abs(moment) < 1e11 for moment in (outages.clock, outages.last_error))
        if not times_valid or (outages.clock is not None and int(outages.clock // SLOT_SECONDS) != slot):
            raise InvalidStateError("outages", f"clock {clock!r} and slot {slot} are not a time and its slot")
        if outages.errors > outages.requests or outages.errors_before > outages.requests_before:
            raise InvalidStateError("outages", "more errors than requests")
        return outages
