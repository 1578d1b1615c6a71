"""The pipeline's customer-managed KMS key: every store of the pipeline is encrypted with it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PipelineKeyArgs:
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: pulumi.Input[str]


class PipelineKey(pulumi.ComponentResource):
    """A rotating KMS key. IAM policies grant its use per role; the key policy adds CloudWatch,
    which must encrypt alarm notifications for the KMS-encrypted topics."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: PipelineKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:PipelineKey", name, None, opts)
        root = pulumi.Output.concat("arn:", args.partition, ":iam::", args.account_id, ":root")
        key_policy = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        # The default key policy: the account's IAM policies decide who uses the key.
                        "Sid": "AccountAdministersThroughIam",
                        "Effect": "Allow",
                        "Principal": {"AWS": root},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                    },
                ],
            }
        )
        key = aws.kms.Key(
            f"{name}-key",
            description="Vedette pipeline: stream, archive, tables, queue and topics",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = key.arn
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn})
