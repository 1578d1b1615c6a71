"""Lambda Kinesis events built exactly as Lambda delivers them, and the scorer's AWS resources on moto."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from aws_kinesis_agg.aggregator import RecordAggregator

from local_pipeline.resources import anomalies_table_definition
from model.features import FEATURE_NAMES
from model.rows import NPY_CONTENT_TYPE
from scorer.endpoint import Score
from scorer.exceptions import TransientError
from scorer.settings import ScorerSettings
from vedette.events import encode_event, format_timestamp, normalize_event

REGION = "us-east-1"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/vedette-events"
SHARD = "shardId-000000000003"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SQL_INJECTION = "/login?user=admin' or 1=1 --"

_sequence = itertools.count(1)


def next_sequence_number() -> str:
    """Kinesis-like sequence numbers: 56 digits, growing within the shard."""
    return str(49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000 + next(_sequence) * 1000)


def wire_event(n: int, user: str | None = None, *, suspicious: bool = False, **fields: Any) -> dict[str, Any]:
    """A valid wire event; events with a larger ``n`` happen later."""
    event = {
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "occurred_at": format_timestamp(START + timedelta(seconds=n)),
        "event_type": "login_failed" if suspicious else "page_view",
        "user_id": user or f"user-{n % 7}",
        "session_id": f"s-{n % 7}",
        "ip": f"198.51.100.{n % 50}",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0",
        "resource": SQL_INJECTION if suspicious else f"/catalog/items/{n}",
        "status": 401 if suspicious else 200,
        **fields,
    }
    return normalize_event(event)


def plain(data: bytes, partition_key: str) -> tuple[bytes, str]:
    return data, partition_key


def aggregate(events: Sequence[dict[str, Any] | bytes]) -> tuple[bytes, str]:
    """One KPL aggregate made by aws-kinesis-agg, the reference implementation."""
    aggregator = RecordAggregator()
    for event in events:
        data = event if isinstance(event, bytes) else encode_event(event)
        key = "bad-key" if isinstance(event, bytes) else event["user_id"]
        assert aggregator.add_user_record(key, data) is None, "test aggregate overflowed"
    partition_key, _, blob = aggregator.clear_and_get().get_contents()
    return blob, partition_key


def lambda_event(records: Sequence[tuple[bytes, str]], shard: str = SHARD) -> dict[str, Any]:
    """A Kinesis event as Lambda passes it to the handler."""
    out = []
    for data, partition_key in records:
        sequence_number = next_sequence_number()
        out.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key,
                    "sequenceNumber": sequence_number,
                    "data": base64.b64encode(data).decode(),
                    "approximateArrivalTimestamp": START.timestamp() + 0.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/vedette-scorer",
                "awsRegion": REGION,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": out}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


SUSPICIOUS = FEATURE_NAMES.index("resource_suspicious_tokens")


class SuspiciousResourceEndpoint:
    """An in-process endpoint for failure tests: flags rows whose resource has suspicious tokens,
    and fails the calls whose numbers are in ``fail_calls`` (1-based) as a throttled endpoint does."""

    THRESHOLD = 1.0
    content_type = NPY_CONTENT_TYPE

    def __init__(self, fail_calls: Sequence[int] = ()) -> None:
        self.fail_calls = set(fail_calls)
        self.calls: list[int] = []

    def score(
        self, rows: np.ndarray[Any, Any], body: bytes | None = None, feature_config_id: str | None = None
    ) -> list[Score]:
        self.calls.append(len(rows))
        if len(self.calls) in self.fail_calls:
            raise TransientError("endpoint", "ThrottlingException: injected")
        return [
            Score(
                float(row[SUSPICIOUS]) * 2,
                bool(row[SUSPICIOUS] > 0),
                self.THRESHOLD,
                [{"feature": "resource_suspicious_tokens"}],
            )
            for row in rows
        ]


@dataclass
class ScorerResources:
    settings: ScorerSettings
    alerts_queue_url: str


def create_resources(endpoint_url: str, name: str) -> ScorerResources:
    """The tables, bucket, topic (with an SQS subscription to observe alerts) the stack creates."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    dynamodb.create_table(
        TableName=f"{name}-state",
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(**anomalies_table_definition(f"{name}-anomalies"))
    boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION).create_bucket(Bucket=f"{name}-bad-events")
    # A FIFO topic, as the stack creates, and a FIFO queue on it: what a subscriber receives is what SNS
    # delivers after its deduplication (moto hands the deduplication id to the queue, which applies it).
    sns = boto3.client("sns", endpoint_url=endpoint_url, region_name=REGION)
    topic_arn = sns.create_topic(Name=f"{name}-alerts.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=REGION)
    queue_url = sqs.create_queue(QueueName=f"{name}-alerts-inbox.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    settings = ScorerSettings(
        endpoint_name=f"{name}-model",
        state_table=f"{name}-state",
        anomalies_table=f"{name}-anomalies",
        alerts_topic_arn=topic_arn,
        bad_events_bucket=f"{name}-bad-events",
    )
    return ScorerResources(settings, queue_url)
