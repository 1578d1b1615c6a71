"""The site's visits now lower the rarity of pages many clients reach (model.features.popularity)."""

from __future__ import annotations

import itertools
import json
import math
import struct
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from model.enrichment import NetworkInfo
from model.entities import EVIDENCE_COLUMNS, Evidence
from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES, PathPopularity, ResourceVocabulary, SiteNow, featurize_batch, stable_hash
from model.features.clock import BEHIND_RESET
from model.features.popularity import MAX_POPULAR_TEMPLATES, MIN_POPULAR_CLIENTS, POPULARITY_VERSION, Followed
from tests.model_factories import START, event, version_3_record

LIVE_BLOG = "/news/live/storm-hits-the-coast-7100001"
RARITY = FEATURE_NAMES.index("resource_path_rarity")


def site_vocabulary() -> ResourceVocabulary:
    """A news site's week: articles under dated slugs, its home page and its sign-in page."""
    paths = [f"/news/2026/11/{10 + n % 20}/council-votes-on-budget-item-{n}/" for n in range(300)]
    paths += ["/"] * 200 + ["/account/sign-in"] * 50
    learned = ResourceVocabulary.learn([event(START, "u", "page_view", resource=path) for path in paths])
    return ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))


def reader(number: int, moment: datetime, resource: str = LIVE_BLOG, status: int = 200) -> dict[str, Any]:
    """Reader ``number``'s request, from an address of a network of its own."""
    return event(moment, f"reader-{number}", "page_view", resource=resource, status=status, ip=f"10.{number}.0.7")


def readers(count: int, start: datetime, resource: str = LIVE_BLOG, status: int = 200) -> list[dict[str, Any]]:
    """``count`` readers reaching ``resource`` one after another, 10 s apart."""
    return [reader(number, start + timedelta(seconds=10 * number), resource, status) for number in range(count)]


def rarities(events: list[dict[str, Any]], vocabulary: ResourceVocabulary, **lookups: Any) -> list[float]:
    return [row[RARITY] for row in featurize_batch(events, vocabulary=vocabulary, **lookups).rows]


def test_a_page_many_clients_reach_now_reads_as_common_as_its_share_of_their_visits() -> None:
    # GIVEN a live blog that training never saw, read by 60 readers in ten minutes, then a probe
    vocabulary = site_vocabulary()
    never_seen = math.log(vocabulary.total + 1.0)
    events = readers(60, START)
    events.append(reader(999, START + timedelta(minutes=11), "/wp-admin/setup-config.php"))
    rarity = rarities(events, vocabulary)
    # THEN the first readers read it as training did: never seen
    assert rarity[: int(MIN_POPULAR_CLIENTS)] == pytest.approx([never_seen] * int(MIN_POPULAR_CLIENTS))
    # AND once enough clients reached it, as its share of the visits now (all of them here), though
    # no commoner than the median training request (an article: 301 of 551)
    assert vocabulary.typical_rarity == pytest.approx(-math.log(301.0 / 551.0))
    assert rarity[59] == pytest.approx(vocabulary.typical_rarity, abs=1e-6)
    assert all(later <= earlier for earlier, later in itertools.pairwise(rarity[:60]))
    # AND a path no one reached stays as rare as training says
    assert rarity[60] == pytest.approx(never_seen)


def test_the_parameters_of_a_page_training_never_saw_are_not_unknown_once_it_is_popular() -> None:
    # GIVEN a live blog's update call, which training never saw, polled with a timestamp by 40
    # readers, then a known page with a parameter training never saw
    vocabulary = site_vocabulary()
    events = readers(40, START, "/api/live/7100001/updates?since=1794325406")
    events.append(reader(999, START + timedelta(minutes=8), "/account/sign-in?debug=1"))
    unknown = [
        row[FEATURE_NAMES.index("resource_unknown_params")]
        for row in featurize_batch(events, vocabulary=vocabulary).rows
    ]
    # THEN its parameter is unknown until the call is popular, and not after: each would restate
    # that the page is new
    assert unknown[0] == 1.0
    assert unknown[39] == 0.0
    # AND a page training knew still has its unknown parameters counted
    assert unknown[40] == 1.0


def test_a_share_of_visits_lowers_rarity_and_never_raises_it() -> None:
    # GIVEN the home page (common in training) reached by 90 readers and the live blog by 30 in the
    # same minutes
    vocabulary = site_vocabulary()
    home = [reader(number, START + timedelta(seconds=number), "/") for number in range(90)]
    live = [reader(100 + number, START + timedelta(seconds=number * 3 + 1)) for number in range(30)]
    events = sorted(home + live, key=lambda item: item["occurred_at"])
    rows = featurize_batch(events, vocabulary=vocabulary).rows
    live_rarity = [row[RARITY] for row, item in zip(rows, events, strict=True) if item["resource"] == LIVE_BLOG]
    home_rarity = [row[RARITY] for row, item in zip(rows, events, strict=True) if item["resource"] == "/"]
    # THEN the last reader of the blog reads it as a quarter of the visits (30 of 120)
    assert live_rarity[-1] == pytest.approx(-math.log(30.0 / 121.0), abs=0.05)
    # AND the home page, which training already found common, reads as training does
    assert home_rarity == [pytest.approx(-math.log(201.0 / (vocabulary.total + 1.0)), abs=1e-6)] * 90


@pytest.mark.parametrize(
    "who",
    [
        "one client polling",
        "one client walking slugs",
        "one address rotating its cookie",
        "failed requests",
        "redirects",
        "a hosting network",
    ],
)
def test_one_client_failures_and_hosting_networks_do_not_make_a_page_popular(who: str) -> None:
    # GIVEN a page training never saw, requested 100 times: by one reader polling it once a minute,
    # by one client under 100 slugs of it, by one address with a new cookie (a new user) each time,
    # by 100 clients that got 404 or a redirect, or by 100 clients from a cloud provider's network
    vocabulary = site_vocabulary()
    lookups: dict[str, Any] = {}
    if who == "one client polling":
        events = [reader(1, START + timedelta(minutes=minute)) for minute in range(100)]
    elif who == "one client walking slugs":
        events = [reader(1, START + timedelta(seconds=n), f"/news/live/storm-hits-coast-{n}") for n in range(100)]
    elif who == "one address rotating its cookie":
        events = [reader(n, START + timedelta(seconds=n)) | {"ip": "192.0.2.7"} for n in range(100)]
    elif who == "failed requests":
        events = readers(100, START, "/.env", status=404)
    elif who == "redirects":
        events = readers(100, START, "/wp-login.php", status=302)
    else:
        events = readers(100, START)
        lookups["network_of"] = lambda ip: NetworkInfo("US", 16509, "AMAZON-02", True)
    rarity = rarities(events, vocabulary, **lookups)
    # THEN none of those requests made it common: it stays as rare as training says
    assert set(np.round(rarity, 6)) == {round(math.log(vocabulary.total + 1.0), 6)}


def test_a_popular_page_stays_so_for_a_day_and_a_replay_in_batches_reads_as_one() -> None:
    # GIVEN 40 readers of the live blog, a home page read every five minutes for a day and two hours,
    # and one more reader of the blog six hours on, then another a day and an hour on
    vocabulary = site_vocabulary()
    home = [reader(100 + n, START + timedelta(minutes=5 * n), "/") for n in range(312)]
    events = [*readers(40, START), *home, reader(500, START + timedelta(hours=6))]
    events.append(reader(501, START + timedelta(hours=25, seconds=1)))
    events.sort(key=lambda item: item["occurred_at"])
    whole = featurize_batch(events, vocabulary=vocabulary)
    # WHEN the same events are featurized in batches, the visits carried between them and stored as
    # the scorer stores them
    site = None
    users: dict[str, Any] = {}
    ips: dict[str, Any] = {}
    parts = []
    for start in range(0, len(events), 15):
        part = featurize_batch(events[start : start + 15], users, ips, vocabulary=vocabulary, site=site)
        users.update(part.user_states)
        ips.update(part.ip_states)
        site = SiteNow.from_bytes(part.site.to_bytes())
        parts.append(part.rows)
    # THEN the rows are the same as one replay's
    np.testing.assert_array_equal(np.concatenate(parts), whole.rows)
    blog = [row[RARITY] for row, item in zip(whole.rows, events, strict=True) if item["resource"] == LIVE_BLOG]
    assert blog[39] < 1.0
    # AND six hours on, when the blog's visits have faded far below what makes a page popular, its
    # reader reads it as its share of the visits now (theirs among the home page's dozen an hour),
    # not as never seen: it was popular that day
    assert blog[40] == pytest.approx(-math.log(1.0 / (sum(math.exp(-n / 12) for n in range(12 * 6)) + 1.0)), abs=0.1)
    # AND a day after it was last popular, it reads as rare again
    assert blog[41] == pytest.approx(math.log(vocabulary.total + 1.0))


def test_the_visits_kept_are_bounded_and_stored_exactly() -> None:
    # GIVEN a site where 5,000 clients each reach a page of their own no one else does over a week
    # (the counts are rescaled as time goes on), and 50 reach one page together in its last hours
    vocabulary = site_vocabulary()
    site = SiteNow()
    for number in range(5000):
        moment = START + timedelta(minutes=2 * number)
        own = reader(number, moment, "/profile/" + "".join(chr(97 + int(digit)) for digit in str(number)))
        shared = reader(10_000 + number, moment + timedelta(seconds=30))
        batch = [own, shared] if number >= 4950 else [own]
        site = featurize_batch(batch, vocabulary=vocabulary, site=site).site
    popularity = site.popularity
    # THEN at most twice MAX_POPULAR_TEMPLATES pages are kept, within five DynamoDB write units
    assert len(popularity.followed) <= 2 * MAX_POPULAR_TEMPLATES
    assert len(popularity.to_bytes()) <= 5 * 1024
    # AND the page 50 clients reached is among them
    assert stable_hash(vocabulary.template(LIVE_BLOG)) in popularity.followed
    # AND what is stored reads back exactly
    again = PathPopularity.from_bytes(popularity.to_bytes())
    assert again == popularity


def test_malformed_visits_are_refused() -> None:
    popularity = PathPopularity(0.0, total=2.0, followed={7: Followed(1.0, 1.0, 0, 3, 0), 9: Followed(1.0, 3.0, 0, 1)})
    whole = popularity.to_bytes()
    for stored in (b"", b"{}", bytes([POPULARITY_VERSION + 1]) + whole[1:], whole[:-1], whole + b"\x00"):
        with pytest.raises(InvalidStateError, match="popularity"):
            PathPopularity.from_bytes(stored)


def test_a_vocabulary_learned_before_reads_trainings_rarity_alone() -> None:
    # GIVEN the site's vocabulary as the release before this one wrote it (version 5)
    learned = site_vocabulary()
    learned.popular_now = False
    assert learned.to_json()["v"] == 5
    before = ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))
    # THEN the live blog read by 60 readers stays as rare as training says: its model was
    # calibrated on that rarity
    rarity = rarities(readers(60, START), before)
    assert set(np.round(rarity, 6)) == {round(math.log(before.total + 1.0), 6)}
    # AND one learned now is version 11
    assert site_vocabulary().to_json()["v"] == 11


def live_blog_sessions(readers_count: int, polls: int) -> list[dict[str, Any]]:
    """Each reader opens the live blog, then it polls its updates once a minute ``polls`` times."""
    events = []
    for number in range(readers_count):
        opened = START + timedelta(seconds=20 * number)
        events.append(reader(number, opened))
        events += [
            reader(number, opened + timedelta(minutes=minute), f"/api/live/7100001/updates?since={minute}")
            for minute in range(1, polls + 1)
        ]
    return sorted(events, key=lambda item: item["occurred_at"])


def test_a_call_every_reader_polls_reads_as_polled_and_the_page_does_not() -> None:
    # GIVEN 40 readers of a live blog training never saw, whose page polls its updates once a minute
    vocabulary = site_vocabulary()
    events = live_blog_sessions(40, polls=10)
    featurized = featurize_batch(events, vocabulary=vocabulary)
    polled = {item["resource"].partition("?")[0]: flag for item, flag in zip(events, featurized.polled, strict=True)}
    # THEN by the end the update call is one pages poll: each reader requests it ten times
    assert polled["/api/live/7100001/updates"]
    # AND the page, which each reader requests once, is not
    assert not polled[LIVE_BLOG]
    # AND nothing is polled before enough readers reached it
    assert not any(featurized.polled[:20])
    # AND one client requesting a popular page again and again, however often, makes no call polled:
    # a bot polling a launch page reads as pages
    page_then_one_poller = [
        *readers(30, START),
        *(reader(99, START + timedelta(minutes=6, seconds=n)) for n in range(90)),
    ]
    assert not any(featurize_batch(page_then_one_poller, vocabulary=vocabulary).polled)


def test_a_polled_call_counts_nowhere_after_its_page_unless_hammered_or_called_without_one() -> None:
    # GIVEN episodes of a reader who opened a page then left it open 40 minutes, its call polled
    # every minute, then opened another page; a client calling the same polled call every second
    # after the page; and one calling it every minute without ever loading a page
    def episode(gaps: list[float], polled: list[bool], flagged: bool = False, failed: bool = False) -> Evidence:
        evidence = Evidence()
        moment = 1_000.0
        values = [0.0] * len(EVIDENCE_COLUMNS)
        values[EVIDENCE_COLUMNS.index("failure")] = 1.0 if failed else 0.0
        for gap, is_polled in zip(gaps, polled, strict=True):
            moment += gap
            evidence.observe(moment, values, 1.0, flagged, False, None, False, 0, 5.0, is_polled)
        return evidence

    reader_left_open = episode([0.0] + [60.0] * 40, [False] + [True] * 40)
    pages, events, duration = reader_left_open.counts()[:3]
    hammering = episode([0.0] + [1.0] * 30, [False] + [True] * 30)
    no_page = episode([60.0] * 31, [True] * 31)
    # THEN the reader's episode is the page alone: no request, asset or minute of the polls
    # counts, yet they keep the episode going past the 30 minutes idle that would end it
    assert (pages, events, duration) == (1, 1, 0.0)
    assert reader_left_open.episode == 1
    # AND polls failing count as pages (a probe of the call), though flagged ones do not: a call that
    # appeared since training is flagged as often as it is polled
    assert episode([0.0] + [60.0] * 10, [False] + [True] * 10, failed=True).pages == 11
    assert episode([0.0] + [60.0] * 10, [False] + [True] * 10, flagged=True).pages == 1
    # AND the next page joins the same episode, its duration running to it
    reader_left_open.observe(
        1_000.0 + 41 * 60.0, [0.0] * len(EVIDENCE_COLUMNS), 1.0, False, False, None, False, 0, 5.0, False
    )
    assert reader_left_open.episode == 1
    assert reader_left_open.counts()[:3] == (2, 2, 41 * 60.0)
    # AND the hammering client's calls are pages, and so are the calls of a client without a page
    assert hammering.pages == hammering.events == 31
    assert no_page.pages == 31
    # AND the episode's state is stored: whether it opened a page, and where its activity ended
    restored = Evidence.from_bytes(reader_left_open.to_bytes())
    assert restored == reader_left_open
    assert not Evidence.from_bytes(no_page.to_bytes()).page_opened
    # AND a record stored while polls counted (version 3, without its last field) reads its last
    # request as its last activity, and one stored before polled calls (without its last four) reads
    # as opened where the episode counted a page
    before_active = Evidence.from_bytes(version_3_record(hammering)[: -struct.calcsize("<d")])
    assert before_active.last_active == before_active.last_seen == hammering.last_seen
    assert before_active.counts() == hammering.counts()
    assert Evidence.from_bytes(version_3_record(no_page)[: -struct.calcsize("<??Id")]).page_opened


@pytest.mark.parametrize("skew", [timedelta(days=40), timedelta(days=-40)])
def test_a_request_stamped_a_month_off_neither_fails_nor_unmakes_a_popular_page(skew: timedelta) -> None:
    # GIVEN 40 readers of the live blog, then one request stamped 40 days ahead (a wrong device
    # clock) or behind (a late backfill), then more readers; stored between batches as the scorer does
    vocabulary = site_vocabulary()
    first = featurize_batch(readers(40, START), vocabulary=vocabulary)
    skewed = featurize_batch(
        [reader(900, START + timedelta(minutes=7) + skew)],
        vocabulary=vocabulary,
        site=SiteNow.from_bytes(first.site.to_bytes()),
    )
    later = [reader(1000 + n, START + timedelta(minutes=8, seconds=n)) for n in range(3)]
    rows = featurize_batch(later, vocabulary=vocabulary, site=SiteNow.from_bytes(skewed.site.to_bytes())).rows
    # THEN the readers after it still read the blog as popular
    assert [row[RARITY] for row in rows] == [pytest.approx(vocabulary.typical_rarity)] * 3


def test_a_first_request_stamped_a_month_ahead_does_not_stop_the_counting() -> None:
    # GIVEN a shard's first request stamped 40 days ahead (a device's wrong clock), then the live
    # blog's readers in real time, stored between batches as the scorer does
    vocabulary = site_vocabulary()
    site = featurize_batch([reader(900, START + timedelta(days=40))], vocabulary=vocabulary).site
    blog = readers(60, START)
    rows = featurize_batch(blog, vocabulary=vocabulary, site=SiteNow.from_bytes(site.to_bytes())).rows
    # (counted from the reader that set the clock back on: the networks' bits are its readers')
    unskewed = featurize_batch(blog[BEHIND_RESET - 1 :], vocabulary=vocabulary).rows
    never_seen = math.log(vocabulary.total + 1.0)
    # THEN after a few readers behind it the clock is theirs, the count starts again from them,
    # and once enough of them came the blog reads as popular (held at the skewed time, each
    # reader's visit weighed nothing, and it read as never seen for 40 days)
    popular_from = next(n for n, row in enumerate(rows) if row[RARITY] < never_seen)
    assert popular_from == next(n for n, row in enumerate(unskewed) if row[RARITY] < never_seen) + BEHIND_RESET - 1
    assert rows[-1][RARITY] == pytest.approx(vocabulary.typical_rarity)


def stored_before_established(popularity: PathPopularity) -> bytes:
    """``popularity`` in version 3's form: its templates without the moment they were last popular."""
    head = struct.Struct("<BdddII")
    stored = popularity.to_bytes()
    templates = [
        struct.pack("<IddIQQQQ", *struct.unpack_from("<IddIQQQQ", stored, offset))
        for offset in range(head.size, len(stored), struct.calcsize("<IddIQQQQd"))
    ]
    return bytes([3]) + stored[1 : head.size] + b"".join(templates)


def test_the_visits_stored_before_popular_pages_stayed_so_read_as_never_popular_yet() -> None:
    # GIVEN a popularity of the live blog's 40 readers stored in version 3's form
    popularity = featurize_batch(readers(40, START), vocabulary=site_vocabulary()).site.popularity
    assert any(item.popular_at > 0 for item in popularity.followed.values())
    before = PathPopularity.from_bytes(stored_before_established(popularity))
    # THEN it reads as the same counts and clock, none of its templates popular before
    assert before.followed.keys() == popularity.followed.keys()
    for key, item in before.followed.items():
        assert item.popular_at == -math.inf
        assert replace(item, popular_at=popularity.followed[key].popular_at) == popularity.followed[key]
    assert before.clock == popularity.clock
    assert before.total == popularity.total


def test_the_visits_stored_before_the_clock_could_be_set_back_read_with_none_behind_it() -> None:
    # GIVEN a popularity stored in version 2's form (its head has no requests behind the clock, its
    # templates no moment they were last popular)
    popularity = featurize_batch(readers(40, START), vocabulary=site_vocabulary()).site.popularity
    popularity = replace(
        popularity, followed={key: replace(item, popular_at=-math.inf) for key, item in popularity.followed.items()}
    )
    stored = stored_before_established(popularity)
    head = struct.Struct("<BdddI")
    version_2 = head.pack(2, *struct.unpack_from("<dddI", stored, 1)) + stored[head.size + 4 :]
    # THEN it reads as the same counts and clock
    assert PathPopularity.from_bytes(version_2) == popularity
    assert SiteNow.from_bytes(version_2).popularity == popularity


def home_page_readers(hours: int) -> list[dict[str, Any]]:
    """A reader of the home page every five minutes for ``hours`` (the clock moves on with them)."""
    return [reader(100 + n, START + timedelta(minutes=5 * n, seconds=1), "/") for n in range(12 * hours)]


def test_a_page_popular_earlier_that_day_reads_its_parameters_as_training_does() -> None:
    # GIVEN the live blog made popular by 40 readers, then, six hours on, a reader of it with a
    # parameter training never saw
    vocabulary = site_vocabulary()
    later = reader(500, START + timedelta(hours=6), LIVE_BLOG + "?cmd=id")
    events = sorted(
        [*readers(40, START, LIVE_BLOG + "?since=1"), later, *home_page_readers(6)],
        key=lambda item: item["occurred_at"],
    )
    featurized = featurize_batch(events, vocabulary=vocabulary).rows
    rows = [row for row, item in zip(featurized, events, strict=True) if item["resource"] != "/"]
    unknown = FEATURE_NAMES.index("resource_unknown_params")
    # THEN while its readers make it popular its parameters are not unknown, and the day after its
    # last popular moment (popular by that alone) they are again: twelve requests of a botnet would
    # otherwise hide a probe's parameters for a day
    assert rows[39][unknown] == 0.0
    assert rows[40][RARITY] < math.log(vocabulary.total + 1.0)
    assert rows[40][unknown] == 1.0


def test_a_vocabulary_of_version_6_reads_the_visits_as_its_model_was_calibrated() -> None:
    # GIVEN the site's vocabulary as version 6 wrote it (before ids and lasting popularity)
    vocabulary = site_vocabulary()
    vocabulary.ids = False
    never_seen = math.log(vocabulary.total + 1.0)
    # THEN 15 readers do not make the live blog popular (version 7's 10 readers would), 40 do, and six
    # hours on it reads as never seen again: no day after
    assert rarities(readers(15, START), vocabulary)[-1] == pytest.approx(never_seen)
    assert rarities(readers(15, START), site_vocabulary())[-1] < never_seen
    events = sorted(
        [*readers(40, START), reader(500, START + timedelta(hours=6)), *home_page_readers(6)],
        key=lambda item: item["occurred_at"],
    )
    rows = [
        rarity for rarity, item in zip(rarities(events, vocabulary), events, strict=True) if item["resource"] != "/"
    ]
    assert rows[39] < never_seen
    assert rows[40] == pytest.approx(never_seen)


def test_a_page_popular_within_the_day_is_kept_when_the_pages_followed_are_trimmed() -> None:
    # GIVEN the live blog made popular by 40 readers, six quiet hours, then one client requesting 65
    # pages no one else does (each followed: more than the state keeps), then a reader of the blog
    vocabulary = site_vocabulary()
    others = [
        reader(900, START + timedelta(hours=6, seconds=n), "/profile/" + "".join(chr(97 + int(d)) for d in str(n)))
        for n in range(65)
    ]
    events = [*readers(40, START), *others, reader(500, START + timedelta(hours=6, minutes=5))]
    rows = rarities(events, vocabulary)
    # THEN the blog is still among the pages followed, and its reader reads it as it was that day
    assert rows[-1] < math.log(vocabulary.total + 1.0) - 1.0  # (its share of the visits now, not never seen)


def test_the_day_s_popular_pages_do_not_crowd_out_a_page_on_its_way_to_being_popular() -> None:
    # GIVEN 40 pages made popular in the morning (more than the state keeps), then, six hours on, a
    # new page reached by 20 readers of their own networks among one client's 200 requests to pages
    # of its own (each followed, so the state is trimmed again and again)
    vocabulary = site_vocabulary()
    morning = [
        reader(
            number,
            START + timedelta(seconds=20 * page + number),
            "/live/" + "".join(chr(97 + int(d)) for d in str(page)),
        )
        | {"user_id": f"reader-{page}-{number}", "ip": f"10.{page}.{number}.7"}
        for page in range(40)
        for number in range(14)
    ]
    later = START + timedelta(hours=6)
    churn = [
        reader(999, later + timedelta(seconds=5 * n), "/profile/" + "".join(chr(97 + int(d)) for d in str(n)))
        for n in range(200)
    ]
    rising = [
        reader(number, later + timedelta(seconds=45 * number + 2))
        | {"user_id": f"riser-{number}", "ip": f"10.99.{number}.7"}
        for number in range(20)
    ]
    events = sorted([*morning, *churn, *rising], key=lambda item: item["occurred_at"])
    rows = rarities(events, vocabulary)
    # THEN the new page's last readers read it as popular: it was kept while the morning's were
    blog = [rarity for rarity, item in zip(rows, events, strict=True) if item["resource"] == LIVE_BLOG]
    assert blog[-1] < math.log(vocabulary.total + 1.0) - 1.0


SECTION = "/new-developments/riverside-lofts"


@pytest.mark.parametrize("slash", ["", "/"])
def test_the_pages_of_a_section_popular_now_read_as_common_as_it(slash: str) -> None:
    # GIVEN a new development's page, which training never saw (written with or without a trailing
    # slash): its gallery reached by one reader before the page was popular, then the page reached
    # by 30 readers in five minutes, then its gallery, its interest form (a POST answered by a
    # redirect), and its floor plans' page two levels down
    vocabulary = site_vocabulary()
    never_seen = math.log(vocabulary.total + 1.0)
    later = START + timedelta(minutes=6)
    form = {"method": "POST"}
    events = [reader(900, START - timedelta(minutes=1), f"{SECTION}/gallery{slash}")]
    events += readers(30, START, f"{SECTION}{slash}")
    events += [
        reader(901, later, f"{SECTION}/gallery{slash}"),
        reader(902, later + timedelta(seconds=1), f"{SECTION}/interest", status=303) | {"properties": form},
        reader(903, later + timedelta(seconds=2), f"{SECTION}/floorplans/two-bed{slash}"),
    ]
    rarity = rarities(events, vocabulary)
    section = rarity[30]
    # THEN before the page was popular its gallery read as never seen
    assert rarity[0] == pytest.approx(never_seen)
    assert section < never_seen - 1.0
    # AND once it was, its gallery, its form and its floor plans read as common as the page
    assert rarity[31:34] == pytest.approx([section] * 3, abs=0.05)


@pytest.mark.parametrize(
    "probe",
    [
        "a GET redirected",
        "a 404",
        "three levels down",
        "a traversal",
        "an empty segment",
        "from a hosting network",
        "under a page training knew",
    ],
)
def test_a_probe_gains_nothing_from_a_section_popular_now(probe: str) -> None:
    # GIVEN the development's page made popular by 30 readers, then a request for a page never seen
    vocabulary = site_vocabulary()
    lookups: dict[str, Any] = {}
    resource, status = f"{SECTION}/wp-login.php", 200
    if probe == "a GET redirected":
        status = 302
    elif probe == "a 404":
        status = 404
    elif probe == "three levels down":
        resource = f"{SECTION}/a/b/wp-login.php"
    elif probe == "a traversal":
        resource = f"{SECTION}/../wp-login.php"
    elif probe == "an empty segment":
        resource = f"{SECTION}//.env"
    elif probe == "from a hosting network":
        lookups["network_of"] = lambda ip: NetworkInfo("US", 16509, "AMAZON-02", True) if ip == "203.0.113.9" else None
    elif probe == "under a page training knew":
        resource = "/account/sign-in/legacy"
    events = [*readers(30, START, SECTION), reader(999, START + timedelta(minutes=6), resource, status)]
    if probe == "from a hosting network":
        events[-1]["ip"] = "203.0.113.9"
    # THEN it reads as never seen
    assert rarities(events, vocabulary, **lookups)[30] == pytest.approx(math.log(vocabulary.total + 1.0))


def test_a_vocabulary_learned_before_sections_reads_no_page_by_its_section() -> None:
    # GIVEN a vocabulary written by the release before (version 8) and the same visits
    vocabulary = site_vocabulary()
    assert vocabulary.to_json()["v"] == 11
    vocabulary.sections = False
    assert vocabulary.to_json()["v"] == 8
    before = ResourceVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    assert (before.sections, before.hex_ids) == (False, True)
    events = [*readers(30, START, SECTION), reader(901, START + timedelta(minutes=6), f"{SECTION}/gallery")]
    # THEN the gallery reads as never seen, as that release's models were calibrated
    assert rarities(events, before)[30] == pytest.approx(math.log(before.total + 1.0))
