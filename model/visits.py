"""Visits that read pages as a crawler does, counted toward the service's waves of them
(``model.waves.VISITORS``).

A browser that opens a page fetches its stylesheets, scripts and images (``is_page_asset``) within
seconds, and one that follows a link sends the page it came from as its referer; a crawler reads the
HTML alone, and where it spreads its requests over many addresses, no visit of it comes from a page
it read. A crawl over thousands of residential addresses, one or a few pages from each with a
browser's user agent, shows in no visitor's own requests; the service shows it, as a surge of such
visits among its visits. Their usual share is the site's own (browsers with the site's assets
cached under a new session or address, apps' web views): training learns it, and the wave watch
alerts on a surge far beyond it, as it does for failed logins.

A visit is a user's first: their first event, by the featurizer's state (a user's key is their
session or client where the log names no user, ``traffic.importer``). A user seen before has the
site's assets cached, and the visits they come back for say nothing of a crawl, which comes from
addresses never seen: on a new-user trial of a listings site's log keyed by client, counting each
return after half an hour idle, 50 of its 2,894 people counted as alerted by the crawl's wave (16
now, with all of the crawl). A client that declares itself no browser (a crawler, a feed reader,
an app) makes none. It is settled as a
browser's at its first asset within ``VISIT_SETTLE_SECONDS`` of its start, or its first page whose
referer is the visit's last page within them (a link followed), and otherwise when that time has
passed: as a crawler's, if it requested a page (``VISIT_PAGE_TYPES``) by then; if not (an app's
API calls), or if it submitted a login (the login waves'), it is not counted. Until settled it
waits (``PendingVisit``), a key's hash and three figures: at most ``MAX_PENDING_VISITS`` of them,
so that the shard's item stays small; those due are settled to make room, and visits that begin
while that many wait are not counted, which leaves the share as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from model.features import FEATURE_NAMES, FIRST_EVENT_COLUMN, is_page_asset, request_method
from model.features.events import stable_hash
from model.waves import VISIT, PendingVisit

VISIT_SETTLE_SECONDS = 30.0
# The requests that make a visit a reader's: pages. A visit of an app's API calls alone is none, and
# nor is one that logs in within its first seconds (the login waves watch those: stuffing's visits
# fetch the form and post it, without assets).
VISIT_PAGE_TYPES = frozenset({"page_view", "search"})
LOGIN_TYPES = frozenset({"login_succeeded", "login_failed", "login_attempt"})
MAX_PENDING_VISITS = 2000
# Events more than this after the rest of their batch do not move its time (``_batch_clock``).
CLOCK_GAP_SECONDS = 60.0
# The batch length training settles visits at, as a scorer's batches would.
TRAINING_CHUNK_EVENTS = 500
# The start of the training traffic that only makes its users known (``training_visits``).
TRAINING_WARM_UP_SECONDS = 86_400.0
_DECLARED_AGENT_COLUMNS = [
    FEATURE_NAMES.index(name)
    for name in ("agent_known_bot", "agent_headless", "agent_http_library", "agent_unrecognised")
]


class SettledVisit(NamedTuple):
    started: float
    without_assets: bool  # no page asset and no link followed: a crawler's
    key: int  # its user's ``stable_hash``
    tag: Any = None

    def as_event(self) -> dict[str, Any]:
        """The visit as the wave watch counts it: an attempt that "failed" where it read as a crawler's."""
        return {VISIT: self.without_assets, "user_id": str(self.key)}


def visit_starts(rows: Any) -> list[bool]:
    """Per feature row: whether its event begins its user's visit (their first event), by a client
    whose agent reads as a browser's. Clients
    that say what they are (``_DECLARED_AGENT_COLUMNS``: Googlebot and its kind, feed readers,
    monitors, apps' HTTP stacks, headless browsers, agents no parser knows) fetch no assets by
    design, or are judged by what they declare: on a new-user trial of a Q&A site's log, four in
    five of the people's visits without assets were search engines', and on one of a listings
    site's, feed readers polling every half hour and more made over half of training's visits
    crawlers'. The waves speak of crawls that pose as browsers."""
    firsts = (rows[:, FIRST_EVENT_COLUMN] > 0.0) & ~rows[:, _DECLARED_AGENT_COLUMNS].any(axis=1)
    return [bool(first) for first in firsts.tolist()]


def settle_visits(
    pending: dict[int, PendingVisit],
    events: Sequence[Mapping[str, Any]],
    times: Sequence[float],
    starts: Sequence[bool],
    tags: Sequence[Any] | None = None,
) -> list[SettledVisit]:
    """Add a batch's events (``starts`` from ``visit_starts``) to the visits waiting in ``pending``
    (updated in place), and return those settled, by start: as a browser's at an asset, or a page
    whose referer is its last page (a link followed), within ``VISIT_SETTLE_SECONDS`` of their
    start; as the batch's time (``_batch_clock``) is that far past it, as a crawler's if it
    requested a page (uncounted if not, or if it submitted a login). A visit its user begins again
    before it settles (its state lost, and seen anew) is settled as it stood."""
    settled: list[SettledVisit] = []
    clock = _batch_clock(times)
    for position, (event, moment, starts_visit) in enumerate(zip(events, times, starts, strict=True)):
        key = stable_hash(str(event.get("user_id", "")))
        if starts_visit:
            _close(pending, key, settled)
            if len(pending) >= MAX_PENDING_VISITS:
                _close_overdue(pending, min(moment, clock), settled)
            if len(pending) < MAX_PENDING_VISITS:
                pending[key] = PendingVisit(moment, False, tag=tags[position] if tags is not None else None)
        visit = pending.get(key)
        if visit is None or moment - visit.started > VISIT_SETTLE_SECONDS:
            continue
        resource = event.get("resource")
        event_type = event.get("event_type")
        if event_type in LOGIN_TYPES:
            del pending[key]  # (the login waves', though its referer is the form's page)
        elif is_page_asset(resource, request_method(event)) or (
            event_type in VISIT_PAGE_TYPES and visit.last_page and _followed_from(event) == visit.last_page
        ):
            settled.append(SettledVisit(visit.started, False, key, visit.tag))
            del pending[key]
        elif event_type in VISIT_PAGE_TYPES:
            path = _path(resource) if isinstance(resource, str) else ""
            pending[key] = visit._replace(paged=True, last_page=stable_hash(path) if path else 0)
    if times:
        for key in [key for key, visit in pending.items() if clock - visit.started > VISIT_SETTLE_SECONDS]:
            _close(pending, key, settled)
    settled.sort(key=lambda visit: visit.started)
    return settled


def _batch_clock(times: Sequence[float]) -> float:
    """The batch's time, which settles the visits waiting: its latest event's, but for events more
    than ``CLOCK_GAP_SECONDS`` after the rest of the batch from its median on. A device whose clock
    runs an hour ahead, one event in each batch, would otherwise settle every visit begun in the
    batch as a crawler's before its assets came (a review measured a false wave of it); a batch
    that a gap divides settles the visits after the gap with the next."""
    if not times:
        return -math.inf
    ordered = sorted(times)
    middle = (len(ordered) - 1) // 2
    clock = ordered[middle]
    for moment in ordered[middle + 1 :]:
        if moment - clock > CLOCK_GAP_SECONDS:
            break
        clock = moment
    return clock


def _close(pending: dict[int, PendingVisit], key: int, settled: list[SettledVisit]) -> None:
    """Settle ``key``'s visit waiting in ``pending`` as it stands, if any: a crawler's if it read a
    page, none (not counted) if it did not (an app's calls, a form posted)."""
    visit = pending.pop(key, None)
    if visit is not None and visit.paged:
        settled.append(SettledVisit(visit.started, True, key, visit.tag))


def _close_overdue(pending: dict[int, PendingVisit], now: float, settled: list[SettledVisit]) -> None:
    """Settle the visits waiting since more than ``VISIT_SETTLE_SECONDS`` before ``now``, oldest
    first, as far as they come in the order they began (a dict keeps it): room for new visits in a
    batch long enough to fill ``pending`` with visits already due (a backlog read at 10,000 records
    a batch)."""
    while pending:
        key, visit = next(iter(pending.items()))
        if now - visit.started <= VISIT_SETTLE_SECONDS:
            return
        _close(pending, key, settled)


def _path(url: str) -> str:
    """A resource's or a referer's path: without its scheme and host, query and fragment. (By hand:
    ``urlsplit`` raises on a malformed host, such as ``http://[x/``, which any client may send.)"""
    if "://" in url:
        rest = url.partition("://")[2]
        url = "/" + rest.partition("/")[2]
    return url.partition("?")[0].partition("#")[0]


def _followed_from(event: Mapping[str, Any]) -> int:
    """The ``stable_hash`` of the path of the page the event's referer names (0: none)."""
    properties = event.get("properties")
    referer = properties.get("referer") if isinstance(properties, Mapping) else None
    if not isinstance(referer, str) or not referer:
        return 0
    path = _path(referer)
    return stable_hash(path) if path else 0


def training_visits(
    events: Sequence[Mapping[str, Any]], times: Sequence[float], rows: Any
) -> tuple[list[dict[str, Any]], list[float]]:
    """The visits of the training traffic (time order) as the wave watch counts them, and their
    starts: settled batch by batch as a scorer would, and those still waiting at its end as they
    stand. Its first ``TRAINING_WARM_UP_SECONDS`` (at most a quarter of it) begin none: training
    featurizes from no state, so every user's first event there would begin a visit, returning
    users' with their assets cached among them, where the scorer (and the backtest, which replays
    training first) knows them already."""
    starts = visit_starts(rows)
    if times:
        warm = times[0] + min(TRAINING_WARM_UP_SECONDS, (times[-1] - times[0]) / 4.0)
        starts = [start and moment >= warm for start, moment in zip(starts, times, strict=True)]
    pending: dict[int, PendingVisit] = {}
    visits: list[SettledVisit] = []
    for first in range(0, len(events), TRAINING_CHUNK_EVENTS):
        last = first + TRAINING_CHUNK_EVENTS
        visits += settle_visits(pending, events[first:last], times[first:last], starts[first:last])
    for key in list(pending):
        _close(pending, key, visits)
    visits.sort(key=lambda visit: visit.started)
    return [visit.as_event() for visit in visits], [visit.started for visit in visits]
