"""Check the values the program sends against the AWS API models botocore ships, offline.

Pulumi's mocks accept any value (a bogus runtime string passes); AWS refuses a value outside an
enum, a range, a length or a pattern only at ``pulumi up``, half-way through an update. Every
resource input with such a constraint is mapped here to the API member it ends up in
(``INPUT_MEMBERS``), and ``check_resources`` validates the registered values against that member's
shape in botocore's service model: the same models the AWS SDKs and CLI are generated from.

Resource types the program registers must appear in ``INPUT_MEMBERS`` (an empty mapping when no
input has a constraint), so a new resource cannot go unchecked by omission.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session


@dataclass(frozen=True, slots=True)
class Member:
    """An API input member: ``path`` walks the operation's input shape (``A.B[].C``)."""

    service: str
    operation: str
    path: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A value the API would refuse: which resource, which input, the value and the reason."""

    resource: str
    input_path: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.input_path} = {self.value!r}: {self.reason}"


def _members(service: str, operation: str, paths: Mapping[str, str]) -> dict[str, Member]:
    return {input_path: Member(service, operation, path) for input_path, path in paths.items()}


_S3_RULES = "LifecycleConfiguration.Rules[]"
_FIREHOSE_S3 = "ExtendedS3DestinationConfiguration"
_GLUE_TABLE = "TableInput"
_ATHENA = "Configuration"
_ESM = "CreateEventSourceMapping"

# Pulumi input path (camelCase, ``[]`` for list items) -> the API member it is sent as.
INPUT_MEMBERS: dict[str, dict[str, Member]] = {
    "aws:kinesis/stream:Stream": {
        **_members(
            "kinesis",
            "CreateStream",
            {"shardCount": "ShardCount", "streamModeDetails.streamMode": "StreamModeDetails.StreamMode"},
        ),
        **_members("kinesis", "IncreaseStreamRetentionPeriod", {"retentionPeriod": "RetentionPeriodHours"}),
        **_members("kinesis", "StartStreamEncryption", {"encryptionType": "EncryptionType", "kmsKeyId": "KeyId"}),
    },
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _members(
        "firehose",
        "CreateDeliveryStream",
        {
            "kinesisSourceConfiguration.kinesisStreamArn": "KinesisStreamSourceConfiguration.KinesisStreamARN",
            "kinesisSourceConfiguration.roleArn": "KinesisStreamSourceConfiguration.RoleARN",
            "extendedS3Configuration.bucketArn": f"{_FIREHOSE_S3}.BucketARN",
            "extendedS3Configuration.roleArn": f"{_FIREHOSE_S3}.RoleARN",
            "extendedS3Configuration.prefix": f"{_FIREHOSE_S3}.Prefix",
            "extendedS3Configuration.errorOutputPrefix": f"{_FIREHOSE_S3}.ErrorOutputPrefix",
            "extendedS3Configuration.compressionFormat": f"{_FIREHOSE_S3}.CompressionFormat",
            "extendedS3Configuration.bufferingSize": f"{_FIREHOSE_S3}.BufferingHints.SizeInMBs",
            "extendedS3Configuration.bufferingInterval": f"{_FIREHOSE_S3}.BufferingHints.IntervalInSeconds",
            "extendedS3Configuration.kmsKeyArn": (
                f"{_FIREHOSE_S3}.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN"
            ),
            "extendedS3Configuration.processingConfiguration.processors[].type": (
                f"{_FIREHOSE_S3}.ProcessingConfiguration.Processors[].Type"
            ),
            "extendedS3Configuration.cloudwatchLoggingOptions.logGroupName": (
                f"{_FIREHOSE_S3}.CloudWatchLoggingOptions.LogGroupName"
            ),
            "extendedS3Configuration.cloudwatchLoggingOptions.logStreamName": (
                f"{_FIREHOSE_S3}.CloudWatchLoggingOptions.LogStreamName"
            ),
        },
    ),
    "aws:s3/bucket:Bucket": {},
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _members(
        "s3", "PutBucketOwnershipControls", {"rule.objectOwnership": "OwnershipControls.Rules[].ObjectOwnership"}
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {},
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _members(
        "s3",
        "PutBucketEncryption",
        {
            "rules[].applyServerSideEncryptionByDefault.sseAlgorithm": (
                "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm"
            )
        },
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _members(
        "s3", "PutBucketVersioning", {"versioningConfiguration.status": "VersioningConfiguration.Status"}
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _members("s3", "PutBucketPolicy", {"policy": "Policy"}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _members(
        "s3",
        "PutBucketLifecycleConfiguration",
        {
            "rules[].id": f"{_S3_RULES}.ID",
            "rules[].status": f"{_S3_RULES}.Status",
            "rules[].transitions[].storageClass": f"{_S3_RULES}.Transitions[].StorageClass",
            "rules[].transitions[].days": f"{_S3_RULES}.Transitions[].Days",
            "rules[].expiration.days": f"{_S3_RULES}.Expiration.Days",
            "rules[].noncurrentVersionExpiration.noncurrentDays": (
                f"{_S3_RULES}.NoncurrentVersionExpiration.NoncurrentDays"
            ),
            "rules[].abortIncompleteMultipartUpload.daysAfterInitiation": (
                f"{_S3_RULES}.AbortIncompleteMultipartUpload.DaysAfterInitiation"
            ),
        },
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": _members(
        "s3",
        "PutObject",
        {
            "key": "Key",
            "contentType": "ContentType",
            "serverSideEncryption": "ServerSideEncryption",
            "kmsKeyId": "SSEKMSKeyId",
        },
    ),
    "aws:kms/key:Key": {
        **_members("kms", "CreateKey", {"description": "Description", "policy": "Policy"}),
        **_members("kms", "ScheduleKeyDeletion", {"deletionWindowInDays": "PendingWindowInDays"}),
    },
    "aws:iam/role:Role": _members("iam", "CreateRole", {"assumeRolePolicy": "AssumeRolePolicyDocument"}),
    "aws:iam/rolePolicy:RolePolicy": _members("iam", "PutRolePolicy", {"policy": "PolicyDocument"}),
    "aws:iam/policy:Policy": _members(
        "iam", "CreatePolicy", {"policy": "PolicyDocument", "description": "Description"}
    ),
    "aws:cloudwatch/logGroup:LogGroup": _members("logs", "PutRetentionPolicy", {"retentionInDays": "retentionInDays"}),
    "aws:cloudwatch/logStream:LogStream": _members("logs", "CreateLogStream", {"logGroupName": "logGroupName"}),
    "aws:lambda/function:Function": {
        **_members(
            "lambda",
            "CreateFunction",
            {
                "runtime": "Runtime",
                "architectures": "Architectures",
                "handler": "Handler",
                "role": "Role",
                "memorySize": "MemorySize",
                "timeout": "Timeout",
                "environment.variables": "Environment.Variables",
                "loggingConfig.logFormat": "LoggingConfig.LogFormat",
                "loggingConfig.logGroup": "LoggingConfig.LogGroup",
            },
        ),
        **_members(
            "lambda", "PutFunctionConcurrency", {"reservedConcurrentExecutions": "ReservedConcurrentExecutions"}
        ),
    },
    "aws:lambda/eventSourceMapping:EventSourceMapping": _members(
        "lambda",
        _ESM,
        {
            "eventSourceArn": "EventSourceArn",
            "functionName": "FunctionName",
            "startingPosition": "StartingPosition",
            "batchSize": "BatchSize",
            "maximumBatchingWindowInSeconds": "MaximumBatchingWindowInSeconds",
            "parallelizationFactor": "ParallelizationFactor",
            "maximumRetryAttempts": "MaximumRetryAttempts",
            "maximumRecordAgeInSeconds": "MaximumRecordAgeInSeconds",
            "functionResponseTypes": "FunctionResponseTypes",
            "destinationConfig.onFailure.destinationArn": "DestinationConfig.OnFailure.Destination",
        },
    ),
    # SQS attributes and SNS topics take free-form strings: nothing the model constrains.
    "aws:sqs/queue:Queue": {},
    "aws:sns/topic:Topic": {},
    "aws:sns/topicSubscription:TopicSubscription": _members("sns", "Subscribe", {"protocol": "Protocol"}),
    "aws:dynamodb/table:Table": {
        **_members(
            "dynamodb",
            "CreateTable",
            {
                "billingMode": "BillingMode",
                "hashKey": "KeySchema[].AttributeName",
                "rangeKey": "KeySchema[].AttributeName",
                "attributes[].name": "AttributeDefinitions[].AttributeName",
                "attributes[].type": "AttributeDefinitions[].AttributeType",
                "readCapacity": "ProvisionedThroughput.ReadCapacityUnits",
                "writeCapacity": "ProvisionedThroughput.WriteCapacityUnits",
                "serverSideEncryption.kmsKeyArn": "SSESpecification.KMSMasterKeyId",
            },
        ),
        **_members("dynamodb", "UpdateTimeToLive", {"ttl.attributeName": "TimeToLiveSpecification.AttributeName"}),
    },
    "aws:sagemaker/model:Model": _members(
        "sagemaker",
        "CreateModel",
        {
            "executionRoleArn": "ExecutionRoleArn",
            "primaryContainer.image": "PrimaryContainer.Image",
            "primaryContainer.modelDataUrl": "PrimaryContainer.ModelDataUrl",
            "primaryContainer.environment": "PrimaryContainer.Environment",
            "enableNetworkIsolation": "EnableNetworkIsolation",
        },
    ),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _members(
        "sagemaker",
        "CreateEndpointConfig",
        {
            "productionVariants[].variantName": "ProductionVariants[].VariantName",
            "productionVariants[].instanceType": "ProductionVariants[].InstanceType",
            "productionVariants[].initialInstanceCount": "ProductionVariants[].InitialInstanceCount",
            "productionVariants[].initialVariantWeight": "ProductionVariants[].InitialVariantWeight",
            "productionVariants[].serverlessConfig.memorySizeInMb": (
                "ProductionVariants[].ServerlessConfig.MemorySizeInMB"
            ),
            "productionVariants[].serverlessConfig.maxConcurrency": (
                "ProductionVariants[].ServerlessConfig.MaxConcurrency"
            ),
            "kmsKeyArn": "KmsKeyId",
        },
    ),
    "aws:sagemaker/endpoint:Endpoint": _members(
        "sagemaker", "CreateEndpoint", {"endpointConfigName": "EndpointConfigName"}
    ),
    "aws:appautoscaling/target:Target": _members(
        "application-autoscaling",
        "RegisterScalableTarget",
        {
            "serviceNamespace": "ServiceNamespace",
            "scalableDimension": "ScalableDimension",
            "resourceId": "ResourceId",
            "minCapacity": "MinCapacity",
            "maxCapacity": "MaxCapacity",
        },
    ),
    "aws:appautoscaling/policy:Policy": _members(
        "application-autoscaling",
        "PutScalingPolicy",
        {
            "policyType": "PolicyType",
            "serviceNamespace": "ServiceNamespace",
            "scalableDimension": "ScalableDimension",
            "targetTrackingScalingPolicyConfiguration.targetValue": (
                "TargetTrackingScalingPolicyConfiguration.TargetValue"
            ),
            "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType": (
                "TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType"
            ),
            "targetTrackingScalingPolicyConfiguration.scaleInCooldown": (
                "TargetTrackingScalingPolicyConfiguration.ScaleInCooldown"
            ),
            "targetTrackingScalingPolicyConfiguration.scaleOutCooldown": (
                "TargetTrackingScalingPolicyConfiguration.ScaleOutCooldown"
            ),
        },
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _members(
        "cloudwatch",
        "PutMetricAlarm",
        {
            "alarmDescription": "AlarmDescription",
            "namespace": "Namespace",
            "metricName": "MetricName",
            "statistic": "Statistic",
            "extendedStatistic": "ExtendedStatistic",
            "period": "Period",
            "evaluationPeriods": "EvaluationPeriods",
            "datapointsToAlarm": "DatapointsToAlarm",
            "comparisonOperator": "ComparisonOperator",
            "treatMissingData": "TreatMissingData",
            "alarmActions": "AlarmActions",
            "okActions": "OKActions",
        },
    ),
    "aws:sfn/stateMachine:StateMachine": _members(
        "stepfunctions", "CreateStateMachine", {"definition": "definition", "roleArn": "roleArn", "type": "type"}
    ),
    "aws:scheduler/schedule:Schedule": _members(
        "scheduler",
        "CreateSchedule",
        {
            "scheduleExpression": "ScheduleExpression",
            "scheduleExpressionTimezone": "ScheduleExpressionTimezone",
            "flexibleTimeWindow.mode": "FlexibleTimeWindow.Mode",
            "target.arn": "Target.Arn",
            "target.roleArn": "Target.RoleArn",
            "target.input": "Target.Input",
        },
    ),
    "aws:cloudwatch/dashboard:Dashboard": _members("cloudwatch", "PutDashboard", {"dashboardName": "DashboardName"}),
    "aws:glue/catalogDatabase:CatalogDatabase": _members(
        "glue", "CreateDatabase", {"name": "DatabaseInput.Name", "description": "DatabaseInput.Description"}
    ),
    "aws:glue/catalogTable:CatalogTable": _members(
        "glue",
        "CreateTable",
        {
            "databaseName": "DatabaseName",
            "name": f"{_GLUE_TABLE}.Name",
            "description": f"{_GLUE_TABLE}.Description",
            "tableType": f"{_GLUE_TABLE}.TableType",
            "parameters": f"{_GLUE_TABLE}.Parameters",
            "partitionKeys[].name": f"{_GLUE_TABLE}.PartitionKeys[].Name",
            "partitionKeys[].type": f"{_GLUE_TABLE}.PartitionKeys[].Type",
            "partitionKeys[].comment": f"{_GLUE_TABLE}.PartitionKeys[].Comment",
            "storageDescriptor.location": f"{_GLUE_TABLE}.StorageDescriptor.Location",
            "storageDescriptor.inputFormat": f"{_GLUE_TABLE}.StorageDescriptor.InputFormat",
            "storageDescriptor.outputFormat": f"{_GLUE_TABLE}.StorageDescriptor.OutputFormat",
            "storageDescriptor.columns[].name": f"{_GLUE_TABLE}.StorageDescriptor.Columns[].Name",
            "storageDescriptor.columns[].type": f"{_GLUE_TABLE}.StorageDescriptor.Columns[].Type",
            "storageDescriptor.columns[].comment": f"{_GLUE_TABLE}.StorageDescriptor.Columns[].Comment",
            "storageDescriptor.serDeInfo.serializationLibrary": (
                f"{_GLUE_TABLE}.StorageDescriptor.SerdeInfo.SerializationLibrary"
            ),
            "storageDescriptor.serDeInfo.parameters": f"{_GLUE_TABLE}.StorageDescriptor.SerdeInfo.Parameters",
        },
    ),
    "aws:athena/workgroup:Workgroup": _members(
        "athena",
        "CreateWorkGroup",
        {
            "name": "Name",
            "description": "Description",
            "configuration.bytesScannedCutoffPerQuery": f"{_ATHENA}.BytesScannedCutoffPerQuery",
            "configuration.engineVersion.selectedEngineVersion": f"{_ATHENA}.EngineVersion.SelectedEngineVersion",
            "configuration.resultConfiguration.outputLocation": f"{_ATHENA}.ResultConfiguration.OutputLocation",
            "configuration.resultConfiguration.encryptionConfiguration.encryptionOption": (
                f"{_ATHENA}.ResultConfiguration.EncryptionConfiguration.EncryptionOption"
            ),
            "configuration.resultConfiguration.encryptionConfiguration.kmsKeyArn": (
                f"{_ATHENA}.ResultConfiguration.EncryptionConfiguration.KmsKey"
            ),
        },
    ),
}


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def member_shape(member: Member) -> Any:
    """The botocore shape of ``member``; raises ``KeyError`` naming the step that does not exist."""
    shape = _service_model(member.service).operation_model(member.operation).input_shape
    for step in member.path.split("."):
        name, is_list = (step[:-2], True) if step.endswith("[]") else (step, False)
        if name not in shape.members:
            raise KeyError(f"{member.service} {member.operation}: no member {name!r} in {shape.name}")
        shape = shape.members[name]
        if is_list:
            shape = shape.member
    return shape


def _values(props: Any, path: list[str]) -> Iterator[Any]:
    """The values at a Pulumi input path (``a.b[].c``) in registered inputs; absent ones yield nothing."""
    if not path:
        yield props
        return
    step, rest = path[0], path[1:]
    name, is_list = (step[:-2], True) if step.endswith("[]") else (step, False)
    if not isinstance(props, Mapping) or props.get(name) is None:
        return
    value = props[name]
    for item in value if is_list and isinstance(value, list) else [value]:
        yield from _values(item, rest)


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax (\p{...}): the service checks it, this cannot
        return None


def shape_problems(shape: Any, value: Any) -> list[str]:
    """Why ``value`` does not fit ``shape`` (enum, range, length, pattern, type); empty when it fits."""
    kind = shape.type_name
    rules = shape.metadata
    if kind == "list":
        if not isinstance(value, list):
            return [f"expected a list of {shape.member.name}"]
        problems = _length_problems(len(value), rules, "items")
        return problems + [problem for item in value for problem in shape_problems(shape.member, item)]
    if kind == "map":
        if not isinstance(value, Mapping):
            return ["expected a map"]
        return [
            problem
            for key, item in value.items()
            for problem in (*shape_problems(shape.key, key), *shape_problems(shape.value, item))
        ]
    if kind in {"integer", "long"}:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            return [f"expected an integer, got {type(value).__name__}"]
        return _range_problems(value, rules)
    if kind in {"double", "float"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"expected a number, got {type(value).__name__}"]
        return _range_problems(value, rules)
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"expected a boolean, got {type(value).__name__}"]
    if kind == "string":
        if not isinstance(value, str):
            return [f"expected a string, got {type(value).__name__}"]
        problems = _length_problems(len(value), rules, "characters")
        if shape.enum and value not in shape.enum:
            problems.append(f"not one of {', '.join(shape.enum)}")
        pattern = _compiled(rules["pattern"]) if "pattern" in rules else None
        if pattern is not None and pattern.fullmatch(value) is None:
            problems.append(f"does not match the pattern {rules['pattern']}")
        return problems
    return []


def _range_problems(value: float, rules: Mapping[str, Any]) -> list[str]:
    if "min" in rules and value < rules["min"]:
        return [f"below the minimum {rules['min']}"]
    if "max" in rules and value > rules["max"]:
        return [f"above the maximum {rules['max']}"]
    return []


def _length_problems(length: int, rules: Mapping[str, Any], unit: str) -> list[str]:
    if "min" in rules and length < rules["min"]:
        return [f"{length} {unit}, fewer than the minimum {rules['min']}"]
    if "max" in rules and length > rules["max"]:
        return [f"{length} {unit}, more than the maximum {rules['max']}"]
    return []


def check_resources(resources: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[Finding]:
    """Findings for ``(type, name, inputs)`` of registered resources: values the API refuses, and
    resource types with no entry in ``INPUT_MEMBERS``."""
    findings: list[Finding] = []
    for resource_type, name, inputs in resources:
        members = INPUT_MEMBERS.get(resource_type)
        if members is None:
            findings.append(Finding(name, "", resource_type, "no API members mapped for this resource type"))
            continue
        for input_path, member in members.items():
            shape = member_shape(member)
            for value in _values(inputs, input_path.split(".")):
                findings.extend(
                    Finding(name, input_path, value, f"{member.service} {member.operation} {member.path}: {problem}")
                    for problem in shape_problems(shape, value)
                )
    return findings
