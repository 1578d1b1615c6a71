"""dynalite answers every DynamoDB call the pipeline makes as moto's server does.

The local pipeline keeps its tables on dynalite (``emulators.dynalite``), the tests on moto's server.
Each test here runs the pipeline's own stores against both, on tables made from the definitions the
demo uses, and expects the same outcome: the state table's batch reads and writes, the conditional
updates that add a shard to an address's home and write its parts, the anomalies table's
write-once records, the alert markers going from pending to sent, both sparse indexes, and the
analysts' verdicts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from console.alerts import AlertFilters, DynamoAlerts
from console.labels import TRUE_POSITIVE, AlertKey, DynamoLabels, Verdict
from emulators import dynalite
from local_pipeline.resources import anomalies_table_definition, labels_table_definition, state_table_definition
from model.entities import EntityAlert
from scorer.exceptions import TransientError
from scorer.stores import (
    ALERT_PENDING,
    ALERT_SENT,
    Anomaly,
    DynamoAnomalyStore,
    DynamoStateStore,
    StoredState,
    alert_partition,
)
from tests.throttling_proxy import ThrottlingProxy
from vedette.events import format_timestamp, normalize_event

_tables = itertools.count()
EXPIRES_AT = 2_000_000_000
ALERTED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def dynalite_endpoint() -> Iterator[str]:
    with dynalite() as endpoint:
        yield endpoint


@pytest.fixture(params=["moto", "dynalite"])
def dynamodb(request: pytest.FixtureRequest) -> Any:
    endpoint = request.getfixturevalue("aws_endpoint" if request.param == "moto" else "dynalite_endpoint")
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def _table(dynamodb: Any, definition: dict[str, Any]) -> str:
    dynamodb.create_table(**definition)
    dynamodb.get_waiter("table_exists").wait(TableName=definition["TableName"], WaiterConfig={"Delay": 0.1})
    return str(definition["TableName"])


def test_state_items_are_written_and_read_back_whole_in_batches(dynamodb: Any) -> None:
    # GIVEN a state table and 260 items, more than one BatchGetItem (100) or BatchWriteItem (25) takes
    store = DynamoStateStore(dynamodb, _table(dynamodb, state_table_definition(f"state-{next(_tables)}")))
    items = {
        f"user#u{number}": StoredState(bytes([number % 256]) * 300, applied=b"a" * 33, seen=b"s" * 128)
        for number in range(200)
    }
    items |= {f"entity#session#s{number}": StoredState(b"e" * 200) for number in range(60)}

    # WHEN they are saved, then read back strongly and eventually consistently, with absent keys
    failed = store.save(items, EXPIRES_AT)
    found = store.load([*list(items)[:130], "user#absent"], [*list(items)[130:], "ip#absent"])

    # THEN every item comes back as written, and absent keys are absent
    assert failed == set()
    assert {key: (item.state, item.applied, item.seen) for key, item in found.items()} == {
        key: (item.state, item.applied, item.seen) for key, item in items.items()
    }


def test_an_address_home_takes_shards_up_to_its_limit_and_a_retry_is_not_refused(dynamodb: Any) -> None:
    # GIVEN an address's home that already lists two shards, the limit
    store = DynamoStateStore(dynamodb, _table(dynamodb, state_table_definition(f"state-{next(_tables)}")))
    assert store.announce({"ip#203.0.113.7": b"shard--1"}, 2, EXPIRES_AT).full == set()
    assert store.announce({"ip#203.0.113.7": b"shard--2", "ip#203.0.113.8": None}, 2, EXPIRES_AT).full == set()

    # WHEN a third shard announces itself, and the second announces itself again (a retried batch)
    third = store.announce({"ip#203.0.113.7": b"shard--3"}, 2, EXPIRES_AT)
    retry = store.announce({"ip#203.0.113.7": b"shard--2"}, 2, EXPIRES_AT)
    # AND two shards write their parts of the address's hot item
    assert store.save_parts({"ip#203.0.113.7@hot": ("s_shard--1", b"one")}, EXPIRES_AT) == set()
    assert store.save_parts({"ip#203.0.113.7@hot": ("s_shard--2", b"two")}, EXPIRES_AT) == set()

    # THEN the third is refused as full, the retry is not, and the home lists the first two
    assert (third.full, third.failed) == ({"ip#203.0.113.7"}, set())
    assert (retry.full, retry.failed) == (set(), set())
    found = store.load(["ip#203.0.113.7", "ip#203.0.113.8", "ip#203.0.113.7@hot"])
    assert found["ip#203.0.113.7"].shards == {b"shard--1", b"shard--2"}
    assert found["ip#203.0.113.8"].shards == frozenset()
    # AND neither part replaced the other
    assert found["ip#203.0.113.7@hot"].parts == {"s_shard--1": b"one", "s_shard--2": b"two"}


def _event(number: int) -> dict[str, Any]:
    return normalize_event(
        {
            "event_id": f"00000000-0000-4000-8000-{number:012d}",
            "occurred_at": format_timestamp(ALERTED_AT - timedelta(minutes=number)),
            "event_type": "page_view",
            "user_id": "u-scraper",
            "ip": "203.0.113.7",
            "resource": f"/catalog/items/{number}",
            "status": 200,
        }
    )


def test_anomalies_are_written_once_and_an_alert_goes_from_pending_to_sent(dynamodb: Any) -> None:
    # GIVEN an anomalies table with its two sparse indexes
    table = _table(dynamodb, anomalies_table_definition(f"anomalies-{next(_tables)}"))
    store = DynamoAnomalyStore(dynamodb, table, ttl_seconds=3600)
    alerts = DynamoAlerts(dynamodb, table)
    anomaly = Anomaly(_event(1), score=3.0, threshold=1.5, top_features=[], scored_at=format_timestamp(ALERTED_AT))
    start = ALERTED_AT - timedelta(minutes=10)
    alert = EntityAlert("u-scraper", "user", 40.0, 10.0, 1, start.timestamp(), ALERTED_AT.timestamp(), 40, ("fast",))
    partition = alert_partition(alert.kind, alert.entity)

    # WHEN an anomaly is recorded twice (a retried batch), and an entity's alert is claimed, claimed
    # again by the retry, then described
    recorded = [store.record(anomaly), store.record(anomaly)]
    claims = [store.claim_alert(partition, int(start.timestamp())) for _ in range(2)]
    store.describe_alert(alert, ALERTED_AT)

    # THEN the anomaly is recorded once, the retry finds the alert pending
    assert recorded == [True, False]
    assert claims == [None, ALERT_PENDING]
    assert list(alerts.flagged_events("u-scraper", ALERTED_AT - timedelta(hours=1), ALERTED_AT)) == [
        anomaly.event["event_id"]
    ]
    # AND the alert is listed by the console's index and by the sweeper's index of pending alerts
    assert [record.key for record in alerts.page(AlertFilters(), lambda keys: {}).alerts] == [
        AlertKey(partition, int(start.timestamp()))
    ]
    pending = list(store.pending_alerts(ALERTED_AT + timedelta(minutes=1)))
    assert [(item.partition, item.start, item.alert.entity) for item in pending] == [
        (partition, int(start.timestamp()), "u-scraper")
    ]

    # WHEN it is sent
    store.alert_sent(partition, int(start.timestamp()))
    store.alert_sent(partition, 12345)  # a window that expired meanwhile is not brought back

    # THEN it leaves the pending index, stays in the console's, and a later claim finds it sent
    assert list(store.pending_alerts(ALERTED_AT + timedelta(minutes=1))) == []
    assert len(alerts.page(AlertFilters(), lambda keys: {}).alerts) == 1
    assert store.claim_alert(partition, int(start.timestamp())) == ALERT_SENT
    assert (
        dynamodb.get_item(TableName=table, Key={"user_id": {"S": partition}, "sk": {"S": "alert#12345"}}).get("Item")
        is None
    )


def test_verdicts_are_recorded_and_read_back_by_alert_and_by_entity(dynamodb: Any) -> None:
    # GIVEN the labels table and a verdict on each of 120 alerts (more than one BatchGetItem)
    labels = DynamoLabels(dynamodb, _table(dynamodb, labels_table_definition(f"labels-{next(_tables)}")))
    verdicts = [
        Verdict(
            AlertKey(f"u-{number % 7}", 1_700_000_000 + number),
            TRUE_POSITIVE,
            "scripted",
            "tester",
            format_timestamp(ALERTED_AT),
            "user",
            f"u-{number % 7}",
            ("fast",),
            4.0,
            format_timestamp(ALERTED_AT),
        )
        for number in range(120)
    ]

    # WHEN they are recorded
    for verdict in verdicts:
        labels.put(verdict)

    # THEN each is read back by its alert, all at once, and by entity
    assert labels.get(verdicts[5].key) == verdicts[5]
    assert labels.get_many(verdict.key for verdict in verdicts) == {verdict.key: verdict for verdict in verdicts}
    assert labels.for_partition("u-3") == [verdict for verdict in verdicts if verdict.key.partition == "u-3"]


def test_where_a_failed_claim_comes_back_without_the_marker_the_marker_is_read(dynalite_endpoint: str) -> None:
    # GIVEN dynalite, which does not return the item with a failed condition, and an anomalies table
    # holding a marker of an earlier release (no status: it was kept only once its alert was sent)
    dynamodb = boto3.client("dynamodb", endpoint_url=dynalite_endpoint, region_name="us-east-1")
    table = _table(dynamodb, anomalies_table_definition(f"anomalies-{next(_tables)}"))
    dynamodb.put_item(TableName=table, Item={"user_id": {"S": "u-legacy"}, "sk": {"S": "alert#1700000000"}})
    with ThrottlingProxy(dynalite_endpoint) as proxy:
        client = boto3.client("dynamodb", endpoint_url=proxy.endpoint, region_name="us-east-1")
        store = DynamoAnomalyStore(client, table, ttl_seconds=3600)

        # WHEN its slot is claimed THEN the marker is read, and found sent: no second alert
        assert store.claim_alert("u-legacy", 1_700_000_000) == ALERT_SENT
        assert proxy.calls["DynamoDB_20120810.GetItem"] == 1

        # WHEN the read is throttled THEN the claim fails as transient (the batch's retry claims again)
        proxy.throttle("DynamoDB_20120810.GetItem")
        with pytest.raises(TransientError):
            store.claim_alert("u-legacy", 1_700_000_000)


def test_alerts_page_newest_first_and_pending_ones_come_oldest_first(dynamodb: Any) -> None:
    # GIVEN 30 entity alerts, of severities 1 to 3, raised one minute apart
    table = _table(dynamodb, anomalies_table_definition(f"anomalies-{next(_tables)}"))
    store = DynamoAnomalyStore(dynamodb, table, ttl_seconds=3600)
    alerts = []
    for number in range(30):
        end = ALERTED_AT - timedelta(minutes=30 - number)
        alert = EntityAlert(
            f"u-{number}", "user", 10.0 * (1 + number % 3), 10.0, 1, end.timestamp() - 60, end.timestamp(), 5, ()
        )
        store.claim_alert(alert.entity, int(alert.first_event_at))
        store.describe_alert(alert, end + timedelta(seconds=1))
        alerts.append(alert)

    # WHEN the console pages through those of severity 2 or more, seven at a time
    shown: list[str] = []
    cursor: str | None = None
    while True:
        page = DynamoAlerts(dynamodb, table).page(AlertFilters(min_severity=2.0), lambda keys: {}, cursor, size=7)
        shown += [record.key.partition for record in page.alerts]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    # THEN it sees each once, newest first
    assert shown == [alert.entity for alert in reversed(alerts) if alert.score >= 20.0]
    # AND the sweeper's index gives the pending ones oldest first, up to the time asked
    pending = store.pending_alerts(ALERTED_AT - timedelta(minutes=10))
    assert [item.alert.entity for item in pending] == [alert.entity for alert in alerts[:20]]
