"""The scorer's entity alerts over real wire protocols (DynamoDB, SNS and SQS on moto's server): one
alert per episode, with its reasons, kept exactly once across batches and retries."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from model.client_alerts import client_of
from model.entities import AlertClient, EntityAlert, EpisodeSoFar, Evidence
from model.features import ResourceVocabulary, SiteNow, event_time, featurize_batch, stable_hash
from model.train import TrainedModel, train
from model.verdicts import BENIGN, JudgedAlert, learn_suppressions
from model.visits import settle_visits, visit_starts
from model.waves import (
    LOGINS,
    PAYMENT_WAVE_KIND,
    PAYMENTS,
    SIGNUPS,
    SURPRISE_FLOOR,
    VISITORS,
    WAVE_ENTITY,
    WAVE_KIND,
    AttemptWindow,
    WaveModel,
)
from scorer.batch import BatchOutcome, Dependencies, process_batch
from scorer.clients import build_dependencies
from scorer.endpoint import Score
from scorer.exceptions import MissingSettingError, TransientError
from scorer.records import decode_batch
from scorer.settings import ALERTS_TOPIC_ARN, ANOMALIES_TABLE
from scorer.stores import (
    ALERT_FOLDED,
    ALERT_PENDING,
    ALERT_SENT,
    ALERTS_INDEX,
    FOLDED_COUNT_ATTRIBUTE,
    FOLDED_INTO_ATTRIBUTE,
    SITE_PREFIX,
    DynamoAnomalyStore,
    SnsAlertPublisher,
    client_of_record,
    evidence_key,
)
from scorer.sweeper import SWEEP_AFTER_SECONDS, SweeperSettings, sweep
from tests.model_factories import (
    BROWSERS,
    START,
    event,
    normal_traffic,
    proxy_crawl,
    readers,
    scraper_session,
    sessions_with_page_calls,
)
from tests.scorer_factories import REGION, SHARD, ScorerResources, create_resources, lambda_event, plain
from tests.test_scorer_batch import alerts_of, anomalies_of
from tests.throttling_proxy import ThrottlingProxy
from vedette.events import encode_event, normalize_event, parse_timestamp

_names = itertools.count()


class TrainedEndpoint:
    """The trained detector in process, answering as the endpoint does."""

    content_type = "application/x-npy"

    def __init__(self, trained: TrainedModel) -> None:
        self.trained = trained

    def score(
        self, rows: np.ndarray[Any, Any], body: bytes | None = None, feature_config_id: str | None = None
    ) -> list[Score]:
        scores = self.trained.detector.score(rows)
        threshold = self.trained.threshold
        return [Score(float(value), bool(value > threshold), threshold, []) for value in scores]


class FailingOncePublisher:
    """SNS publishing that fails transiently on the first entity alert, then delegates."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def publish(self, anomaly: Any, slot: str, window_start: int) -> None:
        self.inner.publish(anomaly, slot, window_start)

    def publish_entity(self, alert: EntityAlert, slot: str) -> None:
        if not self.failed:
            self.failed = True
            raise TransientError("sns", "Throttling: injected")
        self.inner.publish_entity(alert, slot)


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(normal_traffic(users=120, days=10))


@pytest.fixture
def resources(aws_endpoint: str) -> ScorerResources:
    return create_resources(aws_endpoint, f"entities-{next(_names)}")


def dependencies(endpoint_url: str, resources: ScorerResources, trained: TrainedModel) -> tuple[Dependencies, Any]:
    settings = replace(resources.settings)
    deps = build_dependencies(settings, endpoint_url)
    deps.endpoint = TrainedEndpoint(trained)
    deps.vocabulary = trained.vocabulary
    deps.entity_models = trained.entity_models
    return deps, settings


def traffic() -> list[dict[str, Any]]:
    """A day of new people, and a scraper among them, in time order."""
    people = [
        {**item, "user_id": "new-" + item["user_id"], "session_id": "new-" + str(item["session_id"])}
        for item in normal_traffic(users=30, days=11, seed=42)
        if event_time(item) >= (START + timedelta(days=10)).timestamp()
    ]
    scraper = scraper_session(START + timedelta(days=10, hours=12), requests=90)
    return [normalize_event(item) for item in sorted(people + scraper, key=event_time)]


def batches(events: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    return [
        lambda_event([plain(encode_event(item), item["user_id"]) for item in events[start : start + size]])
        for start in range(0, len(events), size)
    ]


def run(event: dict[str, Any], deps: Dependencies, settings: Any) -> BatchOutcome:
    return process_batch(decode_batch(event), deps, settings)


def test_a_scraper_alerts_once_per_entity_kind_with_its_episode_and_reasons(aws_endpoint, resources, trained):
    # GIVEN the scorer with an entity stage, and traffic arriving in batches of 25 events
    deps, settings = dependencies(aws_endpoint, resources, trained)
    kinesis_batches = batches(traffic(), 25)
    # WHEN every batch is processed, and the one holding the scraper's crossing is delivered twice
    outcomes = [run(batch, deps, settings) for batch in kinesis_batches]
    assert all(not outcome.failed_sequence_numbers for outcome in outcomes)
    first_alerting = next(index for index, outcome in enumerate(outcomes) if outcome.alerts)
    replayed = run(kinesis_batches[first_alerting], deps, settings)
    # THEN the scraper raised exactly one alert as a user and one as a session, and no entity alerted twice
    messages = alerts_of(aws_endpoint, resources)
    alerted = [(message["entity"]["kind"], message["entity"]["id"]) for message in messages]
    assert len(alerted) == len(set(alerted))
    assert {("session", "scraper-1-session"), ("user", "scraper-1")} <= set(alerted)
    # (these toy people end every session at the longest length seen in training: one may stand out)
    assert len(alerted) <= 4
    messages = [message for message in messages if message["entity"]["id"].startswith("scraper-1")]
    assert replayed.alerts == 0
    assert replayed.replayed == replayed.events
    for message in messages:
        assert message["kind"] == "entity_alert"
        assert message["score"] > message["threshold"]
        assert 1 <= message["episode"]["pages"] < 90  # (its HTTP-library agent gives it away early)
        assert message["episode"]["first_event_at"] == "2026-11-12T12:00:00.000000Z"
        assert len(message["reasons"]) == 3
        # (and names the client of the request that raised it: what an analyst looks up or blocks)
        assert message["client"] == {"address": "203.0.113.7", "user_agent": "python-requests/2.32"}
    # AND the alert's record, which the console reads, names that client too
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    marker = dynamodb.query(
        TableName=settings.anomalies_table,
        KeyConditionExpression="user_id = :user AND begins_with(sk, :alert)",
        ExpressionAttributeValues={":user": {"S": "scraper-1"}, ":alert": {"S": "alert#"}},
    )["Items"][0]
    assert client_of_record(marker) == AlertClient("203.0.113.7", "python-requests/2.32")
    # AND event anomalies are still recorded, without alerts of their own
    assert sum(outcome.alerts for outcome in outcomes) == len(alerted)
    recorded = anomalies_of(aws_endpoint, resources)
    assert len(recorded) == sum(outcome.anomalies for outcome in outcomes)
    assert len(recorded) > len(alerted)
    # AND the evidence is stored beside the user's state, with the episode marked as alerted
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key("user", "scraper-1")}})
    evidence = Evidence.from_bytes(item["Item"]["state"]["B"])
    assert evidence.events == 90
    assert evidence.alerted


def test_an_alert_that_cannot_be_published_holds_back_its_user_and_is_published_by_the_retry(
    aws_endpoint, resources, trained
):
    # GIVEN SNS failing once, and the scraper's run in one batch
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.alerts = FailingOncePublisher(deps.alerts)
    batch = batches(scraper_session(START + timedelta(days=10, hours=12), requests=40), 40)[0]
    # WHEN the batch is processed, then retried from the checkpoint it reports
    outcome = run(batch, deps, settings)
    # THEN the scraper's records are handed back, nothing of them saved, and the retry alerts once per kind
    assert outcome.failed_sequence_numbers
    assert outcome.scored < 40
    retried = run(batch, deps, settings)
    assert retried.failed_sequence_numbers == []
    messages = alerts_of(aws_endpoint, resources)
    assert sorted(message["entity"]["kind"] for message in messages) == ["session", "user"]
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key("user", "scraper-1")}})
    assert Evidence.from_bytes(item["Item"]["state"]["B"]).events == 40


def cookieless_requests(
    requests: list[tuple[datetime, str]], ip: str = "203.0.113.7", first_number: int = 0
) -> list[dict[str, Any]]:
    """One request each, from a client that keeps no cookies: the site gives each a session of its
    own (numbered from ``first_number``), and the service names the visitor by address and agent
    (``requests``: when and which agent)."""
    events = [
        event(
            moment,
            f"visitor-{ip}-{agent}",
            "page_view",
            ip=ip,
            user_agent=agent,
            resource=f"/catalog/items/{number}?sort=id",
            status=200,
            session_id=f"cookieless-{number}",
        )
        for number, (moment, agent) in enumerate(requests, start=first_number)
    ]
    return [normalize_event(item) for item in sorted(events, key=event_time)]


def one_client_day() -> list[dict[str, Any]]:
    """Six requests of one client in an afternoon (sessions 0-5), one of the same address with another
    agent (6), one of the first client the next day (7), and one of another address that afternoon (8)."""
    afternoon = START + timedelta(days=10, hours=12)
    requests = [(afternoon + timedelta(minutes=number), "python-requests/2.32") for number in range(6)]
    requests += [
        (afternoon + timedelta(minutes=7), "curl/8.5.0"),
        (afternoon + timedelta(days=1), "python-requests/2.32"),
    ]
    elsewhere = cookieless_requests([(afternoon + timedelta(minutes=8), "curl/8.5.0")], "198.51.100.4", 8)
    return sorted(cookieless_requests(requests) + elsewhere, key=event_time)


class FailingFirstSessionSns:
    """An SNS client whose first Publish of a session alert is throttled (after the alert's record
    was written); every other Publish goes through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def publish(self, **request: Any) -> Any:
        if not self.failed and json.loads(request["Message"])["entity"]["kind"] == "session":
            self.failed = True
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "Publish")
        return self.inner.publish(**request)


def session_alerts(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(message["entity"]["id"] for message in messages if message["entity"]["kind"] == "session")


def until_taken(batch: dict[str, Any], deps: Dependencies, settings: Any) -> list[BatchOutcome]:
    """The batch processed, and retried from the checkpoint it reports until it is taken whole."""
    outcomes = [run(batch, deps, settings)]
    while outcomes[-1].failed_sequence_numbers:
        outcomes.append(run(batch, deps, settings))
    return outcomes


@pytest.mark.parametrize("sns_fails_once", [False, True])
def test_a_client_without_cookies_raises_one_session_alert_a_day(aws_endpoint, resources, trained, sns_fails_once):
    # GIVEN a client's requests, each a session of its own, over two days (SNS throttling the first
    # session alert, in one variant)
    deps, settings = dependencies(aws_endpoint, resources, trained)
    if sns_fails_once:
        publisher = deps.alerts
        assert isinstance(publisher, SnsAlertPublisher)
        publisher.client = FailingFirstSessionSns(publisher.client)
    kinesis_batches = batches(one_client_day(), 2)
    # WHEN every batch is processed until it is taken, and each is then delivered again
    outcomes = [outcome for batch in kinesis_batches for outcome in until_taken(batch, deps, settings)]
    replayed = [run(batch, deps, settings) for batch in kinesis_batches]
    # THEN each one-request session alerted on its own would have: 9 session alerts
    assert sum(outcome.alerts + outcome.client_folded_alerts for outcome in outcomes) >= 9
    # AND one was sent per client (address) and day: the first of the afternoon, the other address's,
    # the next day's
    messages = alerts_of(aws_endpoint, resources)
    assert session_alerts(messages) == ["cookieless-0", "cookieless-7", "cookieless-8"]
    assert (sum(outcome.failed_sequence_numbers != [] for outcome in outcomes) > 0) == sns_fails_once
    # AND the six others, the other agent's at the same address among them, were counted into the
    # first, each marker saying so; the retries and the replay sent nothing more, and nothing is left
    # for the sweeper
    assert sum(outcome.client_folded_alerts for outcome in outcomes) == 6
    assert sum(outcome.alerts for outcome in replayed) == sum(outcome.client_folded_alerts for outcome in replayed) == 0
    client = "client:" + str(client_of(one_client_day()[0]))
    folded = folded_markers(aws_endpoint, settings)
    assert sorted(folded) == [f"session:cookieless-{number}" for number in range(1, 7)]
    assert {into.split(" alert#")[0] for into in folded.values()} == {client}
    day_start = int((START + timedelta(days=10)).timestamp())
    assert client_marker(aws_endpoint, settings, client, day_start)[FOLDED_COUNT_ATTRIBUTE]["N"] == "6"
    assert {item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)} == {ALERT_SENT}
    # AND the counted sessions' episodes stay open: one that goes on would alert on its own
    assert not stored_evidence(aws_endpoint, settings, "session", "cookieless-2").alerted


def test_a_session_folded_on_its_first_request_alerts_on_its_own_when_it_goes_on(aws_endpoint, resources, trained):
    # GIVEN a client whose one-request session alerted, then a scraper from the same address and agent,
    # whose session crosses the threshold on its first request (and is folded into the client's)
    deps, settings = dependencies(aws_endpoint, resources, trained)
    first = cookieless_requests([(START + timedelta(days=10, hours=11), "python-requests/2.32")])
    scraper = [normalize_event(item) for item in scraper_session(START + timedelta(days=10, hours=12), requests=40)]
    # WHEN both are processed, the scraper ten requests a batch
    for batch in batches(first, 1) + batches(scraper, 10):
        until_taken(batch, deps, settings)
    # THEN the scraper's session, folded on its first request, alerted when it had gone on
    messages = alerts_of(aws_endpoint, resources)
    assert session_alerts(messages) == ["cookieless-0", "scraper-1-session"]
    (scraper_alert,) = [message for message in messages if message["entity"]["id"] == "scraper-1-session"]
    assert scraper_alert["episode"]["pages"] > 1


def test_a_fold_that_fails_halfway_is_finished_by_the_retry(aws_endpoint, resources, trained):
    # GIVEN the anomalies table refusing the first folds of a client's alerts (and the client's retries)
    requests = cookieless_requests(
        [(START + timedelta(days=10, hours=12, minutes=number), "python-requests/2.32") for number in range(4)]
    )
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.UpdateItem", lambda body: ":folded" in json.dumps(body), times=3)
        deps, settings = dependencies(proxy.endpoint, resources, trained)
        # WHEN the requests are processed in one batch, retried until it is taken
        outcomes = until_taken(batches(requests, 4)[0], deps, settings)
    # THEN the first attempt was handed back, and the retry folded what it had left: one alert sent
    assert len(outcomes) > 1
    assert session_alerts(alerts_of(aws_endpoint, resources)) == ["cookieless-0"]
    assert sorted(folded_markers(aws_endpoint, settings)) == [f"session:cookieless-{n}" for n in range(1, 4)]


def client_marker(endpoint_url: str, settings: Any, client: str, day_start: int) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    key = {"user_id": {"S": client}, "sk": {"S": f"alert#{day_start}"}}
    item: dict[str, Any] = dynamodb.get_item(TableName=settings.anomalies_table, Key=key)["Item"]
    return item


def folded_markers(endpoint_url: str, settings: Any) -> dict[str, str]:
    """The alert markers marked folded: their partition, and the client's marker they name."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    items = dynamodb.scan(
        TableName=settings.anomalies_table,
        FilterExpression="#status = :folded",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":folded": {"S": ALERT_FOLDED}},
    )["Items"]
    return {item["user_id"]["S"]: item[FOLDED_INTO_ATTRIBUTE]["S"] for item in items}


def test_a_clients_marker_lasts_its_day_and_one_more(aws_endpoint, resources, trained):
    # GIVEN the scorer WHEN a client's first one-request session alerts at noon
    deps, settings = dependencies(aws_endpoint, resources, trained)
    for batch in batches(one_client_day()[:1], 1):
        until_taken(batch, deps, settings)
    # THEN its client's marker expires no sooner than the end of the next day (DynamoDB's TTL)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    client = "client:" + str(client_of(one_client_day()[0]))
    (marker,) = dynamodb.query(
        TableName=settings.anomalies_table,
        KeyConditionExpression="user_id = :client",
        ExpressionAttributeValues={":client": {"S": client}},
    )["Items"]
    day_start = int(marker["sk"]["S"].removeprefix("alert#"))
    assert day_start == int((START + timedelta(days=10)).timestamp())
    assert int(marker["expires_at"]["N"]) >= day_start + 2 * 86_400
    assert marker["status"]["S"] == ALERT_SENT


def test_an_alert_recorded_by_a_failed_attempt_is_sent_not_folded_when_its_client_alerted_meanwhile(
    aws_endpoint, resources, trained
):
    # GIVEN a client's first session alert recorded but not sent (SNS throttled), its batch handed back
    deps, settings = dependencies(aws_endpoint, resources, trained)
    publisher = deps.alerts
    assert isinstance(publisher, SnsAlertPublisher)
    publisher.client = FailingFirstSessionSns(publisher.client)
    (batch,) = batches(one_client_day()[:1], 1)
    assert run(batch, deps, settings).failed_sequence_numbers
    assert ALERT_PENDING in {item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)}
    # AND meanwhile another shard sent the client's alert of the day
    client = "client:" + str(client_of(one_client_day()[0]))
    day_start = int((START + timedelta(days=10)).timestamp())
    deps.anomalies.claim_alert(client, day_start)
    deps.anomalies.alert_sent(client, day_start)
    # WHEN the batch is retried
    retried = run(batch, deps, settings)
    # THEN the recorded alert is sent now, not folded and left for the sweeper to send days later
    assert retried.failed_sequence_numbers == []
    assert session_alerts(alerts_of(aws_endpoint, resources)) == ["cookieless-0"]
    assert retried.client_folded_alerts == 0
    assert {item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)} == {ALERT_SENT}


def stored_evidence(endpoint_url: str, settings: Any, kind: str, entity: str) -> Evidence:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(kind, entity)}})
    return Evidence.from_bytes(item["Item"]["state"]["B"])


def writes_key_starting(prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: any(
        request["PutRequest"]["Item"]["key"]["S"].startswith(prefix)
        for requests in body.get("RequestItems", {}).values()
        for request in requests
    )


@pytest.mark.parametrize("failing", ["user#", "entity#"])
def test_a_lost_state_write_neither_doubles_nor_drops_an_episodes_events(aws_endpoint, resources, trained, failing):
    # GIVEN the state table refusing the first write (and the client's retries of it) of users'
    # states (or episodes' evidence)
    batch = batches(scraper_session(START + timedelta(days=10, hours=12), requests=10), 10)[0]
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.BatchWriteItem", writes_key_starting(failing), times=3)
        deps, settings = dependencies(proxy.endpoint, resources, trained)
        # WHEN the batch is processed, and retried from the checkpoint it reports
        first = run(batch, deps, settings)
        retried = run(batch, deps, settings)
    # THEN the first attempt hands the scraper's records back, the retry completes, and each of
    # the scraper's episodes holds its ten events exactly once
    assert first.failed_sequence_numbers
    assert retried.failed_sequence_numbers == []
    assert stored_evidence(aws_endpoint, settings, "user", "scraper-1").events == 10
    assert stored_evidence(aws_endpoint, settings, "session", "scraper-1-session").events == 10


def stored_site(endpoint_url: str, settings: Any) -> SiteNow:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": SITE_PREFIX + SHARD}})
    return SiteNow.from_bytes(item["Item"]["state"]["B"])


def live_blog_readers(count: int) -> list[dict[str, Any]]:
    """``count`` new readers of a page training never saw, 5 s apart, each from a network of its own."""
    readers = [
        event(
            START + timedelta(days=10, hours=12, seconds=5 * number),
            f"reader-{number}",
            "page_view",
            resource="/news/live/storm-hits-the-coast-7100001",
            status=200,
            ip=f"10.{number}.0.7",
            session_id=f"reader-{number}-session",
        )
        for number in range(count)
    ]
    return [normalize_event(item) for item in readers]


def test_the_shards_visits_are_stored_and_a_retry_counts_none_twice(aws_endpoint, resources, trained):
    # GIVEN 60 new readers of a page training never saw; the first attempt's batch holds the first
    # 40, and the state table refuses its first write of users' states (and the client's retries)
    readers = live_blog_readers(60)
    retry = batches(readers, 60)[0]
    first_batch = {**retry, "Records": retry["Records"][:40]}
    with ThrottlingProxy(aws_endpoint) as proxy:
        # (the users' states go in two writes of at most 25 items, each tried three times)
        proxy.throttle("DynamoDB_20120810.BatchWriteItem", writes_key_starting("user#"), times=6)
        deps, settings = dependencies(proxy.endpoint, resources, trained)
        # WHEN the batch is processed, and retried from the checkpoint it reports with 20 records more
        first = run(first_batch, deps, settings)
        after_first = stored_site(aws_endpoint, settings)
        retried = run(retry, deps, settings)
    # THEN the first attempt stored the shard's visits though it handed records back
    assert first.failed_sequence_numbers
    assert retried.failed_sequence_numbers == []
    once = featurize_batch(readers[:40], vocabulary=trained.vocabulary).site
    assert after_first.to_bytes() == once.to_bytes()
    # AND the retry counted the 20 new readers, and none of the first 40 again: the visits are
    # those one replay of the 60 readers counts, and the page is popular now
    stored = stored_site(aws_endpoint, settings)
    replayed = featurize_batch(readers, vocabulary=trained.vocabulary).site
    assert stored.to_bytes() == replayed.to_bytes()
    key = stable_hash(trained.vocabulary.template("/news/live/storm-hits-the-coast-7100001"))
    assert stored.popularity.read(key, event_time(readers[-1])).rarity is not None


def test_the_calls_pages_make_are_counted_with_their_page_in_stored_evidence(aws_endpoint, resources, trained):
    # GIVEN a model whose vocabulary learned from a shop's sessions that its pages fetch
    # /api/cart/count as they load, and a session of eight pages, each with that call soon after
    deps, settings = dependencies(aws_endpoint, resources, trained)
    shop = ResourceVocabulary.learn(sessions_with_page_calls(visitors=8))
    deps.vocabulary = replace(trained.vocabulary, subrequests=shop.subrequests)
    session = [
        event(START + timedelta(days=10, seconds=20 * page + offset), "shopper", "page_view", resource=resource)
        | {"session_id": "shopper-session"}
        for page in range(8)
        for offset, resource in ((0.0, f"/catalog/items/{page}"), (0.3, "/api/cart/count"))
    ]
    # WHEN the scorer takes them
    outcome = run(batches([normalize_event(item) for item in session], 16)[0], deps, settings)
    # THEN the session's episode holds sixteen requests but eight pages, twenty seconds apart
    assert outcome.failed_sequence_numbers == []
    evidence = stored_evidence(aws_endpoint, settings, "session", "shopper-session")
    assert (evidence.events, evidence.pages, evidence.gaps) == (16, 8, 7)
    assert evidence.gap_sum == pytest.approx(7 * np.log1p(20.0))


def test_users_sharing_a_session_are_held_back_together_when_its_alert_fails(aws_endpoint, resources, trained):
    # GIVEN a scraper, and one event of another user under the scraper's session id, SNS failing once
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.alerts = FailingOncePublisher(deps.alerts)
    scraper = scraper_session(START + timedelta(days=10, hours=12), requests=40)
    # (a person's browser: a bare "Mozilla/5.0" names no browser, one training never saw, and alerts alone)
    stray = normalize_event({**scraper[5], "event_id": None, "user_id": "human-b", "user_agent": BROWSERS[1]})
    events = sorted([normalize_event(item) for item in scraper] + [stray], key=event_time)
    batch = batches(events, 41)[0]
    # WHEN the batch is processed, then retried
    first = run(batch, deps, settings)
    retried = run(batch, deps, settings)
    # THEN both users' events were handed back, and the session's episode holds all 41 events once
    assert first.failed_sequence_numbers
    assert retried.failed_sequence_numbers == []
    assert stored_evidence(aws_endpoint, settings, "session", "scraper-1-session").events == 41
    # AND the session and its scraper alerted once each
    alerted = sorted(
        (message["entity"]["kind"], message["entity"]["id"]) for message in alerts_of(aws_endpoint, resources)
    )
    assert alerted == [("session", "scraper-1-session"), ("user", "scraper-1")]


def test_an_alert_minimum_severity_raises_the_bar_instead_of_swallowing_the_episode(aws_endpoint, resources, trained):
    # GIVEN alerts only at 1.5 times the threshold
    deps, settings = dependencies(aws_endpoint, resources, trained)
    settings = replace(settings, alert_min_severity=1.5)
    # WHEN a scraper's run is processed in small batches
    for batch in batches(scraper_session(START + timedelta(days=10, hours=12), requests=90), 10):
        run(batch, deps, settings)
    # THEN it still alerts, at or above the bar
    messages = alerts_of(aws_endpoint, resources)
    assert messages
    assert all(message["severity"] >= 1.5 for message in messages)


def recorded_alerts(endpoint_url: str, settings: Any) -> list[dict[str, Any]]:
    """The alert records in the anomalies table's index, newest first, as the console reads them."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    items: list[dict[str, Any]] = dynamodb.query(
        TableName=settings.anomalies_table,
        IndexName=ALERTS_INDEX,
        KeyConditionExpression="alert_feed = :feed",
        ExpressionAttributeValues={":feed": {"S": "entity"}},
        ScanIndexForward=False,
    )["Items"]
    return items


def test_every_alert_sent_is_recorded_whole_on_its_marker(aws_endpoint, resources, trained):
    # GIVEN the scorer with an entity stage WHEN the day with the scraper is processed
    deps, settings = dependencies(aws_endpoint, resources, trained)
    for batch in batches(traffic(), 25):
        run(batch, deps, settings)
    # THEN each alert sent has a record under its marker's key, with what the message said, kept
    messages = alerts_of(aws_endpoint, resources)
    items = recorded_alerts(aws_endpoint, settings)
    assert len(items) == len(messages) >= 2
    by_entity = {(item["kind"]["S"], item["entity"]["S"]): item for item in items}
    for message in messages:
        item = by_entity[message["entity"]["kind"], message["entity"]["id"]]
        assert [reason["S"] for reason in item["reasons"]["L"]] == message["reasons"]
        assert float(item["severity"]["N"]) == pytest.approx(message["severity"], abs=1e-3)
        assert item["first_event_at"]["S"] == message["episode"]["first_event_at"]
        assert item["last_event_at"]["S"] == message["episode"]["last_event_at"]
        assert item["sk"]["S"].startswith("alert#")
        assert "expires_at" not in item
    assert [item["alert_at"]["S"] for item in items] == sorted((item["alert_at"]["S"] for item in items), reverse=True)


class FailingFirstReport:
    """The anomalies table, but the first report of how far an episode went is throttled."""

    def __init__(self, inner: DynamoAnomalyStore) -> None:
        self.inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def episode_went_on(self, so_far: EpisodeSoFar) -> None:
        if not self.failed:
            self.failed = True
            raise TransientError("dynamodb", "ProvisionedThroughputExceededException: injected")
        self.inner.episode_went_on(so_far)


@pytest.mark.parametrize("first_report_fails", [False, True])
def test_an_alerted_episode_that_goes_on_is_recorded_as_it_doubles(
    aws_endpoint, resources, trained, first_report_fails
):
    # GIVEN a scraper's 90 pages, two seconds apart, in batches of ten (the first report of how far it
    # went throttled, in one run)
    deps, settings = dependencies(aws_endpoint, resources, trained)
    if first_report_fails:
        deps.anomalies = FailingFirstReport(deps.anomalies)
    requests = scraper_session(START + timedelta(days=10, hours=12), requests=90)
    # WHEN the scorer takes each batch (retried from its checkpoint until taken whole)
    outcomes = [outcome for batch in batches(requests, 10) for outcome in until_taken(batch, deps, settings)]
    # THEN the scraper alerted once per entity kind, in its first batch
    assert sorted(message["entity"]["kind"] for message in alerts_of(aws_endpoint, resources)) == ["session", "user"]
    # AND each record says how far its episode went: reported as it passed 16, 32 and 64 pages, at the
    # end of the batch that did (the 70th page), however the reports were applied
    for item in recorded_alerts(aws_endpoint, settings):
        assert int(item["pages"]["N"]) <= 10
        assert (item["pages_so_far"]["N"], item["went_on_until"]["S"]) == ("70", requests[69]["occurred_at"])
    # AND a report that failed held back the scraper's records, which the retry reported
    assert len(outcomes) == 9 + first_report_fails
    assert [bool(outcome.failed_sequence_numbers) for outcome in outcomes].count(True) == first_report_fails


class FailingOnceSns:
    """An SNS client whose first Publish is throttled."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def publish(self, **request: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "Publish")
        return self.inner.publish(**request)


def test_an_alert_recorded_but_not_sent_stays_pending_until_the_retry_sends_it(aws_endpoint, resources, trained):
    # GIVEN SNS throttling the first publish, after the record was written
    deps, settings = dependencies(aws_endpoint, resources, trained)
    publisher = deps.alerts
    assert isinstance(publisher, SnsAlertPublisher)
    publisher.client = FailingOnceSns(publisher.client)
    batch = batches(scraper_session(START + timedelta(days=10, hours=12), requests=40), 40)[0]
    # WHEN the batch fails on it
    outcome = run(batch, deps, settings)
    # THEN the record of the alert not sent stays, marked pending
    assert outcome.failed_sequence_numbers
    sent = alerts_of(aws_endpoint, resources)
    statuses = sorted(item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings))
    assert statuses == sorted([ALERT_PENDING] + [ALERT_SENT] * len(sent))
    # AND the retry sends it and marks every record sent
    run(batch, deps, settings)
    sent += alerts_of(aws_endpoint, resources)
    recorded = recorded_alerts(aws_endpoint, settings)
    assert {item["status"]["S"] for item in recorded} == {ALERT_SENT}
    assert sorted(item["kind"]["S"] for item in recorded) == sorted(message["entity"]["kind"] for message in sent)
    assert sorted(item["kind"]["S"] for item in recorded) == ["session", "user"]


def stuffing_wave(wave_start: datetime) -> list[dict[str, Any]]:
    """240 accounts tried once each from 240 addresses, a second apart; two get in."""
    return [
        normalize_event(
            event(
                wave_start + timedelta(seconds=number),
                f"victim-{number}",
                "login_succeeded" if number in (5, 6) else "login_failed",
                resource="/login",
                status=200 if number in (5, 6) else 401,
                ip=f"100.64.{number // 200}.{number % 200 + 1}",
                session_id=f"attempt-{number}",
            )
        )
        for number in range(240)
    ]


class RefusingOneEntity:
    """An SNS client that throttles the alerts of one entity and passes every other message on."""

    def __init__(self, inner: Any, entity: str) -> None:
        self.inner, self.entity = inner, entity

    def publish(self, **request: Any) -> Any:
        if json.loads(request["Message"])["entity"]["id"] == self.entity:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "Publish")
        return self.inner.publish(**request)


def test_an_alert_held_back_in_the_batch_that_raised_a_wave_is_sent_by_its_retry_not_folded(
    aws_endpoint, resources, trained
):
    # GIVEN the wave's traffic, and the first victim alerted in the batch whose logins raised the wave
    # (found by a first run on tables of its own, up to that batch)
    ordered, size = sorted(traffic() + stuffing_wave(START + timedelta(days=10, hours=15)), key=event_time), 50
    kinesis_batches = batches(ordered, size)
    dry = create_resources(aws_endpoint, f"entities-{next(_names)}")
    deps, settings = dependencies(aws_endpoint, dry, trained)
    deps.wave_models = {**deps.wave_models, LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)}
    messages: list[dict[str, Any]] = []
    for batch in kinesis_batches:
        run(batch, deps, settings)
        messages += alerts_of(aws_endpoint, dry)
        if any(message["entity"]["kind"] == WAVE_KIND for message in messages):
            break
    crossed = next(parse_timestamp(m["episode"]["last_event_at"]) for m in messages if m["entity"]["kind"] == WAVE_KIND)
    wave_batch = next(index for index, item in enumerate(ordered) if event_time(item) >= crossed.timestamp()) // size
    batch_times = [event_time(item) for item in ordered[wave_batch * size : (wave_batch + 1) * size]]
    victim = min(
        (m for m in messages if m["entity"]["kind"] == "user" and m["entity"]["id"].startswith("victim-")
         and min(batch_times) <= parse_timestamp(m["episode"]["last_event_at"]).timestamp() <= max(batch_times)),
        key=lambda m: m["episode"]["last_event_at"],
    )["entity"]["id"]  # fmt: skip
    # WHEN the same traffic runs again up to that batch, the victim's alert refused in its first attempt
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.wave_models = {**deps.wave_models, LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)}
    publisher = deps.alerts
    assert isinstance(publisher, SnsAlertPublisher)
    for index, batch in enumerate(kinesis_batches[: wave_batch + 1]):
        if index != wave_batch:
            assert not run(batch, deps, settings).failed_sequence_numbers
            continue
        real_sns, publisher.client = publisher.client, RefusingOneEntity(publisher.client, victim)
        assert run(batch, deps, settings).failed_sequence_numbers  # the victim's records, held back
        publisher.client = real_sns
        # (the first attempt stored the wave: the retry finds this batch's logins in the window)
        assert [m for m in alerts_of(aws_endpoint, resources) if m["entity"]["kind"] == WAVE_KIND]
        retried = run(batch, deps, settings)
        assert not retried.failed_sequence_numbers
    # THEN the retry sent the alert its first attempt had claimed: nothing is left pending
    statuses = {item["entity"]["S"]: item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)}
    assert statuses[victim] == ALERT_SENT
    assert ALERT_PENDING not in statuses.values()


class RefusingOnce:
    """An SNS client that throttles the first alert of one entity and passes every other message on."""

    def __init__(self, inner: Any, entity: str) -> None:
        self.inner, self.entity, self.refused = inner, entity, 0

    def publish(self, **request: Any) -> Any:
        if not self.refused and json.loads(request["Message"])["entity"]["id"] == self.entity:
            self.refused += 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "Publish")
        return self.inner.publish(**request)


@pytest.mark.parametrize("refused", [False, True], ids=["clean", "wave-alert-refused-once"])
def test_card_testing_across_clients_alerts_once_as_a_wave_of_declined_payments(
    aws_endpoint, trained, refused: bool
) -> None:
    # GIVEN the scorer with a declined-payment wave model (donations declined 3 % of the time) and
    # a failed-login one, and 240 cards tried once each from 240 addresses over four minutes, two
    # going through before the wave's alert and one after, among a day of people's traffic; and the
    # wave's alert refused once, or not
    resources = create_resources(aws_endpoint, f"entities-{next(_names)}")
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.wave_models = {**deps.wave_models, PAYMENTS.kind: WaveModel(usual_share=0.03, threshold=SURPRISE_FLOOR)}
    deps.wave_models = {**deps.wave_models, LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)}
    if refused:
        publisher = deps.alerts
        assert isinstance(publisher, SnsAlertPublisher)
        publisher.client = RefusingOnce(publisher.client, WAVE_ENTITY)
    start = START + timedelta(days=10, hours=15)
    testers = [
        normalize_event(
            event(
                start + timedelta(seconds=number),
                f"tester-{number}",
                "purchase",
                resource="/api/donations/",
                status=201 if number in (5, 6, 200) else 402,
                ip=f"100.64.{number // 200}.{number % 200 + 1}",
                session_id=f"card-{number}",
            )
        )
        for number in range(240)
    ]
    ordered = sorted(traffic() + testers, key=event_time)
    # WHEN every batch is processed, and delivered again while it hands records back
    retried = 0
    for batch in batches(ordered, 50):
        while run(batch, deps, settings).failed_sequence_numbers:
            retried += 1
            assert retried < 3
    assert retried == (1 if refused else 0)
    # THEN the service raised one alert of declined payments, naming the cards that went through,
    # and no failed-login wave
    messages = alerts_of(aws_endpoint, resources)
    waves = [message for message in messages if message["entity"]["kind"] in (PAYMENT_WAVE_KIND, WAVE_KIND)]
    follow_ups = [message for message in waves if ", to check (" in message["reasons"][0]]
    waves = [message for message in waves if message not in follow_ups]
    assert [message["entity"] for message in waves] == [{"kind": PAYMENT_WAVE_KIND, "id": WAVE_ENTITY}]
    # (and, when it was over, one follow-up naming the card that went through while it lasted: not
    # the people who paid meanwhile from their own devices)
    assert [message["entity"]["kind"] for message in follow_ups] == [PAYMENT_WAVE_KIND]
    assert follow_ups[0]["reasons"][0].startswith("payments that went through since")
    assert follow_ups[0]["reasons"][0].endswith(", to check (1): tester-200")
    assert "is over" in follow_ups[0]["reasons"][1]
    assert waves[0]["reasons"][0].split()[1:3] == ["declined", "payments"]
    assert "tester-5" in waves[0]["reasons"][1]
    assert "tester-6" in waves[0]["reasons"][1]
    # AND the shard's payment window is stored apart from its login window: one wave seen
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(PAYMENT_WAVE_KIND, SHARD)}})
    assert AttemptWindow.from_bytes(item["Item"]["state"]["B"]).waves == 1
    logins = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(WAVE_KIND, SHARD)}})
    assert AttemptWindow.from_bytes(logins["Item"]["state"]["B"]).waves == 0


def test_account_farming_alerts_once_as_a_wave_of_sign_ups(aws_endpoint, trained) -> None:
    # GIVEN the scorer with a sign-up wave model (5 % of the account traffic signs up) and a
    # failed-login one, and 80 accounts registered from 80 addresses over 20 minutes, among a day
    # of people's traffic
    resources = create_resources(aws_endpoint, f"entities-{next(_names)}")
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.wave_models = {
        **deps.wave_models,
        SIGNUPS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR),
        LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR),
    }
    start = START + timedelta(days=10, hours=15)
    farm = [
        normalize_event(
            event(
                start + timedelta(seconds=15 * number),
                f"farm-{number}",
                "signup",
                resource="/api/auth/signup",
                status=201,
                ip=f"100.64.{number // 200}.{number % 200 + 1}",
                session_id=f"farm-{number}",
            )
        )
        for number in range(80)
    ]
    # WHEN every batch is processed
    for batch in batches(sorted(traffic() + farm, key=event_time), 50):
        assert not run(batch, deps, settings).failed_sequence_numbers
    # THEN the service raised one alert of sign-ups, with no follow-up, and no failed-login wave
    messages = alerts_of(aws_endpoint, resources)
    waves = [message for message in messages if message["entity"]["kind"] in (SIGNUPS.kind, WAVE_KIND)]
    assert [message["entity"] for message in waves] == [{"kind": SIGNUPS.kind, "id": WAVE_ENTITY}]
    assert waves[0]["reasons"][0].split()[1:3] == ["sign-ups", "of"]
    # AND the shard's sign-up window is stored apart: one wave seen
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(SIGNUPS.kind, SHARD)}})
    assert AttemptWindow.from_bytes(item["Item"]["state"]["B"]).waves == 1


def test_a_crawl_through_residential_proxies_alerts_once_as_a_wave_of_visits_and_redelivery_counts_none_twice(
    aws_endpoint, trained
) -> None:
    # GIVEN the scorer with a visitor wave model (a tenth of visits fetch no page asset) and three
    # hours of readers, among whom 300 proxies read an article or two each without assets
    resources = create_resources(aws_endpoint, f"entities-{next(_names)}")
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.wave_models = {VISITORS.kind: WaveModel(usual_share=0.1, threshold=SURPRISE_FLOOR)}
    start = START + timedelta(days=10, hours=9)
    crawl = proxy_crawl(start + timedelta(minutes=60), visits=300, every_seconds=12.0)
    ordered = [
        normalize_event(item) for item in sorted(readers(start, minutes=180, per_minute=2) + crawl, key=event_time)
    ]
    # WHEN every batch is processed, and each is delivered again
    for batch in batches(ordered, 100):
        assert not run(batch, deps, settings).failed_sequence_numbers
        assert not run(batch, deps, settings).failed_sequence_numbers
    # THEN the service raised one alert of visits like a crawler's, during the crawl
    waves = [message for message in alerts_of(aws_endpoint, resources) if message["entity"]["kind"] == VISITORS.kind]
    assert [message["entity"] for message in waves] == [{"kind": VISITORS.kind, "id": WAVE_ENTITY}]
    assert " visits like a crawler's (no page asset, no link followed) of " in waves[0]["reasons"][0]
    alerted_at = parse_timestamp(waves[0]["episode"]["last_event_at"])
    assert event_time(crawl[0]) < alerted_at.timestamp() < event_time(crawl[-1])
    # AND the shard's visitor window counted each visit once, as settling the batches once does
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(VISITORS.kind, SHARD)}})
    window = AttemptWindow.from_bytes(item["Item"]["state"]["B"])
    expected = AttemptWindow()
    pending: dict[int, Any] = {}
    rows = featurize_batch(ordered).rows
    starts, times = visit_starts(rows), [event_time(item) for item in ordered]
    for first in range(0, len(ordered), 100):
        chunk = slice(first, first + 100)
        for visit in settle_visits(pending, ordered[chunk], times[chunk], starts[chunk]):
            expected.add(visit.started, visit.without_assets, str(visit.key), named=False)
    assert window.waves == 1
    assert window.buckets == expected.buckets
    assert window.pending == pending == {}
    # AND a visit begun in the last batch waits in the stored window for a later one to settle it
    newcomer = normalize_event(event(start + timedelta(hours=4), "session:newcomer", "page_view", resource="/news/1"))
    assert not run(batches([newcomer], 1)[0], deps, settings).failed_sequence_numbers
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(VISITORS.kind, SHARD)}})
    assert AttemptWindow.from_bytes(item["Item"]["state"]["B"]).pending.keys() == {stable_hash("session:newcomer")}


class RefusingOneWrite:
    """The state store, but its write of ``key`` is refused once, in the first batch that writes it
    after ``armed`` is set; everything else is passed on."""

    def __init__(self, inner: Any, key: str) -> None:
        self.inner, self.key = inner, key
        self.armed = self.refused = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def save(self, items: Any, expires_at: int) -> set[str]:
        if self.armed and not self.refused and self.key in items:
            self.refused = True
            kept = {key: item for key, item in items.items() if key != self.key}
            return {self.key} | (self.inner.save(kept, expires_at) if kept else set())
        return set(self.inner.save(items, expires_at))


def wave_and_donations() -> list[dict[str, Any]]:
    """The day's traffic, the stuffing wave, and a donation a minute through it (each batch of the
    wave holds a payment, so each writes the shard's payment window after its login window)."""
    wave_start = START + timedelta(days=10, hours=15)
    donations = [
        normalize_event(
            event(wave_start + timedelta(seconds=30 + 60 * minute), f"donor-{minute}", "purchase",
                  resource="/donate", status=201, ip=f"192.0.2.{minute + 1}", session_id=f"donation-{minute}")
        )
        for minute in range(5)
    ]  # fmt: skip
    return sorted(traffic() + stuffing_wave(wave_start) + donations, key=event_time)


def test_a_retry_after_the_login_window_was_saved_folds_the_wave_s_alerts_as_its_first_attempt_did(
    aws_endpoint, trained
):
    # GIVEN the stuffing wave and donations through it, run clean, then again with the payment
    # window's write refused once in a batch that folded alerts into the wave and holds a donation
    # (its login window saved before the refusal, so the retry finds the batch's logins in it)
    ordered, size = wave_and_donations(), 25
    kinesis_batches = batches(ordered, size)
    sent: dict[str, list[tuple[str, str]]] = {}
    target = None
    for name in ("clean", "refused"):
        resources = create_resources(aws_endpoint, f"entities-{next(_names)}")
        deps, settings = dependencies(aws_endpoint, resources, trained)
        deps.wave_models = {**deps.wave_models, LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)}
        deps.wave_models = {**deps.wave_models, PAYMENTS.kind: WaveModel(usual_share=0.03, threshold=SURPRISE_FLOOR)}
        states = RefusingOneWrite(deps.states, evidence_key(PAYMENT_WAVE_KIND, SHARD))
        deps.states = states
        deliveries = 0
        for index, batch in enumerate(kinesis_batches):
            states.armed = index == target
            while (outcome := run(batch, deps, settings)).failed_sequence_numbers:
                deliveries += 1
                assert deliveries == 1
            donations = any(item["event_type"] == "purchase" for item in ordered[index * size : (index + 1) * size])
            if target is None and outcome.folded_alerts and donations:
                target = index
        sent[name] = sorted(
            (message["entity"]["kind"], message["entity"]["id"]) for message in alerts_of(aws_endpoint, resources)
        )
        assert target is not None
        assert states.refused == (name == "refused")
    # THEN the alerts sent are the clean run's: the retry folded what the first attempt folded
    # (before, it folded nothing and sent every tried account's alert of that batch)
    assert sent["refused"] == sent["clean"]


def test_a_failed_login_wave_across_accounts_alerts_once_for_the_service(aws_endpoint, resources, trained):
    # GIVEN the scorer with a failed-login wave model, and 240 accounts tried once each from 240
    # addresses over four minutes, two getting in, among a day of new people's traffic (new ids, each
    # with one failed login: the entity stages alert on every one of them)
    deps, settings = dependencies(aws_endpoint, resources, trained)
    deps.wave_models = {**deps.wave_models, LOGINS.kind: WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)}
    wave_start = START + timedelta(days=10, hours=15)
    attempts = stuffing_wave(wave_start)
    # one of the accounts tried during the wave, which the stuffing gets into 25 minutes later
    got_in = event(wave_start + timedelta(seconds=1500), "victim-200", "login_succeeded", resource="/login",
                   status=200, ip="100.64.1.1", session_id="attempt-200")  # fmt: skip
    attempts.append(normalize_event(got_in))
    # and a customer who browsed an hour before, and logs in during the wave from the same browser and address
    regular = {"ip": "198.51.100.77", "user_agent": BROWSERS[0], "session_id": "regular-session"}
    browsed = event(wave_start - timedelta(hours=1), "regular", "page_view", resource="/account", status=200, **regular)
    logged_in = event(wave_start + timedelta(seconds=90), "regular", "login_succeeded", resource="/login",
                      status=200, **regular)  # fmt: skip
    ordered, size = (
        sorted(traffic() + attempts + [normalize_event(browsed), normalize_event(logged_in)], key=event_time),
        25,
    )
    kinesis_batches = batches(ordered, size)
    tried, entered = (ordered.index(attempts[index]) // size for index in (200, -1))
    assert tried < entered  # in a later batch than the failed attempt
    # WHEN every batch is processed, and the one that raised the wave's alert is delivered again
    outcomes = [run(batch, deps, settings) for batch in kinesis_batches]
    assert all(not outcome.failed_sequence_numbers for outcome in outcomes)
    messages = alerts_of(aws_endpoint, resources)
    waves = [message for message in messages if message["entity"]["kind"] == WAVE_KIND]
    follow_ups = [message for message in waves if ", to check (" in message["reasons"][0]]
    waves = [message for message in waves if message not in follow_ups]
    # (the batch holding the event at which the wave crossed its threshold; the scraper's alerts come earlier)
    crossed = parse_timestamp(waves[0]["episode"]["last_event_at"]).timestamp()
    alerting = next(index for index, item in enumerate(ordered) if event_time(item) >= crossed) // size
    assert outcomes[alerting].alerts > 0
    run(kinesis_batches[alerting], deps, settings)
    # THEN the service raised one alert, naming the failures and the accounts that got in
    assert [message["entity"] for message in waves] == [{"kind": WAVE_KIND, "id": WAVE_ENTITY}]
    assert waves[0]["reasons"][0].split()[1:3] == ["failed", "logins"]
    assert "victim-5" in waves[0]["reasons"][1]
    assert "victim-6" in waves[0]["reasons"][1]
    assert not [message for message in alerts_of(aws_endpoint, resources) if message["entity"]["kind"] == WAVE_KIND]
    # AND, when it was over, a follow-up named the logins that went through while it lasted
    # (the shard's own: it names what this shard saw, at its own times)
    assert [message["entity"] for message in follow_ups] == [{"kind": WAVE_KIND, "id": f"{WAVE_ENTITY} ({SHARD})"}]
    assert follow_ups[0]["reasons"][0].startswith("successful logins since")
    assert "is over" in follow_ups[0]["reasons"][1]
    # AND none of them names the customer who logged in from their own browser and address
    assert not [reason for message in waves + follow_ups for reason in message["reasons"] if "regular" in reason]
    # AND the shard's login window is stored: one wave seen, over since the people's logins resumed
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(WAVE_KIND, SHARD)}})
    window = AttemptWindow.from_bytes(item["Item"]["state"]["B"])
    assert window.waves == 1
    assert not window.in_wave
    # AND from the batch after the one that raised the wave's alert, the accounts it tried alert as
    # part of it, not one by one: their alerts are counted, and every victim alert sent is from before
    assert all(outcome.folded_alerts == 0 for outcome in outcomes[: alerting + 1])
    folded = sum(outcome.folded_alerts for outcome in outcomes)
    wave_known_after = event_time(ordered[(alerting + 1) * size - 1])
    sent = [message for message in messages if message["entity"]["id"].startswith(("victim-", "attempt-"))]
    late = [message for message in sent if message["entity"]["id"] in ("victim-200", "attempt-200")]
    sent = [message for message in sent if message not in late]
    assert folded > len(sent) > 0
    assert all(
        parse_timestamp(message["episode"]["first_event_at"]).timestamp() <= wave_known_after for message in sent
    )
    # AND a folded episode stays open: the account the stuffing got into alerts on its own, as a user
    # and as a session, its episode running from the failed attempt to the login
    assert sorted(message["entity"]["kind"] for message in late) == ["session", "user"]
    assert {parse_timestamp(message["episode"]["last_event_at"]) for message in late} == {
        parse_timestamp(got_in["occurred_at"])
    }


def test_an_alert_repeating_a_pattern_judged_benign_is_counted_not_sent(aws_endpoint, resources, trained):
    # GIVEN the scraper's user alert as the scorer sends it
    deps, settings = dependencies(aws_endpoint, resources, trained)
    for batch in batches(traffic(), 25):
        run(batch, deps, settings)
    (sent,) = [message for message in alerts_of(aws_endpoint, resources) if message["entity"]["id"] == "scraper-1"]
    # WHEN an analyst judged that pattern benign, and the same traffic reaches a scorer carrying it
    judged = JudgedAlert("user", "scraper-1", BENIGN, tuple(sent["reasons"]), sent["episode"]["last_event_at"])
    fresh = create_resources(aws_endpoint, f"entities-{next(_names)}")
    deps, settings = dependencies(aws_endpoint, fresh, trained)
    deps.suppressions = learn_suppressions([judged])[0]
    outcomes = [run(batch, deps, settings) for batch in batches(traffic(), 25)]
    # THEN the user alert is counted as suppressed and not sent; the session's alert still goes out
    alerted = [(message["entity"]["kind"], message["entity"]["id"]) for message in alerts_of(aws_endpoint, fresh)]
    assert ("user", "scraper-1") not in alerted
    assert ("session", "scraper-1-session") in alerted
    assert sum(outcome.suppressed_alerts for outcome in outcomes) == 1


class RefusingSns:
    """An SNS client that throttles every Publish: a batch whose retries all end before SNS recovers."""

    def publish(self, **request: Any) -> Any:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "injected"}}, "Publish")


def test_the_sweeper_sends_once_each_alert_an_abandoned_batch_left_pending(aws_endpoint, resources, trained):
    # GIVEN a batch whose alerts were recorded but never sent: every Publish failed, and the mapping
    # gave up on the batch (its records went to the on-failure queue, so no retry comes)
    deps, settings = dependencies(aws_endpoint, resources, trained)
    publisher = deps.alerts
    assert isinstance(publisher, SnsAlertPublisher)
    real_sns, publisher.client = publisher.client, RefusingSns()
    batch = batches(scraper_session(START + timedelta(days=10, hours=12), requests=40), 40)[0]
    assert run(batch, deps, settings).failed_sequence_numbers
    assert alerts_of(aws_endpoint, resources) == []
    (pending,) = {item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)}
    assert pending == ALERT_PENDING
    anomalies = DynamoAnomalyStore(
        boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION), settings.anomalies_table, ttl_seconds=0
    )
    sweeper_publisher = SnsAlertPublisher(real_sns, settings.alerts_topic_arn)
    now, wait = datetime.now(UTC), timedelta(hours=1)
    # WHEN the sweeper runs before the wait is over THEN it leaves them: a retry may still come
    assert sweep(anomalies, sweeper_publisher, now, wait).sent == 0
    assert alerts_of(aws_endpoint, resources) == []
    # WHEN it runs after the wait THEN every pending alert is sent, as the scorer would have sent it
    outcome = sweep(anomalies, sweeper_publisher, now + wait + timedelta(seconds=1), wait)
    messages = alerts_of(aws_endpoint, resources)
    records = recorded_alerts(aws_endpoint, settings)
    assert outcome.sent == len(messages) == len(records) >= 1
    assert sorted((m["entity"]["kind"], m["entity"]["id"], m["episode"]["first_event_at"]) for m in messages) == sorted(
        (r["kind"]["S"], r["entity"]["S"], r["first_event_at"]["S"]) for r in records
    )
    assert all(m["reasons"] and m["kind"] == "entity_alert" for m in messages)
    # AND each is marked sent and leaves the pending index, so the next sweep sends nothing more
    assert {item["status"]["S"] for item in recorded_alerts(aws_endpoint, settings)} == {ALERT_SENT}
    assert list(anomalies.pending_alerts(now + timedelta(days=30))) == []
    assert sweep(anomalies, sweeper_publisher, now + 2 * wait, wait).sent == 0
    assert alerts_of(aws_endpoint, resources) == []


def test_an_alert_the_sweeper_cannot_send_stays_pending_for_the_next_sweep(aws_endpoint, resources, trained):
    # GIVEN an alert left pending by an abandoned batch
    deps, settings = dependencies(aws_endpoint, resources, trained)
    publisher = deps.alerts
    assert isinstance(publisher, SnsAlertPublisher)
    real_sns, publisher.client = publisher.client, RefusingSns()
    run(batches(scraper_session(START + timedelta(days=10, hours=12), requests=40), 40)[0], deps, settings)
    anomalies = DynamoAnomalyStore(
        boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION), settings.anomalies_table, ttl_seconds=0
    )
    later, wait = datetime.now(UTC) + timedelta(hours=2), timedelta(hours=1)
    # WHEN SNS still refuses during the sweep
    outcome = sweep(anomalies, SnsAlertPublisher(RefusingSns(), settings.alerts_topic_arn), later, wait)
    # THEN nothing is lost: counted as failed, still pending, and sent by the next sweep
    assert outcome.sent == 0
    assert outcome.failed >= 1
    assert "Throttling" in outcome.errors[0]
    assert len(list(anomalies.pending_alerts(later))) == outcome.failed
    assert sweep(anomalies, SnsAlertPublisher(real_sns, settings.alerts_topic_arn), later, wait).sent == outcome.failed
    assert len(alerts_of(aws_endpoint, resources)) == outcome.failed


def test_the_sweepers_settings_are_checked_and_name_the_variable():
    environ = {ANOMALIES_TABLE: "t", ALERTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:a.fifo"}
    assert SweeperSettings.from_environ({**environ, SWEEP_AFTER_SECONDS: "4500"}).sweep_after_seconds == 4500
    with pytest.raises(MissingSettingError, match=SWEEP_AFTER_SECONDS):
        SweeperSettings.from_environ(environ)
    with pytest.raises(MissingSettingError, match=f"{SWEEP_AFTER_SECONDS}: must be from 60"):
        SweeperSettings.from_environ({**environ, SWEEP_AFTER_SECONDS: "5"})
    with pytest.raises(MissingSettingError, match=ANOMALIES_TABLE):
        SweeperSettings.from_environ({ALERTS_TOPIC_ARN: "x", SWEEP_AFTER_SECONDS: "600"})
