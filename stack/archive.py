"""The archive: Firehose reads the stream and writes GZIP JSON lines to a private bucket.

Prefixes and buffering come from ``archive.layout``, the definition the archive's reader and writer
share, so what the stack configures is what ``archive.reader`` lists and parses.

With ``user_hash_buckets`` (``archiveUserHashBuckets``), the delivery stream partitions dynamically:
the partitioner function of the bundle (``functions/archive_partitioner``) runs first in its
processing configuration and returns each record's ``user_hash`` key, which the prefix
(``archive.layout.USER_HASH_PREFIX``) puts below the hour; Firehose's role may invoke that function
and no other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from archive.layout import FIREHOSE_ERROR_OUTPUT_PREFIX, FIREHOSE_PREFIX, archive_prefix, static_prefix
from archive_partitioner.handler import BUCKETS_VARIABLE
from stack.buckets import ExpiringPrefix, PrivateBucket, PrivateBucketArgs
from stack.exceptions import StackError
from stack.iam import STREAM_CONSUMER_ACTIONS, Statement, assume_role_policy, key_use, policy_document
from stack.lambdas import BundledFunctionArgs, bundled_function

ERRORS_PREFIX = static_prefix(FIREHOSE_ERROR_OUTPUT_PREFIX)
EVENTS_PREFIX = static_prefix(FIREHOSE_PREFIX)
PARTITIONER_HANDLER = "archive_partitioner.handler.lambda_handler"
# Firehose invokes the processor with about 1 MB of records (its default buffering hint for a
# Lambda processor): a few thousand events, decoded and hashed in well under a second.
PARTITIONER_MEMORY_MIB = 512
PARTITIONER_TIMEOUT_SECONDS = 60


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
    # 0: the time-only layout; else the user-hash buckets (archive.layout), partitioned by the
    # bundle's partitioner function.
    user_hash_buckets: int = 0
    bundle_path: Path | None = None


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
        partitioner = self._partitioner(name, args) if args.user_hash_buckets else None
        partitioner_arn: pulumi.Output[str] | None = None
        invoke_partitioner: list[Statement] = []
        if partitioner is not None:
            # The processor runs the function's $LATEST (Pulumi's docs: give the Lambda ARN with its version).
            partitioner_arn = pulumi.Output.concat(partitioner.arn, ":$LATEST")
            invoke_partitioner = [
                Statement(
                    "PartitionWithThePartitioner",
                    ("lambda:GetFunctionConfiguration", "lambda:InvokeFunction"),
                    [partitioner.arn, partitioner_arn],
                )
            ]
        role_policy = aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=role.id,
            policy=policy_document(
                [
                    Statement("ReadTheStream", STREAM_CONSUMER_ACTIONS, [args.stream_arn]),
                    *invoke_partitioner,
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
        destination: aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgsDict = {
            "bucket_arn": bucket.arn,
            "role_arn": role.arn,
            "prefix": archive_prefix(args.user_hash_buckets),
            "error_output_prefix": FIREHOSE_ERROR_OUTPUT_PREFIX,
            "compression_format": "GZIP",
            "buffering_size": args.buffer_mib,
            "buffering_interval": args.buffer_seconds,
            "kms_key_arn": args.kms_key_arn,
            "processing_configuration": {"enabled": True, "processors": processors(partitioner_arn)},
            "cloudwatch_logging_options": {
                "enabled": True,
                "log_group_name": log_group.name,
                "log_stream_name": log_stream.name,
            },
        }
        if partitioner is not None:
            destination["dynamic_partitioning_configuration"] = {"enabled": True}
        delivery = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-delivery",
            destination="extended_s3",
            kinesis_source_configuration={"kinesis_stream_arn": args.stream_arn, "role_arn": role.arn},
            extended_s3_configuration=destination,
            # Firehose checks its role's permissions when the delivery stream is created. It does not
            # turn dynamic partitioning on or off for an existing delivery stream: switching the
            # layout replaces it (docs/deploy.md, "Archive laid out by user hash").
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[role_policy],
                replace_on_changes=["extendedS3Configuration.dynamicPartitioningConfiguration"],
            ),
        )
        self.bucket_arn = bucket.arn
        self.bucket_name = bucket.bucket_name
        self.partitioner_function_name = None if partitioner is None else partitioner.name
        self.delivery_stream_name = delivery.name
        self.delivery_stream_arn = delivery.arn
        self.role_arn = role.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "delivery_stream_name": self.delivery_stream_name,
            }
        )

    def _partitioner(self, name: str, args: EventArchiveArgs) -> aws.lambda_.Function:
        """The partitioner function of the bundle: it reads nothing and writes only its logs."""
        if args.bundle_path is None or not args.bundle_path.is_file():
            raise StackError(f"the Lambda bundle {args.bundle_path} (the archive partitioner's code) is not found")
        function, _ = bundled_function(
            self,
            f"{name}-partitioner",
            f"{name}-archive-partitioner",
            BundledFunctionArgs(args.bundle_path, args.account_id, args.log_retention_days),
            handler=PARTITIONER_HANDLER,
            statements=[],
            memory_mib=PARTITIONER_MEMORY_MIB,
            timeout_seconds=PARTITIONER_TIMEOUT_SECONDS,
            reserved_concurrency=None,
            environment={BUCKETS_VARIABLE: str(args.user_hash_buckets)},
        )
        return function


def processors(
    partitioner_arn: pulumi.Input[str] | None,
) -> list[aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgsDict]:
    """The delivery stream's processors: the partitioner first when there is one (it returns each
    record unchanged with its partition key), then the newline the reader splits JSON lines on
    (Firehose writes records back to back)."""
    if partitioner_arn is None:
        return [{"type": "AppendDelimiterToRecord"}]
    return [
        {"type": "Lambda", "parameters": [{"parameter_name": "LambdaArn", "parameter_value": partitioner_arn}]},
        {"type": "AppendDelimiterToRecord"},
    ]
