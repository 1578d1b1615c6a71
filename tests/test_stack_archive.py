"""The stream and archive components on Pulumi's mocks: wiring, encryption, layout, IAM scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.layout import FIREHOSE_ERROR_OUTPUT_PREFIX, FIREHOSE_PREFIX, USER_HASH_PREFIX
from archive_partitioner.handler import BUCKETS_VARIABLE
from stack.archive import PARTITIONER_HANDLER, EventArchive, EventArchiveArgs
from stack.encryption import PipelineKey, PipelineKeyArgs
from stack.stream import EventStream, EventStreamArgs
from tests.stack_harness import ACCOUNT_ID, REGION, Synthesized, policy_statements, synthesize


def deploy_stream_and_archive(
    on_demand: bool = True, buffer_seconds: int = 300, user_hash_buckets: int = 0, bundle_path: Path | None = None
) -> Synthesized:
    def program() -> dict[str, object]:
        key = PipelineKey("vedette", PipelineKeyArgs(account_id=ACCOUNT_ID, partition="aws", region=REGION))
        stream = EventStream(
            "vedette",
            EventStreamArgs(on_demand=on_demand, shard_count=3, retention_hours=48, kms_key_arn=key.arn),
        )
        archive = EventArchive(
            "vedette",
            EventArchiveArgs(
                stream_arn=stream.arn,
                kms_key_arn=key.arn,
                account_id=ACCOUNT_ID,
                region=REGION,
                buffer_mib=64 if user_hash_buckets else 5,
                buffer_seconds=buffer_seconds,
                infrequent_access_days=30,
                expiration_days=365,
                log_retention_days=30,
                extra_prefixes=("bad-events/",),
                user_hash_buckets=user_hash_buckets,
                bundle_path=bundle_path,
            ),
        )
        return {"stream_arn": stream.arn, "bucket": archive.bucket_name, "delivery": archive.delivery_stream_name}

    return synthesize(program)


@pytest.fixture(scope="module")
def deployed() -> Synthesized:
    return deploy_stream_and_archive()


def test_stream_is_on_demand_by_default_and_encrypted_with_the_pipeline_key(deployed: Synthesized) -> None:
    stream = deployed.one("aws:kinesis/stream:Stream").inputs
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    assert stream["streamModeDetails"] == {"streamMode": "ON_DEMAND"}
    assert "shardCount" not in stream
    assert stream["encryptionType"] == "KMS"
    assert stream["kmsKeyId"] == key_arn
    assert stream["retentionPeriod"] == 48
    assert deployed.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True


def test_provisioned_stream_has_its_shard_count() -> None:
    stream = deploy_stream_and_archive(on_demand=False).one("aws:kinesis/stream:Stream").inputs
    assert stream["streamModeDetails"] == {"streamMode": "PROVISIONED"}
    assert stream["shardCount"] == 3


def test_firehose_reads_the_stream_and_writes_the_archive_bucket(deployed: Synthesized) -> None:
    delivery = deployed.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs
    source = delivery["kinesisSourceConfiguration"]
    target = delivery["extendedS3Configuration"]
    assert deployed.arn_owner(source["kinesisStreamArn"]).typ == "aws:kinesis/stream:Stream"
    assert deployed.arn_owner(target["bucketArn"]).typ == "aws:s3/bucket:Bucket"
    assert source["roleArn"] == target["roleArn"]
    assert deployed.arn_owner(target["roleArn"]).typ == "aws:iam/role:Role"
    # THEN the layout is archive.layout's, GZIP, newline-delimited, KMS-encrypted, logged
    assert target["prefix"] == FIREHOSE_PREFIX
    assert target["errorOutputPrefix"] == FIREHOSE_ERROR_OUTPUT_PREFIX
    assert target["compressionFormat"] == "GZIP"
    assert (target["bufferingSize"], target["bufferingInterval"]) == (5, 300)
    assert target["processingConfiguration"]["processors"] == [{"type": "AppendDelimiterToRecord"}]
    # AND by default no dynamic partitioning and no function of the archive's
    assert "dynamicPartitioningConfiguration" not in target
    assert deployed.of_type("aws:lambda/function:Function") == []
    assert deployed.arn_owner(target["kmsKeyArn"]).typ == "aws:kms/key:Key"
    logging = target["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True
    assert logging["logGroupName"] == deployed.one("aws:cloudwatch/logGroup:LogGroup").outputs["name"]


def test_buffering_follows_the_arguments() -> None:
    delivery = deploy_stream_and_archive(buffer_seconds=60).one(
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
    )
    assert delivery.inputs["extendedS3Configuration"]["bufferingInterval"] == 60


def test_bucket_is_private_versioned_kms_encrypted_and_tls_only(deployed: Synthesized) -> None:
    bucket_name = deployed.one("aws:s3/bucket:Bucket").outputs["bucket"]
    block = deployed.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == bucket_name
    assert all(
        block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    ownership = deployed.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = deployed.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    encryption = deployed.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    policy = json.loads(deployed.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{bucket_name}/*" in deny["Resource"]


def test_lifecycle_moves_to_infrequent_access_then_expires_each_prefix(deployed: Synthesized) -> None:
    rules = deployed.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    by_prefix = {rule["filter"]["prefix"]: rule for rule in rules if "expiration" in rule}
    assert sorted(by_prefix) == ["bad-events/", "errors/", "events/"]
    for rule in by_prefix.values():
        assert rule["transitions"] == [{"days": 30, "storageClass": "STANDARD_IA"}]
        assert rule["expiration"] == {"days": 365}


def test_firehose_role_is_scoped_to_the_stream_bucket_prefixes_key_and_log_stream(deployed: Synthesized) -> None:
    stream_arn = deployed.one("aws:kinesis/stream:Stream").outputs["arn"]
    bucket_arn = deployed.one("aws:s3/bucket:Bucket").outputs["arn"]
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    log_stream_arn = deployed.one("aws:cloudwatch/logStream:LogStream").outputs["arn"]
    role = deployed.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    # Firehose's documented confused-deputy condition: the external id is the account id.
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT_ID}}
    statements = {
        s["Sid"]: s for s in policy_statements(deployed.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    }
    assert statements["ReadTheStream"]["Resource"] == [stream_arn]
    assert statements["ListTheBucket"]["Resource"] == [bucket_arn]
    assert statements["WriteArchiveObjects"]["Resource"] == [f"{bucket_arn}/events/*", f"{bucket_arn}/errors/*"]
    assert statements["UseThePipelineKey"]["Resource"] == [key_arn]
    # The key only through the stream (decrypting records) and S3 (encrypting objects).
    assert statements["UseThePipelineKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"kinesis.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com"]}
    }
    assert statements["LogDeliveryErrors"]["Resource"] == [log_stream_arn]
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])


def test_every_resource_is_a_child_of_a_component(deployed: Synthesized) -> None:
    for resource in deployed.custom():
        assert "vedette:stack:" in resource.urn, resource.urn


def test_with_user_hash_buckets_firehose_partitions_through_the_bundles_partitioner(tmp_path: Path) -> None:
    # GIVEN the archive laid out by user hash in 128 buckets, with the Lambda bundle
    bundle = tmp_path / "scorer.zip"
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))
    deployed = deploy_stream_and_archive(user_hash_buckets=128, bundle_path=bundle)
    delivery = deployed.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    target = delivery.inputs["extendedS3Configuration"]
    function = deployed.one("aws:lambda/function:Function")
    # THEN the delivery stream partitions dynamically under the layout's user-hash prefix, with its minimum buffer
    assert target["dynamicPartitioningConfiguration"] == {"enabled": True}
    assert target["prefix"] == USER_HASH_PREFIX
    assert target["errorOutputPrefix"] == FIREHOSE_ERROR_OUTPUT_PREFIX
    assert target["bufferingSize"] == 64
    # AND its processors are the partitioner's $LATEST, then the newline the reader splits lines on
    lambda_processor, delimiter = target["processingConfiguration"]["processors"]
    (parameter,) = lambda_processor["parameters"]
    assert (lambda_processor["type"], parameter["parameterName"]) == ("Lambda", "LambdaArn")
    assert parameter["parameterValue"] == f"{function.outputs['arn']}:$LATEST"
    assert delimiter == {"type": "AppendDelimiterToRecord"}
    # AND that function is the bundle's partitioner, told the bucket count
    assert function.inputs["handler"] == PARTITIONER_HANDLER
    assert function.inputs["environment"]["variables"] == {BUCKETS_VARIABLE: "128"}
    assert function.inputs["code"].path == str(bundle)
    # AND Firehose's role may invoke that function and no other; the function's own role only logs
    firehose_role = deployed.arn_owner(target["roleArn"])
    by_role = {
        policy.inputs["role"]: policy_statements(policy.inputs["policy"])
        for policy in deployed.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    firehose_statements = {statement["Sid"]: statement for statement in by_role[firehose_role.outputs["name"]]}
    invoke = firehose_statements["PartitionWithThePartitioner"]
    assert invoke["Action"] == ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"]
    assert invoke["Resource"] == [function.outputs["arn"], f"{function.outputs['arn']}:$LATEST"]
    assert [s for s in firehose_statements.values() if any(a.startswith("lambda:") for a in s["Action"])] == [invoke]
    function_role = deployed.arn_owner(function.inputs["role"])
    assert [statement["Sid"] for statement in by_role[function_role.outputs["name"]]] == ["WriteLogs"]
