"""The analyst console's labels table and analyst policy, wired into the stack, on Pulumi's mocks."""

from __future__ import annotations

import pytest

from console.labels import LABELS_HASH_KEY, LABELS_RANGE_KEY
from local_pipeline.resources import anomalies_table_definition, labels_table_definition
from scorer.stores import (
    ALERT_AT_ATTRIBUTE,
    ALERT_FEED_ATTRIBUTE,
    ALERTS_INDEX,
    PENDING_ALERTS_INDEX,
    PENDING_AT_ATTRIBUTE,
    PENDING_FEED_ATTRIBUTE,
)
from stack.pipeline import deploy
from stack.settings import StackSettings
from tests.stack_harness import REGION, Synthesized, policy_statements, synthesize, write_project


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    project = write_project(tmp_path_factory.mktemp("project"))
    return synthesize(lambda: deploy(StackSettings(), project, "test"))


def test_the_labels_table_is_keyed_as_the_console_writes_it_encrypted_and_recoverable(deployed: Synthesized) -> None:
    labels = deployed.named("vedette-labels")
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    table = labels.inputs
    # THEN its keys are the console's (an alert's partition and marker key), as the local pipeline creates them
    assert (table["hashKey"], table["rangeKey"]) == (LABELS_HASH_KEY, LABELS_RANGE_KEY)
    local = labels_table_definition("x")
    assert [(a["name"], a["type"]) for a in table["attributes"]] == [
        (a["AttributeName"], a["AttributeType"]) for a in local["AttributeDefinitions"]
    ]
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key_arn}
    assert labels.urn
    assert "AnalystConsole" in labels.urn
    # AND the stack's outputs name it and the analyst policy
    assert deployed.outputs["labels_table_name"] == labels.outputs["name"]
    assert deployed.arn_owner(deployed.outputs["console_policy_arn"]).name == "vedette-console-policy"


def test_the_anomalies_table_has_the_alert_indexes_the_scorer_fills_and_the_console_and_sweeper_read(
    deployed: Synthesized,
) -> None:
    anomalies = deployed.named("vedette-anomalies").inputs
    indexes = {
        index["name"]: (index["hashKey"], index["rangeKey"], index["projectionType"])
        for index in anomalies["globalSecondaryIndexes"]
    }
    assert indexes == {
        ALERTS_INDEX: (ALERT_FEED_ATTRIBUTE, ALERT_AT_ATTRIBUTE, "ALL"),
        PENDING_ALERTS_INDEX: (PENDING_FEED_ATTRIBUTE, PENDING_AT_ATTRIBUTE, "ALL"),
    }
    # AND the local pipeline creates the same table
    local = anomalies_table_definition("x")
    assert sorted(a["name"] for a in anomalies["attributes"]) == sorted(
        a["AttributeName"] for a in local["AttributeDefinitions"]
    )
    assert {
        index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
        for index in local["GlobalSecondaryIndexes"]
    } == {name: keys[:2] for name, keys in indexes.items()}


def test_the_analyst_policy_allows_exactly_the_consoles_calls_on_their_resources(deployed: Synthesized) -> None:
    policy = deployed.named("vedette-console-policy").inputs["policy"]
    statements = {statement["Sid"]: statement for statement in policy_statements(policy)}
    anomalies_arn = deployed.named("vedette-anomalies").outputs["arn"]
    labels_arn = deployed.named("vedette-labels").outputs["arn"]
    bucket_arn = deployed.named("vedette-archive-bucket").outputs["arn"]
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    # THEN alerts are only read (the table and its alert index), verdicts read and written in the labels table
    assert statements["ReadAlerts"]["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
    assert statements["ReadAlerts"]["Resource"] == [anomalies_arn, f"{anomalies_arn}/index/{ALERTS_INDEX}"]
    assert statements["RecordVerdicts"]["Resource"] == [labels_arn]
    assert "dynamodb:PutItem" in statements["RecordVerdicts"]["Action"]
    assert not any(
        action in statement["Action"]
        for statement in statements.values()
        for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem")
        if statement["Sid"] != "RecordVerdicts"
    )
    # AND the archive's events only, decrypted through S3 only
    assert statements["ListTheEvents"]["Condition"] == {"StringLike": {"s3:prefix": ["events/*"]}}
    assert statements["ReadTheEvents"]["Resource"] == [f"{bucket_arn}/events/*"]
    assert statements["DecryptEvents"]["Resource"] == [key_arn]
    assert statements["DecryptEvents"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}
    }
