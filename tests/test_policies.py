"""The CrossGuard policies, called directly (no PolicyPack, no CLI): each fails a bad resource and
passes a good one, and the whole mocked stack passes every policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from policies import rules
from stack.pipeline import deploy
from stack.settings import StackSettings
from tests.stack_harness import Synthesized, synthesize, write_project

KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/events"
QUEUE = "arn:aws:sqs:eu-west-1:123456789012:failed"


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def violations(policy: ResourceValidationPolicy, resource_type: str, props: dict[str, Any]) -> list[str]:
    """What ``policy`` reports for one resource."""
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type, props, f"urn:pulumi:test::vedette::{resource_type}::r", "r", options(), None
    )
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def policy_document(actions: list[str], resources: list[str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}
    )


def trust(principal: Any, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def key_policy(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": ["kms:Decrypt"], "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return {"enableKeyRotation": True, "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


def key_use(condition: dict[str, Any] | None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": KEY}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


ACCOUNT = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
VIA_KINESIS = {"StringEquals": {"kms:ViaService": "kinesis.eu-west-1.amazonaws.com"}}


def mapping(**overrides: Any) -> dict[str, Any]:
    good = {
        "eventSourceArn": STREAM,
        "maximumRetryAttempts": 5,
        "maximumRecordAgeInSeconds": 3600,
        "destinationConfig": {"onFailure": {"destinationArn": QUEUE}},
        "functionResponseTypes": ["ReportBatchItemFailures"],
    }
    return {**good, **overrides}


CASES = [
    # (policy, type, good props, bad props, words of the violation)
    (
        rules.encryption_at_rest,
        "aws:kinesis/stream:Stream",
        {"encryptionType": "KMS", "kmsKeyId": KEY},
        {"encryptionType": "NONE"},
        "encryptionType",
    ),
    (
        rules.encryption_at_rest,
        "aws:dynamodb/table:Table",
        {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}},
        {},
        "serverSideEncryption",
    ),
    (rules.encryption_at_rest, "aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY}, {}, "kmsMasterKeyId"),
    (rules.encryption_at_rest, "aws:sns/topic:Topic", {"kmsMasterKeyId": KEY}, {"name": "t"}, "kmsMasterKeyId"),
    (
        rules.encryption_at_rest,
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        {"kinesisSourceConfiguration": {"kinesisStreamArn": STREAM}, "extendedS3Configuration": {"kmsKeyArn": KEY}},
        {"kinesisSourceConfiguration": {"kinesisStreamArn": STREAM}, "extendedS3Configuration": {}},
        "kmsKeyArn",
    ),
    (
        rules.encryption_at_rest,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}}]},
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        "SSE-KMS",
    ),
    (
        rules.encryption_at_rest,
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"productionVariants": [{"instanceType": "ml.c5.large"}], "kmsKeyArn": KEY},
        {"productionVariants": [{"instanceType": "ml.c5.large"}]},
        "kmsKeyArn",
    ),
    (
        rules.no_public_buckets,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True),
        {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        "blockPublicPolicy",
    ),
    (
        rules.no_public_buckets,
        "aws:s3/bucket:Bucket",
        {"bucket": "b"},
        {"bucket": "b", "acl": "public-read"},
        "public-read",
    ),
    (
        rules.no_public_buckets,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        {"rule": {"objectOwnership": "ObjectWriter"}},
        "BucketOwnerEnforced",
    ),
    (
        rules.no_public_buckets,
        "aws:s3/bucketPolicy:BucketPolicy",
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                }
            )
        },
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                    ]
                }
            )
        },
        "anyone",
    ),
    (
        rules.no_wildcard_iam,
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_document(["kinesis:GetRecords"], [STREAM])},
        {"policy": policy_document(["kinesis:*"], [STREAM])},
        "wildcard action kinesis:*",
    ),
    (
        rules.no_wildcard_iam,
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_document(["s3:PutObject"], ["arn:aws:s3:::b/bad-events/*"])},
        {"policy": policy_document(["s3:PutObject"], ["*"])},
        "resource *",
    ),
    (
        rules.no_wildcard_iam,
        "aws:iam/policy:Policy",
        {"policy": policy_document(["cloudwatch:PutMetricData"], ["*"])},
        {"policy": policy_document(["dynamodb:PutItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:*"])},
        "scope it",
    ),
    (
        rules.no_wildcard_iam,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"},
        {"policyArn": "arn:aws:iam::aws:policy/AmazonKinesisFullAccess"},
        "FullAccess",
    ),
    (
        rules.bounded_stream_mappings,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        mapping(),
        mapping(maximumRetryAttempts=-1),
        "maximumRetryAttempts",
    ),
    (
        rules.bounded_stream_mappings,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        mapping(),
        mapping(maximumRecordAgeInSeconds=None),
        "maximumRecordAgeInSeconds",
    ),
    (
        rules.bounded_stream_mappings,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        mapping(),
        mapping(destinationConfig=None),
        "on-failure",
    ),
    (
        rules.bounded_stream_mappings,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        mapping(),
        mapping(functionResponseTypes=[]),
        "ReportBatchItemFailures",
    ),
    (
        rules.bounded_stream_mappings,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        mapping(),
        mapping(eventSourceArn="arn:aws:s3:::archive"),
        "S3 bucket",
    ),
    (
        rules.alarms_have_dimensions,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {
            "namespace": "AWS/Lambda",
            "metricName": "Errors",
            "dimensions": {"FunctionName": "scorer"},
            "alarmActions": ["arn:aws:sns:eu-west-1:1:t"],
        },
        {"namespace": "AWS/Lambda", "metricName": "Errors", "alarmActions": ["arn:aws:sns:eu-west-1:1:t"]},
        "no dimensions",
    ),
    (
        rules.current_lambda_runtime,
        "aws:lambda/function:Function",
        {"runtime": "python3.13"},
        {"runtime": "python3.8"},
        "deprecated",
    ),
    (
        rules.current_lambda_runtime,
        "aws:lambda/function:Function",
        {"runtime": "python3.12"},
        {"runtime": "python3.9"},
        "deprecated",
    ),
    (
        rules.current_lambda_runtime,
        "aws:lambda/function:Function",
        {"runtime": "nodejs22.x"},
        {"runtime": "nodejs18.x"},
        "deprecated",
    ),
    (
        rules.trust_policies,
        "aws:iam/role:Role",
        {"assumeRolePolicy": trust({"Service": "lambda.amazonaws.com"}, ACCOUNT)},
        {"assumeRolePolicy": trust({"Service": "lambda.amazonaws.com"})},
        "confused deputy",
    ),
    (
        rules.trust_policies,
        "aws:iam/role:Role",
        {"assumeRolePolicy": trust({"Service": "firehose.amazonaws.com"}, {"StringEquals": {"sts:ExternalId": "1"}})},
        {"assumeRolePolicy": trust({"Service": "firehose.amazonaws.com"}, {"StringEquals": {"aws:userid": "x"}})},
        "aws:SourceAccount",
    ),
    (
        rules.trust_policies,
        "aws:iam/role:Role",
        {"assumeRolePolicy": trust({"AWS": "arn:aws:iam::123456789012:root"})},
        {"assumeRolePolicy": trust("*")},
        "any principal (*)",
    ),
    (
        rules.key_policies,
        "aws:kms/key:Key",
        key_policy({"Service": "cloudwatch.amazonaws.com"}, ACCOUNT),
        key_policy({"Service": "cloudwatch.amazonaws.com"}),
        "for any account",
    ),
    (
        rules.key_policies,
        "aws:kms/key:Key",
        key_policy({"AWS": "arn:aws:iam::123456789012:root"}),
        key_policy({"AWS": "*"}),
        "any principal (*) without a condition",
    ),
    (
        rules.key_policies,
        "aws:kms/key:Key",
        key_policy({"AWS": "arn:aws:iam::123456789012:root"}),
        {**key_policy({"AWS": "arn:aws:iam::123456789012:root"}), "enableKeyRotation": False},
        "rotation",
    ),
    (
        rules.key_policies,
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": key_use(VIA_KINESIS)},
        {"policy": key_use(None)},
        "kms:ViaService",
    ),
    (
        rules.key_policies,
        "aws:iam/policy:Policy",
        {"policy": key_use({"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b/*"}})},
        {"policy": key_use({"StringEquals": {"aws:SourceAccount": "123456789012"}})},
        "kms:EncryptionContext",
    ),
]


@pytest.mark.parametrize(("policy", "resource_type", "good", "bad", "words"), CASES)
def test_policy_fails_the_bad_resource_and_passes_the_good_one(
    policy: ResourceValidationPolicy, resource_type: str, good: dict[str, Any], bad: dict[str, Any], words: str
) -> None:
    assert violations(policy, resource_type, good) == []
    reported = violations(policy, resource_type, bad)
    assert reported, f"{policy.name} let a bad {resource_type} through"
    assert any(words in message for message in reported), reported


def policy_resource(resource_type: str, props: dict[str, Any], name: str) -> PolicyResource:
    return PolicyResource(
        resource_type, props, f"urn:pulumi:test::vedette::{resource_type}::{name}", name, options(), None, None, [], {}
    )


def test_stack_policy_finds_a_bucket_without_a_public_access_block() -> None:
    bucket = policy_resource("aws:s3/bucket:Bucket", {"bucket": "open"}, "open")
    encryption = policy_resource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"bucket": "open"},
        "sse",
    )
    block = policy_resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {"bucket": "open"}, "block")
    found: list[str] = []
    rules.validate_every_bucket_is_guarded(
        StackValidationArgs([bucket, encryption]), lambda m, urn=None: found.append(m)
    )
    assert found == ["Bucket open has no BucketPublicAccessBlock."]
    found.clear()
    rules.validate_every_bucket_is_guarded(
        StackValidationArgs([bucket, encryption, block]), lambda m, urn=None: found.append(m)
    )
    assert found == []


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> list[Synthesized]:
    folder = write_project(tmp_path_factory.mktemp("project"))
    default = StackSettings()
    instance = StackSettings(
        endpoint_mode="instance",
        stream_mode="PROVISIONED",
        alert_email="secops@example.com",
        state_table_capacity_units=300,
    )
    return [synthesize(lambda s=settings: deploy(s, folder, "test")) for settings in (default, instance)]


@pytest.mark.parametrize("variant", [0, 1], ids=["defaults", "instance-provisioned-email"])
def test_every_policy_passes_every_resource_of_the_mocked_stack(stacks: list[Synthesized], variant: int) -> None:
    # GIVEN every resource the program registers
    resources = list(stacks[variant].custom())
    assert len(resources) > 40
    found: list[str] = []

    def report(prefix: str) -> Any:
        return lambda message, urn=None: found.append(f"{prefix}: {message}")

    # WHEN every policy validates every resource, and the stack policies the whole stack
    for resource in resources:
        args = ResourceValidationArgs(resource.typ, resource.inputs, resource.urn, resource.name, options(), None)
        for policy in rules.RESOURCE_POLICIES:
            policy.validate(args, report(f"{policy.name} {resource.name}"))
    # Stack policies see resources after the provider named them: their outputs here.
    stack_resources = [policy_resource(r.typ, r.outputs, r.name) for r in resources]
    rules.validate_every_bucket_is_guarded(StackValidationArgs(stack_resources), report("every-bucket-is-guarded"))
    # THEN nothing is reported
    assert found == []


def test_policy_pack_entry_point_lists_every_policy() -> None:
    source = (Path(rules.__file__).parent / "__main__.py").read_text()
    assert "RESOURCE_POLICIES" in source
    assert "STACK_POLICIES" in source
    names = [policy.name for policy in (*rules.RESOURCE_POLICIES, *rules.STACK_POLICIES)]
    assert len(names) == len(set(names)) == 9
