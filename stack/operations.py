"""Operations: alarms on what breaks first, each naming the resource it watches, and a dashboard."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PERIOD_SECONDS = 60


@dataclass(frozen=True)
class OperationsArgs:
    kms_key_arn: pulumi.Input[str]
    alert_email: str
    region: pulumi.Input[str]
    dashboard_name: str
    stream_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    queue_name: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    variant_name: str
    delivery_stream_name: pulumi.Input[str]
    iterator_age_alarm_seconds: int
    endpoint_latency_alarm_ms: int
    archive_freshness_alarm_seconds: int
    # The archive's partitioner function, when the archive is laid out by user hash (else None).
    partitioner_function_name: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class _Alarm:
    suffix: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, pulumi.Input[str]]
    threshold: float
    statistic: str = "Sum"
    extended_statistic: str | None = None
    comparison: str = "GreaterThanOrEqualToThreshold"
    evaluation_periods: int = 5
    datapoints_to_alarm: int = 3


class Operations(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarm_names: list[pulumi.Output[str]]
    # Each alarm by its suffix ("endpoint-5xx", ...): the retraining cycle's rollout watches some.
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: OperationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:Operations", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=args.kms_key_arn, opts=child)
        if args.alert_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email", topic=topic.arn, protocol="email", endpoint=args.alert_email, opts=child
            )
        function = {"FunctionName": args.function_name}
        variant = {"EndpointName": args.endpoint_name, "VariantName": args.variant_name}
        alarms = [
            _Alarm(
                "iterator-age",
                "The scorer is falling behind the stream (oldest record in the last batch).",
                "AWS/Lambda",
                "IteratorAge",
                function,
                args.iterator_age_alarm_seconds * 1000.0,  # milliseconds
                statistic="Maximum",
                comparison="GreaterThanThreshold",
            ),
            _Alarm("errors", "The scorer failed invocations (batches retried).", "AWS/Lambda", "Errors", function, 1),
            _Alarm("throttles", "The scorer was throttled (concurrency).", "AWS/Lambda", "Throttles", function, 1),
            _Alarm(
                "on-failure-depth",
                "Batches gave up on and sent to the on-failure queue: replay them.",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": args.queue_name},
                1,
                statistic="Maximum",
                evaluation_periods=1,
                datapoints_to_alarm=1,
            ),
            _Alarm(
                "endpoint-5xx", "The model endpoint answered 5xx.", "AWS/SageMaker", "Invocation5XXErrors", variant, 1
            ),
            _Alarm(
                "endpoint-latency",
                "The model endpoint's p99 model latency is above the threshold.",
                "AWS/SageMaker",
                "ModelLatency",
                variant,
                args.endpoint_latency_alarm_ms * 1000.0,  # microseconds
                statistic="",
                extended_statistic="p99",
                comparison="GreaterThanThreshold",
            ),
            _Alarm(
                "archive-freshness",
                "The oldest record not yet archived to S3 is older than the threshold.",
                "AWS/Firehose",
                "DeliveryToS3.DataFreshness",
                {"DeliveryStreamName": args.delivery_stream_name},
                float(args.archive_freshness_alarm_seconds),
                statistic="Maximum",
                comparison="GreaterThanThreshold",
            ),
        ]
        if args.partitioner_function_name is not None:
            alarms += _partitioning_alarms(args.partitioner_function_name, args.delivery_stream_name)
        names: list[pulumi.Output[str]] = []
        self.alarms = {}
        for alarm in alarms:
            resource = aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm.suffix}",
                alarm_description=alarm.description,
                namespace=alarm.namespace,
                metric_name=alarm.metric,
                dimensions=alarm.dimensions,
                statistic=alarm.statistic or None,
                extended_statistic=alarm.extended_statistic,
                period=PERIOD_SECONDS,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                threshold=alarm.threshold,
                comparison_operator=alarm.comparison,
                # No data means no traffic or no failure, not an incident.
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                opts=child,
            )
            names.append(resource.name)
            self.alarms[alarm.suffix] = resource

        def metric(alarm: _Alarm) -> list[object]:
            dimensions: list[object] = []
            for key, value in alarm.dimensions.items():
                dimensions += [key, value]
            stat = alarm.extended_statistic or alarm.statistic
            return [alarm.namespace, alarm.metric, *dimensions, {"stat": stat, "label": alarm.suffix}]

        widgets: list[dict[str, object]] = [
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": alarm.description,
                    "region": args.region,
                    "period": PERIOD_SECONDS,
                    "view": "timeSeries",
                    "metrics": [metric(alarm)],
                    "annotations": {"horizontal": [{"label": "alarm", "value": alarm.threshold}]},
                },
            }
            for alarm in alarms
        ]
        widgets.insert(
            0,
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Events in and scored",
                    "region": args.region,
                    "period": PERIOD_SECONDS,
                    "view": "timeSeries",
                    "metrics": [
                        ["AWS/Kinesis", "IncomingRecords", "StreamName", args.stream_name, {"stat": "Sum"}],
                        ["Vedette", "EventsScored", "service", "vedette-scorer", {"stat": "Sum"}],
                        ["Vedette", "Anomalies", "service", "vedette-scorer", {"stat": "Sum"}],
                    ],
                },
            },
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
            opts=child,
        )
        self.topic_arn = topic.arn
        self.dashboard_name = dashboard.dashboard_name
        self.alarm_names = names
        self.register_outputs({"topic_arn": self.topic_arn, "dashboard_name": self.dashboard_name})


def _partitioning_alarms(function_name: pulumi.Input[str], delivery_stream_name: pulumi.Input[str]) -> list[_Alarm]:
    """Alarms on the archive laid out by user hash. A batch the partitioner fails after Firehose's
    retries, and records beyond the delivery stream's active partitions, are written under
    ``errors/`` (with their raw data), where no table over ``events/`` reads them: each is named at
    its first minute."""
    partitioner = {"FunctionName": function_name}
    delivery = {"DeliveryStreamName": delivery_stream_name}
    return [
        _Alarm(
            "archive-processing",
            "Firehose's calls to the archive partitioner failed: after its retries, their records are "
            "kept under errors/processing-failed/, outside the archive's tables.",
            "AWS/Firehose",
            "ExecuteProcessing.Success",  # successful invocations over all invocations
            delivery,
            1.0,
            statistic="Minimum",
            comparison="LessThanThreshold",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        _Alarm(
            "archive-partitioner-errors",
            "The archive partitioner failed invocations (Firehose retries them).",
            "AWS/Lambda",
            "Errors",
            partitioner,
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        _Alarm(
            "archive-partitioner-throttles",
            "The archive partitioner was throttled (the Region's Lambda concurrency).",
            "AWS/Lambda",
            "Throttles",
            partitioner,
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        _Alarm(
            "archive-partitions-exceeded",
            "More user-hash partitions were open than the delivery stream's active partitions limit: "
            "the records beyond it are kept under errors/, outside the archive's tables.",
            "AWS/Firehose",
            "PartitionCountExceeded",
            delivery,
            1,
            statistic="Maximum",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
    ]
