"""The stack's settings: defaults, overrides, and errors naming the key (GIVEN/WHEN/THEN)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from archive.layout import DEFAULT_BUFFER_BYTES, DEFAULT_BUFFER_SECONDS
from scorer import settings as scorer_env
from stack.exceptions import StackConfigError
from stack.settings import CONFIG_KEYS, StackSettings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_the_declared_defaults_and_the_archive_layout_buffering() -> None:
    # GIVEN no configuration at all
    settings = StackSettings.from_config({})
    # THEN every key takes the default CONFIG_KEYS declares, and buffering is archive.layout's
    assert settings == StackSettings()
    assert settings.archive_buffer_mib * 1024 * 1024 == DEFAULT_BUFFER_BYTES
    assert settings.archive_buffer_seconds == DEFAULT_BUFFER_SECONDS
    assert settings.on_demand
    assert settings.serverless


def test_pulumi_yaml_declares_every_key_with_the_same_type_and_default() -> None:
    # GIVEN the project file a user reads and the settings the program reads
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    # THEN both name the same keys, with the same type and default, each described
    assert sorted(declared) == sorted(key.name for key in CONFIG_KEYS)
    for key in CONFIG_KEYS:
        entry = declared[key.name]
        assert entry["type"] == key.type, key.name
        assert entry["default"] == key.default, key.name
        assert entry["description"].strip(), key.name


def test_example_stack_file_holds_only_declared_keys_and_valid_values() -> None:
    # GIVEN the example stack file
    example = yaml.safe_load((ROOT / "Pulumi.example.yaml").read_text())["config"]
    names = {f"vedette:{key.name}" for key in CONFIG_KEYS}
    # THEN its vedette keys are declared ones and the values pass the checks
    ours = {
        key.split(":", 1)[1]: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in example.items()
        if key.startswith("vedette:")
    }
    assert {f"vedette:{key}" for key in ours} <= names
    assert "aws:region" in example
    settings = StackSettings.from_config(ours)
    assert settings != StackSettings()


def test_overrides_are_parsed_to_their_types() -> None:
    # GIVEN a provisioned stream, an instance endpoint and a tighter mapping
    config = {
        "streamMode": "PROVISIONED",
        "streamShardCount": "4",
        "endpointMode": "instance",
        "endpointMaxInstances": "3",
        "batchSize": "1000",
        "alertEmail": "secops@example.com",
        "alertMinSeverity": "1.5",
    }
    # WHEN the settings are read
    settings = StackSettings.from_config(config)
    # THEN the values are typed and the derived flags follow
    assert settings.stream_shard_count == 4
    assert not settings.on_demand
    assert not settings.serverless
    assert settings.batch_size == 1000
    assert settings.alert_email == "secops@example.com"


@pytest.mark.parametrize(
    ("config", "key", "reason"),
    [
        ({"streamMode": "FAST"}, "streamMode", "must be one of ON_DEMAND, PROVISIONED"),
        ({"streamShardCount": "two", "streamMode": "PROVISIONED"}, "streamShardCount", "must be an integer"),
        ({"streamRetentionHours": "12"}, "streamRetentionHours", "24-8760"),
        ({"archiveBufferMiB": "129"}, "archiveBufferMiB", "1-128"),
        ({"archiveBufferSeconds": "901"}, "archiveBufferSeconds", "0-900"),
        ({"archiveInfrequentAccessDays": "10"}, "archiveInfrequentAccessDays", "30-36500"),
        ({"archiveExpirationDays": "30"}, "archiveExpirationDays", "greater than archiveInfrequentAccessDays"),
        ({"endpointMemoryMiB": "1500"}, "endpointMemoryMiB", "1024, 2048"),
        ({"endpointMaxConcurrency": "201"}, "endpointMaxConcurrency", "1-200"),
        ({"endpointInstanceType": "m5.large"}, "endpointInstanceType", "ml.*"),
        ({"endpointMinInstances": "3", "endpointMaxInstances": "2"}, "endpointMaxInstances", "3-100"),
        ({"scorerTimeoutSeconds": "901"}, "scorerTimeoutSeconds", "1-900"),
        ({"scorerReservedConcurrency": "0"}, "scorerReservedConcurrency", "1-10000"),
        ({"batchSize": "10001"}, "batchSize", "1-10000"),
        ({"batchingWindowSeconds": "301"}, "batchingWindowSeconds", "0-300"),
        ({"parallelizationFactor": "2"}, "parallelizationFactor", "1-1"),
        ({"maxRetryAttempts": "-1"}, "maxRetryAttempts", "0-10000"),
        ({"maxRecordAgeSeconds": "-1"}, "maxRecordAgeSeconds", "60-604800"),
        ({"maxRecordAgeSeconds": "172800"}, "maxRecordAgeSeconds", "retention (24 h)"),
        ({"startingPosition": "AT_TIMESTAMP"}, "startingPosition", "LATEST, TRIM_HORIZON"),
        ({"alertEmail": "not an email"}, "alertEmail", "email address"),
        ({"alertMinSeverity": "high"}, "alertMinSeverity", "must be a number"),
        ({"alertWindowSeconds": "0"}, "alertWindowSeconds", "1-604800"),
        ({"stateTableCapacityUnits": "-1"}, "stateTableCapacityUnits", "0-10000"),
        ({"logRetentionDays": "10"}, "logRetentionDays", "must be one of"),
        ({"archiveFreshnessAlarmSeconds": "300"}, "archiveFreshnessAlarmSeconds", "must exceed archiveBufferSeconds"),
        ({"archiveUserHashBuckets": "100"}, "archiveUserHashBuckets", "a power of two from 2 to 2048"),
        ({"archiveUserHashBuckets": "4096"}, "archiveUserHashBuckets", "a power of two from 2 to 2048"),
        ({"archiveUserHashBuckets": "many"}, "archiveUserHashBuckets", "must be an integer"),
        ({"archiveUserHashBuckets": "128"}, "archiveBufferMiB", "64-128 with archiveUserHashBuckets"),
        (
            {"archiveUserHashBuckets": "128", "archiveBufferMiB": "64", "archiveBufferSeconds": "0"},
            "archiveBufferSeconds",
            "60-900 with archiveUserHashBuckets",
        ),
        (
            {
                "archiveUserHashBuckets": "128",
                "archiveBufferMiB": "64",
                "archiveBufferSeconds": "600",
                "archiveFreshnessAlarmSeconds": "900",
            },
            "archiveFreshnessAlarmSeconds",
            "must exceed 900 s with archiveUserHashBuckets",
        ),
    ],
)
def test_bad_values_are_rejected_naming_the_key(config: dict[str, str], key: str, reason: str) -> None:
    # GIVEN one bad value WHEN the settings are read THEN the error names the key and why
    with pytest.raises(StackConfigError) as raised:
        StackSettings.from_config(config)
    assert raised.value.key == key
    assert reason in str(raised.value)
    assert str(raised.value).startswith(f"vedette:{key}:")


def test_scorer_environment_uses_the_scorer_names_and_passes_its_own_checks() -> None:
    # GIVEN settings for an instance-based endpoint
    settings = StackSettings.from_config({"endpointMode": "instance", "stateTtlDays": "7"})
    names = {
        "endpoint": "ep",
        "state_table": "state",
        "anomalies_table": "anomalies",
        "alerts_topic_arn": "arn:aws:sns:eu-west-1:123456789012:alerts",
        "bad_events_bucket": "bucket",
        "bad_events_prefix": "bad-events/",
        "feature_configs_uri": "s3://artifacts/models/feature-configs/",
    }
    # WHEN the scorer's environment is built and read back by the scorer's own settings
    environment = settings.scorer_environment(names)
    read = scorer_env.ScorerSettings.from_environ(environment)
    # THEN the scorer sees the resource names and the real-time payload limit
    assert read.endpoint_name == "ep"
    assert read.feature_configs_uri == "s3://artifacts/models/feature-configs/"
    assert read.state_ttl_seconds == 7 * 86400
    assert read.max_payload_bytes < scorer_env.REAL_TIME_MAX_PAYLOAD_BYTES
    assert read.max_payload_bytes > scorer_env.SERVERLESS_MAX_PAYLOAD_BYTES


def test_deploy_docs_list_every_key_with_its_default() -> None:
    # GIVEN the configuration table in docs/deploy.md
    docs = (ROOT / "docs" / "deploy.md").read_text()
    # THEN every key appears with its default, so the docs cannot silently fall behind
    for key in CONFIG_KEYS:
        default = key.default if key.default != "" else '""'
        if isinstance(key.default, bool):  # as Pulumi.yaml spells it
            default = str(key.default).lower()
        assert f"| `{key.name}` | {key.type} | `{default}` |" in docs, key.name


def test_default_bundle_path_is_where_make_bundle_writes() -> None:
    from stack import bundle

    assert StackSettings().scorer_bundle_path == bundle.DEFAULT_OUTPUT.relative_to(bundle.ROOT).as_posix()
    assert StackSettings().model_artifact_path == "build/model.tar.gz"
    assert "--output build/model.tar.gz" in (ROOT / "Makefile").read_text()
