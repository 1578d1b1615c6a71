"""Waves of visits like a crawler's, no page asset and no link followed (model.visits,
model.waves.VISITORS): a crawl spread over residential addresses, a page or two from each with a
browser's agent, that no visitor shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from model.features import event_time, featurize_batch
from model.features.events import stable_hash
from model.user_agents import parse_agent
from model.visits import MAX_PENDING_VISITS, VISIT_SETTLE_SECONDS, settle_visits, training_visits, visit_starts
from model.waves import (
    MIN_EXCESS_FAILURES,
    VISITOR_WAVE_KIND,
    VISITORS,
    WAVE_ENTITY,
    AttemptWindow,
    PendingVisit,
    WaveWatch,
    train_wave_model,
    visit_outcome,
    wave_model_of,
)
from tests.model_factories import START, event, proxy_crawl, readers


def settled_in_batches(
    events: list[dict[str, Any]], batch: int = 200, flush: bool = False
) -> tuple[list[Any], dict[int, PendingVisit]]:
    """The visits ``events`` settle, a scorer's batch at a time, and those still waiting; with
    ``flush``, then those a batch of a later request settles, an hour after the last."""
    rows = featurize_batch(events, agent_of=parse_agent).rows  # (parsing agents, as the scorer's models do)
    starts = visit_starts(rows)
    times = [event_time(item) for item in events]
    pending: dict[int, PendingVisit] = {}
    settled = []
    for first in range(0, len(events), batch):
        window = slice(first, first + batch)
        settled += settle_visits(pending, events[window], times[window], starts[window])
    if flush:
        settled += settle_visits(pending, [event(START, "tick", "api_call")], [max(times) + 3600.0], [False])
    return settled, pending


def test_a_visit_with_an_asset_in_its_first_seconds_is_settled_with_assets_and_one_without_as_time_passes() -> None:
    # GIVEN a reader whose page's styles come two seconds after it, a crawler reading two pages and
    # nothing else, a client whose stylesheet comes a minute late, and one that only fails to log in
    reader = [
        event(START, "reader", "page_view", resource="/a"),
        event(START + timedelta(seconds=2), "reader", "page_view", resource="/s.css"),
    ]
    crawler = [
        event(START, "crawler", "page_view", resource="/a"),
        event(START + timedelta(seconds=5), "crawler", "search", resource="/q"),
    ]
    late = [
        event(START, "late", "page_view", resource="/a"),
        event(START + timedelta(seconds=60), "late", "page_view", resource="/s.css"),
    ]
    login = [event(START, "login", "login_failed", resource="/login")]
    ordered = sorted(reader + crawler + late + login, key=event_time)
    # WHEN they are settled in one batch, whose latest event (the late stylesheet) comes a minute on
    settled, pending = settled_in_batches(ordered, batch=100)
    # THEN the reader's visit was a browser's, the crawler's and the late client's crawlers', and the
    # failed login that requested no page is not counted (the login waves watch it)
    by_user = {visit.key: visit.without_assets for visit in settled}
    assert by_user == {stable_hash("reader"): False, stable_hash("crawler"): True, stable_hash("late"): True}
    # AND a visit begun since waits until a later batch's time is past its first seconds
    after = [event(START + timedelta(seconds=61), "someone", "page_view", resource="/b")]
    assert settle_visits(pending, after, [event_time(after[0])], [True]) == []
    assert list(pending) == [stable_hash("someone")]
    assert settle_visits(pending, [], [], []) == []
    # (an event of a visit under way, past the waiting one's first seconds)
    later = event(START + timedelta(seconds=61 + VISIT_SETTLE_SECONDS + 1), "reader", "page_view", resource="/c")
    settled = settle_visits(pending, [later], [event_time(later)], [False])
    assert [(visit.key, visit.without_assets) for visit in settled] == [(stable_hash("someone"), True)]
    assert visit_outcome(settled[0].as_event()) is True
    assert visit_outcome(ordered[0]) is None  # (an event is no visit: the watch counts settled ones)


def test_a_visit_that_follows_a_link_from_its_page_is_a_browser_s_and_a_declared_client_s_is_no_visit() -> None:
    # GIVEN a returning reader (assets cached) who follows a link from the page it opened, a proxy
    # whose page names another site's page as its referer, Googlebot and a feed reader
    page = "/news/1?utm=x"
    reader = [
        event(START, "reader", "page_view", resource=page),
        event(
            START + timedelta(seconds=9),
            "reader",
            "page_view",
            resource="/news/2",
            properties={"referer": "https://site.example/news/1"},
        ),
    ]
    proxy = [
        event(START, "proxy", "page_view", resource="/news/7", properties={"referer": "https://www.google.com/"}),
        event(
            START + timedelta(seconds=3),
            "proxy",
            "page_view",
            resource="/news/8",
            properties={"referer": "https://site.example/news/5"},
        ),
    ]
    feed_reader = [
        event(
            START,
            "feeds",
            "page_view",
            resource="/feed.xml",
            user_agent="FreshRSS/1.25.0 (Linux; https://freshrss.org)",
        )
    ]
    googlebot = [
        event(
            START,
            "crawler",
            "page_view",
            resource="/news/3",
            user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )
    ]
    later = [
        event(
            START + timedelta(minutes=2),
            "someone",
            "page_view",
            resource="/news/4",
            status=200,
            properties={"referer": ""},
        )
    ]
    # WHEN they are settled
    settled, _ = settled_in_batches(
        sorted(reader + proxy + googlebot + feed_reader + later, key=event_time), flush=True
    )
    # THEN the reader's visit is a browser's, the proxy's a crawler's, and Googlebot's and the feed
    # reader's are none (clients that say what they are)
    assert {visit.key: visit.without_assets for visit in settled} == {
        stable_hash("reader"): False,
        stable_hash("proxy"): True,
        stable_hash("someone"): True,
    }


def test_a_user_seen_before_makes_no_visit_when_they_come_back() -> None:
    # GIVEN a reader with assets, then back 40 minutes later reading pages alone (assets cached),
    # and a newcomer who reads one page without assets
    first = [
        event(START, "reader", "page_view", resource="/a"),
        event(START + timedelta(seconds=1), "reader", "page_view", resource="/s.css"),
    ]
    back = START + timedelta(minutes=40)
    second = [
        event(back, "reader", "page_view", resource="/b"),
        event(back + timedelta(seconds=5), "newcomer", "page_view", resource="/b"),
        event(back + timedelta(minutes=5), "reader", "page_view", resource="/c"),
    ]
    # WHEN the events are settled
    settled, pending = settled_in_batches(first + second, flush=True)
    # THEN the reader made one visit, their first, with assets: their return says nothing of a
    # crawl; the newcomer's visit is a crawler's
    assert [(visit.key, visit.started, visit.without_assets) for visit in settled] == [
        (stable_hash("reader"), event_time(first[0]), False),
        (stable_hash("newcomer"), event_time(second[1]), True),
    ]
    assert pending == {}
    # AND the same in a scorer's batches, each featurized from the state the one before left
    state = featurize_batch(first, agent_of=parse_agent).user_states
    later = featurize_batch(second, user_states=state, agent_of=parse_agent).rows
    assert visit_starts(later) == [False, True, False]


def test_a_visit_of_api_calls_alone_or_that_logs_in_is_not_counted() -> None:
    # GIVEN an app's visit of API calls, and a visit that fetches the login form and posts it
    app = [
        event(START, "app", "api_call", resource="/api/v2/events"),
        event(START + timedelta(seconds=2), "app", "api_call", resource="/api/v2/me"),
    ]
    form = [
        event(START, "stuffer", "page_view", resource="/login"),
        event(START + timedelta(seconds=1), "stuffer", "login_failed", resource="/login"),
    ]
    later = [event(START + timedelta(minutes=2), "someone", "page_view", resource="/news/4")]
    # WHEN they are settled
    settled, _ = settled_in_batches(sorted(app + form + later, key=event_time), flush=True)
    # THEN neither is counted among the visits: the only one is the later page's
    assert [visit.key for visit in settled] == [stable_hash("someone")]


def test_a_malformed_referer_and_a_login_posted_from_its_form_are_read_without_error() -> None:
    # GIVEN a page whose next request names a referer no URL parser reads, and a visit that fetches
    # the login form and posts it with the form as its referer (as browsers and stuffing tools do)
    odd = [
        event(START, "odd", "page_view", resource="/a"),
        event(START + timedelta(seconds=2), "odd", "page_view", resource="/b", properties={"referer": "http://[x/a"}),
    ]
    form = [
        event(START, "stuffer", "page_view", resource="/login"),
        event(
            START + timedelta(seconds=1),
            "stuffer",
            "login_failed",
            resource="/login",
            properties={"referer": "https://site.example/login"},
        ),
    ]
    # WHEN they are settled
    settled, _ = settled_in_batches(sorted(odd + form, key=event_time), flush=True)
    # THEN the first is a browser's visit (its referer's path is the page it read), the login no visit
    assert [(visit.key, visit.without_assets) for visit in settled] == [(stable_hash("odd"), False)]


def test_an_event_stamped_an_hour_ahead_does_not_settle_the_batch_s_visits_before_their_assets() -> None:
    # GIVEN readers whose assets come in the batch after their page, and in the first batch one
    # request from a phone whose clock runs an hour ahead
    pages = [
        event(START + timedelta(seconds=number), f"reader-{number}", "page_view", resource="/a") for number in range(5)
    ]
    phone = event(START + timedelta(hours=1), "phone", "api_call", resource="/api/feed")
    assets = [
        event(START + timedelta(seconds=number + 3), f"reader-{number}", "page_view", resource="/s.css")
        for number in range(5)
    ]
    pending: dict[int, PendingVisit] = {}
    # WHEN the two batches are settled
    first = settle_visits(
        pending, [*pages, phone], [*(event_time(item) for item in pages), event_time(phone)], [True] * 6
    )
    second = settle_visits(pending, assets, [event_time(item) for item in assets], [False] * 5)
    # THEN none was settled early: each is a browser's, as its stylesheet came
    assert first == []
    assert [visit.without_assets for visit in second] == [False] * 5


def test_a_batch_long_enough_to_fill_the_waiting_visits_makes_room_with_those_due() -> None:
    # GIVEN a backlog read as one batch: more visits than may wait, a second apart, each a page alone
    events = [
        event(START + timedelta(seconds=number), f"visitor-{number}", "page_view", resource="/a")
        for number in range(MAX_PENDING_VISITS + 500)
    ]
    pending: dict[int, PendingVisit] = {}
    settled = settle_visits(pending, events, [event_time(item) for item in events], [True] * len(events))
    # THEN every visit is counted: those due settle as crawlers' to make room, the last ones wait
    assert len(settled) + len(pending) == len(events)
    assert all(visit.without_assets for visit in settled)


def test_visits_beyond_the_pending_cap_are_not_counted() -> None:
    # GIVEN more visits beginning within one batch than may wait
    events = [
        event(START + timedelta(milliseconds=number), f"visitor-{number}", "page_view", resource="/a")
        for number in range(MAX_PENDING_VISITS + 50)
    ]
    pending: dict[int, PendingVisit] = {}
    settle_visits(pending, events, [event_time(item) for item in events], [True] * len(events))
    # THEN the first MAX_PENDING_VISITS wait, and the rest are left out
    assert len(pending) == MAX_PENDING_VISITS
    assert stable_hash(f"visitor-{MAX_PENDING_VISITS + 49}") not in pending


def test_the_visits_waiting_are_kept_with_the_window() -> None:
    window = AttemptWindow(
        pending={
            stable_hash("a"): PendingVisit(1_700_000_000.25, True, stable_hash("/a")),
            7: PendingVisit(1_700_000_001.0, False),
        }
    )
    restored = AttemptWindow.from_bytes(window.to_bytes())
    assert restored.pending == window.pending
    assert b'"p"' not in AttemptWindow().to_bytes()  # (a window of logins stores none)


def test_a_crawl_through_residential_proxies_alerts_once_as_a_wave_of_visits_without_assets() -> None:
    # GIVEN two days of readers, nine in ten of whose visits fetch the pages' assets, trained on
    training = readers(START, minutes=2 * 24 * 60, per_minute=2)
    visits, times = training_visits(training, [event_time(item) for item in training], featurize_batch(training).rows)
    model, metadata = train_wave_model(visits, times, VISITORS)
    assert model is not None
    assert 0.05 < model.usual_share < 0.2
    assert wave_model_of({"visitor_waves": metadata}, VISITORS) == model
    # WHEN, on a later day, 300 proxies read a page or two each over an hour among the readers
    later = START + timedelta(days=3)
    usual = readers(later, minutes=180, per_minute=2, seed=9)
    attack = proxy_crawl(later + timedelta(minutes=60), visits=300, every_seconds=12.0)
    settled, _ = settled_in_batches(sorted(usual + attack, key=event_time))
    alerts = WaveWatch(model, VISITORS).observe(
        AttemptWindow(), [v.as_event() for v in settled], [v.started for v in settled]
    )
    # THEN the service alerts once, while the crawl goes on, in words of visits without assets
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert.kind, alert.entity) == (VISITOR_WAVE_KIND, WAVE_ENTITY)
    assert event_time(attack[0]) < alert.last_event_at < event_time(attack[-1])
    assert " visits like a crawler's (no page asset, no link followed) of " in alert.reasons[0]
    assert "would be)" in alert.reasons[0]
    assert alert.reasons == alert.reasons[:1]  # (it names no account)
    # AND the same hours without the crawl raise none
    settled, _ = settled_in_batches(usual)
    assert (
        WaveWatch(model, VISITORS).observe(
            AttemptWindow(), [v.as_event() for v in settled], [v.started for v in settled]
        )
        == []
    )


def test_training_counts_no_visit_in_its_first_quarter_or_day_where_it_knows_no_one() -> None:
    # GIVEN two days of readers, each a new session with one visit, trained on
    training = readers(START, minutes=2 * 24 * 60, per_minute=1)
    moments = [event_time(item) for item in training]
    # WHEN their visits are counted as training counts them
    _, starts = training_visits(training, moments, featurize_batch(training).rows)
    # THEN those of the first quarter of the span (12 hours, less than a day) are not: training
    # featurizes from no state, and a scorer would know its returning users
    warm = moments[0] + (moments[-1] - moments[0]) / 4.0
    assert min(starts) >= warm
    first_seen: dict[str, float] = {}
    for item, moment in zip(training, moments, strict=True):
        first_seen.setdefault(item["user_id"], moment)
    assert len(starts) == sum(1 for moment in first_seen.values() if moment >= warm)


def test_a_log_without_page_assets_watches_no_wave_of_visits() -> None:
    # GIVEN an origin's log behind a CDN: pages, and no asset ever
    training = [item for item in readers(START, minutes=600) if not item["resource"].startswith(("/static", "/img"))]
    visits, times = training_visits(training, [event_time(item) for item in training], featurize_batch(training).rows)
    # THEN no model: every visit is one without assets, and no surge of them could show
    model, metadata = train_wave_model(visits, times, VISITORS)
    assert model is None
    assert metadata["skipped"].endswith("none to tell a surge by")
    assert f"{len(visits)} of {len(visits)} are visits like a crawler's" in metadata["skipped"]
    assert len(visits) > MIN_EXCESS_FAILURES


def test_training_learns_a_visitor_wave_model_that_the_scorer_reads_and_the_backtest_credits_the_crawl_to(
    tmp_path,
) -> None:
    from model.artifact import feature_config_document, load_model
    from model.backtest import Replay, summarize
    from model.train import save, train
    from model.waves import wave_models_of
    from tests.model_factories import normal_traffic

    # GIVEN ten days of account holders and, on the last two, readers who fetch the pages' assets
    training = sorted(
        normal_traffic(users=120, days=10) + readers(START + timedelta(days=8), minutes=2 * 24 * 60, per_minute=1),
        key=event_time,
    )
    # WHEN a model is trained on them, saved and loaded
    folder = save(train(training), tmp_path / "model")
    loaded = load_model(folder)
    # THEN it watches the visits, and the feature configuration the scorer reads carries that model
    assert VISITORS.kind in loaded.wave_models
    # (the readers' visits, one a minute: the account holders' log in, which the login waves watch)
    assert loaded.metadata["visitor_waves"]["attempts"] == 2 * 24 * 60
    document = feature_config_document(loaded.metadata, loaded.vocabulary.to_json(), {})
    assert wave_models_of(document) == loaded.wave_models
    # AND replaying a morning on which 300 proxies read an article or two each, the backtest raises
    # one visitor wave and counts the proxies' sessions as alerted by it
    later = START + timedelta(days=10, hours=8)
    usual = readers(later, minutes=180, per_minute=1, seed=21)
    crawl = proxy_crawl(later + timedelta(minutes=60), visits=300, every_seconds=12.0)
    replay = Replay(loaded, "user", labels={item["user_id"]: "residential_crawl" for item in crawl})
    replay.run(((event_time(item), item) for item in sorted(usual + crawl, key=event_time)), 100)
    summary = summarize(replay)
    assert summary["visitor_wave_alerts"] == 1
    assert summary["per_label"]["residential_crawl"]["alerted_share"] > 0.75
    assert summary["per_label"]["residential_crawl"]["alerted_through_a_wave"] > 0.75 * 300
    # AND ranked as the alerts judged them (the alerted first), the proxies stand out, which their
    # own scores, that the wave does not raise, do not show
    entity_level = summary["entity_level"]
    assert entity_level["alerted_roc_auc"] > 0.9 > entity_level["roc_auc"]
