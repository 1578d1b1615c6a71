"""Nothing lost, nothing doubled: the scorer under one fault at a time, compared with a clean run.

Every AWS call the scorer makes goes through a proxy on loopback in front of moto's server
(DynamoDB's JSON protocol, SNS's query protocol), which fails the chosen call: refused (the client's
three attempts, so the scorer sees the failure), or applied and then answered with HTTP 500 (once:
the client's retry meets what was applied; or on every attempt: the scorer believes it failed). The
endpoint fails a chosen call in process, as a throttled endpoint does. The batches are then retried
as Lambda retries them (from the checkpoint of a partial batch response, or whole after an error)
until they succeed, and the end is compared with a clean run of the same batches on fresh tables:
every state item (users, IPs, episodes; key, state bytes, applied positions, event-id window), every
anomaly (all its attributes but the time it was scored) and every alert message a subscriber of the
FIFO topic received.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import boto3
import pytest

from model.entities import Evidence
from model.features import IpState, UserState, event_time
from model.train import TrainedModel, train
from scorer.batch import Dependencies, process_batch
from scorer.clients import build_dependencies
from scorer.endpoint import Score
from scorer.exceptions import TransientError
from scorer.ip_slices import decode_part, home_key, hot_key, own_key, part_attribute
from scorer.progress import shard_tag
from scorer.records import decode_batch
from scorer.stores import SITE_PREFIX
from tests.model_factories import START as MODEL_START
from tests.model_factories import event, normal_traffic, scraper_session
from tests.scorer_factories import (
    REGION,
    SHARD,
    START,
    ScorerResources,
    SuspiciousResourceEndpoint,
    aggregate,
    create_resources,
    lambda_event,
    plain,
    wire_event,
)
from tests.test_scorer_batch import alerts_of
from tests.test_scorer_entities import TrainedEndpoint
from tests.throttling_proxy import ThrottlingProxy
from vedette.events import encode_event, normalize_event

_names = itertools.count()
MAX_DELIVERIES = 8

DYNAMODB = "DynamoDB_20120810."


def shared_ip_traffic() -> list[dict[str, Any]]:
    """Two batches' events: six users, three of them behind one address (their IP state is shared),
    attacks by two users (one of them behind the shared address) in both batches, in time order."""
    events = []
    for n in range(36):
        user = f"user-{n % 6}"
        ip = "203.0.113.7" if n % 6 in (0, 1, 2) else f"198.51.100.{n % 6}"
        events.append(wire_event(n, user, suspicious=n in (7, 9, 25, 31), ip=ip))
    return events


def batches() -> list[dict[str, Any]]:
    """The first batch: plain records and an aggregate; the second: aggregates, and a producer's
    duplicate of an event of the first batch (same event id, sent again)."""
    events = shared_ip_traffic()
    first = lambda_event(
        [plain(encode_event(event), event["user_id"]) for event in events[:6]]
        + [aggregate(events[6:12]), aggregate(events[12:18])]
    )
    duplicate = plain(encode_event(events[16]), events[16]["user_id"])
    second = lambda_event([aggregate(events[18:24]), duplicate, aggregate(events[24:30]), aggregate(events[30:36])])
    return [first, second]


# Made once: every run sees the same records, with the same sequence numbers.
BATCHES = batches()


@dataclass(frozen=True)
class Outcome:
    # Every attribute of every state item but its expiry (state, applied, seen; a home's shards, a
    # hot item's parts).
    states: dict[str, dict[str, Any]]
    anomalies: dict[tuple[str, str], dict[str, Any]]
    alerts: list[str]
    deliveries: int


def snapshot(endpoint_url: str, resources: ScorerResources, deliveries: int) -> Outcome:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    states = {
        item["key"]["S"]: {name: value for name, value in item.items() if name not in {"key", "expires_at"}}
        for item in dynamodb.scan(TableName=resources.settings.state_table, ConsistentRead=True)["Items"]
    }
    anomalies = {
        (item["user_id"]["S"], item["sk"]["S"]): {name: value for name, value in item.items() if name != "scored_at"}
        for item in dynamodb.scan(TableName=resources.settings.anomalies_table, ConsistentRead=True)["Items"]
        if not item["sk"]["S"].startswith("alert#")
    }
    alerts = sorted(json.dumps(message, sort_keys=True) for message in alerts_of(endpoint_url, resources))
    return Outcome(states, anomalies, alerts, deliveries)


def deliver_until_done(event: dict[str, Any], deps: Dependencies, settings: Any) -> int:
    """Invoke as Lambda's event source mapping does until the batch is done; returns the invocations."""
    records = event["Records"]
    for delivery in range(1, MAX_DELIVERIES + 1):
        try:
            outcome = process_batch(decode_batch({"Records": records}), deps, settings)
        except TransientError:
            continue  # a function error: the same records again
        if not outcome.failed_sequence_numbers:
            return delivery
        first = outcome.failed_sequence_numbers[0]
        records = [record for record in records if int(record["kinesis"]["sequenceNumber"]) >= int(first)]
    raise AssertionError(f"the batch was not done after {MAX_DELIVERIES} deliveries")


@dataclass(frozen=True)
class Fault:
    name: str
    arm: Callable[[ThrottlingProxy], None] = lambda proxy: None
    endpoint_fails: tuple[int, ...] = ()


def writes(key: str) -> Callable[[dict[str, Any]], bool]:
    """A BatchWriteItem that writes the state item ``key``."""
    return lambda body: any(
        request["PutRequest"]["Item"]["key"]["S"] == key
        for requests in body.get("RequestItems", {}).values()
        for request in requests
    )


def updates(key: str) -> Callable[[dict[str, Any]], bool]:
    """An UpdateItem of the state item ``key`` (an address's home or hot item)."""
    return lambda body: body.get("Key", {}).get("key", {}).get("S") == key


def marks_sent(body: dict[str, Any]) -> bool:
    """The UpdateItem that marks an alert sent (the anomalies table's key)."""
    return "user_id" in body.get("Key", {})


def is_anomaly(body: dict[str, Any]) -> bool:
    return not body.get("Item", {}).get("sk", {}).get("S", "").startswith("alert#")


def is_marker(body: dict[str, Any]) -> bool:
    return body.get("Item", {}).get("sk", {}).get("S", "").startswith("alert#")


REFUSED = 3  # the client's three attempts: the scorer sees the call fail
ADDRESS = "203.0.113.7"
SHARED_IP = own_key(ADDRESS, shard_tag(SHARD))  # this shard's part of the shared address's state
HOME = home_key(ADDRESS)
WRITE = DYNAMODB + "BatchWriteItem"
UPDATE = DYNAMODB + "UpdateItem"
FAULTS = [
    Fault("state-read-refused", lambda p: p.throttle(DYNAMODB + "BatchGetItem", times=REFUSED)),
    # The first case: user states not written after their IP's was.
    Fault("user-write-refused", lambda p: p.throttle(WRITE, writes("user#user-1"), times=REFUSED)),
    Fault("user-write-applied-answer-lost-once", lambda p: p.fail_after_applying(WRITE, writes("user#user-1"))),
    Fault(
        "user-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(WRITE, writes("user#user-1"), times=REFUSED),
    ),
    Fault("ip-write-refused", lambda p: p.throttle(WRITE, writes(SHARED_IP), times=REFUSED)),
    Fault("ip-write-applied-answer-lost-once", lambda p: p.fail_after_applying(WRITE, writes(SHARED_IP))),
    # The shard's count of the site's traffic (model.features.site), written before the users' states.
    Fault("site-write-refused", lambda p: p.throttle(WRITE, writes(SITE_PREFIX + SHARD), times=REFUSED)),
    Fault("site-write-applied-answer-lost-once", lambda p: p.fail_after_applying(WRITE, writes(SITE_PREFIX + SHARD))),
    Fault(
        "ip-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(WRITE, writes(SHARED_IP), times=REFUSED),
    ),
    Fault("anomaly-write-refused", lambda p: p.throttle(DYNAMODB + "PutItem", is_anomaly, times=REFUSED)),
    Fault(
        "anomaly-write-applied-answer-lost", lambda p: p.fail_after_applying(DYNAMODB + "PutItem", is_anomaly, times=1)
    ),
    Fault(
        "anomaly-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(DYNAMODB + "PutItem", is_anomaly, times=REFUSED),
    ),
    Fault("alert-claim-refused", lambda p: p.throttle(DYNAMODB + "PutItem", is_marker, times=REFUSED)),
    Fault("alert-claim-applied-answer-lost", lambda p: p.fail_after_applying(DYNAMODB + "PutItem", is_marker, times=1)),
    Fault(
        "alert-claim-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(DYNAMODB + "PutItem", is_marker, times=REFUSED),
    ),
    Fault("publish-refused", lambda p: p.fail("Publish", times=REFUSED)),
    Fault("publish-accepted-answer-lost-once", lambda p: p.fail_after_applying("Publish", times=1)),
    Fault("publish-accepted-answer-lost-every-attempt", lambda p: p.fail_after_applying("Publish", times=REFUSED)),
    Fault("alert-sent-mark-refused", lambda p: p.throttle(UPDATE, marks_sent, times=REFUSED)),
    Fault(
        "alert-sent-mark-applied-answer-lost",
        lambda p: p.fail_after_applying(UPDATE, marks_sent, times=REFUSED),
    ),
    # The shard's announcement in the shared address's home (its place there), before its part.
    Fault("ip-announcement-refused", lambda p: p.throttle(UPDATE, updates(HOME), times=REFUSED)),
    Fault(
        "ip-announcement-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(UPDATE, updates(HOME), times=REFUSED),
    ),
    Fault("endpoint-first-call-fails", endpoint_fails=(1,)),
    Fault("endpoint-second-chunk-fails", endpoint_fails=(2,)),
    Fault("endpoint-second-batch-fails", endpoint_fails=(5,)),
]
# Beyond one fault: the lost alert (Publish refused, then the marker's next write throttled),
# and a retry that meets events whose IP has applied them beside events nothing has applied (the
# endpoint failing part of the batch while the users' write is refused).
TWO_FAULTS = [
    Fault(
        "user-write-refused-and-its-retry-too", lambda p: p.throttle(WRITE, writes("user#user-4"), times=REFUSED * 2)
    ),
    Fault(
        "publish-refused-then-sent-mark-refused",
        lambda p: (p.fail("Publish", times=REFUSED), p.throttle(UPDATE, marks_sent, times=REFUSED)),
    ),
    Fault(
        "endpoint-second-chunk-fails-and-user-write-refused",
        lambda p: p.throttle(WRITE, writes("user#user-1"), times=REFUSED),
        endpoint_fails=(2,),
    ),
]
ROWS_PER_CALL = 8  # the first batch takes three calls, the second two


def run_batches(
    aws_endpoint: str,
    fault: Fault | None,
    kinesis_batches: list[dict[str, Any]] | None = None,
    trained: TrainedModel | None = None,
    hot: bool = False,
) -> Outcome:
    resources = create_resources(aws_endpoint, f"exactly-once-{next(_names)}")
    settings = replace(resources.settings, max_rows_per_call=ROWS_PER_CALL)
    if hot:
        settings = replace(settings, ip_directory_size=1)
        other_shard_has_the_address(aws_endpoint, settings.state_table)
    with ThrottlingProxy(aws_endpoint) as proxy:
        deps = build_dependencies(settings, proxy.endpoint)
        deps.bad_events = build_dependencies(settings, aws_endpoint).bad_events  # S3 is not proxied
        fails = fault.endpoint_fails if fault else ()
        if trained is None:
            deps.endpoint = SuspiciousResourceEndpoint(fails)
        else:
            deps.endpoint = FailingCalls(TrainedEndpoint(trained), fails)
            deps.vocabulary = trained.vocabulary
            deps.entity_models = trained.entity_models
        if fault is not None:
            fault.arm(proxy)
        deliveries = sum(deliver_until_done(event, deps, settings) for event in kinesis_batches or BATCHES)
        if fault is not None:
            assert proxy.throttled or fault.endpoint_fails, f"{fault.name}: the fault never happened"
    return snapshot(aws_endpoint, resources, deliveries)


@pytest.fixture(scope="module")
def clean(aws_endpoint: str) -> Outcome:
    outcome = run_batches(aws_endpoint, None)
    # The clean run itself is what the scenario expects: every event once, both attacks
    # alerted once per user and window, and the producer's duplicate dropped.
    assert outcome.deliveries == 2
    users = {
        key: UserState.from_bytes(item["state"]["B"]) for key, item in outcome.states.items() if key.startswith("user#")
    }
    assert sum(state.total_events for state in users.values()) == 36
    shared = IpState.from_bytes(outcome.states[SHARED_IP]["state"]["B"])
    assert len(shared.recent_users) == 3
    assert shared.events == 18
    assert outcome.states[HOME]["shards"]["BS"] == [shard_tag(SHARD)]
    assert len(outcome.anomalies) == 4
    assert len(outcome.alerts) == 2  # user-1 (events 7, 25, 31: one window) and user-3 (event 9)
    return outcome


@pytest.mark.parametrize("fault", FAULTS + TWO_FAULTS, ids=[fault.name for fault in FAULTS + TWO_FAULTS])
def test_one_fault_anywhere_ends_as_the_clean_run(aws_endpoint: str, clean: Outcome, fault: Fault) -> None:
    # GIVEN one fault at one step WHEN the batches are processed and retried as Lambda retries them
    faulty = run_batches(aws_endpoint, fault)
    # THEN the states, anomalies and alert messages are those of the clean run
    assert faulty.states.keys() == clean.states.keys()
    for key, value in clean.states.items():
        assert faulty.states[key] == value, f"{fault.name}: state {key} differs from the clean run"
    assert faulty.anomalies == clean.anomalies
    assert faulty.alerts == clean.alerts


class FailingCalls:
    """An endpoint failing the calls whose numbers are given (1-based), as a throttled one does."""

    def __init__(self, inner: TrainedEndpoint, fail_calls: tuple[int, ...]) -> None:
        self.inner = inner
        self.content_type = inner.content_type
        self.fail_calls = set(fail_calls)
        self.calls = 0

    def score(self, rows: Any, body: bytes | None = None, feature_config_id: str | None = None) -> list[Score]:
        self.calls += 1
        if self.calls in self.fail_calls:
            raise TransientError("endpoint", "ThrottlingException: injected")
        return self.inner.score(rows, body)


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(normal_traffic(users=120, days=10))


def entity_batches() -> list[dict[str, Any]]:
    """A scraper's run (its user and its session alert) and two people, one behind the scraper's
    address (sharing its IP state), in two batches of single-event records. The one behind its
    address keeps no session: a session's alert at its first request from the scraper's address
    would be counted into the scraper's (``model.client_alerts``), its episode left open to alert on
    its own in a later batch, and a retry's batches are not the clean run's."""
    moment = MODEL_START + timedelta(days=10, hours=12)
    scraper = scraper_session(moment, requests=30)
    browser = {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "status": 200}
    people = [
        event(
            moment + timedelta(seconds=5 * n + 1),
            "human-a",
            "page_view",
            ip="203.0.113.7",
            resource=f"/account/orders/{n}",
            **browser,
        )
        for n in range(6)
    ] + [
        event(
            moment + timedelta(seconds=7 * n + 3),
            "human-b",
            "page_view",
            ip="192.0.2.10",
            session_id="h-b",
            resource=f"/catalog/items/{n}",
            **browser,
        )
        for n in range(6)
    ]
    events = [normalize_event(item) for item in sorted(scraper + people, key=event_time)]
    records = [plain(encode_event(item), item["user_id"]) for item in events]
    return [lambda_event(records[:20]), lambda_event(records[20:])]


ENTITY_BATCHES = entity_batches()
ENTITY_FAULTS = [
    Fault("episode-write-refused", lambda p: p.throttle(WRITE, writes("entity#user#scraper-1"), times=REFUSED)),
    Fault(
        "episode-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(WRITE, writes("entity#session#scraper-1-session"), times=REFUSED),
    ),
    Fault("ip-write-refused", lambda p: p.throttle(WRITE, writes(SHARED_IP), times=REFUSED)),
    Fault("user-write-refused", lambda p: p.throttle(WRITE, writes("user#scraper-1"), times=REFUSED)),
    Fault(
        "user-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(WRITE, writes("user#human-a"), times=REFUSED),
    ),
    Fault("anomaly-write-refused", lambda p: p.throttle(DYNAMODB + "PutItem", is_anomaly, times=REFUSED)),
    Fault("alert-claim-refused", lambda p: p.throttle(DYNAMODB + "PutItem", is_marker, times=REFUSED)),
    Fault(
        "alert-claim-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(DYNAMODB + "PutItem", is_marker, times=REFUSED),
    ),
    Fault("publish-refused", lambda p: p.fail("Publish", times=REFUSED)),
    Fault("publish-accepted-answer-lost-every-attempt", lambda p: p.fail_after_applying("Publish", times=REFUSED)),
    Fault("alert-sent-mark-refused", lambda p: p.throttle(UPDATE, marks_sent, times=REFUSED)),
    Fault("endpoint-second-call-fails", endpoint_fails=(2,)),
]


@pytest.fixture(scope="module")
def clean_entities(aws_endpoint: str, trained: TrainedModel) -> Outcome:
    outcome = run_batches(aws_endpoint, None, ENTITY_BATCHES, trained)
    # The clean run: the scraper alerts once as a user and once as a session (these toy people, with
    # no history, alert too), its episodes hold its 30 events, and the person behind its address
    # shares its IP state
    alerted = [(message["entity"]["kind"], message["entity"]["id"]) for message in map(json.loads, outcome.alerts)]
    assert len(alerted) == len(set(alerted))
    assert {("user", "scraper-1"), ("session", "scraper-1-session")} <= set(alerted)
    assert Evidence.from_bytes(outcome.states["entity#user#scraper-1"]["state"]["B"]).events == 30
    assert Evidence.from_bytes(outcome.states["entity#session#scraper-1-session"]["state"]["B"]).events == 30
    assert len(IpState.from_bytes(outcome.states[SHARED_IP]["state"]["B"]).recent_users) == 2
    return outcome


@pytest.mark.parametrize("fault", ENTITY_FAULTS, ids=[fault.name for fault in ENTITY_FAULTS])
def test_one_fault_anywhere_ends_as_the_clean_run_with_entity_alerts(
    aws_endpoint: str, trained: TrainedModel, clean_entities: Outcome, fault: Fault
) -> None:
    # GIVEN the entity stage and one fault at one step WHEN the batches are processed and retried
    faulty = run_batches(aws_endpoint, fault, ENTITY_BATCHES, trained)
    # THEN users, IPs, episodes' evidence, anomalies and alert messages are those of the clean run
    assert faulty.states.keys() == clean_entities.states.keys()
    for key, value in clean_entities.states.items():
        assert faulty.states[key] == value, f"{fault.name}: state {key} differs from the clean run"
    assert faulty.anomalies == clean_entities.anomalies
    assert faulty.alerts == clean_entities.alerts


OTHER_SHARD = shard_tag("shardId-000000000099")


def other_shard_has_the_address(aws_endpoint: str, table: str) -> None:
    """Another shard's part of the shared address, listed in its home, which is full at one shard."""
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    far = {"N": "4102444800"}
    part = IpState(last_seen=START.timestamp(), rate_fast=2.0, rate_slow=5.0, recent_users=[(7, 0)], events=5)
    dynamodb.put_item(TableName=table, Item={"key": {"S": HOME}, "shards": {"BS": [OTHER_SHARD]}, "expires_at": far})
    dynamodb.put_item(
        TableName=table,
        Item={"key": {"S": own_key(ADDRESS, OTHER_SHARD)}, "state": {"B": part.to_bytes()}, "expires_at": far},
    )


HOT_PART = hot_key(ADDRESS, shard_tag(SHARD))


def reads_hot_items(body: dict[str, Any]) -> bool:
    """The second read round: the other shards' parts of the addresses this shard shares."""
    return any(
        key["key"]["S"].startswith(f"ip#{ADDRESS}#")
        for request in body.get("RequestItems", {}).values()
        for key in request["Keys"]
    )


# A hot address: this shard's part is an attribute of a hot item, set with UpdateItem.
HOT_FAULTS = [
    Fault("hot-part-write-refused", lambda p: p.throttle(UPDATE, updates(HOT_PART), times=REFUSED)),
    Fault("hot-part-write-applied-answer-lost-once", lambda p: p.fail_after_applying(UPDATE, updates(HOT_PART))),
    Fault(
        "hot-part-write-applied-answer-lost-every-attempt",
        lambda p: p.fail_after_applying(UPDATE, updates(HOT_PART), times=REFUSED),
    ),
    Fault("user-write-refused", lambda p: p.throttle(WRITE, writes("user#user-1"), times=REFUSED)),
    Fault("state-second-read-refused", lambda p: p.throttle(DYNAMODB + "BatchGetItem", reads_hot_items, times=REFUSED)),
    Fault("endpoint-second-chunk-fails", endpoint_fails=(2,)),
]


@pytest.fixture(scope="module")
def clean_hot(aws_endpoint: str) -> Outcome:
    outcome = run_batches(aws_endpoint, None, hot=True)
    # The clean run: this shard's part, with the 18 events of the shared address, is its own item
    # and, since the home is full without it, copied into the hot item; the other shard's part is
    # untouched
    own = outcome.states[SHARED_IP]
    assert IpState.from_bytes(own["state"]["B"]).events == 18
    [(attribute, value)] = [(name, value) for name, value in outcome.states[HOT_PART].items()]
    assert attribute == part_attribute(shard_tag(SHARD))
    assert decode_part(value["B"]) == (own["applied"]["B"], own["state"]["B"])
    assert outcome.states[HOME]["shards"]["BS"] == [OTHER_SHARD]
    assert IpState.from_bytes(outcome.states[own_key(ADDRESS, OTHER_SHARD)]["state"]["B"]).events == 5
    return outcome


@pytest.mark.parametrize("fault", HOT_FAULTS, ids=[fault.name for fault in HOT_FAULTS])
def test_one_fault_anywhere_ends_as_the_clean_run_at_a_hot_address(
    aws_endpoint: str, clean_hot: Outcome, fault: Fault
) -> None:
    # GIVEN an address whose home is full, so that this shard keeps its part in a hot item, and one
    # fault at one step WHEN the batches are processed and retried as Lambda retries them
    faulty = run_batches(aws_endpoint, fault, hot=True)
    # THEN every item, anomaly and alert message is the clean run's
    assert faulty.states.keys() == clean_hot.states.keys()
    for key, value in clean_hot.states.items():
        assert faulty.states[key] == value, f"{fault.name}: state {key} differs from the clean run"
    assert faulty.anomalies == clean_hot.anomalies
    assert faulty.alerts == clean_hot.alerts
