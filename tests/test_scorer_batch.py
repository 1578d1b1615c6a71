"""The scorer's batch semantics over real wire protocols: DynamoDB, S3, SNS and SQS on moto's server.

The endpoint here is an in-process double that can fail chosen calls; the scorer against the real
model server is in test_scorer_handler.py.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import boto3
import pytest

from console.alerts import DynamoAlerts
from model.entities import Evidence
from model.features import IpState, UserState, featurize_batch
from model.features.state import (
    MAX_IP_STATE_BYTES,
    MAX_IP_USERS,
    MAX_RECENT_AGENTS,
    MAX_RECENT_COUNTRIES,
    MAX_RECENT_IPS,
    MAX_RECENT_NETWORKS,
    MAX_RECENT_PATHS,
    MAX_USER_STATE_BYTES,
)
from model.waves import LOGINS, SURPRISE_FLOOR, WAVE_KIND, AttemptWindow, WaveModel
from scorer.batch import BatchOutcome, Dependencies, process_batch
from scorer.clients import build_dependencies
from scorer.exceptions import TransientError
from scorer.ip_slices import (
    DEFAULT_DIRECTORY_SIZE,
    HOT_ADDRESS_ITEMS,
    address_views,
    encode_part,
    home_key,
    hot_key,
    own_key,
    part_attribute,
)
from scorer.progress import (
    MAX_IP_SHARD_POSITIONS,
    MAX_SEEN_EVENT_IDS,
    MAX_USER_SHARD_POSITIONS,
    advanced,
    parse_positions,
    remember_seen,
    shard_tag,
)
from scorer.records import decode_batch
from scorer.settings import MAX_IP_DIRECTORY_SIZE
from scorer.stores import evidence_key, stored_state
from tests.scorer_factories import (
    REGION,
    SHARD,
    ScorerResources,
    SuspiciousResourceEndpoint,
    aggregate,
    create_resources,
    lambda_event,
    plain,
    sequence_numbers,
    wire_event,
)
from tests.throttling_proxy import ThrottlingProxy
from vedette.events import encode_event
from vedette.kpl import MAGIC
from vedette.schema import MAX_ID_LENGTH

_names = itertools.count()


@pytest.fixture
def resources(aws_endpoint: str) -> ScorerResources:
    return create_resources(aws_endpoint, f"scorer-{next(_names)}")


def dependencies(
    endpoint_url: str, resources: ScorerResources, endpoint: SuspiciousResourceEndpoint, **settings: Any
) -> tuple[Dependencies, Any]:
    effective = replace(resources.settings, **settings)
    deps = build_dependencies(effective, endpoint_url)
    deps.endpoint = endpoint
    return deps, effective


def run(event: dict[str, Any], deps: Dependencies, settings: Any) -> BatchOutcome:
    return process_batch(decode_batch(event), deps, settings)


def anomalies_of(endpoint_url: str, resources: ScorerResources) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    items = dynamodb.scan(TableName=resources.settings.anomalies_table)["Items"]
    return [item for item in items if not item["sk"]["S"].startswith("alert#")]


def alerts_of(endpoint_url: str, resources: ScorerResources) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=REGION)
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=resources.alerts_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        messages += [json.loads(message["Body"]) for message in batch]
        for message in batch:
            sqs.delete_message(QueueUrl=resources.alerts_queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_all_good_batch_of_plain_and_aggregated_records(aws_endpoint, resources):
    # GIVEN a plain record and two KPL aggregates, one event with an SQL injection among them
    events = [wire_event(n, suspicious=(n == 7)) for n in range(21)]
    event = lambda_event([plain(encode_event(events[0]), "user-0"), aggregate(events[1:11]), aggregate(events[11:])])
    endpoint = SuspiciousResourceEndpoint()
    deps, settings = dependencies(aws_endpoint, resources, endpoint)

    # WHEN the batch is processed
    outcome = run(event, deps, settings)

    # THEN nothing is retried, every event is scored in one call, and the attack is recorded and alerted
    assert outcome.response() == {"batchItemFailures": []}
    assert (outcome.events, outcome.scored, outcome.bad_events) == (21, 21, 0)
    assert endpoint.calls == [21]
    [anomaly] = anomalies_of(aws_endpoint, resources)
    assert anomaly["event_id"]["S"] == events[7]["event_id"]
    assert anomaly["sk"]["S"] == f"{events[7]['occurred_at']}#{events[7]['event_id']}"
    [alert] = alerts_of(aws_endpoint, resources)
    assert alert["event_id"] == events[7]["event_id"]
    # AND each user and this shard's part of each address are written, with one announcement per
    # address new to the shard (its place in the address's home), and the shard's count of the site
    users, addresses = len({e["user_id"] for e in events}), len({e["ip"] for e in events})
    assert outcome.state_writes == users + 2 * addresses + 1


def bad_events_of(endpoint_url: str, resources: ScorerResources) -> list[dict[str, Any]]:
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION)
    bucket = resources.settings.bad_events_bucket
    lines: list[dict[str, Any]] = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        assert item["Key"].startswith("bad-events/2026/11/25/12/")
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        lines += [json.loads(line) for line in body.splitlines()]
    return lines


def test_a_bad_event_in_the_middle_is_parked_with_its_reason_and_never_retried(aws_endpoint, resources):
    # GIVEN three plain records, the middle one not JSON
    good = [wire_event(1), wire_event(3)]
    event = lambda_event(
        [plain(encode_event(good[0]), "user-1"), plain(b"{not json", "user-2"), plain(encode_event(good[1]), "user-3")]
    )
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    outcome = run(event, deps, settings)

    # THEN the batch succeeds, and the bad bytes are in the sink with the field and the reason
    assert outcome.response() == {"batchItemFailures": []}
    assert (outcome.scored, outcome.bad_events) == (2, 1)
    [line] = bad_events_of(aws_endpoint, resources)
    assert base64.b64decode(line["data_base64"]) == b"{not json"
    assert line["field"] == "event"
    assert "not UTF-8 JSON" in line["reason"]
    assert line["sequence_number"] == sequence_numbers(event)[1]


def test_an_aggregate_with_one_bad_user_event_parks_it_and_scores_the_rest(aws_endpoint, resources):
    # GIVEN one aggregate whose third user record breaks the contract (status out of range)
    broken = dict(wire_event(2))
    broken["status"] = 1000
    records = [wire_event(0), wire_event(1), json.dumps(broken).encode(), wire_event(3)]
    event = lambda_event([aggregate(records)])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    outcome = run(event, deps, settings)

    assert outcome.response() == {"batchItemFailures": []}
    assert (outcome.events, outcome.scored, outcome.bad_events) == (4, 3, 1)
    [line] = bad_events_of(aws_endpoint, resources)
    assert (line["field"], line["sub_sequence_number"]) == ("status", 2)
    assert "100-599" in line["reason"]


def test_endpoint_failing_for_the_second_chunk_hands_back_from_the_first_record_not_scored(aws_endpoint, resources):
    # GIVEN ten plain records in time order, scored five rows per call, and the second call failing
    events = [wire_event(n) for n in range(10)]
    event = lambda_event([plain(encode_event(e), e["user_id"]) for e in events])
    endpoint = SuspiciousResourceEndpoint(fail_calls=[2])
    deps, settings = dependencies(aws_endpoint, resources, endpoint, max_rows_per_call=5)

    outcome = run(event, deps, settings)

    # THEN the response starts at the sixth record and names every record after it
    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event)[5:]]}
    assert endpoint.calls == [5, 5]
    assert (outcome.scored, outcome.endpoint_errors, outcome.retried_events) == (5, 1, 5)


def test_lambdas_retry_from_the_checkpoint_applies_every_event_exactly_once(aws_endpoint, resources):
    # GIVEN user-b in records 0 and 2, user-a in records 1 (an attack) and 3, and user-a's anomaly
    # write throttled on the first attempt
    events = [
        wire_event(0, "user-b"),
        wire_event(1, "user-a", suspicious=True),
        wire_event(2, "user-b"),
        wire_event(3, "user-a"),
    ]
    event = lambda_event([plain(encode_event(e), e["user_id"]) for e in events])
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.PutItem", lambda body: body["Item"]["user_id"]["S"] == "user-a")
        deps, settings = dependencies(proxy.endpoint, resources, SuspiciousResourceEndpoint())
        first = run(event, deps, settings)
    assert first.response() == {"batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event)[1:]]}
    assert first.scored == 2  # user-b's two events; user-a's are held back

    # WHEN Lambda redelivers from the checkpoint, with DynamoDB healthy
    retry = {"Records": event["Records"][1:]}
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    second = run(retry, deps, settings)

    # THEN user-b's already applied event is skipped, user-a's two are applied, the attack recorded once
    assert second.response() == {"batchItemFailures": []}
    assert (second.replayed, second.scored, second.anomalies) == (1, 2, 1)
    assert [item["event_id"]["S"] for item in anomalies_of(aws_endpoint, resources)] == [events[1]["event_id"]]


def test_dynamodb_throttling_an_anomaly_write_hands_back_that_users_records(aws_endpoint, resources):
    # GIVEN an attack by user-x in record 2 and DynamoDB throttling every write of user-x's anomalies
    events = [
        wire_event(0),
        wire_event(1),
        wire_event(2, "user-x", suspicious=True),
        wire_event(3),
        wire_event(4, "user-x"),
    ]
    event = lambda_event([plain(encode_event(e), e["user_id"]) for e in events])
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.PutItem", lambda body: body["Item"]["user_id"]["S"] == "user-x")
        deps, settings = dependencies(proxy.endpoint, resources, SuspiciousResourceEndpoint())
        deps.alerts = build_dependencies(settings, aws_endpoint).alerts
        deps.bad_events = build_dependencies(settings, aws_endpoint).bad_events

        outcome = run(event, deps, settings)

    # THEN records 2 onwards are retried; user-x's state did not advance past what it applied
    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event)[2:]]}
    assert proxy.throttled["DynamoDB_20120810.PutItem"] == 3  # the client's three attempts
    assert anomalies_of(aws_endpoint, resources) == []
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    assert "Item" not in dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": "user#user-x"}})


def test_a_login_held_back_with_its_user_still_counts_once_in_the_shard_s_login_window(aws_endpoint, resources):
    # GIVEN user-x's attack (a failed login) first in the batch, then four other users' failed
    # logins, a failed-login wave model, and DynamoDB throttling user-x's anomaly writes at first
    logins = [wire_event(n, f"user-{n}", event_type="login_failed", status=401, resource="/login") for n in range(1, 5)]
    event = lambda_event(
        [plain(encode_event(e), e["user_id"]) for e in [wire_event(0, "user-x", suspicious=True), *logins]]
    )
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.PutItem", lambda body: body["Item"]["user_id"]["S"] == "user-x")
        deps, settings = dependencies(proxy.endpoint, resources, SuspiciousResourceEndpoint())
        deps.wave_models = {**deps.wave_models, LOGINS.kind: model}
        first = run(event, deps, settings)
    # WHEN Lambda delivers the batch again from user-x's record, the first
    assert first.failed_sequence_numbers == sequence_numbers(event)
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    deps.wave_models = {**deps.wave_models, LOGINS.kind: model}
    assert not run(event, deps, settings).failed_sequence_numbers
    # THEN the shard's login window counted each of the five once (user-x's was lost before: the
    # window took the processed events only, and its progress then skipped the held-back record)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": evidence_key(WAVE_KIND, SHARD)}})
    assert AttemptWindow.from_bytes(item["Item"]["state"]["B"]).totals(60) == (5, 5)


def test_state_that_cannot_be_read_fails_the_whole_batch(aws_endpoint, resources):
    event = lambda_event([plain(encode_event(wire_event(0)), "user-0")])
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.BatchGetItem")
        deps, settings = dependencies(proxy.endpoint, resources, SuspiciousResourceEndpoint())
        with pytest.raises(TransientError, match="BatchGetItem"):
            run(event, deps, settings)


def test_a_stored_state_that_cannot_be_decoded_starts_afresh_instead_of_blocking_the_shard(aws_endpoint, resources):
    # GIVEN a user whose stored state is garbage (corrupted, or written by a release with other features)
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    dynamodb.put_item(
        TableName=settings.state_table, Item={"key": {"S": "user#user-g"}, "state": {"B": b"\x07garbage"}}
    )
    event = lambda_event([plain(encode_event(wire_event(0, "user-g")), "user-g")])

    outcome = run(event, deps, settings)

    # THEN the event is scored from a fresh state, the unreadable state is counted, and it is replaced
    assert outcome.response() == {"batchItemFailures": []}
    assert (outcome.scored, outcome.state_unreadable) == (1, 1)
    assert "user#user-g" in outcome.errors[0]
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": "user#user-g"}})["Item"]
    assert UserState.from_bytes(bytes(item["state"]["B"])).total_events == 1


def test_a_retried_batch_records_no_second_anomaly_or_alert(aws_endpoint, resources):
    # GIVEN a batch with two attacks by two users, processed once
    events = [wire_event(n, suspicious=n in (3, 4)) for n in range(8)]
    event = lambda_event([aggregate(events[:4]), aggregate(events[4:])])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    first = run(event, deps, settings)
    assert (first.anomalies, first.alerts) == (2, 2)

    # WHEN Lambda delivers the same batch again (a timeout after the work was done)
    second = run(event, deps, settings)

    # THEN no event is applied twice, and nothing is recorded or alerted twice
    assert second.response() == {"batchItemFailures": []}
    assert (second.replayed, second.anomalies, second.alerts) == (8, 0, 0)
    assert len(anomalies_of(aws_endpoint, resources)) == 2
    assert len(alerts_of(aws_endpoint, resources)) == 2


def test_a_retry_after_a_lost_state_write_rescores_without_duplicating(aws_endpoint, resources):
    # GIVEN a batch whose anomalies were recorded but whose state writes were throttled
    events = [wire_event(n, "user-q", suspicious=n == 1) for n in range(3)]
    event = lambda_event([aggregate(events)])
    with ThrottlingProxy(aws_endpoint) as proxy:
        proxy.throttle("DynamoDB_20120810.BatchWriteItem")
        deps, settings = dependencies(proxy.endpoint, resources, SuspiciousResourceEndpoint())
        deps.alerts = build_dependencies(settings, aws_endpoint).alerts
        first = run(event, deps, settings)
    assert first.nothing_processed
    assert (first.anomalies, first.alerts) == (1, 1)

    # WHEN the batch is retried with DynamoDB healthy again
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    second = run(event, deps, settings)

    # THEN the events are applied once, and the anomaly and alert are not repeated
    assert second.response() == {"batchItemFailures": []}
    assert (second.scored, second.replayed, second.anomalies, second.anomalies_already_recorded, second.alerts) == (
        3,
        0,
        0,
        1,
        0,
    )
    assert len(anomalies_of(aws_endpoint, resources)) == 1
    assert len(alerts_of(aws_endpoint, resources)) == 1


def test_alerts_are_limited_to_one_per_user_per_window(aws_endpoint, resources):
    events = [wire_event(n, "user-z", suspicious=True) for n in range(4)]
    event = lambda_event([aggregate(events)])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    outcome = run(event, deps, settings)

    assert (outcome.anomalies, outcome.alerts) == (4, 1)
    assert len(alerts_of(aws_endpoint, resources)) == 1


def test_a_per_event_alert_is_recorded_on_its_window_for_the_console(aws_endpoint, resources):
    # GIVEN a model without an entity stage (too little training data for one): per-event alerts
    events = [wire_event(n, "user-w", suspicious=True) for n in range(3)]
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    # WHEN a batch raises one
    assert run(lambda_event([aggregate(events)]), deps, settings).alerts == 1
    # THEN its record sits on the window's marker, sent, and the analyst console lists it
    (message,) = alerts_of(aws_endpoint, resources)
    (record,) = DynamoAlerts(boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION),
                             settings.anomalies_table).for_partition("user-w")  # fmt: skip
    assert (record.kind, record.entity, record.pages) == ("user", "user-w", 1)
    assert record.first_event_at.strftime("%Y-%m-%dT%H:%M:%S") == message["occurred_at"][:19]
    assert record.reasons == ("an unusual resource_suspicious_tokens (contribution 0.00)",)
    assert record.client is not None
    assert (record.client.address, record.client.user_agent) == (message["ip"], events[0]["user_agent"])
    item = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION).get_item(
        TableName=settings.anomalies_table, Key={"user_id": {"S": "user-w"}, "sk": {"S": f"alert#{record.key.start}"}}
    )["Item"]
    assert item["status"]["S"] == "sent"
    assert "pending_feed" not in item
    window = settings.alert_window_seconds
    assert record.key.start % window == 0
    assert record.key.start <= record.first_event_at.timestamp() < record.key.start + window


def test_a_corrupt_aggregate_is_parked_whole(aws_endpoint, resources):
    blob, key = aggregate([wire_event(0), wire_event(1)])
    import hashlib

    body = bytearray(blob[4:-16])
    body[3] ^= 0xFF  # corrupt the protobuf, then re-sign so it still looks like an aggregate
    corrupt = blob[:4] + bytes(body) + hashlib.md5(bytes(body)).digest()
    event = lambda_event([(corrupt, key), plain(encode_event(wire_event(2)), "user-2")])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    outcome = run(event, deps, settings)

    assert outcome.response() == {"batchItemFailures": []}
    [line] = bad_events_of(aws_endpoint, resources)
    assert base64.b64decode(line["data_base64"]) == corrupt
    assert line["reason"].startswith("corrupt aggregate")


def test_a_retry_never_applies_an_event_twice_to_a_users_state(aws_endpoint, resources):
    # GIVEN one aggregate with three events of one user, scored one per call, the second call failing
    events = [wire_event(n, "user-r") for n in range(3)]
    event = lambda_event([aggregate(events)])
    deps, settings = dependencies(
        aws_endpoint, resources, SuspiciousResourceEndpoint(fail_calls=[2]), max_rows_per_call=1
    )
    first = run(event, deps, settings)
    assert first.nothing_processed  # the aggregate holds the failed event: it is retried whole

    # WHEN Lambda retries it with the endpoint healthy
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    second = run(event, deps, settings)

    # THEN the user's state counts each of the three events once
    assert second.response() == {"batchItemFailures": []}
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": "user#user-r"}})["Item"]
    assert UserState.from_bytes(bytes(item["state"]["B"])).total_events == 3


def test_an_empty_aggregate_is_parked_not_acknowledged_silently(aws_endpoint, resources):
    empty = MAGIC + hashlib.md5(b"").digest()  # well framed, no user records
    event = lambda_event([(empty, "user-e"), plain(encode_event(wire_event(1)), "user-1")])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    outcome = run(event, deps, settings)

    assert outcome.response() == {"batchItemFailures": []}
    [line] = bad_events_of(aws_endpoint, resources)
    assert line["reason"] == "empty aggregate"


def test_a_retried_batch_parks_each_bad_event_once(aws_endpoint, resources):
    event = lambda_event([plain(b"not json", "user-1"), plain(encode_event(wire_event(2)), "user-2")])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    run(event, deps, settings)
    run({"Records": event["Records"]}, deps, settings)  # Lambda delivers it again

    assert len(bad_events_of(aws_endpoint, resources)) == 1


def test_a_batch_with_nothing_new_makes_no_endpoint_call(aws_endpoint, resources):
    # GIVEN a processed batch
    events = [wire_event(n) for n in range(4)]
    event = lambda_event([aggregate(events)])
    endpoint = SuspiciousResourceEndpoint()
    deps, settings = dependencies(aws_endpoint, resources, endpoint)
    run(event, deps, settings)
    assert endpoint.calls == [4]

    # WHEN Lambda delivers it again, and then a batch of bad records only
    again = run(event, deps, settings)
    bad = run(lambda_event([plain(b"not json", "user-1")]), deps, settings)

    # THEN neither calls InvokeEndpoint (a call with zero rows is refused by the model and counted
    # as an endpoint error), and both are done
    assert endpoint.calls == [4]
    assert (again.endpoint_calls, again.endpoint_errors, again.replayed) == (0, 0, 4)
    assert (bad.endpoint_calls, bad.bad_events) == (0, 1)
    assert again.response() == bad.response() == {"batchItemFailures": []}


def test_a_producers_duplicate_in_a_later_batch_is_applied_once(aws_endpoint, resources):
    # GIVEN an attack by user-d applied in one batch
    events = [wire_event(n, "user-d", suspicious=n == 2) for n in range(5)]
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    run(lambda_event([aggregate(events[:3])]), deps, settings)

    # WHEN the producer's retry sends the attack again in the next batch, among new events
    second = run(lambda_event([aggregate([events[3], events[2], events[4]])]), deps, settings)

    # THEN the duplicate is dropped: the user counted 5 events, one anomaly, one alert
    assert (second.duplicates, second.scored, second.anomalies) == (1, 2, 0)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    item = dynamodb.get_item(TableName=settings.state_table, Key={"key": {"S": "user#user-d"}})["Item"]
    assert UserState.from_bytes(bytes(item["state"]["B"])).total_events == 5
    assert len(anomalies_of(aws_endpoint, resources)) == 1
    assert len(alerts_of(aws_endpoint, resources)) == 1


def test_the_duplicate_window_keeps_a_users_last_event_ids_only(aws_endpoint, resources):
    # GIVEN a user with more events than the window holds, in one batch
    events = [wire_event(n, "user-w") for n in range(MAX_SEEN_EVENT_IDS + 3)]
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    run(lambda_event([aggregate(events)]), deps, settings)

    # WHEN the newest and the oldest are sent again
    again = run(lambda_event([aggregate([events[-1], events[0]])]), deps, settings)

    # THEN the newest is dropped as a duplicate; the oldest, out of the window, is applied again
    assert (again.duplicates, again.scored) == (1, 1)


def dynamodb_item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8 strings, raw binary, numbers at most
    one byte per two significant digits plus one)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        [(kind, content)] = value.items()
        if kind == "S":
            size += len(content.encode())
        elif kind == "B":
            size += len(content)
        elif kind == "BS":
            size += sum(len(member) for member in content)
        else:
            size += (len(content.strip("0").replace(".", "")) + 1) // 2 + 1
    return size


LARGEST_SEQUENCE_NUMBER = 10**56 - 1  # Kinesis sequence numbers are 56 digits


def full_positions(keep: int) -> bytes:
    """``applied`` with as many shards as an item keeps, each at the largest sequence number."""
    applied = b""
    for shard in range(keep + 3):
        tag = shard_tag(f"shardId-{shard:012d}")
        applied = advanced(applied, tag, LARGEST_SEQUENCE_NUMBER, keep)
    return applied


def test_the_largest_user_item_fits_one_write_unit():
    # GIVEN the largest user state, the longest user id, positions in the most shards a user keeps,
    # a full window of event ids and a TTL
    state = UserState(
        last_seen=1.0,
        gap_mean=1.0,
        recent_ips=[(2**32 - 1, 2**62)] * MAX_RECENT_IPS,
        recent_agents=[2**32 - 1] * MAX_RECENT_AGENTS,
        recent_countries=[(2**32 - 1, 2**62)] * MAX_RECENT_COUNTRIES,
        recent_paths=[2**32 - 1] * MAX_RECENT_PATHS,
        recent_networks=[2**32 - 1] * MAX_RECENT_NETWORKS,
    ).to_bytes()
    assert len(state) == MAX_USER_STATE_BYTES
    seen = remember_seen(b"", [str(n) for n in range(MAX_SEEN_EVENT_IDS + 5)])
    applied = full_positions(MAX_USER_SHARD_POSITIONS)
    item = {
        "key": {"S": "user#" + "u" * MAX_ID_LENGTH},
        "state": {"B": state},
        "applied": {"B": applied},
        "seen": {"B": seen},
        "expires_at": {"N": "4102444800"},
    }
    # THEN it stays within 1 KB
    assert len(seen) == MAX_SEEN_EVENT_IDS * 8
    assert len(parse_positions(applied)) == MAX_USER_SHARD_POSITIONS
    assert dynamodb_item_size(item) <= 1024


def test_the_largest_address_and_episode_items_fit_their_units():
    # GIVEN the longest address (an IPv6 address with an IPv4 tail), the widest values, a TTL, and:
    longest_ip = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
    tags = [shard_tag(f"shardId-{number:012d}") for number in range(550)]
    ttl = {"expires_at": {"N": "4102444800"}}
    # a shard's own part: the largest state, its one position
    own_item = {
        "key": {"S": own_key(longest_ip, tags[0])},
        "state": {"B": b"\xff" * MAX_IP_STATE_BYTES},
        "applied": {"B": full_positions(1)},
        **ttl,
    }
    # the address's home, full at the default size, still holding what the earlier release wrote
    # there (its largest state, 428 bytes, and the positions of twelve shards); and full at the largest size
    home_item = {
        "key": {"S": home_key(longest_ip)},
        "shards": {"BS": tags[:DEFAULT_DIRECTORY_SIZE]},
        "state": {"B": b"\xff" * 428},
        "applied": {"B": full_positions(MAX_IP_SHARD_POSITIONS)},
        **ttl,
    }
    widest_home = {"key": {"S": home_key(longest_ip)}, "shards": {"BS": tags[:MAX_IP_DIRECTORY_SIZE]}, **ttl}
    # the fullest hot item at 1 million events/s (550 shards, docs/capacity.md): its share of the
    # shards' parts, which together keep at most the 32 users the address keeps
    items = Counter(hot_key(longest_ip, tag) for tag in tags)
    fullest, writers = items.most_common(1)[0]
    widest = (2**32 - 1, 2**62)
    parts = {
        part_attribute(tag): {
            "B": encode_part(
                full_positions(1),
                IpState(1.0, 1e6, 1e6, 1e6, 1e6, [widest] * (MAX_IP_USERS if number == 0 else 0), 2**60).to_bytes(),
            )
        }
        for number, tag in enumerate(tag for tag in tags if hot_key(longest_ip, tag) == fullest)
    }
    hot_item = {"key": {"S": fullest}, **parts, **ttl}
    episode_item = {
        "key": {"S": "entity#session#" + "s" * MAX_ID_LENGTH},
        "state": {"B": Evidence().to_bytes()},
        "applied": {"B": full_positions(MAX_IP_SHARD_POSITIONS)},
        **ttl,
    }
    # THEN the own part, the homes and the episode stay within one write unit (1 KB)
    assert dynamodb_item_size(own_item) <= 1024
    assert dynamodb_item_size(home_item) <= 1024
    assert dynamodb_item_size(widest_home) <= 1024
    assert dynamodb_item_size(episode_item) <= 1024
    # AND the fullest hot item, written once a second by each of its shards, takes a fifth of its
    # partition's 1,000 write units a second (the mean item, 550 / 16 shards, less)
    assert len(items) == HOT_ADDRESS_ITEMS
    write_units = math.ceil(dynamodb_item_size(hot_item) / 1024)
    assert write_units * writers <= 1000 / 5, (writers, write_units)


def test_a_user_item_written_by_an_earlier_release_keeps_its_position(aws_endpoint, resources):
    # GIVEN a batch applied, and its user's item rewritten as the earlier release kept it: one
    # position as applied_through, no applied positions and no event-id window
    event = lambda_event([aggregate([wire_event(n, "user-l") for n in range(3)])])
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())
    run(event, deps, settings)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    key = {"key": {"S": "user#user-l"}}
    item = dynamodb.get_item(TableName=settings.state_table, Key=key)["Item"]
    [(tag, number)] = parse_positions(bytes(item.pop("applied")["B"])).items()
    assert tag == shard_tag(SHARD)
    item.pop("seen")
    item["applied_through"] = {"S": f"{SHARD}:{number}"}
    dynamodb.put_item(TableName=settings.state_table, Item=item)

    # WHEN Lambda delivers the batch again
    again = run(event, deps, settings)

    # THEN the old position says it is applied: nothing is applied twice
    assert (again.replayed, again.scored, again.endpoint_calls) == (3, 0, 0)
    state = dynamodb.get_item(TableName=settings.state_table, Key=key)["Item"]["state"]["B"]
    assert UserState.from_bytes(bytes(state)).total_events == 3


def test_an_address_item_of_an_earlier_release_is_read_as_one_part_and_its_position_kept(aws_endpoint, resources):
    # GIVEN a user's three events at an address, applied by the earlier release to the address's
    # one item (its whole state, in the JSON form it could store, with this shard's position) but
    # not yet to the user: the batch is to be delivered again
    address = "192.0.2.44"
    first = [wire_event(n, "user-m", ip=address) for n in range(3)]
    event = lambda_event([aggregate(first)])
    legacy = featurize_batch(first).ip_states[address].to_json()
    legacy.pop("e")  # the earlier release kept no event count
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    number = int(event["Records"][0]["kinesis"]["sequenceNumber"])
    dynamodb.put_item(
        TableName=resources.settings.state_table,
        Item={
            "key": {"S": home_key(address)},
            "state": {"B": json.dumps(legacy).encode()},
            "applied": {"B": advanced(b"", shard_tag(SHARD), number, MAX_IP_SHARD_POSITIONS)},
            "expires_at": {"N": "4102444800"},
        },
    )
    deps, settings = dependencies(aws_endpoint, resources, SuspiciousResourceEndpoint())

    # WHEN Lambda delivers the batch again, then a batch of another user's events at the address
    again = run(event, deps, settings)
    later = run(lambda_event([aggregate([wire_event(n, "user-n", ip=address) for n in range(10, 12)])]), deps, settings)

    # THEN the old item's position says the address has the first events: they are applied to their
    # user alone, and not scored again
    assert (again.resumed, again.endpoint_calls) == (3, 0)
    assert later.scored == 2
    # AND the old state stays in the home as one part, beside this shard's new part: a reader of the
    # address sees both users and the five events
    items = {item["key"]["S"]: stored_state(item) for item in dynamodb.scan(TableName=settings.state_table)["Items"]}
    home = items[home_key(address)]
    assert home.shards == {shard_tag(SHARD)}
    assert IpState.from_bytes(home.state).rate_slow == pytest.approx(3.0, rel=1e-3)
    view = address_views(items, [address], b"\0" * 8, settings.ip_directory_size)[address]
    assert view.others is not None
    assert (view.others.events, len(view.others.recent_users)) == (2, 2)  # the old part counted no events
    assert IpState.from_bytes(items[own_key(address, shard_tag(SHARD))].state).events == 2


class _CollectorWatchingEndpoint(SuspiciousResourceEndpoint):
    """Notes whether the cyclic garbage collector ran while the batch was scored."""

    def __init__(self, fail_calls: Sequence[int] = ()) -> None:
        super().__init__(fail_calls)
        self.collector_enabled: list[bool] = []

    def score(self, rows: Any, body: bytes | None = None, feature_config_id: str | None = None) -> list[Any]:
        self.collector_enabled.append(gc.isenabled())
        return super().score(rows, body, feature_config_id)


def test_the_collector_is_paused_for_a_batch_and_resumed_after_it_even_when_it_fails(aws_endpoint, resources):
    # GIVEN an enabled garbage collector, and an endpoint that fails the second batch's call
    assert gc.isenabled()
    event = lambda_event([plain(encode_event(wire_event(0)), "user-0")])
    endpoint = _CollectorWatchingEndpoint(fail_calls=[2])
    deps, settings = dependencies(aws_endpoint, resources, endpoint)
    # WHEN a batch is scored, then one whose call fails
    run(event, deps, settings)
    outcome = run(lambda_event([plain(encode_event(wire_event(1)), "user-1")]), deps, settings)
    # THEN the collector was paused during each (a batch's containers all live until it is done)
    assert endpoint.collector_enabled == [False, False]
    assert outcome.response() != {"batchItemFailures": []}
    # AND it runs again after them, failed or not: a warm Lambda's later batches free their cycles
    assert gc.isenabled()
