"""A server error while the site fails many clients is the site's, not its client's (model.features.outages)."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from model.enrichment import NetworkInfo
from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES, Outages, PathPopularity, SiteNow, featurize_batch
from model.features.outages import MIN_FAILING_NETWORKS
from model.features.popularity import Followed
from tests.model_factories import START, event

FAILURE = FEATURE_NAMES.index("failure")
STATUS_5XX = FEATURE_NAMES.index("status_5xx")
STATUS_2XX = FEATURE_NAMES.index("status_2xx")


def request(number: int, moment: datetime, status: int, network: int | None = None) -> dict[str, Any]:
    """Visitor ``number``'s page request, from a network of its own (or of ``network``)."""
    ip = f"10.{number if network is None else network}.0.{number % 200 + 1}"
    return event(moment, f"visitor-{number}", "page_view", resource="/news/", status=status, ip=ip)


def browsing(
    count: int, start: datetime, error_every: int = 0, first: int = 0, gap: float = 3.0
) -> list[dict[str, Any]]:
    """``count`` visitors' requests ``gap`` seconds apart, every ``error_every``-th answered 504 (0: none)."""
    return [
        request(
            first + number,
            start + timedelta(seconds=gap * number),
            504 if error_every and number % error_every == error_every - 1 else 200,
        )
        for number in range(count)
    ]


def outcome(rows: np.ndarray[Any, Any], events: list[dict[str, Any]]) -> list[tuple[int, float, float, float]]:
    """Each server error's (status, failure, status_5xx, status_2xx) as its row reads it."""
    return [
        (item["status"], row[FAILURE], row[STATUS_5XX], row[STATUS_2XX])
        for row, item in zip(rows.tolist(), events, strict=True)
        if item["status"] >= 500
    ]


def test_while_the_site_fails_many_clients_their_server_errors_read_as_answered() -> None:
    # GIVEN 200 visitors in ten minutes, each from a network of its own, every fourth answered 504
    # (an origin timing out)
    events = browsing(200, START, error_every=4)
    read = outcome(featurize_batch(events).rows, events)
    # THEN the first errors, before they reached enough networks, are their clients' failures
    assert read[0] == (504, 1.0, 1.0, 0.0)
    # AND once they reached about MIN_FAILING_NETWORKS networks (bits of a mask, which two networks
    # may share), each error reads as an answered request: no failure for the visitor
    failing_from = next(index for index, (_, failure, _, _) in enumerate(read) if not failure)
    assert MIN_FAILING_NETWORKS - 1 <= failing_from <= 2 * MIN_FAILING_NETWORKS
    assert set(read[failing_from:]) == {(504, 0.0, 0.0, 1.0)}
    # AND neither the last visitor's history nor its address's holds its error as a failure
    replay = featurize_batch(events)
    assert events[-1]["status"] == 504
    assert replay.user_states["visitor-199"].failures_slow == 0.0
    assert replay.ip_states[events[-1]["ip"]].failures_slow == 0.0


def test_one_client_breaking_a_page_or_a_site_s_usual_errors_make_no_outage() -> None:
    # GIVEN ordinary browsing, with one client from one network whose 20 requests raise 500s (an
    # injection, a scanner), and, on another day, a busy site failing one request in 300 (its usual
    # trickle: 8 in ten minutes) across many networks
    ordinary = browsing(200, START)
    breaker = [
        request(900 + number, START + timedelta(seconds=3 * number + 1), 500, network=77) for number in range(20)
    ]
    probed = sorted([*ordinary, *breaker], key=lambda item: item["occurred_at"])
    trickle = browsing(6000, START + timedelta(days=1), error_every=300, gap=0.25)
    # THEN every one of their errors stays its client's failure
    assert len(outcome(featurize_batch(trickle).rows, trickle)) == 20
    for events in (probed, trickle):
        assert {(failure, share) for _, failure, share, _ in outcome(featurize_batch(events).rows, events)} == {
            (1.0, 1.0)
        }


def test_a_cloud_fleet_s_errors_make_no_outage_and_a_failing_site_s_errors_are_the_site_s_for_it_too() -> None:
    # GIVEN clients of hosting networks only, every fourth answered 504
    events = browsing(200, START, error_every=4)
    hosting = {"network_of": lambda ip: NetworkInfo("US", 16509, "AMAZON-02", True)}
    # THEN their errors are counted for no outage: every one stays its client's failure
    assert {failure for _, failure, _, _ in outcome(featurize_batch(events, **hosting).rows, events)} == {1.0}
    # AND while visitors of other networks make the site fail, a hosting client's error is the site's too
    residential = browsing(100, START, error_every=4)
    fleet_error = request(999, START + timedelta(seconds=301), 504)
    site = featurize_batch(residential).site
    assert site.outages.failing()
    row = featurize_batch([fleet_error], site=site, **hosting).rows[0]
    assert (row[FAILURE], row[STATUS_2XX]) == (0.0, 1.0)


def test_the_outage_ends_when_the_errors_stop_and_a_replay_in_batches_reads_as_one() -> None:
    # GIVEN ten minutes of an outage, then twenty of healthy browsing, then one error
    events = [
        *browsing(200, START, error_every=4),
        *browsing(400, START + timedelta(minutes=10), first=1000),
        request(5000, START + timedelta(minutes=30, seconds=1), 503),
    ]
    whole = featurize_batch(events)
    # THEN the error after the outage is its client's again
    assert outcome(whole.rows[-1:], events[-1:]) == [(503, 1.0, 1.0, 0.0)]
    # AND featurized in batches, the site's count stored between them as the scorer stores it, the
    # rows are one replay's
    site = None
    users: dict[str, Any] = {}
    parts = []
    for start in range(0, len(events), 70):
        part = featurize_batch(events[start : start + 70], users, site=site)
        users.update(part.user_states)
        site = SiteNow.from_bytes(part.site.to_bytes())
        parts.append(part.rows)
    np.testing.assert_array_equal(np.concatenate(parts), whole.rows)


@pytest.mark.parametrize("skew", [timedelta(days=40), timedelta(days=-40)])
def test_a_request_stamped_a_month_off_does_not_end_an_outage(skew: timedelta) -> None:
    # GIVEN an outage under way, then one request stamped 40 days ahead or behind, then more errors
    site = featurize_batch(browsing(100, START, error_every=4)).site
    site = featurize_batch([request(900, START + timedelta(seconds=301) + skew, 200)], site=site).site
    later = [request(1000 + number, START + timedelta(seconds=302 + number), 504) for number in range(3)]
    # THEN the errors after it are still the site's
    assert {failure for _, failure, _, _ in outcome(featurize_batch(later, site=site).rows, later)} == {0.0}


def test_the_site_s_count_is_stored_exactly_and_reads_the_form_stored_before_outages() -> None:
    # GIVEN the site's count after an outage and a followed page
    popularity = PathPopularity(0.0, 0.0, 2.0, {7: Followed(1.0, 1.0, 0, 3, 0)})
    site = SiteNow(popularity, featurize_batch(browsing(100, START, error_every=4)).site.outages)
    # THEN it reads back exactly
    assert SiteNow.from_bytes(site.to_bytes()) == site
    # AND a popularity stored alone (before outages were counted) reads with no outage counted
    assert SiteNow.from_bytes(popularity.to_bytes()) == SiteNow(popularity, Outages())
    # AND anything else is refused with the reason
    stored = site.to_bytes()
    for garbled, reason in [
        (stored[:-1], "outages"),
        (stored[:3], "shorter than its head"),
        (struct.pack("<BI", 9, 0), "version 9"),
        (struct.pack("<BI", 3, 999), "shorter than its 999 bytes"),
    ]:
        with pytest.raises(InvalidStateError, match=reason):
            SiteNow.from_bytes(garbled)
