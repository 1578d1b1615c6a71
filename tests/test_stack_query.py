"""The Glue table, Athena workgroup, results bucket and query policy on Pulumi's mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archive.table import EVENT_COLUMNS, PARTITION_COLUMNS
from stack.pipeline import deploy
from stack.settings import StackSettings
from tests.stack_harness import ACCOUNT_ID, REGION, Synthesized, policy_statements, synthesize, write_project
from vedette.events import FIELDS


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def deployed(fixtures: Path) -> Synthesized:
    return synthesize(lambda: deploy(StackSettings(), fixtures, "test"))


def archive_bucket(deployed: Synthesized) -> dict[str, Any]:
    return deployed.named("vedette-archive-bucket").outputs


def test_table_has_the_contract_columns_over_the_archives_events_prefix(deployed: Synthesized) -> None:
    table = deployed.one("aws:glue/catalogTable:CatalogTable").inputs
    database = deployed.one("aws:glue/catalogDatabase:CatalogDatabase").outputs
    bucket = archive_bucket(deployed)["bucket"]
    # THEN the table is `events` in the stack's database, over the objects Firehose writes
    assert (table["name"], table["databaseName"], database["name"]) == ("events", "vedette_test", "vedette_test")
    descriptor = table["storageDescriptor"]
    assert descriptor["location"] == f"s3://{bucket}/events/"
    assert [column["name"] for column in descriptor["columns"]] == list(FIELDS)
    assert [column["type"] for column in descriptor["columns"]] == [column.glue_type for column in EVENT_COLUMNS]
    assert descriptor["serDeInfo"]["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [key["name"] for key in table["partitionKeys"]] == [column.name for column in PARTITION_COLUMNS]


def test_partitions_are_projected_from_the_firehose_key_layout(deployed: Synthesized) -> None:
    parameters = deployed.one("aws:glue/catalogTable:CatalogTable").inputs["parameters"]
    bucket = archive_bucket(deployed)["bucket"]
    # THEN Athena computes each hour's prefix itself: no crawler, no MSCK REPAIR TABLE
    assert parameters["projection.enabled"] == "true"
    assert parameters["storage.location.template"] == f"s3://{bucket}/events/${{year}}/${{month}}/${{day}}/${{hour}}/"
    assert [parameters[f"projection.{name}.type"] for name in ("year", "month", "day", "hour")] == ["integer"] * 4
    assert (parameters["projection.month.range"], parameters["projection.hour.range"]) == ("1,12", "0,23")
    assert deployed.of_type("aws:glue/crawler:Crawler") == []


def test_workgroup_writes_encrypted_results_to_its_own_expiring_bucket(deployed: Synthesized) -> None:
    configuration = deployed.one("aws:athena/workgroup:Workgroup").inputs["configuration"]
    results = deployed.named("vedette-query-results-bucket").outputs
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    result = configuration["resultConfiguration"]
    # THEN results go to the results bucket, SSE-KMS with the pipeline key, and clients cannot override it
    assert result["outputLocation"] == f"s3://{results['bucket']}/results/"
    assert result["encryptionConfiguration"] == {"encryptionOption": "SSE_KMS", "kmsKeyArn": key_arn}
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["bytesScannedCutoffPerQuery"] == 100 * 1024**3
    # AND the results bucket is encrypted and expires results
    lifecycles = {
        rule["id"]: rule
        for lifecycle in deployed.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if lifecycle.inputs["bucket"] == results["bucket"]
        for rule in lifecycle.inputs["rules"]
    }
    assert lifecycles["expire-results"]["filter"] == {"prefix": "results/"}
    assert lifecycles["expire-results"]["expiration"] == {"days": 30}
    encrypted = [
        resource.inputs["bucket"]
        for resource in deployed.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    ]
    assert results["bucket"] in encrypted


def test_query_policy_is_scoped_to_the_workgroup_table_events_and_results(deployed: Synthesized) -> None:
    policy = deployed.named("vedette-query-policy")
    statements = {statement["Sid"]: statement for statement in policy_statements(policy.inputs["policy"])}
    archive = archive_bucket(deployed)["arn"]
    results = deployed.named("vedette-query-results-bucket").outputs["arn"]
    assert deployed.arn_owner(statements["RunQueriesInTheWorkgroup"]["Resource"][0]).typ == (
        "aws:athena/workgroup:Workgroup"
    )
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:"
    assert statements["ReadTheTable"]["Resource"] == [
        f"{glue}catalog",
        f"{glue}database/vedette_test",
        f"{glue}table/vedette_test/events",
    ]
    assert statements["ReadTheEvents"]["Resource"] == [f"{archive}/events/*"]
    assert statements["ListTheEvents"]["Condition"] == {"StringLike": {"s3:prefix": ["events/*"]}}
    assert statements["WriteAndReadResults"]["Resource"] == [f"{results}/results/*"]
    assert statements["DecryptEventsEncryptResults"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}
    }
    assert deployed.outputs["query_policy_arn"] == policy.outputs["arn"]
    assert deployed.outputs["query_database"] == "vedette_test"
    assert deployed.outputs["query_table"] == "events"


def test_retention_and_scan_limit_follow_the_configuration(fixtures: Path) -> None:
    settings = StackSettings(query_results_expiration_days=7, query_scan_limit_gib=10)
    deployed = synthesize(lambda: deploy(settings, fixtures, "Prod-EU"))
    configuration = deployed.one("aws:athena/workgroup:Workgroup").inputs["configuration"]
    assert configuration["bytesScannedCutoffPerQuery"] == 10 * 1024**3
    rules = [
        rule
        for lifecycle in deployed.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        for rule in lifecycle.inputs["rules"]
        if rule["id"] == "expire-results"
    ]
    assert [rule["expiration"] for rule in rules] == [{"days": 7}]
    # A stack name Athena would need quoted becomes a plain identifier
    assert deployed.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"] == "vedette_prod_eu"


def test_with_user_hash_buckets_a_second_table_projects_the_buckets_and_the_policy_reads_both(
    fixtures: Path,
) -> None:
    # GIVEN the archive laid out by user hash in 128 buckets
    settings = StackSettings(archive_user_hash_buckets=128, archive_buffer_mib=64)
    deployed = synthesize(lambda: deploy(settings, fixtures, "test"))
    tables = {table.inputs["name"]: table for table in deployed.of_type("aws:glue/catalogTable:CatalogTable")}
    bucket = archive_bucket(deployed)["bucket"]
    # THEN `events` is unchanged (it reads each hour's objects in both layouts)
    assert [key["name"] for key in tables["events"].inputs["partitionKeys"]] == ["year", "month", "day", "hour"]
    # AND `events_by_user_hash` adds the bucket, projected from the bucket count
    by_hash = tables["events_by_user_hash"].inputs
    assert [key["name"] for key in by_hash["partitionKeys"]] == ["year", "month", "day", "hour", "user_hash"]
    parameters = by_hash["parameters"]
    assert parameters["storage.location.template"] == (
        f"s3://{bucket}/events/${{year}}/${{month}}/${{day}}/${{hour}}/user_hash=${{user_hash}}/"
    )
    assert parameters["projection.user_hash.interval"] == str(2**32 // 128)
    assert parameters["projection.user_hash.range"] == f"0,{2**32 - 2**32 // 128}"
    assert by_hash["storageDescriptor"]["columns"] == tables["events"].inputs["storageDescriptor"]["columns"]
    # AND the query policy may read both tables
    policy = deployed.named("vedette-query-policy").inputs["policy"]
    (read,) = [s for s in policy_statements(policy) if s["Sid"] == "ReadTheTable"]
    assert [arn.rsplit("/", 1)[-1] for arn in read["Resource"] if ":table/" in arn] == list(tables)
