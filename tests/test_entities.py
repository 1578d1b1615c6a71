"""The entity stage: episode evidence, its calibration to an alert budget, one alert per episode."""

from __future__ import annotations

import json
import logging
import math
import random
import re
import struct
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from scipy import stats

from model.enrichment import AgentLookup, NetworkInfo, NetworkLookup
from model.entities import (
    CLIENT_MEANS,
    ENTITY_FEATURE_NAMES,
    EPISODE_IDLE_SECONDS,
    EVIDENCE_COLUMNS,
    HABIT_MARGIN,
    LEARNED_VALUE_RESOLUTION,
    MAX_ALERTED_SHARE,
    PAGE_MEANS,
    SEQUENCE_MEMORY,
    SOFT_TRUNCATED_TAIL_SUM,
    SUM_OR_LARGEST_TERM,
    EntityModel,
    EntityTracker,
    EpisodeSoFar,
    EventEvidence,
    Evidence,
    alert_share,
    event_evidence,
    evidence_row,
    evidence_rows,
    evidence_values,
    is_page_asset,
    missing_referer,
    mistyped_logins,
    page_identity,
    retyped_logins,
    typed_ahead,
)
from model.entity_training import (
    BOUNDED_TAIL,
    CROSS_FIT_FOLDS,
    EXPONENTIAL_TAIL,
    QUANTILE,
    TIED_BASE,
    OutOfSample,
    Snapshots,
    _extrapolated_share_range,
    calibrated_model,
    cross_fitted_alerts,
    cross_fitted_maxima,
    episode_snapshots,
    habitual_entities,
    out_of_sample,
    tail_calibration,
    tail_threshold,
)
from model.exceptions import InvalidStateError
from model.features import (
    FEATURE_COUNT,
    FEATURE_NAMES,
    SUBREQUEST_SECONDS,
    ResourceVocabulary,
    event_time,
    featurize_batch,
)
from model.train import TrainedModel, train
from model.user_agents import parse_agent
from tests.model_factories import (
    BROWSERS,
    START,
    catalogue_walk,
    event,
    nightly_syncs,
    normal_traffic,
    scraper_session,
    sessions_with_page_calls,
    stamp,
    version_3_record,
)
from traffic.importer import LogImporter

ROW = [0.0] * len(EVIDENCE_COLUMNS)  # an event's evidence values (evidence_values), all zero


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(normal_traffic(users=120, days=10))


def replay(
    trained: TrainedModel,
    events: list[dict[str, Any]],
    kind: str = "user",
    batch: int = 100,
    entity_model: EntityModel | None = None,
    agent_of: AgentLookup | None = None,
    network_of: NetworkLookup | None = None,
) -> tuple[dict[str, Evidence], list[Any]]:
    """Score ``events`` in batches as the scorer does (with ``trained``'s entity stage, or
    ``entity_model``; ``agent_of`` and ``network_of``: the lookups it was trained with); returns the
    evidence and every alert."""
    tracker = EntityTracker(entity_model or trained.entity_models[kind], kind)
    states: dict[str, Evidence] = {}
    user_states: dict[str, Any] = {}
    ip_states: dict[str, Any] = {}
    alerts = []
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        features = featurize_batch(
            chunk, user_states, ip_states, vocabulary=trained.vocabulary, agent_of=agent_of, network_of=network_of
        )
        user_states.update(features.user_states)
        ip_states.update(features.ip_states)
        scores = trained.detector.score(features.rows)
        keys = [item["user_id"] if kind == "user" else item["session_id"] for item in chunk]
        _, raised = tracker.observe(
            states,
            keys,
            [event_time(item) for item in chunk],
            event_evidence(features.rows, chunk, trained.vocabulary),
            scores.tolist(),
            (scores > trained.threshold).tolist(),
        )
        alerts.extend(raised)
    return states, alerts


def home_or_abroad(ip: str) -> NetworkInfo | None:
    """A network lookup for the test below: ``normal_traffic``'s homes in Germany, 192.0.2.0/24 in
    Viet Nam."""
    if ip.startswith("192.0.2."):
        return NetworkInfo("VN", 7552, "Viettel Group", False)
    return NetworkInfo("DE", 3320, "Deutsche Telekom AG", False)


def test_an_account_used_from_a_device_and_a_country_both_new_to_it_alerts() -> None:
    # GIVEN a model trained on accounts used from home, and three accounts used for two weeks, each
    # from its browser at home
    trained = train(normal_traffic(users=120, days=10), network_of=home_or_abroad)
    events = normal_traffic(users=3, days=14, seed=11)
    last_day = stamp(START + timedelta(days=13))
    phone = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile"
    # WHEN on the last day the first is used from a new phone abroad, the second travels with its own
    # browser, and the third has a new phone at home
    changed = {"user-0000": {"user_agent": phone, "ip": "192.0.2.9"}, "user-0001": {"ip": "192.0.2.10"}}
    changed["user-0002"] = {"user_agent": phone}
    events = [{**item, **changed[item["user_id"]]} if item["occurred_at"] >= last_day else item for item in events]
    last_requests = {
        user: sum(1 for item in events if item["user_id"] == user and item["occurred_at"] >= last_day)
        for user in changed
    }
    assert all(last_requests.values())
    evidence, alerts = replay(trained, events, "user", network_of=home_or_abroad)
    # THEN the first account's episode is unfamiliar from its first request to its last, the others' not
    unfamiliar = CLIENT_MEANS.index("unfamiliar")
    assert [evidence[user].client_sums[unfamiliar] for user in changed] == [last_requests["user-0000"], 0.0, 0.0]
    # AND it alone alerts, saying why
    assert {alert.entity for alert in alerts} == {"user-0000"}
    said = re.compile(r"a device \(user agent\) and a country both new to this user: (\d+) of \1 requests")
    assert any(said.match(reason) for reason in alerts[0].reasons), alerts[0].reasons


def test_a_new_agent_or_a_new_country_alone_is_not_unfamiliar_and_a_new_episode_forgets_the_switch() -> None:
    # GIVEN requests whose feature rows are new in agent, in country, or both
    rows = np.zeros((6, FEATURE_COUNT))
    agent, country = FEATURE_NAMES.index("new_user_agent"), FEATURE_NAMES.index("new_country")
    hosting, network = FEATURE_NAMES.index("ip_hosting"), FEATURE_NAMES.index("new_asn")
    rows[0, agent] = rows[1, country] = 1.0
    rows[2, [agent, country]] = 1.0
    # (and through a hosting network, whose country reads new on every request: with a network the
    # user had used, a VPN user's browser updated, and with a new one, an attacker's server abroad)
    rows[4, [agent, country, hosting]] = 1.0
    rows[5, [agent, country, hosting, network]] = 1.0
    values = evidence_values(rows)
    unfamiliar = CLIENT_MEANS.index("unfamiliar")
    place = len(EVIDENCE_COLUMNS) - len(CLIENT_MEANS) + unfamiliar
    # THEN only the requests new in both are unfamiliar, and through a hosting network only from a
    # new network
    assert [value[place] for value in values] == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    # AND an episode counts it and every request after it, not those before
    evidence = Evidence()
    for second, value in enumerate((values[0], values[1], values[2], values[3], values[3])):
        evidence.observe(1_000.0 + second, value, 0.0, False, False)
    assert evidence.client_sums[unfamiliar] == 3.0
    # AND it is stored with the episode
    assert Evidence.from_bytes(evidence.to_bytes()) == evidence
    # AND the next episode starts familiar
    evidence.observe(1_000.0 + EPISODE_IDLE_SECONDS * 2, values[3], 0.0, False, False)
    assert evidence.client_sums[unfamiliar] == 0.0
    # AND a switch on a call pages poll, which otherwise counts nowhere, counts
    evidence.observe(1_000.0 + EPISODE_IDLE_SECONDS * 2 + 20.0, values[2], 0.0, False, False, polled=True)
    assert evidence.client_sums[unfamiliar] == 1.0


def test_evidence_of_the_release_before_the_unfamiliar_client_is_read_on() -> None:
    # GIVEN an episode that alerted, stored by the release before the unfamiliar client (version 3)
    evidence = walked(["/", "/a", "/b", "/c", "/a", "/b"])
    evidence.alerted = True
    # WHEN this release reads it (whole, or as stored before polls counted nowhere)
    restored = Evidence.from_bytes(version_3_record(evidence))
    # THEN it goes on where it was, still alerted, not switched to an unfamiliar client
    assert restored == evidence
    assert Evidence.from_bytes(version_3_record(evidence)[: -struct.calcsize("<d")]).counts() == evidence.counts()
    # AND a version 3 record of another size is refused, naming the record, and so is a version 4
    # record cut short (its release never wrote one)
    with pytest.raises(InvalidStateError, match="entity evidence"):
        Evidence.from_bytes(version_3_record(evidence) + bytes(8))
    with pytest.raises(InvalidStateError, match="entity evidence"):
        Evidence.from_bytes(evidence.to_bytes()[: -struct.calcsize("<d")])


def test_evidence_survives_its_binary_layout_and_a_pause_starts_a_new_episode() -> None:
    # GIVEN an episode of three pages, one with its two assets, with referers recorded
    evidence = Evidence()
    for seconds, asset, no_referer in ((0.0, False, True), (0.4, True, None), (0.5, True, None), (10.0, False, False)):
        evidence.observe(1_000.0 + seconds, ROW, 2.0, False, asset, no_referer)
    evidence.observe(1_025.0, ROW, 2.0, True, False, False)
    # WHEN it is stored and read back
    restored = Evidence.from_bytes(evidence.to_bytes())
    # THEN nothing is lost; gaps are between pages only, and assets count only as requests
    assert restored == evidence
    assert (restored.events, restored.pages, restored.gaps, restored.episode) == (5, 3, 2, 1)
    assert (restored.referers_known, restored.referers_missing) == (3, 1)
    assert restored.page_sums[:2] == [6.0, 1.0]  # event scores and flags, over pages
    # AND a pause longer than the idle limit starts the next episode afresh
    assert restored.observe(1_025.0 + EPISODE_IDLE_SECONDS + 1, ROW, 1.0, True, False)
    assert (restored.events, restored.pages, restored.gaps, restored.episode) == (1, 1, 0, 2)
    assert restored.page_sums[:2] == [1.0, 1.0]
    assert not restored.alerted
    assert len(restored.to_bytes()) == len(evidence.to_bytes())


def observed(events: list[dict[str, Any]], vocabulary: ResourceVocabulary | None) -> Evidence:
    """One episode's evidence of ``events``, read as the scorer reads them with ``vocabulary``."""
    inputs = event_evidence(np.zeros((len(events), FEATURE_COUNT)), events, vocabulary)
    episode = Evidence()
    for position, item in enumerate(events):
        episode.observe(
            event_time(item),
            inputs.values[position],
            0.0,
            False,
            inputs.assets[position],
            None,
            inputs.subrequests[position],
            inputs.pages[position],
            inputs.subrequest_seconds,
            False,
            inputs.typed[position],
        )
    return episode


def test_the_calls_a_page_makes_as_it_loads_are_read_as_part_of_it_not_as_pages() -> None:
    # GIVEN training sessions whose every page fires two background calls within half a second
    # (a cart count, recommendations), and a product page visited after a pause now and then
    training = sessions_with_page_calls(visitors=8)
    vocabulary = ResourceVocabulary.from_json(ResourceVocabulary.learn(training).to_json())
    # THEN the vocabulary knows the calls by their template, and pages stay pages
    assert vocabulary.is_subrequest("/api/cart/count")
    assert vocabulary.is_subrequest("/API/recs?p=2")
    assert not vocabulary.is_subrequest("/product/101")
    # (and a call that pages make seconds after they load, as ad slots and beacons do, is learned too)
    late = [
        event(START + timedelta(hours=visitor, seconds=40 * page + offset), f"u{visitor}", "page_view", resource=path)
        | {"session_id": f"s{visitor}"}
        for visitor in range(4)
        for page in range(6)
        for offset, path in ((0.0, f"/article/{page}"), (3.5, "/ads/slot?pos=rail"))
    ]
    assert ResourceVocabulary.learn(late).is_subrequest("/ads/slot?pos=top")
    # AND a later session of ten regular pages, each with its calls, counts ten pages one pause apart
    later = [
        event(START + timedelta(days=1, seconds=10 * page + offset), "bot", "page_view", resource=resource)
        for page in range(10)
        for offset, resource in ((0.0, f"/product/{200 + page}"), (0.2, "/api/cart/count"), (0.4, "/api/recs?p=3"))
    ]
    spread = ENTITY_FEATURE_NAMES.index("page_gap_spread")
    priors = [0.0] * len(ENTITY_FEATURE_NAMES)
    known = observed(later, vocabulary)
    assert known.pages == 10
    assert evidence_row(known, priors)[spread] == pytest.approx(0.0, abs=1e-6)
    # (read as pages, the calls would make machine-regular paging look erratic)
    unknown = observed(later, None)
    assert unknown.pages == 30
    assert evidence_row(unknown, priors)[spread] > 0.5
    # AND a client calling the learned path on its own, every 1.5 s, is not hidden by it: a call more
    # than SUBREQUEST_SECONDS (5) after the last page is a page, so every fourth one is, 6 s apart
    assert vocabulary.subrequest_seconds == SUBREQUEST_SECONDS == 5.0
    alone = [
        event(START + timedelta(days=1, seconds=1.5 * call), "prober", "page_view", resource=f"/api/recs?p={call}")
        for call in range(20)
    ]
    probing = observed(alone, vocabulary)
    assert probing.pages == 5
    assert probing.gap_sum == pytest.approx(4 * math.log1p(6.0))
    assert evidence_row(probing, priors)[spread] == pytest.approx(0.0, abs=1e-6)
    # AND a vocabulary of an earlier release keeps the 2 s it was calibrated with: every other call is a page
    # AND a call the event detector flagged counts its flag with the page: what a client sends through
    # a page's own calls (an injection, a probe) is flagged in the episode, its pace still the pages'
    episode = Evidence()
    episode.observe(1_000.0, ROW, 2.0, False, False, None, False)
    episode.observe(1_000.5, ROW, 30.0, True, False, None, True)
    episode.observe(1_001.0, ROW, 2.0, False, False, None, True)
    episode.observe(1_001.5, ROW, 2.0, True, True, None, False)  # a flagged asset is the page's asset
    assert (episode.events, episode.pages, episode.gaps, episode.page_sums[:2]) == (4, 1, 0, [2.0, 1.0])
    earlier = ResourceVocabulary.from_json({**vocabulary.to_json(), "v": 3})  # features version 3's
    assert earlier.subrequest_seconds == 2.0
    assert observed(alone, earlier).pages == 10


def test_a_path_called_soon_after_pages_by_one_client_or_by_everyone_at_once_is_not_learned() -> None:
    # GIVEN a cart count that one session always fetches right after its pages, and a path that
    # the importer's "anonymous" (no session, user, address or agent) fetches that way
    one_session = sessions_with_page_calls(visitors=1, pages=20)
    everyone = [item | {"session_id": None, "user_id": "anonymous"} for item in sessions_with_page_calls(visitors=8)]
    # THEN neither is learned: one client could teach it on purpose, and "anonymous" is many at once
    assert not ResourceVocabulary.learn(one_session).is_subrequest("/api/cart/count")
    assert not ResourceVocabulary.learn(everyone).is_subrequest("/api/cart/count")
    # AND three sessions are enough
    assert ResourceVocabulary.learn(sessions_with_page_calls(visitors=3)).is_subrequest("/api/cart/count")


def test_a_vocabulary_learned_before_subrequests_reads_every_non_asset_as_a_page() -> None:
    learned = ResourceVocabulary.learn(sessions_with_page_calls(visitors=8)).to_json()
    assert ResourceVocabulary.from_json(learned).is_subrequest("/api/cart/count")
    del learned["subrequests"]
    assert not ResourceVocabulary.from_json(learned).is_subrequest("/api/cart/count")


def test_a_missing_referer_is_told_from_a_source_without_referers() -> None:
    assert missing_referer({"properties": {"referer": "-"}}) is True
    assert missing_referer({"properties": {"referer": "https://shop.example/"}}) is False
    assert missing_referer({"properties": {"method": "GET"}}) is None
    assert missing_referer({"properties": None}) is None


def walked(paths: list[str]) -> Evidence:
    """One episode's evidence of page views of ``paths``, ten seconds apart."""
    evidence = Evidence()
    for number, path in enumerate(paths):
        page = page_identity({"event_type": "page_view", "resource": path})
        evidence.observe(1_000.0 + 10.0 * number, ROW, 0.0, False, False, None, False, page)
    return evidence


def page_views(paths: list[str], seconds_apart: float, *loads: tuple[float, str, str]) -> list[dict[str, Any]]:
    """One session's page views of ``paths``, each followed by the requests it makes as it loads:
    (seconds after the page, event type, resource)."""
    events = []
    common = {"session_id": "s-1", "ip": "198.51.100.9", "status": 200}
    for number, path in enumerate(paths):
        moment = START + timedelta(seconds=seconds_apart * number)
        events.append(event(moment, "u-1", "page_view", resource=path, **common))
        for after, event_type, resource in loads:
            events.append(event(moment + timedelta(seconds=after), "u-1", event_type, resource=resource, **common))
    return events


REPEATED = PAGE_MEANS.index("repeated_sequence")


def test_a_path_walked_again_counts_its_repeated_pages_and_reloads_or_steps_back_do_not() -> None:
    # GIVEN a recorded visit of six pages replayed three times in one episode, a person's visit of
    # twenty pages who reloads a page and flips between a list and an article again and again, and
    # a script that sends no page identity
    visit = ["/", "/publications", "/publications/12", "/people", "/people/ada", "/contact"]
    replayed = walked(visit * 3)
    person = walked(
        [
            *("/", "/news", "/news/3", "/news/3", "/news/3", "/news", "/news/9", "/news", "/news/9", "/news"),
            *("/news/9", "/people", "/publications", "/publications?page=2", "/publications/12"),
            *("/publications?page=2", "/publications/40", "/", "/events", "/contact"),
        ]
    )
    unknown = Evidence()
    for number in range(18):
        unknown.observe(1_000.0 + number, ROW, 0.0, False, False)
    # THEN every page of the replays repeats a sequence walked before, but the two where the first
    # pass joins the second (the end of the visit followed by its start, not walked yet)
    assert replayed.page_sums[REPEATED] == 10.0
    # AND the person's reloads and steps back, which walk two pages, not three, count nothing
    assert person.page_sums[REPEATED] == 0.0
    # AND pages without an identity keep no trail
    assert unknown.page_sums[REPEATED] == 0.0


def test_assets_and_a_page_s_own_calls_between_pages_leave_the_trail_alone() -> None:
    # GIVEN a visit of four pages walked twice, each page followed by its style sheet and a call the
    # site's pages make as they load (a vocabulary that learned it), and the same visit without them
    pages = ["/", "/catalog", "/catalog/items/7", "/cart"]
    vocabulary = ResourceVocabulary.learn(sessions_with_page_calls(visitors=8))
    call = "/api/cart/count"
    assert vocabulary.is_subrequest(call)
    events = page_views(pages * 2, 20, (0.3, "page_view", "/static/app.css"), (0.5, "api_call", call))
    with_assets = observed(events, vocabulary)
    bare = walked(pages * 2)
    # THEN the assets and calls are no pages of the trail: the same sequences repeat, no more
    assert with_assets.pages == bare.pages == 8
    assert with_assets.page_sums[REPEATED] == bare.page_sums[REPEATED] == 2.0


def test_training_reads_an_episode_s_evidence_as_the_scorer_does() -> None:
    # GIVEN a session that walks a visit three times, with a page asset after each page
    visit = ["/", "/publications", "/publications/12", "/people", "/contact"]
    events = page_views(visit * 3, 15, (0.2, "page_view", "/static/a.js"))
    # WHEN training replays it into episode rows, and the scorer's steps read the same events
    nothing = np.zeros(len(events), bool)
    zeros = OutOfSample(np.zeros((len(events), FEATURE_COUNT)), np.zeros(len(events)), nothing, nothing)
    snapshots = episode_snapshots(events, [event_time(item) for item in events], "session", zeros)
    served = observed(events, None)
    # THEN the episode's last row is the same, repeated sequences included
    assert snapshots is not None
    assert served.page_sums[REPEATED] == 8.0
    assert snapshots.rows[-1].tolist() == evidence_row(served, snapshots.priors)


def test_a_few_dozen_entities_are_each_cross_fitted_by_the_profile_of_all_the_others() -> None:
    # GIVEN a week of forty users' traffic replayed into episode rows, and of two hundred users'
    def snapshots_of(users: int) -> Snapshots:
        events = sorted(normal_traffic(users=users, days=7), key=event_time)
        nothing = np.zeros(len(events), bool)
        zeros = OutOfSample(np.zeros((len(events), FEATURE_COUNT)), np.zeros(len(events)), nothing, nothing)
        snapshots = episode_snapshots(events, [event_time(item) for item in events], "user", zeros)
        assert snapshots is not None
        return snapshots

    few, many = snapshots_of(40), snapshots_of(200)
    # WHEN each user-day's highest score is cross-fitted
    sums, _ = cross_fitted_maxima(few)
    # THEN each of the forty is scored by a profile fitted on the thirty-nine others' rows (one fitted
    # on four fifths of them would find each stranger than the shipped one, fitted on all, finds
    # tomorrow's users)
    row_entity = np.asarray(few.entity_of)[few.entity_day]
    for user in ("user-0003", "user-0017", "user-0031"):
        own = row_entity == user
        others = EntityModel(
            [0.0] * len(ENTITY_FEATURE_NAMES),
            np.sort(few.rows[few.for_fitting & ~own], axis=0),
            0.0,
            0.0,
            capped_as_rows=int(few.for_fitting.sum()),
        )
        total, _ = others.sum_and_largest_term(few.rows[own])
        days = [index for index, entity in enumerate(few.entity_of) if entity == user]
        assert sums[days].max() == pytest.approx(total.max())
    assert len(np.unique(few.fold)) == 40
    # AND two hundred fall in CROSS_FIT_FOLDS folds by a hash of their names, as many do, while a
    # few of them taken apart (machine clients among people) are each a fold of their own again
    assert len(np.unique(many.fold)) == CROSS_FIT_FOLDS
    row_entity = np.asarray(many.entity_of)[many.entity_day]
    six = many.subset(np.isin(row_entity, [f"user-{number:04d}" for number in range(6)]))
    assert len(np.unique(six.fold)) == 6


def test_a_session_that_walks_one_visit_again_and_again_outranks_the_same_pages_in_another_order(
    trained: TrainedModel,
) -> None:
    # GIVEN two sessions of the same thirty page views at the same pace from one browser: one
    # replays a recorded visit of six pages five times, the other takes the six pages in a
    # different order each time, so that no three of them come twice in the same order
    visit = ["/", "/catalog", "/catalog/items/12", "/search?q=shoes&page=2", "/cart", "/account"]
    orders = [[0, 1, 2, 3, 4, 5], [5, 3, 1, 0, 2, 4], [2, 5, 0, 4, 1, 3], [4, 0, 3, 5, 2, 1], [1, 4, 5, 2, 3, 0]]
    moment = START + timedelta(days=11, hours=10)
    pacing = np.random.default_rng(5).uniform(5, 120, size=30).cumsum()

    def session(name: str, paths: list[str]) -> list[dict[str, Any]]:
        common = {"ip": "198.51.100.77", "user_agent": BROWSERS[0], "session_id": name, "status": 200}
        return [
            event(moment + timedelta(seconds=float(second)), name, "page_view", resource=path, **common)
            for second, path in zip(pacing, paths, strict=True)
        ]

    looped = session("looping", visit * 5)
    shuffled = session("shuffled", [visit[index] for order in orders for index in order])
    # WHEN both are scored as the scorer does
    evidence, _ = replay(trained, sorted(looped + shuffled, key=event_time), "session")
    # THEN only the loop repeats a sequence, and that alone puts it above the other
    assert (evidence["looping"].page_sums[REPEATED], evidence["shuffled"].page_sums[REPEATED]) == (22.0, 0.0)
    model = trained.entity_models["session"]
    rows = np.asarray([evidence_row(evidence[name], model.priors) for name in ("looping", "shuffled")])
    without = rows.copy()
    without[0, ENTITY_FEATURE_NAMES.index("repeated_sequence_mean")] = rows[
        1, ENTITY_FEATURE_NAMES.index("repeated_sequence_mean")
    ]
    scores = model.score(np.vstack([rows, without[:1]]))
    assert scores[0] > scores[1]
    assert scores[0] > scores[2]
    # AND its reasons say why
    loop_reasons, shuffled_reasons = model.reasons(rows, top=len(ENTITY_FEATURE_NAMES))
    assert any(reason.startswith("22 pages retracing a path walked earlier") for reason in loop_reasons)
    assert not any("retracing" in reason for reason in shuffled_reasons)


def test_the_page_trail_is_bounded_survives_its_layout_and_starts_afresh_with_an_episode() -> None:
    # GIVEN an episode of many distinct pages, then the last of them walked again
    paths = [f"/publications/{number}" for number in range(3 * SEQUENCE_MEMORY)]
    evidence = walked(paths + paths[-4:])
    # THEN it remembers only its latest sequences, and the recent ones repeat
    assert len(evidence.sequences) == SEQUENCE_MEMORY
    assert evidence.page_sums[REPEATED] == 2.0
    # AND its stored form keeps the trail and the sequences, in the same size as an empty one
    restored = Evidence.from_bytes(evidence.to_bytes())
    assert restored == evidence
    assert len(evidence.to_bytes()) == len(Evidence().to_bytes())
    # AND the next episode has walked nothing yet
    page = page_identity({"event_type": "page_view", "resource": paths[-1]})
    assert restored.observe(1_000.0 + EPISODE_IDLE_SECONDS * 2, ROW, 0.0, False, False, None, False, page)
    assert (restored.sequences, restored.page_sums[REPEATED]) == ([], 0.0)


def test_evidence_written_by_the_release_before_is_read_on_with_nothing_repeated() -> None:
    # GIVEN an episode that alerted, stored by the release before the page trail (features version 2)
    evidence = walked(["/", "/a", "/b", "/c", "/a", "/b"])
    evidence.alerted = True
    evidence.page_sums = [float(number + 1) for number in range(len(PAGE_MEANS))]
    evidence.client_sums = [float(100 + number) for number in range(len(evidence.client_sums))]
    sums = evidence.page_sums
    earlier = Evidence._PREVIOUS_LAYOUT.pack(
        2,
        len(PAGE_MEANS) - 1,
        len(evidence.client_sums) - 1,  # (no unfamiliar client either)
        evidence.first_seen,
        evidence.last_seen,
        evidence.last_page_seen,
        evidence.events,
        evidence.pages,
        evidence.gaps,
        evidence.gap_sum,
        evidence.gap_squares,
        evidence.referers_known,
        evidence.referers_missing,
        *sums[:REPEATED],
        *evidence.client_sums[:-1],
        evidence.episode,
        evidence.alerted,
    )
    # WHEN this release reads it
    restored = Evidence.from_bytes(earlier)
    # THEN the episode goes on where it was, still alerted, with no sequence walked yet
    assert (restored.events, restored.pages, restored.episode, restored.alerted) == (6, 6, 1, True)
    assert restored.page_sums == [*sums[:REPEATED], 0.0]
    assert restored.client_sums == [*evidence.client_sums[:-1], 0.0]
    assert (restored.trail, restored.sequences) == ((0, 0), [])
    # AND a record claiming more sequences than the layout holds is refused
    garbled = bytearray(evidence.to_bytes())
    # (the count of sequences comes before them, and they before the fields that follow: "??I d")
    garbled[Evidence._LAYOUT.size - 2 * SEQUENCE_MEMORY - struct.calcsize("<??Id") - 1] = SEQUENCE_MEMORY + 1
    with pytest.raises(InvalidStateError, match="page sequences"):
        Evidence.from_bytes(bytes(garbled))


def test_unreadable_evidence_is_refused_with_a_named_error() -> None:
    with pytest.raises(InvalidStateError, match="entity evidence"):
        Evidence.from_bytes(b"\x07" + bytes(10))


def test_a_short_episode_is_shrunk_toward_the_population() -> None:
    # GIVEN priors where a tenth of pages are writes, and a one-page episode that is a write
    priors = [0.0] * len(ENTITY_FEATURE_NAMES)
    write = ENTITY_FEATURE_NAMES.index("write_mean")
    priors[write] = 0.1
    feature_row = np.zeros((1, FEATURE_COUNT))
    feature_row[0, FEATURE_NAMES.index("write_method")] = 1.0
    [row] = evidence_values(feature_row)
    evidence = Evidence()
    evidence.observe(0.0, row, 0.0, False, False)
    # THEN its write share is (1 + 5 * 0.1) / 6, not 1: one event is weak evidence
    assert evidence_row(evidence, priors)[write] == pytest.approx(1.5 / 6)
    # AND forty writes in a row are strong evidence
    for second in range(1, 40):
        evidence.observe(float(second), row, 0.0, False, False)
    assert evidence_row(evidence, priors)[write] == pytest.approx((40 + 0.5) / 45)


def test_page_assets_are_told_from_pages() -> None:
    assert is_page_asset("/static/app.3f2a.js?v=2")
    assert is_page_asset("/img/logo.PNG")
    assert not is_page_asset("/catalog/items/12")
    assert not is_page_asset("/search?q=style.css")
    assert not is_page_asset(None)
    # (ASP.NET's bundles: no extension, the bundle's hash their one parameter)
    assert is_page_asset("/bundles/jquery?v=FVs3ACwOLIVInrAl5sdzR2jrCDmVOWFbZMY6g6Q0ulE1")
    assert is_page_asset("/Content/css?v=Xu3PqA7cNnG0OsgWbUj8hJq2wKfdLOR7fiZQ2nQ0Kwk1")
    assert not is_page_asset("/bundles/jquery?v=FVs3ACwOLIVInrAl5sdzR2jrCDmVOWFbZMY6g6Q0ulE1", "POST")
    assert not is_page_asset("/article?v=2")  # (a short version is a page's own parameter)
    assert not is_page_asset("/confirm?v=" + "c2lnbmVkLXRva2VuLWZvci1lbWFpbC12ZXJpZmljYXRpb24")  # (nor a token)
    assert not is_page_asset("/bundles/summer-pack")  # (a shop's bundle of products is a page)
    # (a player's playlists and segments of streamed video, HLS's and DASH's, as the import reads them:
    # read as pages, a phone's player was "machine-regular pauses between pages")
    assert is_page_asset("/video/t9/720p/seg_00042.ts")
    assert is_page_asset("/video/t9/master.M3U8?token=abc")
    assert is_page_asset("/dash/t9/chunk-stream0-00012.m4s")
    assert not is_page_asset("/uploads/t9/lesson.mp4", "PUT")
    # (PHP scripts serving a page's styles, scripts and images, the file after their name: Moodle's)
    assert is_page_asset("/theme/styles.php/boost/1700000000/all")
    assert is_page_asset("/theme/image.php/boost/core/1700000000/i/loading")
    assert is_page_asset("/lib/javascript.php/1700000000/lib/javascript-static.js")
    assert is_page_asset("/theme/yui_combo.php?rollup/3.17.2/yui-moodlesimple-min.css")
    assert not is_page_asset("/course/view.php?id=173")
    assert not is_page_asset("/images.php")


def test_the_threshold_is_an_order_statistic_with_enough_data_and_extrapolated_without() -> None:
    rng = np.random.default_rng(3)
    many = rng.exponential(1.0, 100_000)
    # 1% of 100,000 leaves 1,000 samples above: the empirical quantile
    threshold, method, _ = tail_calibration(many, 0.01)
    assert threshold == pytest.approx(np.quantile(many, 0.99), rel=1e-3)
    assert method == QUANTILE
    # 0.5% of 40 samples: beyond the largest one, near the exponential's own quantile (-ln 0.005 = 5.3)
    few = rng.exponential(1.0, 40)
    threshold, method, _ = tail_calibration(few, 0.005)
    assert method == EXPONENTIAL_TAIL
    assert threshold > few.max()
    assert 3.5 < threshold < 8.0


def test_a_tail_heavier_than_the_exponential_does_not_lower_the_threshold_below_the_sample() -> None:
    # GIVEN 2,000 entity-days of an exponential tail and a cluster of 20 alike ones at 7 (short
    # sessions with one failed login, say): at 0.5 % the sample expects 10 above the threshold
    rng = np.random.default_rng(5)
    sample = np.concatenate([rng.exponential(1.0, 2_000), np.full(20, 7.0)])
    # WHEN the threshold is set; THEN the sample itself exceeds it no more often than the budget
    # (the exponential fitted to the top tenth alone puts it below the cluster: 1 % of the sample)
    threshold = tail_threshold(sample, 0.005)
    assert (sample > threshold).mean() <= 0.005
    assert threshold >= 7.0


def test_alike_days_tied_at_the_tail_s_base_keep_the_threshold_at_or_above_them() -> None:
    # GIVEN 56 days of a few nightly syncs, 55 of them alike (one score) and one far above
    sample = np.concatenate([np.full(55, 6.66), [115.3]])
    # WHEN the threshold is set for 2.5 % of days (1.4 expected beyond it)
    threshold, method, _ = tail_calibration(sample, 0.025)
    # THEN it is the alike days' score: none of them alerts, and the one far above does
    # (extrapolated from one excess, it fell to -29.9, where every day alerts)
    assert threshold == 6.66
    assert (sample > threshold).sum() == 1
    # AND the model's metadata says so (it said "exponential tail", read from the sample's size alone)
    assert method == TIED_BASE
    assert tail_calibration(np.append(sample[:54], [7.0, 115.3]), 0.025)[1] == EXPONENTIAL_TAIL


@pytest.mark.parametrize(
    ("days", "rate", "method"),
    [(15, 0.025, EXPONENTIAL_TAIL), (400, 0.025, BOUNDED_TAIL), (4_000, 0.025, QUANTILE)],
)
def test_the_range_of_the_share_beyond_a_threshold_holds_it_about_nine_times_in_ten(
    days: int, rate: float, method: str
) -> None:
    # GIVEN samples of entity-days' scores from an exponential, whose share beyond any score is known
    rng = np.random.default_rng(11)
    held, ranges = 0, []
    for _ in range(300):
        sample = rng.exponential(1.0, days)
        # WHEN the threshold is set for the rate
        calibration = tail_calibration(sample, rate)
        assert calibration.method == method
        low, high = calibration.share_range
        # THEN the share of new days beyond it (e ** -threshold) lies within its range about 90 % of the time
        held += low <= math.exp(-calibration.threshold) <= high
        ranges.append((low, high))
    assert 0.8 <= held / 300 <= 0.97
    # AND the range is as wide as the sample is small: at 15 days, from under 1 % to over 10 % every
    # time; at 4,000, its top never half as much again as its bottom
    if days == 15:
        assert max(low for low, _ in ranges) < 0.01
        assert min(high for _, high in ranges) > 0.1
    if days == 4_000:
        assert max(high / low for low, high in ranges) < 1.5


def test_the_range_beyond_the_larger_of_two_thresholds_is_the_lower_of_their_ranges() -> None:
    # GIVEN 400 days, which expect 10 beyond a threshold at 2.5 %: the exponential extrapolation,
    # floored at the sample's own quantile (BOUNDED_TAIL)
    sample = np.random.default_rng(2).exponential(1.0, 400)
    bounded = tail_calibration(sample, 0.025)
    assert bounded.method == BOUNDED_TAIL
    # THEN its range is, end by end, the lower of the extrapolation's (from the top tenth's excesses
    # over the 90th percentile) and the order statistic's (the days above the threshold)
    extrapolated = _extrapolated_share_range(int((sample > np.quantile(sample, 0.9)).sum()), 400, 0.025)
    above = int((sample > np.quantile(sample, 1 - 0.025, method="higher")).sum())
    quantile = stats.beta.ppf([0.05, 0.95], above + 1, 400 - above)
    assert bounded.share_range == pytest.approx(tuple(np.minimum(extrapolated, quantile)))


def test_alike_days_tied_at_the_tail_s_base_have_the_range_of_the_days_beyond_them() -> None:
    # GIVEN 55 alike days and one far above (the tail's base is the threshold)
    calibration = tail_calibration(np.concatenate([np.full(55, 6.66), [115.3]]), 0.025)
    assert calibration.method == TIED_BASE
    # THEN the range is that of one day in 56 beyond it: Beta(2, 55)'s 5th and 95th percentiles
    assert calibration.share_range == pytest.approx((0.0064, 0.0822), abs=5e-4)


def test_habitual_entities_days_are_not_counted_among_the_training_days_that_alert() -> None:
    # GIVEN 200 entity-days of which a partner's 4 crossed the threshold, and one other day did
    entity_days = [("partner", day) for day in range(4)] + [(f"person-{n}", 0) for n in range(196)]
    maxima = np.array([50.0] * 4 + [30.0] + [5.0] * 195)
    # WHEN the partner is habitual (it alerts beyond its own level, and spent none of the budget)
    # THEN the figure is 1 alert in 196 days; counted with the partner's, it was 5 in 200
    assert cross_fitted_alerts(maxima, 20.0, entity_days, {"partner"}) == round(1000 / 196, 3)
    assert cross_fitted_alerts(maxima, 20.0, entity_days, ()) == 25.0
    # (where every entity is excused, the thresholds are set on every day, and the figure counts them)
    assert cross_fitted_alerts(maxima[:4], 20.0, entity_days[:4], {"partner"}) == 1000.0


def test_a_site_too_small_for_the_budget_to_allow_an_alert_a_day_is_calibrated_for_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The budget's share where it allows one a day; one a day below that, at most MAX_ALERTED_SHARE of them
    assert alert_share(5.0, 2_000) == 0.005
    assert alert_share(5.0, 50) == pytest.approx(0.02)
    assert alert_share(5.0, 8) == MAX_ALERTED_SHARE
    assert alert_share(5.0, 8, min_daily_alerts=0) == 0.005
    # GIVEN a small site: 60 customers, about 48 of them a day
    events = normal_traffic(users=60, days=10)
    # WHEN the entity stage is trained with and without the daily floor
    floored = train(events).metadata["entities"]["session"]
    budget_only = train(events, min_daily_alerts=0).metadata["entities"]["session"]
    # THEN the floor sets the threshold for one alert a day, where the budget alone sets it further out
    assert floored["entities_per_day"] == pytest.approx(budget_only["entities_per_day"])
    assert 40 < floored["entities_per_day"] < 60
    assert floored["calibration"]["alert_share"] == pytest.approx(1 / floored["entities_per_day"], rel=0.01)
    assert budget_only["calibration"]["alert_share"] == 0.005
    assert floored["threshold"] < budget_only["threshold"]
    # AND a floor above the most it may set (ten a day of 48) is capped, and the warning says so
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="model.train"):
        capped = train(events, min_daily_alerts=10).metadata["entities"]["session"]
    assert capped["calibration"]["alert_share"] == MAX_ALERTED_SHARE
    (warning,) = [record.getMessage() for record in caplog.records if record.getMessage().startswith("session alerts")]
    capped_share = f"{100 * MAX_ALERTED_SHARE:.1f}% of sessions"
    assert f"({capped_share}, the most --min-daily-alerts may set; --min-daily-alerts)" in warning


def test_training_on_few_days_warns_of_the_range_of_alert_rates_its_threshold_may_give(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a tiny site's training: 6 customers over 3 days, fewer days than one alert's worth
    with caplog.at_level(logging.WARNING, logger="model.train"):
        stage = train(normal_traffic(users=6, days=3)).metadata["entities"]["session"]
    # THEN the model records between which shares of days like training's its threshold lies beyond
    low, high = stage["calibration"]["share_range"]
    assert low < stage["calibration"]["sum_share"] < high
    assert stage["entity_days"] * stage["calibration"]["alert_share"] < 1.0
    # AND the warning names that range, so that a user knows the alert rate is uncertain
    (warning,) = [
        record.getMessage() for record in caplog.records if record.getMessage().startswith("session alerts: the")
    ]
    aimed = f"aimed at {100 * MAX_ALERTED_SHARE:.2g}%"
    assert f"anywhere from {100 * low:.2g}% to {100 * high:.2g}% of sessions (its 90% range; {aimed})" in warning


def test_training_fits_a_user_and_a_session_stage_within_the_budget(trained: TrainedModel) -> None:
    # THEN both stages exist, and cross-fitted normal traffic stays near the budget
    assert set(trained.entity_models) == {"user", "session"}
    for kind in ("user", "session"):
        metadata = trained.metadata["entities"][kind]
        assert metadata["episodes"] >= 100
        assert metadata["calibration"]["cross_fitted_alerts_per_1000_entities_per_day"] <= 20
        assert trained.entity_models[kind].alert_budget == 5.0


def test_new_normal_users_do_not_alert_and_a_scraper_alerts_once_with_reasons(trained: TrainedModel) -> None:
    # GIVEN later traffic of users never seen in training, and a scraping script among them
    later = [
        {**item, "user_id": "new-" + item["user_id"], "session_id": "new-" + str(item["session_id"])}
        for item in normal_traffic(users=60, days=12, seed=99)
        if event_time(item) >= (START + timedelta(days=10)).timestamp()
    ]
    scraper = scraper_session(START + timedelta(days=10, hours=13), requests=150)
    events = sorted(later + scraper, key=event_time)
    # WHEN they are replayed in scorer batches
    states, alerts = replay(trained, events)
    # THEN the scraper alerts exactly once, for its whole run, and says why in words
    scraper_alerts = [alert for alert in alerts if alert.entity == "scraper-1"]
    assert len(scraper_alerts) == 1
    alert = scraper_alerts[0]
    assert (alert.kind, alert.episode) == ("user", 1)
    assert alert.score > alert.threshold
    assert alert.pages < 150
    assert len(alert.reasons) == 3
    assert all("usually" in reason for reason in alert.reasons)
    assert states["scraper-1"].alerted
    # AND new people's first days stay within a few alerts (the budget is 5 per 1,000 users a day)
    people = {item["user_id"] for item in later}
    false_alerts = {alert.entity for alert in alerts if alert.entity in people}
    assert len(false_alerts) <= 2


def test_an_episode_of_page_assets_alone_reads_as_one_page_not_none() -> None:
    # GIVEN an episode whose only requests so far are page assets (its page cached, or logged after
    # its styles), and one of a single page
    priors = [0.0] * len(ENTITY_FEATURE_NAMES)
    assets, page = Evidence(), Evidence()
    for second in range(3):
        assets.observe(float(second), ROW, 0.0, False, True)
    page.observe(0.0, ROW, 0.0, False, False)
    # THEN both count one page: read as none, fewer than nearly any training episode has, a single
    # font file alerted for "very few pages (0)"
    pages = ENTITY_FEATURE_NAMES.index("log_pages")
    assert assets.pages == 0
    assert evidence_row(assets, priors)[pages] == evidence_row(page, priors)[pages] == pytest.approx(math.log(2))
    # AND the assets still read as assets
    share = ENTITY_FEATURE_NAMES.index("asset_share")
    assert evidence_row(assets, priors)[share] > evidence_row(page, priors)[share]


def test_a_reason_s_usual_value_is_a_finished_episode_s(trained: TrainedModel) -> None:
    # GIVEN the session stage trained on people's visits of several pages each
    stage = trained.entity_models["session"]
    pages = ENTITY_FEATURE_NAMES.index("log_pages")
    assert stage.usual is not None
    # WHEN a visit of 400 pages is put in words
    evidence = Evidence()
    for page in range(400):
        evidence.observe(1_000.0 + 20.0 * page, ROW, 0.0, False, False, page=page + 1)
    (reasons,) = stage.reasons(evidence_rows(np.asarray([evidence.counts()]), stage.priors))
    # THEN "usually" is the median of the training's finished visits, not of their snapshots at 1,
    # 2, 4, 8... events, half of which have a page or two
    reason = next(reason for reason in reasons if "(log_pages " in reason)
    assert reason.endswith(f", usually {stage.usual[pages]:.2f})")
    assert math.expm1(stage.usual[pages]) >= 3.0
    # AND the model keeps them through JSON, and one without them names the snapshots' medians
    restored = EntityModel.from_json(json.loads(json.dumps(stage.to_json())))
    assert restored.usual == stage.usual
    older = EntityModel.from_json({key: value for key, value in stage.to_json().items() if key != "usual"})
    (older_reasons,) = older.reasons(evidence_rows(np.asarray([evidence.counts()]), older.priors))
    older_reason = next(reason for reason in older_reasons if "(log_pages " in reason)
    assert older_reason != reason


def test_a_reason_tells_the_episode_s_own_share_of_requests_not_the_shrunk_mean(trained: TrainedModel) -> None:
    # GIVEN a visit of two pages and a script and image each, every request from a declared bot
    stage = trained.entity_models["session"]
    bot = [0.0] * len(EVIDENCE_COLUMNS)
    bot[EVIDENCE_COLUMNS.index("agent_known_bot")] = 1.0
    evidence = Evidence()
    for moment, asset in ((1_000.0, False), (1_000.2, True), (1_000.3, True), (1_030.0, False)):
        evidence.observe(moment, bot, 0.0, False, asset)
    row = evidence_rows(np.asarray([evidence.counts()]), stage.priors)
    # WHEN it is put in words with its counts
    (reasons,) = stage.reasons(row, top=len(ENTITY_FEATURE_NAMES), counts=[evidence.counts()])
    # THEN the words say every request named a bot, though the mean the model reads is shrunk
    # toward the usual visit's (a visit of four requests weighs as much as five of the population's)
    reason = next(reason for reason in reasons if "(known_bot_mean " in reason)
    assert reason.startswith("a self-declared bot or crawler: 4 of 4 requests (known_bot_mean ")
    assert row[0][ENTITY_FEATURE_NAMES.index("known_bot_mean")] < 0.5
    # AND an episode of images alone (no page) counts its ten requests, and no share of its pages
    images = Evidence()
    for n in range(10):
        images.observe(1_000.0 + n, bot, 0.0, False, True)
    counts = [images.counts()]
    (reasons,) = stage.reasons(evidence_rows(np.asarray(counts), stage.priors), len(ENTITY_FEATURE_NAMES), counts)
    assert any(reason.startswith("a self-declared bot or crawler: 10 of 10 requests (") for reason in reasons)
    assert not any(" of 0 pages" in reason or " of 1 pages" in reason for reason in reasons)
    # AND without counts (an older caller) the words give no share
    (plain,) = stage.reasons(row, top=len(ENTITY_FEATURE_NAMES))
    assert any(reason.startswith("a self-declared bot or crawler (known_bot_mean ") for reason in plain)


def test_a_value_no_further_out_than_a_usual_episode_s_is_no_reason() -> None:
    # GIVEN a profile of snapshots around 0, whose finished episodes usually have 40 pages and a
    # write share of 0.1
    rng = np.random.default_rng(5)
    width = len(ENTITY_FEATURE_NAMES)
    columns = np.sort(rng.normal(0.0, 1.0, (300, width)), axis=0)
    usual = [0.0] * width
    pages, writes, hosting = (ENTITY_FEATURE_NAMES.index(name) for name in ("log_pages", "write_mean", "hosting_mean"))
    usual[pages], usual[writes] = math.log1p(40.0), 0.1
    row = np.zeros((1, width))
    row[0, pages], row[0, writes], row[0, hosting] = math.log1p(20.0), 3.0, 2.5  # all far out in the profile
    # WHEN the episode's reasons are put in words by a model that knows the usual values, and by one
    # trained before it did
    (knowing,) = EntityModel([0.0] * width, columns, 10.0, 5.0, usual=usual).reasons(row)
    (older,) = EntityModel([0.0] * width, columns, 10.0, 5.0).reasons(row)
    # THEN twenty pages, fewer than a usual episode's forty, are no reason to the first, which gives
    # the next strongest instead; the older model names them against its snapshots' median
    assert [reason.split(" (")[-1].split(" ")[0] for reason in knowing] == ["write_mean", "hosting_mean"]
    assert any("(log_pages " in reason for reason in older)
    # AND an episode whose only far-out figure is such is still told why: the strongest is named
    row[0, writes] = row[0, hosting] = 0.0
    (alone,) = EntityModel([0.0] * width, columns, 10.0, 5.0, usual=usual).reasons(row)
    assert len(alone) == 1
    assert "(log_pages 3.04, usually 3.71)" in alone[0]


def test_a_share_the_episode_has_none_of_is_no_reason() -> None:
    # GIVEN a profile whose client-error and hosting shares are near 0, and an episode of three pages
    # without a client error, from a hosting address, whose client-error share (the prior's alone,
    # early in the episode) and hosting share both sit far out in it
    rng = np.random.default_rng(7)
    width = len(ENTITY_FEATURE_NAMES)
    columns = np.sort(np.abs(rng.normal(0.0, 0.001, (300, width))), axis=0)
    errors, hosting = (ENTITY_FEATURE_NAMES.index(name) for name in ("client_error_mean", "hosting_mean"))
    hosted = [0.0] * len(EVIDENCE_COLUMNS)
    hosted[EVIDENCE_COLUMNS.index("ip_hosting")] = 1.0
    evidence = Evidence()
    for moment in (1_000.0, 1_020.0, 1_045.0):
        evidence.observe(moment, hosted, 0.0, False, False)
    row = np.median(columns, axis=0)[None, :]  # (ordinary in every other way)
    row[0, errors], row[0, hosting] = 0.01, 0.6
    model = EntityModel([0.0] * width, columns, 10.0, 5.0, usual=row[0].tolist())
    # WHEN its reasons are put in words with its counts
    (reasons,) = model.reasons(row, top=width, counts=[evidence.counts()])
    # THEN its hosting addresses are one, and client errors it never had are none
    assert any(reason.startswith("addresses in hosting or data-centre networks: 3 of 3 requests") for reason in reasons)
    assert not any("(client_error_mean " in reason for reason in reasons)
    # AND neither are requests flagged that it has none of, the count its words give
    flagged = ENTITY_FEATURE_NAMES.index("flagged_mean")
    row[0, flagged] = 0.01
    (reasons,) = model.reasons(row, top=width, counts=[evidence.counts()])
    assert not any("flagged as anomalous" in reason for reason in reasons)
    row[0, flagged] = np.median(columns[:, flagged])
    # AND where that share is all there is, it is still named rather than nothing
    row[0, hosting] = np.median(columns[:, hosting])
    (alone,) = model.reasons(row, top=width, counts=[evidence.counts()])
    assert len(alone) == 1
    assert "(client_error_mean 0.01" in alone[0]


def test_a_reason_names_the_episode_s_own_pace_not_the_shrunk_one(trained: TrainedModel) -> None:
    # GIVEN a script clicking a page every three seconds, twelve pages
    evidence = Evidence()
    for page in range(12):
        evidence.observe(1_000.0 + 3.0 * page, ROW, 0.0, False, False, page=page + 1)
    stage = trained.entity_models["session"]
    row = evidence_rows(np.asarray([evidence.counts()]), stage.priors)
    # WHEN its reasons are put in words
    (reasons,) = stage.reasons(row, top=len(ENTITY_FEATURE_NAMES))
    # THEN the pace they give is its own, three seconds, though the mean the model reads is shrunk
    # toward the population's slower one by five pseudo-pages
    assert math.expm1(row[0][ENTITY_FEATURE_NAMES.index("page_gap_mean")]) > 4.0
    assert any("pages in quick succession (typical pause 3.0 s)" in reason for reason in reasons), reasons
    # AND pages that came all at once have a pause of none, not a negative one from rounding
    burst = Evidence()
    for page in range(7):
        burst.observe(1_000.0, ROW, 0.0, False, False, page=page + 1)
    (reasons,) = stage.reasons(evidence_rows(np.asarray([burst.counts()]), stage.priors), top=len(ENTITY_FEATURE_NAMES))
    assert any("(typical pause 0.0 s)" in reason for reason in reasons), reasons


def severity(trained: TrainedModel, training: list[dict[str, Any]], scraper: list[dict[str, Any]]) -> float:
    """The "stolen-cookie" session's score over the session stage's threshold, replayed after ``training``."""
    stage = trained.entity_models["session"]
    states, _ = replay(trained, training + scraper, "session", agent_of=parse_agent)
    row = evidence_rows(np.asarray([states["stolen-cookie"].counts()]), stage.priors)
    return float(stage.score(row)[0]) / stage.threshold


def disguised_as_browsers(training: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``training`` with the integrations sending a browser's user agent."""
    return [
        item | {"user_agent": BROWSERS[1]} if item["user_id"].startswith("integration") else item for item in training
    ]


def test_machine_clients_in_training_do_not_teach_the_people_s_model_a_script_s_pace() -> None:
    # GIVEN two weeks of people browsing and three integrations reading the catalogue every night
    training = sorted(normal_traffic(users=30, days=14) + nightly_syncs(14, START, "sync"), key=event_time)
    trained = train(training, agent_of=parse_agent)
    stage = trained.entity_models["session"]
    # THEN sessions are judged by a model of people's alone, and the integrations' by one of theirs
    assert stage.machines is not None
    assert trained.metadata["entities"]["session"]["machine_clients"]["episodes"] == 3 * 14
    # WHEN the next night's syncs and, the next morning, a script walking the catalogue as fast behind
    # a browser's user agent are replayed after the training's traffic
    day = START + timedelta(days=14)
    scraper = catalogue_walk(day + timedelta(hours=11), "user-0007", "stolen-cookie", BROWSERS[0], "198.51.100.7")
    later = sorted(nightly_syncs(1, day, "next") + scraper, key=event_time)
    states, alerts = replay(trained, training + later, "session", agent_of=parse_agent)
    # THEN each is judged by its class's model, and the script alerts
    counts = np.asarray([states["stolen-cookie"].counts(), states["next-2-0"].counts()])
    (people_model, people), (machines_model, machines) = stage.by_client(counts)
    assert (people_model, people.tolist(), machines_model, machines.tolist()) == (stage, [0], stage.machines, [1])
    assert [alert.threshold for alert in alerts if alert.entity == "stolen-cookie"] == [stage.threshold]
    # AND the syncs, doing what they do every night, do not alert (their hour as habitual as in training)
    assert [alert.entity for alert in alerts if alert.entity.startswith("next")] == []

    # AND the script stands out among people far more than where the integrations, disguised as
    # browsers, are taken for people
    disguised = disguised_as_browsers(training)
    merged = train(disguised, agent_of=parse_agent)
    assert merged.entity_models["session"].machines is None
    assert severity(trained, training, scraper) > 2 * severity(merged, disguised, scraper) > 0
    # AND the model round-trips through JSON with its machine clients' model
    restored = EntityModel.from_json(json.loads(json.dumps(stage.to_json())))
    assert restored.machines is not None
    rows = evidence_rows(counts, stage.priors)
    assert restored.machines.score(rows).tolist() == stage.machines.score(rows).tolist()
    assert (restored.threshold, restored.machines.threshold) == (stage.threshold, stage.machines.threshold)


def test_the_tracker_judges_machine_clients_by_their_model_on_the_stage_s_scale() -> None:
    # GIVEN a stage whose people's model and machine clients' model were fitted on unlike episodes
    rng = np.random.default_rng(3)
    width = len(ENTITY_FEATURE_NAMES)
    machines = EntityModel([0.0] * width, np.sort(rng.normal(3.0, 1.0, (200, width)), axis=0), 4.0, 5.0)
    stage = EntityModel(
        [0.0] * width, np.sort(rng.normal(0.0, 1.0, (200, width)), axis=0), 10.0, 5.0, machines=machines
    )
    # WHEN a client whose every request came from an HTTP library and a browser send ten requests each
    library = [0.0] * len(EVIDENCE_COLUMNS)
    library[EVIDENCE_COLUMNS.index("agent_http_library")] = 1.0
    keys = ["script", "browser"] * 10
    values = [library if key == "script" else ROW for key in keys]
    no = [False] * 20
    inputs = EventEvidence(values, no, no, [None] * 20, [0] * 20, SUBREQUEST_SECONDS, no, no, no, no, no)
    states: dict[str, Evidence] = {}
    scores, alerts = EntityTracker(stage, "session").observe(
        states, keys, [1_000.0 + 7 * n for n in range(20)], inputs, [0.0] * 20, [False] * 20
    )
    # THEN the script is scored by the machines' model, put on the stage's scale, and the browser by the stage's
    script = evidence_rows(np.asarray([states["script"].counts()]), machines.priors)
    browser = evidence_rows(np.asarray([states["browser"].counts()]), stage.priors)
    assert scores[-2] == pytest.approx(machines.score(script)[0] * 10.0 / 4.0)
    assert scores[-1] == pytest.approx(stage.score(browser)[0])
    # AND each alert is measured against the stage's threshold, and its reasons against the profile of
    # the model that judged it (the machines' features sit around 3, the people's around 0)
    assert {alert.entity for alert in alerts} == {"script", "browser"}
    for alert in alerts:
        assert alert.threshold == 10.0
        usual = [float(reason.rsplit("usually ", 1)[1].rstrip(")")) for reason in alert.reasons]
        assert usual
        assert all(value > 2.0 if alert.entity == "script" else abs(value) < 1.0 for value in usual)


def test_too_few_machine_clients_or_one_alone_are_judged_with_everyone_and_people_apart() -> None:
    # GIVEN people and one integration syncing every night for two weeks (one user: a single fold)
    one = train(normal_traffic(users=30, days=14) + nightly_syncs(14, START, "sync", hours=(2,)), agent_of=parse_agent)
    # THEN its fourteen sessions get a model of their own, while its fourteen user episodes cannot be
    # cross-fitted alone and are judged by a model of everyone's; people by one of theirs in both
    stages = one.metadata["entities"]
    assert (stages["session"]["machine_clients"]["fitted_on"], stages["user"]["machine_clients"]["fitted_on"]) == (
        "their own episodes",
        "everyone's episodes",
    )
    # AND with nine sessions of integrations, too few for a model of their own, the same: people's
    # model is fitted on people alone, and the integrations' is everyone's
    training = sorted(normal_traffic(users=30, days=14) + nightly_syncs(3, START, "sync"), key=event_time)
    few = train(training, agent_of=parse_agent)
    stage = few.entity_models["session"]
    assert stage.machines is not None
    machine_clients = few.metadata["entities"]["session"]["machine_clients"]
    assert machine_clients["episodes"] == 9
    # AND everyone's model is calibrated on the days it judges, the integrations': calibrated on all
    # days, it would spend the budget on them (training's most extreme) on top of the people's share
    assert machine_clients["entity_days"] == 9
    assert machine_clients["cross_fitted_alerts_per_1000_entities_per_day"] <= 1000 / 9
    people_rows, everyone_rows = (len(model.to_json()["sorted_columns"]) for model in (stage, stage.machines))
    assert people_rows < everyone_rows

    # WHEN a script walks the catalogue behind a browser's user agent the next morning
    day = START + timedelta(days=14)
    scraper = catalogue_walk(day + timedelta(hours=11), "user-0007", "stolen-cookie", BROWSERS[0], "198.51.100.7")

    # THEN it stands out among people more than where the integrations, disguised as browsers, are
    # taken for people and widen what a person does
    disguised = disguised_as_browsers(training)
    merged = train(disguised, agent_of=parse_agent)
    assert merged.entity_models["session"].machines is None
    assert severity(few, training, scraper) > 2 * severity(merged, disguised, scraper) > 0


def test_an_alert_is_not_repeated_within_an_episode_but_may_be_in_the_next(trained: TrainedModel) -> None:
    # GIVEN two scraping runs by one user, a day apart, replayed in small batches
    first = scraper_session(START + timedelta(days=10, hours=2), requests=80)
    second = scraper_session(START + timedelta(days=11, hours=2), requests=80)
    _, alerts = replay(trained, first + second, batch=7)
    # THEN one alert per run
    assert [alert.episode for alert in alerts] == [1, 2]


def test_the_entity_model_round_trips_through_json(trained: TrainedModel) -> None:
    model = trained.entity_models["session"]
    restored = EntityModel.from_json(model.to_json())
    rows = np.random.default_rng(1).normal(size=(5, len(ENTITY_FEATURE_NAMES)))
    assert restored.score(rows).tolist() == model.score(rows).tolist()
    assert restored.threshold == model.threshold
    assert restored.term_threshold == model.term_threshold
    assert restored.scoring == model.scoring == SUM_OR_LARGEST_TERM
    with pytest.raises(InvalidStateError, match="entity model"):
        EntityModel.from_json({**model.to_json(), "entity_features_version": 0})


def test_a_model_calibrated_before_the_soft_truncation_keeps_adding_its_terms_as_they_are(
    trained: TrainedModel,
) -> None:
    # GIVEN an entity model as models were written before they recorded their scoring
    current = trained.entity_models["session"]
    earlier = {name: value for name, value in current.to_json().items() if name not in ("scoring", "term_threshold")}
    # WHEN it is loaded (a live model, its rollback target, the gate's backtest of it)
    loaded = EntityModel.from_json(earlier)
    # THEN it scores as its threshold was calibrated, the terms' plain sum, and says so when saved
    rows = np.random.default_rng(2).normal(size=(5, len(ENTITY_FEATURE_NAMES)))
    assert loaded.score(rows).tolist() == current._terms(rows)[0].sum(axis=1).tolist()
    assert loaded.score(rows).tolist() != current.score(rows).tolist()
    assert loaded.to_json()["scoring"] == "tail-sum"
    # AND a scoring this code does not know is refused, as is the largest-term rule without its threshold
    with pytest.raises(InvalidStateError, match="scoring 'other'"):
        EntityModel.from_json({**earlier, "scoring": "other"})
    with pytest.raises(InvalidStateError, match="term threshold None"):
        EntityModel.from_json({**earlier, "scoring": SUM_OR_LARGEST_TERM})


def test_a_model_calibrated_before_the_largest_term_rule_keeps_its_soft_truncated_sum(
    trained: TrainedModel,
) -> None:
    # GIVEN an entity model as it was written before the largest-term rule: soft truncation, no term threshold
    current = trained.entity_models["session"]
    earlier = {**current.to_json(), "scoring": SOFT_TRUNCATED_TAIL_SUM}
    del earlier["term_threshold"]
    # WHEN it is loaded THEN it scores with the soft-truncated sum alone, as its threshold was calibrated
    loaded = EntityModel.from_json(earlier)
    rows = np.random.default_rng(3).normal(size=(5, len(ENTITY_FEATURE_NAMES)))
    assert loaded.score(rows).tolist() == current.sum_and_largest_term(rows)[0].tolist()
    assert loaded.to_json()["term_threshold"] is None


@pytest.mark.parametrize(
    ("version", "lacking"),
    [(3, ("unfamiliar_mean",)), (2, ("repeated_sequence_mean", "unfamiliar_mean"))],
)
def test_a_model_of_an_earlier_release_scores_on_its_own_features(
    trained: TrainedModel, version: int, lacking: tuple[str, ...]
) -> None:
    # GIVEN a session stage as an earlier release wrote it: entity features version 3, without the
    # unfamiliar client, or version 2, without the repeated-sequence column too
    current = trained.entity_models["session"]
    written = current.to_json()
    kept = [index for index, name in enumerate(ENTITY_FEATURE_NAMES) if name not in lacking]
    earlier = {
        **{key: value for key, value in written.items() if key != "usual"},  # (it named no usual values)
        "entity_features_version": version,
        "feature_names": [ENTITY_FEATURE_NAMES[index] for index in kept],
        "priors": [written["priors"][index] for index in kept],
        "sorted_columns": [[row[index] for index in kept] for row in written["sorted_columns"]],
    }
    # WHEN this release loads it
    loaded = EntityModel.from_json(earlier)
    # THEN it shrinks this release's rows toward its own priors, each at its feature's place
    missing = [ENTITY_FEATURE_NAMES.index(name) for name in lacking]
    assert loaded.priors == [0.0 if index in missing else value for index, value in enumerate(written["priors"])]
    numbered = EntityModel.from_json({**earlier, "priors": [float(number + 1) for number in range(len(kept))]})
    assert numbered.priors == [
        0.0 if index in missing else float(kept.index(index) + 1) for index in range(len(ENTITY_FEATURE_NAMES))
    ]
    # AND it scores this release's rows on the features it was trained on: a feature it lacks
    # moves the current model's score and not the earlier one's
    rows = np.tile(np.median(np.asarray(written["sorted_columns"]), axis=0), (1 + len(lacking), 1))
    for place, column in enumerate(missing, start=1):
        rows[place, column] = 0.9
        assert loaded.score(rows)[0] == loaded.score(rows)[place]
        assert current.score(rows)[place] > current.score(rows)[0]
    # AND names each reason's feature with that feature's value (read past the columns it lacks)
    library = ENTITY_FEATURE_NAMES.index("http_library_mean")
    rows[1, library] = 0.75
    assert "(http_library_mean 0.75," in " ".join(loaded.reasons(rows[1:2], top=len(kept))[0])
    # AND it reads the scorer's evidence and alerts on a scraper with reasons named by its features
    _, alerts = replay(trained, scraper_session(START + timedelta(days=11), 200), "session", entity_model=loaded)
    assert alerts
    assert not any(name.removesuffix("_mean") in reason for reason in alerts[0].reasons for name in lacking)
    # AND it is written back as it was read
    assert loaded.to_json() == earlier
    # AND a version this code never wrote is refused, naming what it reads
    with pytest.raises(InvalidStateError, match=r"reads \[2, 3, 4\]"):
        EntityModel.from_json({**earlier, "entity_features_version": 1})


def test_one_extreme_feature_alerts_where_the_sum_of_all_would_not() -> None:
    # GIVEN an entity model fitted on 2,000 episodes, every feature uniform on [0, 1), whose sum
    # threshold lies beyond one feature's whole range and whose largest-term threshold is 12
    rng = np.random.default_rng(11)
    training = rng.uniform(0.0, 1.0, size=(2000, len(ENTITY_FEATURE_NAMES)))
    profile = np.sort(training, axis=0)
    model = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), profile, 25.0, 5.0, SUM_OR_LARGEST_TERM, 12.0)
    sum_only = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), profile, 25.0, 5.0)
    # an ordinary episode; one ordinary but for a pace spread far below any seen (a clock-regular
    # script on a home address); and one that is a little unusual everywhere
    ordinary = np.full(len(ENTITY_FEATURE_NAMES), 0.5)
    regular = ordinary.copy()
    regular[ENTITY_FEATURE_NAMES.index("page_gap_spread")] = -0.5
    unusual_everywhere = np.full(len(ENTITY_FEATURE_NAMES), 0.97)
    rows = np.array([ordinary, regular, unusual_everywhere])
    total, largest = model.sum_and_largest_term(rows)
    # WHEN they are scored
    scores = model.score(rows)
    # THEN the regular one crosses the threshold on its one extreme term, which the sum alone does not
    assert total[1] < model.threshold < scores[1]
    assert largest[1] > model.term_threshold
    assert sum_only.score(rows)[1] < sum_only.threshold
    # AND the one unusual everywhere still crosses on the sum, as before
    assert largest[2] < model.term_threshold
    assert scores[2] == total[2] > model.threshold
    # AND the event detector's own verdicts are the sum's to weigh: extreme in its mean event score
    # alone, an episode is scored by its sum
    scored_high = ordinary.copy()
    event_score = ENTITY_FEATURE_NAMES.index("event_score_mean")
    scored_high[event_score] = 1.3
    assert model._terms(np.array([scored_high]))[0][0, event_score] > model.term_threshold
    assert (
        model.score(np.array([scored_high]))[0]
        == model.sum_and_largest_term(np.array([scored_high]))[0][0]
        < model.threshold
    )
    # AND the ordinary one is ordered by its sum, the largest term far below its threshold adding nothing
    assert scores[0] == total[0] < model.threshold
    # AND past either threshold the score grows a unit a nat: one more nat in the extreme feature adds one
    further = regular.copy()
    further[ENTITY_FEATURE_NAMES.index("page_gap_spread")] -= model._low_scale[
        ENTITY_FEATURE_NAMES.index("page_gap_spread")
    ]
    # (to the profile's six decimals, to which rows are rounded)
    assert model.score(np.array([further]))[0] - scores[1] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(("episodes", "term_rule"), [(24, False), (60, False), (200, True)])
def test_the_two_rules_together_keep_new_ordinary_episodes_within_the_alert_share(
    episodes: int, term_rule: bool
) -> None:
    # GIVEN training sets of ordinary episodes (log-normal features), small and larger
    width = len(ENTITY_FEATURE_NAMES)
    rate = 0.025
    held_out_shares, shares = [], []
    # Forty training sets: the thresholds are extrapolated from a few days each, so one set's share
    # swings by a day or two either way (three of 60 days in one of eight); the mean is the property.
    for seed in range(40):
        rng = np.random.default_rng(seed)
        rows = rng.lognormal(0.0, 1.0, size=(episodes, width))
        days = np.arange(episodes)
        every = np.ones(episodes, bool)
        snapshots = Snapshots(
            rows,
            [0.0] * width,
            days,
            days % 5,
            every,
            episodes,
            episodes,
            1,
            rows,
            every,
            np.zeros(episodes, np.int64),
            days,
            [f"entity-{day}" for day in days.tolist()],
        )
        # WHEN the model is calibrated for 2.5 % of entity-days
        calibrated = calibrated_model(snapshots, rate, 5.0)
        model, maxima = calibrated.model, calibrated.maxima
        # THEN on the larger sets the largest-term rule is on (with its threshold's share range); on
        # the small ones, too few days to expect one beyond its threshold, the sum has the whole share
        assert (model.term_threshold is not None) is term_rule
        assert (calibrated.term_calibration is not None) is term_rule
        assert model.scoring == (SUM_OR_LARGEST_TERM if term_rule else SOFT_TRUNCATED_TAIL_SUM)
        if not term_rule:
            assert model.threshold == tail_threshold(cross_fitted_maxima(snapshots)[0], rate)
        assert len(maxima) == episodes
        held_out_shares.append(float((maxima > model.threshold).mean()))
        fresh = rng.lognormal(0.0, 1.0, size=(20_000, width))
        shares.append(float((model.score(fresh) > model.threshold).mean()))
    # AND the held-out days the thresholds were set on, and new episodes like the training's, alert
    # under both rules together within the share on average
    assert float(np.mean(held_out_shares)) <= rate
    assert float(np.mean(shares)) <= rate


def test_several_unusual_features_outscore_many_ordinary_ones() -> None:
    # GIVEN an entity model fitted on 2,000 episodes, every feature uniform on [0, 1)
    rng = np.random.default_rng(7)
    training = rng.uniform(0.0, 1.0, size=(2000, len(ENTITY_FEATURE_NAMES)))
    model = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), np.sort(training, axis=0), 10.0, 5.0)
    # an episode a little high in every feature (each one at its 85th percentile), and one at the
    # median but for five features each at its 99th percentile (a spoofed browser that is somewhat
    # too regular, too fast, too long and too exploring)
    everywhere = np.full(len(ENTITY_FEATURE_NAMES), 0.85)
    in_five = np.full(len(ENTITY_FEATURE_NAMES), 0.5)
    in_five[:5] = 0.99
    rows = np.array([everywhere, in_five])
    # WHEN both are scored THEN the five unusual features count for more
    scores = model.score(rows)
    assert scores[1] > scores[0]
    # (where ECOD's plain sum of the terms ranks them the other way round)
    plain = model._terms(rows)[0].sum(axis=1)
    assert plain[0] > plain[1]
    # AND the reasons name unusual features only: none for the first, three of the five for the second
    first, second = model.reasons(rows)
    assert first == ()
    assert len(second) == 3
    assert {reason.split("(")[-1].split()[0] for reason in second} <= set(ENTITY_FEATURE_NAMES[:5])
    # AND below the cut episodes are still ordered, not tied: ordinary, then a little high everywhere
    median, higher = np.full(len(ENTITY_FEATURE_NAMES), 0.5), np.full(len(ENTITY_FEATURE_NAMES), 0.7)
    low_scores = model.score(np.array([median, higher]))
    assert low_scores[0] < low_scores[1]


def test_evidence_keeps_growing_beyond_the_training_range_up_to_a_cap() -> None:
    # GIVEN an entity model fitted on 100 episodes whose pace spread lies between 0.5 and 1.5
    rng = np.random.default_rng(5)
    training = rng.uniform(0.0, 1.0, size=(100, len(ENTITY_FEATURE_NAMES)))
    spread = ENTITY_FEATURE_NAMES.index("page_gap_spread")
    training[:, spread] = rng.uniform(0.5, 1.5, 100)
    model = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), np.sort(training, axis=0), 10.0, 5.0)
    typical = np.median(training, axis=0)
    rows = np.repeat([typical], 4, axis=0)
    rows[:, spread] = [1.0, 0.45, 0.1, -50.0]  # ordinary, just below the range, far below, absurd
    scores = model.score(rows)
    # THEN evidence grows with the distance beyond the range instead of stopping at its edge
    assert scores[0] < scores[1] < scores[2] < scores[3]
    # AND one feature can add no more than the cap allows
    assert scores[3] - scores[0] <= 3.0 * np.log(101) + 1e-9


def test_an_event_dated_far_ahead_does_not_hold_later_ones_in_its_episode() -> None:
    # GIVEN an episode, then one event dated a month ahead
    evidence = Evidence()
    evidence.observe(1_000.0, ROW, 1.0, False, False)
    evidence.alerted = True
    assert evidence.observe(1_000.0 + 30 * 86400, ROW, 1.0, False, False)
    # WHEN events of the present follow
    started = evidence.observe(1_060.0, ROW, 1.0, False, False)
    # THEN they begin an episode of their own, which may alert
    assert started
    assert (evidence.episode, evidence.events, evidence.alerted) == (3, 1, False)


def test_a_log_of_one_user_trains_without_an_entity_stage() -> None:
    # GIVEN traffic whose events all belong to one user (a log with no user, session or client)
    events = [{**item, "user_id": "anonymous", "session_id": None} for item in normal_traffic(users=30, days=3)]
    # WHEN a model is trained on it
    trained = train(events)
    # THEN it trains, says why it has no entity stage, and keeps per-event alerts
    assert trained.entity_models == {}
    assert "skipped" in trained.metadata["entities"]["user"]


def test_a_failed_request_is_one_piece_of_evidence_unless_it_is_a_failed_login() -> None:
    # GIVEN a person's stale link (404), a failed login (401), a server error (503) and a login
    # failed with the form shown again (200)
    moment = START + timedelta(hours=10)
    requests = [
        event(moment, "u-1", "page_view", resource="/old-news/3", status=404),
        event(moment, "u-1", "login_failed", resource="/login", status=401),
        event(moment, "u-1", "page_view", resource="/reports", status=503),
        event(moment, "u-1", "login_failed", resource="/login", status=200),
    ]
    values = evidence_values(featurize_batch(requests).rows)
    failure, client_error = EVIDENCE_COLUMNS.index("failure"), EVIDENCE_COLUMNS.index("status_4xx")
    # THEN the page not found is a client error only, the 401 failed login both a failure and a
    # client error, the server error and the 200 failed login failures only
    assert [(row[failure], row[client_error]) for row in values] == [(0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (1.0, 0.0)]
    # AND an episode of failed logins alone failed throughout, one with a page not found did not
    logins, probe = Evidence(), Evidence()
    for second, row in enumerate(values):
        if second in (1, 3):
            logins.observe(float(second), row, 0.0, False, False)
        if second in (0, 1):
            probe.observe(float(second), row, 0.0, False, False)
    assert (logins.all_failed(), probe.all_failed()) == (True, False)


def _failures_seen(steps: list[tuple[str, str]]) -> list[float]:
    """The failures an episode's figures hold (``Evidence.counts``, what the model reads) after each of
    ``steps`` (event type, resource), five seconds apart."""
    moment = START + timedelta(hours=10)
    requests = [
        event(moment + timedelta(seconds=5 * number), "u-1", kind, resource=resource, status=200)
        for number, (kind, resource) in enumerate(steps)
    ]
    inputs = event_evidence(featurize_batch(requests).rows, requests)
    evidence, seen = Evidence(), []
    column = len(Evidence().counts()) - len(CLIENT_MEANS) - len(PAGE_MEANS) + PAGE_MEANS.index("failure")
    for position, request in enumerate(requests):
        evidence.observe(
            event_time(request), inputs.values[position], 0.0, False, False, logged_in=inputs.logins[position]
        )
        seen.append(evidence.counts()[column])
    return seen


def test_a_password_mistyped_in_a_visit_counts_as_no_failure() -> None:
    book, form = ("page_view", "/books/7"), ("page_view", "/login")
    failed, got_in = ("login_failed", "/login"), ("login_succeeded", "/login")
    # GIVEN a customer who reads a book, opens the login form and mistypes their password once
    # THEN the failure counts as none, before the login gets in and after
    assert _failures_seen([book, form, failed, got_in]) == [0.0, 0.0, 0.0, 0.0]
    # AND a customer who lands on the form, mistypes and gets in: the failure counts until then
    assert _failures_seen([form, failed, got_in]) == [0.0, 1.0, 0.0]
    # AND a stuffing's session, the form fetched and posted once, keeps its failure
    assert _failures_seen([form, failed]) == [0.0, 1.0]
    # AND a tool that fails three times in a visit keeps them all, got in or not
    assert _failures_seen([book, form, failed, failed, failed, got_in]) == [0.0, 0.0, 0.0, 0.0, 3.0, 3.0]


def _own_device_logins(
    user: str, address: str | None, failures: int, agent: str = BROWSERS[0], gets_in: bool = True
) -> list[dict[str, Any]]:
    """A day of ``user`` reading the shop from home (198.51.100.4, ``BROWSERS[0]``), then, the next
    morning, ``failures`` failed logins from ``address`` and ``agent`` five seconds apart, and (if
    ``gets_in``) a login that gets in and an account page."""
    home = {"ip": "198.51.100.4", "user_agent": BROWSERS[0]}
    moment = START + timedelta(hours=9)
    history = [event(moment, user, "login_succeeded", resource="/login", status=200, **home)]
    history += [
        event(moment + timedelta(minutes=number + 1), user, "page_view", resource=f"/catalog/items/{number}", **home)
        for number in range(4)
    ]
    attempt = {"ip": address, "user_agent": agent}
    morning = START + timedelta(days=1, hours=8)
    tries = [
        event(morning + timedelta(seconds=5 * number), user, "login_failed", resource="/login", status=401, **attempt)
        for number in range(failures)
    ]
    after = morning + timedelta(seconds=5 * failures)
    return [
        *history,
        *tries,
        *[
            event(after, user, "login_succeeded", resource="/login", status=200, **attempt),
            event(after + timedelta(seconds=20), user, "page_view", resource="/account", status=200, **attempt),
        ][: 2 if gets_in else 0],
    ]


def test_a_password_mistyped_on_the_account_s_own_device_is_told_from_anyone_else_s_tries() -> None:
    def mistyped(events: list[dict[str, Any]]) -> list[bool]:
        return mistyped_logins(featurize_batch(events).rows, events)[5:-2]  # (the next morning's failures)

    # GIVEN a customer's two failed logins from the address and the browser they used yesterday
    # THEN both are the owner mistyping
    assert mistyped(_own_device_logins("u-1", "198.51.100.4", 2)) == [True, True]
    # AND of three in a row, the third is not: people retype once or twice, a tool goes on
    assert mistyped(_own_device_logins("u-1", "198.51.100.4", 3)) == [True, True, False]
    # AND a try from an address the account has not used, or a browser it has not, is no mistyping
    # (the next try reads from an address and a browser the account used a moment ago: the user's
    # recent ones are whatever reached it; a try that gets in is forgiven its failures anyway)
    assert mistyped(_own_device_logins("u-1", "203.0.113.50", 2)) == [False, True]
    assert mistyped(_own_device_logins("u-1", "198.51.100.4", 2, agent=BROWSERS[2])) == [False, True]
    # AND none of a session's or a client's pseudonym (its device is all it is), nor without an address
    assert mistyped(_own_device_logins("client:0e0da62e81186ebe", "198.51.100.4", 2)) == [False, False]
    assert mistyped(_own_device_logins("session:s-1", "198.51.100.4", 2)) == [False, False]
    assert mistyped(_own_device_logins("u-1", None, 2)) == [False, False]


def _hurried_visit(
    user: str, address: str | None, seconds_apart: float, failures: int, session: str | None = None
) -> list[dict[str, Any]]:
    """A fan's visit at an on-sale: the home page and its styles, the login form, then ``failures``
    failed logins ``seconds_apart`` (the first as long after the form) and one that gets in."""
    client = {"ip": address, "user_agent": BROWSERS[0], "session_id": session}
    moment = START + timedelta(hours=15)
    visit = [
        event(moment, user, "page_view", resource="/", status=200, **client),
        event(moment + timedelta(seconds=1), user, "page_view", resource="/static/app.css", status=200, **client),
        event(moment + timedelta(seconds=12), user, "page_view", resource="/login", status=200, **client),
    ]
    tried = moment + timedelta(seconds=12)
    visit += [
        event(
            tried + timedelta(seconds=seconds_apart * number),
            user,
            "login_failed",
            resource="/login",
            status=401,
            **client,
        )
        for number in range(1, failures + 1)
    ]
    got_in = tried + timedelta(seconds=seconds_apart * (failures + 1))
    return [*visit, event(got_in, user, "login_succeeded", resource="/login", status=302, **client)]


def _failures_and_refusals(events: list[dict[str, Any]]) -> tuple[float, float]:
    """The failures and client errors (4xx) the episode of ``events`` has counted before its login gets in."""
    inputs = event_evidence(featurize_batch(events).rows, events)
    evidence = Evidence()
    for position, request in enumerate(events[:-1]):
        evidence.observe_event(event_time(request), inputs, position, 0.0, False)
    return evidence.page_sums[PAGE_MEANS.index("failure")], evidence.page_sums[PAGE_MEANS.index("client_error")]


def test_a_password_typed_again_at_a_person_s_pace_is_mistyped_where_no_user_is_named() -> None:
    def retyped(events: list[dict[str, Any]]) -> list[bool]:
        return retyped_logins(featurize_batch(events).rows, events)[3:-1]  # (the failed logins)

    fan = "session:s-fan"
    # GIVEN a session's visit whose person failed to log in four times, seconds apart as people
    # type, after the home page and the form (a hurried fan at an on-sale)
    visit = _hurried_visit(fan, "198.51.100.4", 9.0, 4, session="s-fan")
    # THEN each try may be the person typing again, and the episode counts its first failure and
    # refusal alone, as it would a stuffing session's one try (which the visit's pages then forgive)
    assert retyped(visit) == [True] * 4
    assert _failures_and_refusals(visit) == (1.0, 1.0)
    # AND so in a log without addresses, where the session's cookie is its browser
    assert retyped(_hurried_visit(fan, None, 9.0, 4, session="s-fan")) == [True] * 4
    # AND past four in about an hour, each counts: people give up or reset the password, a tool goes on
    persistent = _hurried_visit(fan, "198.51.100.4", 9.0, 7, session="s-fan")
    assert retyped(persistent) == [True] * 4 + [False] * 3
    assert _failures_and_refusals(persistent) == (4.0, 4.0)
    # AND a tool that retries at once is no person
    tool = _hurried_visit("session:s-tool", "198.51.100.4", 2.0, 3, session="s-tool")
    assert retyped(tool) == [False] * 3
    assert _failures_and_refusals(tool) == (3.0, 3.0)
    # AND a page not found before the first try (a stale link: a refusal, no failure) makes no failure
    # to follow: the first try still counts, and its refusal with the page's
    probed = _hurried_visit(fan, "198.51.100.4", 9.0, 2, session="s-fan")
    stale = {"ip": "198.51.100.4", "user_agent": BROWSERS[0], "session_id": "s-fan"}
    moment = START + timedelta(hours=15, seconds=5)
    probed.insert(2, event(moment, fan, "page_view", resource="/news/old-story", status=404, **stale))
    assert _failures_and_refusals(probed) == (1.0, 2.0)
    # AND a client with neither cookie nor address is its agent alone, nobody in particular; and a
    # named user is judged by the account's own devices (mistyped_logins), not by its pace
    assert retyped(_hurried_visit("client:5a1e5a1e5a1e5a1e", None, 9.0, 3)) == [False] * 3
    assert retyped(_hurried_visit("u-1", "198.51.100.4", 9.0, 3, session="s-1")) == [False] * 3


def test_a_password_mistyped_on_the_account_s_own_device_is_a_page_not_a_failure(trained: TrainedModel) -> None:
    # GIVEN a customer who fails twice from their own laptop at home, then gets in and reads their account
    owner = _own_device_logins("u-owner", "198.51.100.4", 2)
    # AND someone who tries an account once from an address it has never used (a stuffing's try)
    intruder = _own_device_logins("u-tried", "203.0.113.50", 1, gets_in=False)
    # WHEN the scorer's entity stage reads both
    states, _ = replay(trained, sorted(owner + intruder, key=event_time))
    # THEN the owner's morning is an episode of four pages from the first attempt (the pauses
    # between them a person's), without a failure or a client error
    failures_at = len(Evidence().counts()) - len(CLIENT_MEANS) - len(PAGE_MEANS) + PAGE_MEANS.index("failure")
    errors_at = failures_at - PAGE_MEANS.index("failure") + PAGE_MEANS.index("client_error")
    owner_episode = states["u-owner"]
    assert (owner_episode.pages, owner_episode.events, owner_episode.first_seen) == (4, 4, event_time(owner[5]))
    assert owner_episode.counts()[failures_at] == owner_episode.counts()[errors_at] == 0.0
    # AND the intruder's is that failure and refusal, an episode that failed throughout
    tried = states["u-tried"]
    assert (tried.pages, tried.counts()[failures_at], tried.counts()[errors_at]) == (1, 1.0, 1.0)
    assert tried.all_failed()


def test_a_mistyped_login_counts_as_a_page_without_its_failure_refusal_or_flag() -> None:
    # GIVEN a failed login's evidence: a failure and a client error, flagged by the event detector
    failed_login = [0.0] * len(EVIDENCE_COLUMNS)
    failed_login[EVIDENCE_COLUMNS.index("failure")] = failed_login[EVIDENCE_COLUMNS.index("status_4xx")] = 1.0
    # WHEN one episode takes it as mistyped and another as it is
    mistyped, tried = Evidence(), Evidence()
    mistyped.observe(100.0, failed_login, 30.0, True, False, mistyped=True)
    tried.observe(100.0, failed_login, 30.0, True, False)
    # THEN both have a page and its score; only the second its failure, refusal and flag
    at = len(Evidence().counts()) - len(CLIENT_MEANS) - len(PAGE_MEANS)
    read = [PAGE_MEANS.index(name) + at for name in ("event_score", "failure", "client_error", "flagged")]
    assert [mistyped.counts()[place] for place in read] == [30.0, 0.0, 0.0, 0.0]
    assert [tried.counts()[place] for place in read] == [30.0, 1.0, 1.0, 1.0]
    assert mistyped.pages == tried.pages == 1
    # AND the values given are left as they were (they are the batch's, read by every entity kind)
    assert failed_login[EVIDENCE_COLUMNS.index("failure")] == 1.0


def test_an_alerted_episode_is_reported_as_it_doubles_and_every_ten_minutes() -> None:
    # GIVEN a stage that alerts on any episode, and one that alerts on none
    width = len(ENTITY_FEATURE_NAMES)
    profile = np.sort(np.random.default_rng(5).normal(0.0, 1.0, (200, width)), axis=0)
    every, never = EntityModel([0.0] * width, profile, -1e9, 5.0), EntityModel([0.0] * width, profile, 1e9, 5.0)
    reported: dict[str, list[int]] = {"every": [], "never": []}
    states: dict[str, dict[str, Evidence]] = {"every": {}, "never": {}}
    # WHEN a client reads a page a minute for 25 minutes, each page a batch of its own, then comes back
    # after an hour
    moments = [60.0 * minute for minute in range(25)] + [60.0 * 25 + EPISODE_IDLE_SECONDS + 60.0]
    for moment in moments:
        inputs = EventEvidence(
            [ROW], [False], [False], [None], [0], SUBREQUEST_SECONDS, [False], [False], [False], [False], [False]
        )
        for name, stage in (("every", every), ("never", never)):
            went_on: list[EpisodeSoFar] = []
            EntityTracker(stage, "user").observe(
                states[name], ["u-1"], [moment], inputs, [0.0], [False], went_on=went_on
            )
            reported[name] += [so_far.pages for so_far in went_on]
            assert all(so_far.last_event_at == moment for so_far in went_on)
    # THEN the alerted episode is reported as it reached 2, 4, 8 and 16 pages, and as it entered its
    # 10th and 20th minute (pages 11 and 21); its next episode, which alerted on its first page, not yet
    assert reported["every"] == [2, 4, 8, 11, 16, 21]
    # AND an episode that never alerted is never reported
    assert reported["never"] == []


def test_training_reads_an_address_shared_across_folds_as_the_scorer_does() -> None:
    # GIVEN an office whose users all browse from one address, their ids hashed into every fold
    events = [{**item, "ip": "203.0.113.7"} for item in normal_traffic(users=40, days=3)]
    events.sort(key=event_time)
    # WHEN training scores each fold's users out of sample
    sample = out_of_sample(events, detector="ecod", alert_rate=0.01, network_of=None, agent_of=None)
    # THEN their per-address columns count every user of the address, as the scorer's replay does,
    # not only the users of their own fold
    replayed = featurize_batch(events).rows
    for name in ("ip_distinct_users_24h", "log_ip_new_users_1h", "log_ip_rate_1m"):
        column = FEATURE_NAMES.index(name)
        assert sample.rows[:, column].tolist() == replayed[:, column].tolist(), name
    assert sample.rows[:, FEATURE_NAMES.index("ip_distinct_users_24h")].max() > 10


def test_a_value_the_profile_holds_many_times_is_ordinary_at_full_precision() -> None:
    # GIVEN a profile in which most episodes sit at one value of a feature (the prior every episode
    # without pages shows), a value with more decimals than the profile keeps
    rng = np.random.default_rng(13)
    training = rng.uniform(0.0, 1.0, size=(200, len(ENTITY_FEATURE_NAMES)))
    spread = ENTITY_FEATURE_NAMES.index("page_gap_spread")
    prior = 1.4457760417903621
    training[:160, spread] = prior
    training[160:, spread] = rng.uniform(0.2, 3.0, 40)
    model = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), np.sort(training, axis=0), 30.0, 5.0)
    row = np.full((1, len(ENTITY_FEATURE_NAMES)), 0.5)
    # WHEN an episode at that value is scored at full precision and at the profile's
    row[0, spread] = prior
    at_full_precision = model._terms(row)[0][0, spread]
    row[0, spread] = round(prior, 6)
    at_profile_precision = model._terms(row)[0][0, spread]
    # THEN it is as ordinary as the 160 episodes it equals, whichever side of their rounding it fell
    assert at_full_precision == at_profile_precision < 0.5
    assert model.reasons(row)[0] == ()


def test_a_learned_value_a_hair_beyond_many_training_episodes_counts_as_theirs() -> None:
    # GIVEN crawler episodes of one request each, whose page rarity five cross-fitting folds'
    # vocabularies read as five values within 0.001 of each other, 150 episodes at each
    rng = np.random.default_rng(17)
    width = len(ENTITY_FEATURE_NAMES)
    training = rng.uniform(0.0, 1.0, size=(1000, width))
    rarity = ENTITY_FEATURE_NAMES.index("path_rarity_mean")
    training[:750, rarity] = np.repeat([2.2022, 2.20302, 2.20215, 2.20255, 2.2029], 150)
    training[750:, rarity] = rng.uniform(2.5, 6.0, 250)
    model = EntityModel([0.0] * width, np.sort(training, axis=0), 12.0, 5.0)
    row = np.full((3, width), 0.5)
    # WHEN the shipped vocabulary reads the same page as one fold did, or a hair below them all, and
    # another episode's pages are really commoner (a share a third higher)
    row[:, rarity] = [2.2022, 2.2019, 2.2022 - 0.3]
    as_a_fold, hair_below, commoner = model.score(row)
    # THEN the second is as ordinary as the 750 it stands for; the third is still evidence
    assert model.reasons(row[1:2])[0] == ()
    assert hair_below == pytest.approx(as_a_fold, abs=0.01)
    assert commoner > as_a_fold + 5.0
    assert "only the commonest pages" in model.reasons(row[2:])[0][0]
    # AND a model calibrated before (no resolution recorded) reads the value exactly, as it was calibrated
    stored = model.to_json()
    assert stored["learned_value_resolution"] == LEARNED_VALUE_RESOLUTION
    del stored["learned_value_resolution"]
    before = EntityModel.from_json(json.loads(json.dumps(stored)))
    assert before.score(row[1:2])[0] > as_a_fold + 4.0


def test_a_profile_under_twenty_rows_still_measures_its_tails_scale() -> None:
    # GIVEN an entity model fitted on 10 episodes, the pace spread evenly from 1.0 to 5.5
    training = np.tile(np.linspace(0.0, 0.9, 10)[:, None], (1, len(ENTITY_FEATURE_NAMES)))
    spread = ENTITY_FEATURE_NAMES.index("page_gap_spread")
    training[:, spread] = np.linspace(1.0, 5.5, 10)
    model = EntityModel([0.0] * len(ENTITY_FEATURE_NAMES), np.sort(training, axis=0), 10.0, 5.0)
    row = np.full((1, len(ENTITY_FEATURE_NAMES)), 0.45)
    # WHEN an episode's spread lies one step (0.5) below the lowest seen
    row[0, spread] = 0.5
    term = model._terms(row)[0][0, spread]
    # THEN it counts as a little beyond the range, not as extreme as any value can be
    assert np.log(11.0) < term < 3.0 * np.log(11.0) - 1.0


def test_an_episode_running_for_days_is_one_chance_to_alert_in_calibration() -> None:
    # GIVEN two weeks of people, three integrations syncing every night and a monitor checking a page
    # every five minutes all fortnight (one episode: it never pauses half an hour)
    monitor = [
        event(
            START + timedelta(minutes=5 * check),
            "monitor",
            "page_view",
            resource="/health",
            status=200,
            user_agent="check_http/v2.3.3 (monitoring-plugins 2.3.3)",
            ip="203.0.113.90",
        )
        for check in range(15 * 24 * 12)
    ]
    day = START + timedelta(days=14)
    training = [item for item in monitor if item["occurred_at"] < stamp(day)]
    training = sorted(normal_traffic(users=30, days=14) + nightly_syncs(14, START, "sync") + training, key=event_time)
    trained = train(training, agent_of=parse_agent)
    machines = trained.metadata["entities"]["user"]["machine_clients"]
    assert (machines["fitted_on"], machines["entity_days"]) == ("their own episodes", 14 + 3 * 14)
    # WHEN the next day the monitor and the syncs go on, and a script harvests the search API
    harvest = [
        event(
            day + timedelta(hours=10, seconds=1.5 * page),
            "client:harvester",
            "api_call",
            resource=f"/api/search?q=history&page={page}",
            status=200,
            user_agent="python-requests/2.31.0",
            ip="192.0.2.50",
        )
        for page in range(150)
    ]
    later = [item for item in monitor if item["occurred_at"] >= stamp(day)] + nightly_syncs(1, day, "next") + harvest
    _, alerts = replay(trained, training + sorted(later, key=event_time), "user", agent_of=parse_agent)
    # THEN the harvester alerts (the monitor's fortnight counted as fourteen of the machine clients'
    # 56 days, all at the top of their calibration, put their threshold ten times higher: 257 against 27)
    machine_alerts = [alert for alert in alerts if not alert.entity.startswith("user-")]
    assert [alert.entity for alert in machine_alerts if alert.last_event_at >= day.timestamp()] == ["client:harvester"]
    # AND the monitor and the integrations, replayed from the start, alert within the budget's share
    # of their 60 days (2.5 %: 1.5): once at most (the monitor's episode, when it ran longer than most)
    assert len([alert for alert in machine_alerts if alert.entity != "client:harvester"]) <= 1


def test_an_episode_is_credited_to_its_first_day_in_a_subset_too() -> None:
    # GIVEN snapshots of one episode running over four days and of another on the second day alone
    width = len(Evidence().counts())
    counts = np.ones((5, width))
    snapshots = Snapshots(
        counts[:, : len(ENTITY_FEATURE_NAMES)],
        [0.0] * len(ENTITY_FEATURE_NAMES),
        np.array([0, 1, 2, 3, 4]),  # entity-days: the long episode's four, then the other entity's
        np.zeros(5, np.int64),
        np.ones(5, bool),
        2,
        5,
        4,
        counts,
        np.array([False, False, False, True, True]),
        np.array([0, 1, 2, 3, 1]),
        np.array([0, 0, 0, 0, 1]),
        ["long", "long", "long", "long", "other"],
    )
    # THEN each row is credited to its episode's first day
    assert snapshots.episode_day.tolist() == [0, 0, 0, 0, 4]
    # AND in a subset without the long episode's first day (it became a machine client's part way),
    # to its first day there, not to each of its days
    subset = snapshots.subset(np.array([False, True, True, True, True]))
    assert subset.entity_day.tolist() == [0, 1, 2, 3]
    assert subset.episode_day.tolist() == [0, 0, 0, 3]
    assert subset.entity_of == ["long", "long", "long", "other"]


def hourly_exports(user: str, ip: str, days: int, first_day: int = 0) -> list[dict[str, Any]]:
    """A partner's integration: every hour, 150 POSTs 0.2 s apart (its own episode each time)."""
    return [
        event(
            START + timedelta(days=day, hours=hour, minutes=7, seconds=0.2 * call),
            user,
            "api_call",
            method="POST",
            resource=f"/api/v2/export/{call}",
            status=200,
            user_agent="python-requests/2.32.3",
            ip=ip,
        )
        for day in range(first_day, first_day + days)
        for hour in range(24)
        for call in range(150)
    ]


def app_users(count: int, days: int, seed: int = 5) -> list[dict[str, Any]]:
    """Customers of a mobile app (an HTTP library's agent, so machine clients): a few calls twice a day."""
    rng = random.Random(seed)
    calls = []
    for user in range(count):
        for day in range(days):
            for _ in range(2):
                opened = START + timedelta(days=day, hours=rng.uniform(7, 22))
                for call in range(rng.randint(3, 8)):
                    calls.append(
                        event(
                            opened + timedelta(seconds=call * rng.uniform(1, 20)),
                            f"app-{user}",
                            "api_call",
                            resource=rng.choice(["/api/v2/me", "/api/v2/feed", "/api/v2/orders?page=1"]),
                            status=200,
                            user_agent="okhttp/4.12.0",
                            ip=f"198.18.{user % 200}.{day + 1}",
                        )
                    )
    return calls


def test_an_entity_that_crossed_on_most_training_days_alerts_only_beyond_its_own_level() -> None:
    # GIVEN a week of people, an app's customers, and a partner's integration exporting every hour,
    # whose every run crosses the machine clients' threshold
    training = sorted(
        normal_traffic(users=200, days=7) + app_users(150, 7) + hourly_exports("partner", "203.0.113.77", 7),
        key=event_time,
    )
    trained = train(training, agent_of=parse_agent)
    model = trained.entity_models["user"]
    # THEN training records the partner as habitual, at its cross-fitted level, and nobody else
    assert set(model.habitual) == {"partner"}
    assert model.habitual["partner"] > model.threshold
    assert trained.metadata["entities"]["user"]["habitual_entities"] == 1
    assert model.alert_level("partner") == model.habitual["partner"] * HABIT_MARGIN
    assert model.alert_level("someone") == model.threshold
    assert EntityModel.from_json(json.loads(json.dumps(model.to_json()))).habitual == model.habitual
    # WHEN the next day the partner runs as before, and a new client runs the same export
    day = START + timedelta(days=7)
    later = hourly_exports("partner", "203.0.113.77", 1, first_day=7) + hourly_exports("newcomer", "192.0.2.77", 1, 7)
    _, alerts = replay(trained, training + sorted(later, key=event_time), "user", agent_of=parse_agent)
    # THEN the partner raises none of the 24 alerts a day it raised before, and the newcomer alerts
    alerted = {alert.entity for alert in alerts if alert.last_event_at >= day.timestamp()}
    assert alerted == {"newcomer"}
    # AND without the habit, the same model alerts on the partner's every run
    model.habitual = {}
    _, alerts = replay(trained, training + sorted(later, key=event_time), "user", agent_of=parse_agent)
    assert (
        len([alert for alert in alerts if alert.entity == "partner" and alert.last_event_at >= day.timestamp()]) == 24
    )


def test_a_day_judged_by_both_models_is_one_habitual_day() -> None:
    # GIVEN an entity's two days, one with a browser's episodes and a script's (both models judged it)
    people = (np.array([9.0, 9.0]), [("u", 1), ("u", 2)])
    machines = (np.array([9.0]), [("u", 2)])
    # THEN it crossed on two days, not three, and is not habitual; a third day makes it so
    assert habitual_entities([people, machines], 1.0) == {}
    assert habitual_entities([people, (np.array([9.5]), [("u", 3)])], 1.0) == {"u": 9.5}


STRIPE = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
STRIPE_ADDRESSES = [f"54.187.174.{number}" for number in range(1, 13)]  # it sends from a dozen


def webhooks(address: str, first_day: int, days: int, per_day: int, hours: float = 24.0) -> list[dict[str, Any]]:
    """A payment provider's webhooks from ``address`` (keyed by it, as the importer keys cookieless
    clients): ``per_day`` POSTs spread over ``hours`` from the day's start."""
    rng = random.Random(f"{address}{first_day}{per_day}")
    return [
        event(
            START + timedelta(days=day, hours=rng.uniform(0, hours)),
            f"client:{address}",
            "api_call",
            properties={"method": "POST"},
            resource="/webhooks/stripe",
            status=200,
            user_agent=STRIPE,
            ip=address,
        )
        for day in range(first_day, first_day + days)
        for _ in range(per_day)
    ]


def test_a_machine_client_seen_every_day_of_training_is_judged_against_its_own_writes_and_agent() -> None:
    # GIVEN a week of people, an app's customers, and a payment provider's webhooks from its dozen
    # addresses, a few a day from each
    hooks = [call for address in STRIPE_ADDRESSES for call in webhooks(address, 0, 7, 3)]
    training = sorted(normal_traffic(users=200, days=7) + app_users(150, 7) + hooks, key=event_time)
    trained = train(training, agent_of=parse_agent)
    model = trained.entity_models["user"]
    stripe = f"client:{STRIPE_ADDRESSES[0]}"
    # THEN training records each of the webhooks' clients as routine, with its own writes and agent,
    # and no person
    assert {f"client:{address}" for address in STRIPE_ADDRESSES} <= set(model.routine)
    assert not any(key.startswith("user-") for key in model.routine)
    write = ENTITY_FEATURE_NAMES.index("write_mean")
    assert model.routine[stripe][write] > 0.5 > model.machines.usual_row()[write]
    assert trained.metadata["entities"]["user"]["routine_clients"] == len(model.routine)
    restored = EntityModel.from_json(json.loads(json.dumps(model.to_json())))
    assert restored.routine[stripe].tolist() == pytest.approx(model.routine[stripe].tolist(), abs=1e-4)
    # AND of an episode, a value from the machines' usual one toward the client's own is read as
    # usual, while one on the other side of the usual one, or far beyond its own, is kept
    judge = model.machines or model
    usual, own = judge.usual_row(), model.routine[stripe]
    gap = ENTITY_FEATURE_NAMES.index("page_gap_mean")
    assert own[gap] - usual[gap] > 0.5  # (its webhooks come minutes apart; the apps' calls seconds)
    rows = np.tile(usual, (3, 1))
    rows[0, [write, gap]] = (usual[[write, gap]] + own[[write, gap]]) / 2
    rows[1, gap] = usual[gap] - 0.2 * (own[gap] - usual[gap])  # a little quicker than usual
    rows[2, gap] = own[gap] + 3 * abs(own[gap] - usual[gap]) + 1.0
    kept = rows.copy()
    model.as_routine(rows, [stripe] * 3, judge)
    assert rows[0, [write, gap]].tolist() == usual[[write, gap]].tolist()
    assert rows[1:, gap].tolist() == kept[1:, gap].tolist()
    # WHEN a sale's day brings one address four times its webhooks within four hours, and a new
    # address of the same agent sends as many
    day = START + timedelta(days=7)
    sale = webhooks(STRIPE_ADDRESSES[0], 7, 1, 12, hours=4) + webhooks("192.0.2.77", 7, 1, 12, hours=4)
    _, alerts = replay(trained, training + sorted(sale, key=event_time), "user", agent_of=parse_agent)
    alerted = {alert.entity for alert in alerts if alert.last_event_at >= day.timestamp()}
    # THEN the routine client raises no alert for doing more of what it always does; the newcomer does
    assert alerted == {"client:192.0.2.77"}
    # AND without its routine, the same model alerts on it
    own = model.routine
    model.routine = {}
    _, alerts = replay(trained, training + sorted(sale, key=event_time), "user", agent_of=parse_agent)
    assert stripe in {alert.entity for alert in alerts if alert.last_event_at >= day.timestamp()}
    model.routine = own
    # AND when its address and agent fail logins, which it never did, it alerts
    stuffing = [
        event(
            day + timedelta(hours=12, seconds=20 * attempt),
            stripe,
            "login_failed",
            properties={"method": "POST"},
            resource="/login",
            status=401,
            user_agent=STRIPE,
            ip=STRIPE_ADDRESSES[0],
        )
        for attempt in range(20)
    ]
    _, alerts = replay(trained, training + sorted(sale + stuffing, key=event_time), "user", agent_of=parse_agent)
    assert any(alert.entity == stripe and alert.last_event_at >= day.timestamp() for alert in alerts)


def test_a_search_box_s_calls_as_its_visitor_types_count_with_the_page_they_were_typed_on() -> None:
    # GIVEN a visitor on the home page who, twenty seconds later, types a word into its search box
    # (a call a keystroke or two), then opens the results, as the importer reads the log
    lines = [
        f'203.0.113.9 - - [06/Nov/2026:10:{stamp} +0000] "GET {path} HTTP/1.1" 200 500 "https://shop.example/" "Fx" s-1'
        for stamp, path in (
            ("00:00", "/"),
            ("00:20", "/api/search/suggest?q=ce&_=1762423220000"),
            ("00:21", "/api/search/suggest?q=cel&_=1762423221000"),
            ("00:21", "/api/search/suggest?q=cela&_=1762423221400"),
            ("00:22", "/api/search/suggest?q=celad&_=1762423222000"),
            ("00:25", "/search?q=celadon"),
        )
    ]
    importer = LogImporter("custom", log_format='%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %{sid}C')
    events = [item.event for item in importer.import_lines(lines, "access.log")]
    # WHEN its episode is read as the scorer reads it
    episode = observed(events, None)
    # THEN the calls after the word's first are the home page's: three pages (the home page, the
    # search as typed, its results), not six in quick succession
    assert [typed_ahead(event) for event in events] == [False, False, True, True, True, False]
    assert (episode.events, episode.pages) == (6, 3)


def test_counts_beyond_32_bits_are_stored_at_their_largest() -> None:
    evidence = walked(["/", "/a", "/b"])
    evidence.events = evidence.pages = 2**40
    restored = Evidence.from_bytes(evidence.to_bytes())
    assert (restored.events, restored.pages, restored.gaps) == (2**32 - 1, 2**32 - 1, evidence.gaps)


def test_one_machine_client_alone_does_not_set_where_every_machine_client_alerts() -> None:
    # GIVEN people and one integration walking the catalogue every night for two weeks: at the user
    # stage, one machine client's fourteen days (a site's own cron, a monitor, among labelled people)
    training = sorted(normal_traffic(users=30, days=14) + nightly_syncs(14, START, "sync", hours=(2,)), key=event_time)
    trained = train(training, agent_of=parse_agent)
    machines = trained.metadata["entities"]["user"]["machine_clients"]
    assert (machines["fitted_on"], machines["calibrated_on"], machines["entity_days"]) == (
        "everyone's episodes",
        "everyone's days",
        14,
    )
    # WHEN a tool new to the site (curl) crawls 300 product pages a second apart the next morning, a
    # third of them missing
    day = START + timedelta(days=14, hours=9)
    crawl = [
        event(
            day + timedelta(seconds=number),
            "crawler-9",
            "page_view",
            resource=f"/products/{number}",
            status=404 if number % 3 == 0 else 200,
            user_agent="curl/8.5.0",
            ip="198.51.100.77",
            session_id="crawl-9",
        )
        for number in range(300)
    ]
    _, alerts = replay(trained, training + crawl, "user", agent_of=parse_agent)
    # THEN it alerts: the machine clients' threshold is set on everyone's days, not extrapolated from
    # that one client's days (which put it beyond the crawl's reach)
    assert "crawler-9" in {alert.entity for alert in alerts}
    # AND the integration, doing what it did every night in training, does not
    assert not any(alert.entity.startswith("integration") for alert in alerts)
