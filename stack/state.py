"""What the scorer keeps: per-user state (TTL), anomalies (point-in-time recovery), alerts topic (FIFO).

The key schemas are the ones ``scorer.stores`` reads and writes (its docstring documents them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from scorer.stores import (
    ALERT_AT_ATTRIBUTE,
    ALERT_FEED_ATTRIBUTE,
    ALERTS_INDEX,
    PENDING_ALERTS_INDEX,
    PENDING_AT_ATTRIBUTE,
    PENDING_FEED_ATTRIBUTE,
)

STATE_HASH_KEY = "key"
STATE_TTL_ATTRIBUTE = "expires_at"
ANOMALIES_HASH_KEY = "user_id"
ANOMALIES_RANGE_KEY = "sk"
# Provisioned state table: autoscaling keeps utilization near this, up to this multiple of the floor.
TARGET_UTILIZATION_PERCENT = 70.0
MAX_CAPACITY_MULTIPLE = 4
FIFO_SUFFIX = ".fifo"  # a FIFO topic's name must end with it
TOPIC_NAME_MAX_CHARACTERS = 256


def _topic_safe(text: str) -> str:
    """``text`` with only the characters an SNS topic name may hold."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[: TOPIC_NAME_MAX_CHARACTERS // 2]


@dataclass(frozen=True)
class ScorerStateArgs:
    kms_key_arn: pulumi.Input[str]
    # 0: on demand. Above 0: provisioned read and write units (the floor autoscaling keeps).
    state_capacity_units: int = 0


class ScorerState(pulumi.ComponentResource):
    state_table_name: pulumi.Output[str]
    state_table_arn: pulumi.Output[str]
    anomalies_table_name: pulumi.Output[str]
    anomalies_table_arn: pulumi.Output[str]
    alerts_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ScorerStateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:ScorerState", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        encryption: aws.dynamodb.TableServerSideEncryptionArgsDict = {"enabled": True, "kms_key_arn": args.kms_key_arn}
        provisioned = args.state_capacity_units > 0
        state = aws.dynamodb.Table(
            f"{name}-state",
            # Every event reads and writes its user's and its IP's state: at a steady load,
            # provisioned capacity costs a fraction of on-demand requests (docs/deploy.md).
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            read_capacity=args.state_capacity_units if provisioned else None,
            write_capacity=args.state_capacity_units if provisioned else None,
            hash_key=STATE_HASH_KEY,
            attributes=[{"name": STATE_HASH_KEY, "type": "S"}],
            # Idle users' and IPs' state expires instead of growing the table forever.
            ttl={"attribute_name": STATE_TTL_ATTRIBUTE, "enabled": True},
            server_side_encryption=encryption,
            # No ignore_changes on the capacity: when the table switches from on demand, the provider
            # would then get no capacity and set 1 read and 1 write unit, and the table would throttle
            # until autoscaling caught up. With the floor always sent, the switch sets it. Autoscaling
            # then moves the capacity, and Pulumi leaves it alone: the floor it sends is unchanged
            # from its state (a `pulumi refresh` under load would read the scaled value, and the
            # next `up` would set the floor again: docs/deploy.md).
            opts=child,
        )
        if provisioned:
            for dimension in ("Read", "Write"):
                target = aws.appautoscaling.Target(
                    f"{name}-state-{dimension.lower()}-target",
                    service_namespace="dynamodb",
                    resource_id=pulumi.Output.concat("table/", state.name),
                    scalable_dimension=f"dynamodb:table:{dimension}CapacityUnits",
                    min_capacity=args.state_capacity_units,
                    max_capacity=args.state_capacity_units * MAX_CAPACITY_MULTIPLE,
                    opts=child,
                )
                aws.appautoscaling.Policy(
                    f"{name}-state-{dimension.lower()}-scaling",
                    policy_type="TargetTrackingScaling",
                    service_namespace=target.service_namespace,
                    resource_id=target.resource_id,
                    scalable_dimension=target.scalable_dimension,
                    target_tracking_scaling_policy_configuration={
                        "target_value": TARGET_UTILIZATION_PERCENT,
                        "predefined_metric_specification": {
                            "predefined_metric_type": f"DynamoDB{dimension}CapacityUtilization"
                        },
                    },
                    opts=child,
                )
        anomalies = aws.dynamodb.Table(
            f"{name}-anomalies",
            billing_mode="PAY_PER_REQUEST",
            hash_key=ANOMALIES_HASH_KEY,
            range_key=ANOMALIES_RANGE_KEY,
            attributes=[
                {"name": name, "type": "S"}
                for name in (
                    ANOMALIES_HASH_KEY,
                    ANOMALIES_RANGE_KEY,
                    ALERT_FEED_ATTRIBUTE,
                    ALERT_AT_ATTRIBUTE,
                    PENDING_FEED_ATTRIBUTE,
                    PENDING_AT_ATTRIBUTE,
                )
            ],
            # Entity alert records, newest first, for the analyst console (sparse: only alert
            # records carry these attributes; scorer.stores says why one partition is enough).
            global_secondary_indexes=[
                {
                    "name": ALERTS_INDEX,
                    "hash_key": ALERT_FEED_ATTRIBUTE,
                    "range_key": ALERT_AT_ATTRIBUTE,
                    "projection_type": "ALL",
                },
                # The records not yet sent, oldest first, for the alert sweeper (scorer.sweeper).
                {
                    "name": PENDING_ALERTS_INDEX,
                    "hash_key": PENDING_FEED_ATTRIBUTE,
                    "range_key": PENDING_AT_ATTRIBUTE,
                    "projection_type": "ALL",
                },
            ],
            # Alert markers carry expires_at (a client's, model.client_alerts, a day after its day); anomalies
            # and entity alert records do not and are kept.
            ttl={"attribute_name": STATE_TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption=encryption,
            opts=child,
        )
        # FIFO, with the scorer's deduplication id on every alert (scorer.stores): a Publish whose answer
        # was lost and that the client or Lambda retried is delivered once. A standard topic cannot
        # tell such a retry from a new alert. FIFO topics deliver to SQS queues only (not email), so
        # ``alertEmail`` gets the alarms; alerts are read from a queue subscribed to this topic.
        topic = aws.sns.Topic(
            f"{name}-alerts",
            name=f"{name}-alerts-{_topic_safe(pulumi.get_stack())}{FIFO_SUFFIX}",
            fifo_topic=True,
            content_based_deduplication=False,
            kms_master_key_id=args.kms_key_arn,
            opts=child,
        )
        self.state_table_name = state.name
        self.state_table_arn = state.arn
        self.anomalies_table_name = anomalies.name
        self.anomalies_table_arn = anomalies.arn
        self.alerts_topic_arn = topic.arn
        self.register_outputs(
            {
                "state_table_name": self.state_table_name,
                "anomalies_table_name": self.anomalies_table_name,
                "alerts_topic_arn": self.alerts_topic_arn,
            }
        )
