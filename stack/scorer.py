"""The scorer: the Lambda bundle on arm64, its event source mapping on the stream, the on-failure
queue that keeps a poison batch from blocking its shard, and the alert sweeper that sends the alerts
an abandoned batch recorded but never sent (``scorer.sweeper``), on a schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from scorer.settings import ALERTS_TOPIC_ARN, ANOMALIES_TABLE
from scorer.stores import PENDING_ALERTS_INDEX
from scorer.sweeper import SWEEP_AFTER_SECONDS
from stack.exceptions import StackError
from stack.iam import STREAM_CONSUMER_ACTIONS, Statement, assume_role_policy, key_use, policy_document
from stack.lambdas import BundledFunctionArgs, bundled_function


def sweep_after_seconds(max_record_age_seconds: int) -> int:
    """How long an alert stays pending before the sweeper sends it: past the last retry its batch
    can get (the mapping's maximum record age, a week when unlimited), plus a margin."""
    longest = ESM_LONGEST_RECORD_AGE_SECONDS if max_record_age_seconds == -1 else max_record_age_seconds
    return longest + SWEEP_MARGIN_SECONDS


HANDLER = "scorer.handler.lambda_handler"
SWEEPER_HANDLER = "scorer.sweeper.lambda_handler"
SWEEPER_SCHEDULE = "rate(5 minutes)"
SWEEPER_TIMEOUT_SECONDS = 60
SWEEPER_MEMORY_MIB = 256
# Lambda's longest retry of a stream record, for a mapping whose record age is unlimited (-1).
ESM_LONGEST_RECORD_AGE_SECONDS = 7 * 86400
# Past the mapping's last retry, a margin for the last attempt's own run.
SWEEP_MARGIN_SECONDS = 900
# Failed-batch records wait at most the SQS maximum for someone to replay them.
ON_FAILURE_RETENTION_SECONDS = 14 * 86400


@dataclass(frozen=True)
class ScorerArgs:
    bundle_path: Path
    stream_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    state_table_arn: pulumi.Input[str]
    anomalies_table_arn: pulumi.Input[str]
    alerts_topic_arn: pulumi.Input[str]
    bad_events_bucket_arn: pulumi.Input[str]
    bad_events_prefix: str
    endpoint_arn: pulumi.Input[str]
    feature_configs_arn: pulumi.Input[str]  # the models' feature configurations (their object ARNs)
    environment: Mapping[str, pulumi.Input[str]]
    memory_mib: int
    timeout_seconds: int
    reserved_concurrency: int  # -1: unreserved
    batch_size: int
    batching_window_seconds: int
    parallelization_factor: int
    max_retry_attempts: int
    max_record_age_seconds: int
    starting_position: str
    log_retention_days: int
    anomalies_table_name: pulumi.Input[str]


class Scorer(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    queue_url: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ScorerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:Scorer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.bundle_path.is_file():
            raise StackError(f"scorer bundle {args.bundle_path} not found: run `make bundle`")
        queue = aws.sqs.Queue(
            f"{name}-on-failure",
            kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=3600,
            message_retention_seconds=ON_FAILURE_RETENTION_SECONDS,
            opts=child,
        )
        # Exactly the calls the scorer makes (scorer.stores, scorer.endpoint) and the mapping needs.
        function, role_policy = bundled_function(
            self,
            name,
            f"{name}-function",
            BundledFunctionArgs(args.bundle_path, args.account_id, args.log_retention_days),
            handler=HANDLER,
            statements=[
                Statement("ReadTheStream", STREAM_CONSUMER_ACTIONS, [args.stream_arn]),
                # Users and parts of addresses in batches; an address's home and hot items by
                # UpdateItem alone (scorer.ip_slices: no write may replace another shard's).
                Statement(
                    "ReadAndWriteState",
                    ("dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"),
                    [args.state_table_arn],
                ),
                # Anomalies and alert markers (put once, a taken marker returned by the failed
                # condition, or read where an endpoint does not return it; a marker set sent).
                Statement(
                    "RecordAnomalies",
                    ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
                    [args.anomalies_table_arn],
                ),
                Statement("PublishAlerts", ("sns:Publish",), [args.alerts_topic_arn]),
                Statement(
                    "WriteBadEvents",
                    ("s3:PutObject",),
                    [pulumi.Output.concat(args.bad_events_bucket_arn, "/", args.bad_events_prefix, "*")],
                ),
                Statement("ScoreOnTheEndpoint", ("sagemaker:InvokeEndpoint",), [args.endpoint_arn]),
                # When the endpoint serves another model than the bundle's (a rollout, a rollback).
                Statement("ReadFeatureConfigs", ("s3:GetObject",), [args.feature_configs_arn]),
                Statement("SendFailedBatches", ("sqs:SendMessage",), [queue.arn]),
                # Stream records, bad-event objects, alerts and failed batches are all under the key,
                # used through those services only (DynamoDB uses the key through its own grants).
                key_use("UseThePipelineKey", args.kms_key_arn, args.region, ("kinesis", "s3", "sns", "sqs")),
            ],
            memory_mib=args.memory_mib,
            timeout_seconds=args.timeout_seconds,
            reserved_concurrency=None if args.reserved_concurrency == -1 else args.reserved_concurrency,
            environment=dict(args.environment),
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-mapping",
            event_source_arn=args.stream_arn,
            function_name=function.arn,
            starting_position=args.starting_position,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=args.batching_window_seconds,
            parallelization_factor=args.parallelization_factor,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=args.max_retry_attempts,
            maximum_record_age_in_seconds=args.max_record_age_seconds,
            # The handler answers with a partial batch response (scorer.handler).
            function_response_types=["ReportBatchItemFailures"],
            destination_config={"on_failure": {"destination_arn": queue.arn}},
            # Lambda checks the role can read the stream when the mapping is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        sweeper = self._alert_sweeper(name, args)
        self.function_name = function.name
        self.function_arn = function.arn
        self.sweeper_function_name = sweeper.name
        self.queue_url = queue.url
        self.queue_name = queue.name
        self.queue_arn = queue.arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "queue_url": self.queue_url,
                "sweeper_function_name": self.sweeper_function_name,
            }
        )

    def _alert_sweeper(self, name: str, args: ScorerArgs) -> aws.lambda_.Function:
        """The sweeper (same bundle, its own role: read the pending alerts, publish, mark them sent)
        and the schedule that runs it."""
        child = pulumi.ResourceOptions(parent=self)
        function, _ = bundled_function(
            self,
            f"{name}-sweeper",
            f"{name}-sweeper",
            BundledFunctionArgs(args.bundle_path, args.account_id, args.log_retention_days),
            handler=SWEEPER_HANDLER,
            statements=[
                Statement(
                    "ReadPendingAlerts",
                    ("dynamodb:Query",),
                    [pulumi.Output.concat(args.anomalies_table_arn, "/index/", PENDING_ALERTS_INDEX)],
                ),
                Statement("MarkAlertsSent", ("dynamodb:UpdateItem",), [args.anomalies_table_arn]),
                Statement("PublishAlerts", ("sns:Publish",), [args.alerts_topic_arn]),
                key_use("UseThePipelineKey", args.kms_key_arn, args.region, ("sns",)),
            ],
            memory_mib=SWEEPER_MEMORY_MIB,
            timeout_seconds=SWEEPER_TIMEOUT_SECONDS,
            # One sweep at a time: two would publish the same pending alerts twice.
            reserved_concurrency=1,
            environment={
                ANOMALIES_TABLE: args.anomalies_table_name,
                ALERTS_TOPIC_ARN: args.alerts_topic_arn,
                SWEEP_AFTER_SECONDS: str(sweep_after_seconds(args.max_record_age_seconds)),
            },
        )
        scheduler_role = aws.iam.Role(
            f"{name}-sweeper-scheduler-role",
            assume_role_policy=assume_role_policy("scheduler.amazonaws.com", args.account_id),
            opts=child,
        )
        scheduler_policy = aws.iam.RolePolicy(
            f"{name}-sweeper-scheduler-policy",
            role=scheduler_role.id,
            policy=policy_document([Statement("RunTheSweeper", ("lambda:InvokeFunction",), [function.arn])]),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-sweeper-schedule",
            schedule_expression=SWEEPER_SCHEDULE,
            flexible_time_window={"mode": "OFF"},
            target={"arn": function.arn, "role_arn": scheduler_role.arn, "input": "{}"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_policy]),
        )
        return function
