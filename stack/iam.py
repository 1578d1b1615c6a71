"""IAM documents built from resource ARNs: one statement per thing a service touches.

Documents are JSON built with ``pulumi.Output.json_dumps`` from typed Outputs, so no resource is
created inside an ``apply`` and every statement names the ARNs it serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

# What a consumer of the stream calls (Firehose and the scorer's event source mapping alike).
STREAM_CONSUMER_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


@dataclass(frozen=True)
class Statement:
    """An Allow statement: exact action names (no wildcards) on named resources."""

    sid: str
    actions: tuple[str, ...]
    resources: Sequence[pulumi.Input[str]]


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """The JSON policy document allowing each statement's actions on its resources."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": statement.sid,
                    "Effect": "Allow",
                    "Action": sorted(statement.actions),
                    "Resource": list(statement.resources),
                }
                for statement in statements
            ],
        }
    )


def assume_role_policy(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust policy for one service principal, limited to this account (confused-deputy guard)."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )
