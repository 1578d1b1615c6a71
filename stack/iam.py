"""IAM documents built from resource ARNs: one statement per thing a service touches.

Documents are JSON built with ``pulumi.Output.json_dumps`` from typed Outputs, so no resource is
created inside an ``apply`` and every statement names the ARNs it serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from archive.table import EVENTS_PREFIX

# What a consumer of the stream calls (Firehose and the scorer's event source mapping alike).
STREAM_CONSUMER_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
# The condition key each service principal's trust policy pins to this account (confused-deputy
# guard). Firehose's developer guide documents sts:ExternalId equal to the account id for the role it
# assumes, and not whether it sends aws:SourceAccount: use what it documents.
TRUST_CONDITION_KEYS: Mapping[str, str] = {"firehose.amazonaws.com": "sts:ExternalId"}
DEFAULT_TRUST_CONDITION_KEY = "aws:SourceAccount"
# KMS actions a role uses the pipeline key with; each grant is limited to the AWS services that
# call KMS on the role's behalf (kms:ViaService), so the role cannot use the key directly.
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class Statement:
    """An Allow statement: exact action names (no wildcards) on named resources, under conditions
    (``{"StringEquals": {"kms:ViaService": [...]}}``) when given."""

    sid: str
    actions: tuple[str, ...]
    resources: Sequence[pulumi.Input[str]]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """The JSON policy document allowing each statement's actions on its resources."""
    rendered: list[dict[str, Any]] = []
    for statement in statements:
        entry: dict[str, Any] = {
            "Sid": statement.sid,
            "Effect": "Allow",
            "Action": sorted(statement.actions),
            "Resource": list(statement.resources),
        }
        if statement.conditions:
            entry["Condition"] = {operator: dict(values) for operator, values in statement.conditions.items()}
        rendered.append(entry)
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": rendered})


def via_services(region: pulumi.Input[str], *services: str) -> list[pulumi.Output[str]]:
    """``kms:ViaService`` values: ``<service>.<region>.amazonaws.com`` for each service."""
    return [pulumi.Output.concat(service, ".", region, ".amazonaws.com") for service in services]


def key_use(
    sid: str,
    key_arn: pulumi.Input[str],
    region: pulumi.Input[str],
    services: Sequence[str],
    actions: tuple[str, ...] = KEY_USE_ACTIONS,
) -> Statement:
    """Use of the pipeline key only through ``services`` in this region (kms:ViaService)."""
    return Statement(
        sid,
        actions,
        [key_arn],
        {"StringEquals": {"kms:ViaService": via_services(region, *services)}},
    )


def read_archived_events(archive_bucket_arn: pulumi.Input[str]) -> list[Statement]:
    """List and read the archive's event objects (under ``EVENTS_PREFIX``) and nothing else in it."""
    return [
        Statement(
            "ListTheEvents",
            ("s3:ListBucket",),
            [archive_bucket_arn],
            {"StringLike": {"s3:prefix": [f"{EVENTS_PREFIX}*"]}},
        ),
        Statement(
            "ReadTheEvents",
            ("s3:GetObject",),
            [pulumi.Output.concat(archive_bucket_arn, "/", EVENTS_PREFIX, "*")],
        ),
    ]


def assume_role_policy(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust policy for one service principal, limited to this account (confused-deputy guard)."""
    condition_key = TRUST_CONDITION_KEYS.get(service, DEFAULT_TRUST_CONDITION_KEY)
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {condition_key: account_id}},
                }
            ],
        }
    )
