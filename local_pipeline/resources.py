"""The pipeline's AWS resources on the local emulator, under the names the stack gives them.

The scorer's environment is built from the same setting names the stack sets on the function
(``scorer.settings``), so the handler cannot tell it is running locally except by its endpoints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.labels import LABELS_HASH_KEY, LABELS_RANGE_KEY
from scorer import settings as scorer_settings
from scorer.stores import (
    ALERT_AT_ATTRIBUTE,
    ALERT_FEED_ATTRIBUTE,
    ALERTS_INDEX,
    PENDING_ALERTS_INDEX,
    PENDING_AT_ATTRIBUTE,
    PENDING_FEED_ATTRIBUTE,
)

REGION = "us-east-1"


@dataclass(frozen=True)
class PipelineNames:
    stream: str = "vedette-events"
    archive_bucket: str = "vedette-archive"
    delivery_stream: str = "vedette-archive"
    state_table: str = "vedette-user-state"
    anomalies_table: str = "vedette-anomalies"
    labels_table: str = "vedette-labels"
    alerts_topic: str = "vedette-alerts.fifo"  # FIFO, as the stack's: alerts are deduplicated
    on_failure_queue: str = "vedette-scorer-on-failure"
    endpoint: str = "vedette-model"
    bad_events_prefix: str = "bad-events/"
    # Not part of the stack: where the demo reads the alerts the topic sends.
    alerts_inbox_queue: str = "vedette-demo-alerts-inbox.fifo"


@dataclass
class PipelineResources:
    names: PipelineNames
    stream_arn: str
    alerts_topic_arn: str
    on_failure_queue_url: str
    alerts_inbox_url: str


def create_resources(clients: dict[str, Any], names: PipelineNames, shards: int) -> PipelineResources:
    """Create the stream, bucket, tables (the analysts' labels too), topic and queues; waits until the
    stream is active."""
    kinesis, s3, dynamodb, sns, sqs = (clients[name] for name in ("kinesis", "s3", "dynamodb", "sns", "sqs"))
    kinesis.create_stream(StreamName=names.stream, ShardCount=shards)
    s3.create_bucket(Bucket=names.archive_bucket)
    dynamodb.create_table(**state_table_definition(names.state_table))
    dynamodb.create_table(**anomalies_table_definition(names.anomalies_table))
    dynamodb.create_table(**labels_table_definition(names.labels_table))
    topic_arn = sns.create_topic(Name=names.alerts_topic, Attributes={"FifoTopic": "true"})["TopicArn"]
    on_failure_url = sqs.create_queue(QueueName=names.on_failure_queue)["QueueUrl"]
    inbox_url = sqs.create_queue(QueueName=names.alerts_inbox_queue, Attributes={"FifoQueue": "true"})["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
    kinesis.get_waiter("stream_exists").wait(StreamName=names.stream, WaiterConfig={"Delay": 0.2})
    stream_arn = kinesis.describe_stream_summary(StreamName=names.stream)["StreamDescriptionSummary"]["StreamARN"]
    return PipelineResources(names, stream_arn, topic_arn, on_failure_url, inbox_url)


def state_table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments of the scorer's state table as the stack declares it (``stack.state``)."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "key", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def anomalies_table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments of the anomalies table as the stack declares it (``stack.state``), with
    the sparse indexes of entity alert records (``scorer.stores.ALERTS_INDEX``) and of those not yet
    sent (``scorer.stores.PENDING_ALERTS_INDEX``)."""
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in (
                "user_id",
                "sk",
                ALERT_FEED_ATTRIBUTE,
                ALERT_AT_ATTRIBUTE,
                PENDING_FEED_ATTRIBUTE,
                PENDING_AT_ATTRIBUTE,
            )
        ],
        "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": ALERTS_INDEX,
                "KeySchema": [
                    {"AttributeName": ALERT_FEED_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": ALERT_AT_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": PENDING_ALERTS_INDEX,
                "KeySchema": [
                    {"AttributeName": PENDING_FEED_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": PENDING_AT_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def labels_table_definition(name: str) -> dict[str, Any]:
    """CreateTable arguments of the analysts' verdicts table (``console.labels``), as the stack declares it."""
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": LABELS_HASH_KEY, "AttributeType": "S"},
            {"AttributeName": LABELS_RANGE_KEY, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": LABELS_HASH_KEY, "KeyType": "HASH"},
            {"AttributeName": LABELS_RANGE_KEY, "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def scorer_environment(resources: PipelineResources, feature_config: str) -> dict[str, str]:
    """The environment variables the stack sets on the scorer function."""
    names = resources.names
    return {
        scorer_settings.ENDPOINT_NAME: names.endpoint,
        scorer_settings.STATE_TABLE: names.state_table,
        scorer_settings.ANOMALIES_TABLE: names.anomalies_table,
        scorer_settings.ALERTS_TOPIC_ARN: resources.alerts_topic_arn,
        scorer_settings.BAD_EVENTS_BUCKET: names.archive_bucket,
        scorer_settings.BAD_EVENTS_PREFIX: names.bad_events_prefix,
        scorer_settings.FEATURE_CONFIG: feature_config,
        "POWERTOOLS_SERVICE_NAME": "vedette-scorer",
    }


def drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message in a queue, parsed as JSON, deleting them."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
