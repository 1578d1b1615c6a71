"""A server error while the site fails many clients is the site's, not its client's (model.features.outages)."""

from __future__ import annotations

import math
import struct
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from model.enrichment import NetworkInfo
from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES, Outages, PathPopularity, SiteNow, featurize_batch
from model.features.clock import EventClock
from model.features.outages import CLOCK_STEP, FAR_BEHIND, MIN_FAILING_NETWORKS
from model.features.popularity import _TEMPLATE_BEFORE_ESTABLISHED, STORED_ALONE_VERSION, Followed, network_hash
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
    assert site.outages.failing(START.timestamp() + 301, fleet_error["ip"])
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


def test_an_attacker_cannot_make_its_own_errors_the_site_s() -> None:
    # GIVEN ordinary browsing, ten residential networks each raising one 500 (a botnet making an
    # outage), and 40 SQL injection probes from one address answered 500 among them
    ordinary = browsing(600, START, gap=2.0)
    botnet = [request(2000 + number, START + timedelta(seconds=30 + number), 500) for number in range(10)]
    probes = [
        event(
            START + timedelta(seconds=60 + 5 * number),
            "prober",
            "page_view",
            resource=f"/news/?id={number}%27%20union%20select%20password%20from%20users--",
            status=500,
            ip="10.250.0.9",
        )
        for number in range(40)
    ]
    events = sorted([*ordinary, *botnet, *probes], key=lambda item: item["occurred_at"])
    replay = featurize_batch(events)
    # THEN the probes' errors stay failures: a request with attack fragments broke its own page
    probe_rows = [row for row, item in zip(replay.rows.tolist(), events, strict=True) if item["user_id"] == "prober"]
    assert {row[FAILURE] for row in probe_rows} == {1.0}
    assert replay.user_states["prober"].failures_slow > 0.0
    # AND errors from eight networks are no outage for a ninth among them: the networks besides a
    # request's own must be eight
    outages = Outages()
    for number in range(8):
        outages.count(START.timestamp() + number, True, f"10.{number}.0.1")
    assert not outages.failing(START.timestamp() + 9, "10.7.0.1")
    assert outages.failing(START.timestamp() + 9, "10.99.0.1") == (
        len({network_hash(f"10.{number}.0.1") % 64 for number in range(8)}) == 8
    )


def test_an_outage_ends_within_two_slots_of_its_last_error_on_a_quiet_site() -> None:
    # GIVEN a quiet site (a request every five minutes) whose twelve requests from twelve networks
    # all failed, then healthy requests
    start = START.timestamp()
    outages = Outages()
    for number in range(12):
        outages.count(start + 300 * number, True, f"10.{number}.0.1")
    assert outages.failing(start + 300 * 12, "10.99.0.1")
    for number in range(12, 20):
        outages.count(start + 300 * number, False, f"10.{number}.0.1")
    # THEN ten minutes of event time after its last error, an error is its client's again, though
    # the clock, which moves on 30 s a request, has not left the slots the errors were counted in
    assert not outages.failing(start + 300 * 20, "10.99.0.1")


@pytest.mark.parametrize("skew", [timedelta(days=40), timedelta(days=-40)])
def test_a_request_stamped_a_month_off_does_not_end_an_outage(skew: timedelta) -> None:
    # GIVEN an outage under way, then one request stamped 40 days ahead or behind, then more errors
    site = featurize_batch(browsing(100, START, error_every=4)).site
    site = featurize_batch([request(900, START + timedelta(seconds=301) + skew, 200)], site=site).site
    later = [request(1000 + number, START + timedelta(seconds=302 + number), 504) for number in range(3)]
    # THEN the errors after it are still the site's
    assert {failure for _, failure, _, _ in outcome(featurize_batch(later, site=site).rows, later)} == {0.0}


def test_a_server_error_stamped_in_the_year_9999_leaves_a_count_that_is_stored_and_read_back() -> None:
    # GIVEN visitors in real time, then a server error stamped at the contract's latest time
    events = browsing(30, START)
    events.append(request(99, datetime(9999, 12, 31, 23, 59, 59, tzinfo=START.tzinfo), 503))
    site = featurize_batch(events).site
    # THEN the count reads back as it was (the scorer would otherwise start the site's count afresh
    # on every batch until that error left the slots)
    assert SiteNow.from_bytes(site.to_bytes()) == site


def test_a_first_request_stamped_a_month_ahead_does_not_stop_the_counting() -> None:
    # GIVEN a shard's first request stamped 40 days ahead, then an outage in real time
    events = [request(900, START + timedelta(days=40), 200), *browsing(200, START, error_every=4)]
    read = outcome(featurize_batch(events).rows, events)
    # THEN after a few requests behind it, the clock is theirs, and the outage is seen
    assert read[-1] == (504, 0.0, 0.0, 1.0)


def test_recomputing_some_events_with_the_verdicts_of_their_scores_gives_their_rows() -> None:
    # GIVEN an outage's requests featurized together, as the scorer scores a batch
    events = browsing(200, START, error_every=4)
    whole = featurize_batch(events)
    # WHEN the states of the last 50 alone are recomputed, the others left for a retry, with the
    # verdicts the whole batch gave them
    kept = events[150:]
    again = featurize_batch(kept, site_errors=whole.site_errors[150:])
    alone = featurize_batch(kept)
    # THEN the rows are those the scores saw, where without the verdicts the first errors would
    # have read as their clients' (the site's count then holds none of the others)
    np.testing.assert_array_equal(again.rows, whole.rows[150:])
    assert any(whole.site_errors[150:])
    assert not np.array_equal(alone.rows, whole.rows[150:])
    with pytest.raises(ValueError, match="site errors for"):
        featurize_batch(kept, site_errors=[False])


def test_the_site_s_count_is_stored_exactly_and_reads_the_form_stored_before_outages() -> None:
    # GIVEN the site's count after an outage and a followed page
    popularity = PathPopularity(0.0, total=2.0, followed={7: Followed(1.0, 1.0, 0, 3, 0)})
    popularity.clock.time = 0.0
    site = SiteNow(popularity, featurize_batch(browsing(100, START, error_every=4)).site.outages)
    # THEN it reads back exactly
    assert SiteNow.from_bytes(site.to_bytes()) == site
    # AND a popularity stored alone (before outages were counted) reads with no outage counted
    alone = struct.pack("<BdddI", STORED_ALONE_VERSION, 0.0, 0.0, 2.0, 1)
    alone += _TEMPLATE_BEFORE_ESTABLISHED.pack(7, 1.0, 1.0, 0, 3, 0, 0, 0)
    assert SiteNow.from_bytes(alone) == SiteNow(popularity, Outages())
    # AND anything else is refused with the reason
    stored = site.to_bytes()
    popularity_part = stored[: -len(site.outages.to_bytes())]
    for garbled, reason in [
        (stored[:-1], "outages"),
        (popularity_part + Outages(EventClock(CLOCK_STEP, FAR_BEHIND, math.inf)).to_bytes(), "not a time"),
        (popularity_part + Outages(EventClock(CLOCK_STEP, FAR_BEHIND, 600.0), slot=7).to_bytes(), "not a time"),
        (popularity_part + Outages(requests=1, errors=2).to_bytes(), "more errors"),
        (stored[:3], "shorter than its head"),
        (b"\xffsite" + struct.pack("<BI", 9, 0), "version 9"),
        (b"\xffsite" + struct.pack("<BI", 1, 999), "shorter than its 999 bytes"),
        (b"\xfeSITE" + struct.pack("<BI", 1, 0), "not the site's tag"),
    ]:
        with pytest.raises(InvalidStateError, match=reason):
            SiteNow.from_bytes(garbled)
