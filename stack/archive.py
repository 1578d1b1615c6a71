"""The archive: Firehose reads the stream and writes GZIP JSON lines to a private bucket.

Prefixes and buffering come from ``archive.layout``, the definition the archive's reader and writer
share, so what the stack configures is what ``archive.reader`` lists and parses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from archive.layout import FIREHOSE_ERROR_OUTPUT_PREFIX, FIREHOSE_PREFIX, static_prefix
from stack.buckets import ExpiringPrefix, PrivateBucket, PrivateBucketArgs
from stack.iam import STREAM_CONSUMER_ACTIONS, Statement, assume_role_policy, key_use, policy_document

ERRORS_PREFIX = static_prefix(FIREHOSE_ERROR_OUTPUT_PREFIX)
EVENTS_PREFIX = static_prefix(FIREHOSE_PREFIX)


@dataclass(frozen=True)
class EventArchiveArgs:
    stream_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    buffer_mib: int
    buffer_seconds: int
    infrequent_access_days: int
    expiration_days: int
    log_retention_days: int
    # Other prefixes of the bucket (the scorer's bad events), with the same lifecycle.
    extra_prefixes: Sequence[str] = ()


class EventArchive(pulumi.ComponentResource):
    bucket_arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    delivery_stream_name: pulumi.Output[str]
    delivery_stream_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: EventArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:EventArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lifecycle = [
            ExpiringPrefix(prefix, args.expiration_days, args.infrequent_access_days)
            for prefix in (EVENTS_PREFIX, ERRORS_PREFIX, *args.extra_prefixes)
        ]
        bucket = PrivateBucket(
            f"{name}-archive", PrivateBucketArgs(kms_key_arn=args.kms_key_arn, lifecycle=lifecycle), opts=child
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-delivery-logs", retention_in_days=args.log_retention_days, opts=child
        )
        log_stream = aws.cloudwatch.LogStream(f"{name}-delivery-log-stream", log_group_name=log_group.name, opts=child)
        role = aws.iam.Role(
            f"{name}-firehose-role",
            assume_role_policy=assume_role_policy("firehose.amazonaws.com", args.account_id),
            opts=child,
        )
        objects = [pulumi.Output.concat(bucket.arn, "/", prefix, "*") for prefix in (EVENTS_PREFIX, ERRORS_PREFIX)]
        role_policy = aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=role.id,
            policy=policy_document(
                [
                    Statement("ReadTheStream", STREAM_CONSUMER_ACTIONS, [args.stream_arn]),
                    Statement(
                        "ListTheBucket",
                        ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"),
                        [bucket.arn],
                    ),
                    Statement("WriteArchiveObjects", ("s3:AbortMultipartUpload", "s3:PutObject"), objects),
                    # Decrypt the stream's records, encrypt the objects (SSE-KMS): through those services only.
                    key_use("UseThePipelineKey", args.kms_key_arn, args.region, ("kinesis", "s3")),
                    Statement("LogDeliveryErrors", ("logs:PutLogEvents",), [log_stream.arn]),
                ]
            ),
            opts=child,
        )
        delivery = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-delivery",
            destination="extended_s3",
            kinesis_source_configuration={"kinesis_stream_arn": args.stream_arn, "role_arn": role.arn},
            extended_s3_configuration={
                "bucket_arn": bucket.arn,
                "role_arn": role.arn,
                "prefix": FIREHOSE_PREFIX,
                "error_output_prefix": FIREHOSE_ERROR_OUTPUT_PREFIX,
                "compression_format": "GZIP",
                "buffering_size": args.buffer_mib,
                "buffering_interval": args.buffer_seconds,
                "kms_key_arn": args.kms_key_arn,
                # Firehose writes records back to back: the reader splits JSON lines on this newline.
                "processing_configuration": {
                    "enabled": True,
                    "processors": [{"type": "AppendDelimiterToRecord"}],
                },
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": log_group.name,
                    "log_stream_name": log_stream.name,
                },
            },
            # Firehose checks its role's permissions when the delivery stream is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.bucket_arn = bucket.arn
        self.bucket_name = bucket.bucket_name
        self.delivery_stream_name = delivery.name
        self.delivery_stream_arn = delivery.arn
        self.role_arn = role.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "delivery_stream_name": self.delivery_stream_name,
            }
        )
