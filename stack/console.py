"""The analyst console's AWS side: the labels table its verdicts go to, and the managed policy an
analyst's role needs to run ``python -m console`` against the deployed pipeline.

The console runs on the analyst's machine with their own credentials: nothing here is public. The
policy allows reading alert records (the anomalies table and its alert index), reading and writing
verdicts, and reading the archive's events where they are (DuckDB over S3, decrypted through S3).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from console.labels import LABELS_HASH_KEY, LABELS_RANGE_KEY
from scorer.stores import ALERTS_INDEX
from stack.iam import Statement, key_use, policy_document, read_archived_events

# Exactly the calls console.alerts, console.labels and archive.sql make.
ALERT_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
LABEL_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan")


@dataclass(frozen=True)
class AnalystConsoleArgs:
    kms_key_arn: pulumi.Input[str]
    region: pulumi.Input[str]
    anomalies_table_arn: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]


class AnalystConsole(pulumi.ComponentResource):
    labels_table_name: pulumi.Output[str]
    labels_table_arn: pulumi.Output[str]
    policy_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AnalystConsoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:AnalystConsole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = aws.dynamodb.Table(
            f"{name}-labels",
            # A few writes a day per analyst: on demand costs nothing when nobody judges.
            billing_mode="PAY_PER_REQUEST",
            hash_key=LABELS_HASH_KEY,
            range_key=LABELS_RANGE_KEY,
            attributes=[{"name": LABELS_HASH_KEY, "type": "S"}, {"name": LABELS_RANGE_KEY, "type": "S"}],
            # Verdicts are the ground truth training and the backtest learn from: recoverable.
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": args.kms_key_arn},
            opts=child,
        )
        policy = aws.iam.Policy(
            f"{name}-console-policy",
            description="Run the Vedette analyst console (python -m console): read alerts and events, record verdicts.",
            policy=policy_document(
                [
                    Statement(
                        "ReadAlerts",
                        ALERT_READ_ACTIONS,
                        [
                            args.anomalies_table_arn,
                            pulumi.Output.concat(args.anomalies_table_arn, "/index/", ALERTS_INDEX),
                        ],
                    ),
                    Statement("RecordVerdicts", LABEL_ACTIONS, [labels.arn]),
                    *read_archived_events(args.archive_bucket_arn),
                    # The archive's objects are SSE-KMS with the pipeline key (DynamoDB uses the key
                    # through its own grants).
                    key_use("DecryptEvents", args.kms_key_arn, args.region, ("s3",), actions=("kms:Decrypt",)),
                ]
            ),
            opts=child,
        )
        self.labels_table_name = labels.name
        self.labels_table_arn = labels.arn
        self.policy_arn = policy.arn
        self.register_outputs({"labels_table_name": self.labels_table_name, "policy_arn": self.policy_arn})
