"""Every input value the program sends, checked against botocore's AWS API models under the mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack import lambdas, model_endpoint
from stack.api_models import INPUT_MEMBERS, check_resources, member_shape
from stack.pipeline import deploy
from stack.settings import StackSettings
from tests.stack_harness import Synthesized, synthesize, write_project

VARIANTS = {
    "defaults": StackSettings(),
    "instance-provisioned-email": StackSettings(
        endpoint_mode="instance",
        stream_mode="PROVISIONED",
        stream_shard_count=4,
        alert_email="secops@example.com",
        state_table_capacity_units=300,
        scorer_reserved_concurrency=20,
    ),
    # The archive by user hash: dynamic partitioning, the partitioner's processor, the second table.
    "archive-by-user-hash": StackSettings(archive_user_hash_buckets=128, archive_buffer_mib=64),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


def findings_of(deployed: Synthesized) -> list[str]:
    return [str(finding) for finding in check_resources((r.typ, r.name, r.inputs) for r in deployed.custom())]


def test_every_mapped_input_names_a_member_of_the_api_model() -> None:
    for resource_type, members in INPUT_MEMBERS.items():
        for input_path, member in members.items():
            assert member_shape(member) is not None, (resource_type, input_path)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_stack_sends_only_values_the_aws_apis_accept(project: Path, variant: str) -> None:
    # GIVEN every resource the program registers on the mocks
    deployed = synthesize(lambda: deploy(VARIANTS[variant], project, "test"))
    assert len(list(deployed.custom())) > 50
    # WHEN each input value is checked against its API member's shape THEN nothing is refused
    assert findings_of(deployed) == []


@pytest.mark.parametrize(
    ("module", "attribute", "broken", "input_path", "words"),
    [
        (lambdas, "RUNTIME", "python3.99", "runtime", "not one of"),
        (model_endpoint, "VARIANT_NAME", "primary variant!", "productionVariants[].variantName", "pattern"),
    ],
)
def test_a_value_aws_would_refuse_is_caught_offline(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    attribute: str,
    broken: str,
    input_path: str,
    words: str,
) -> None:
    # GIVEN the program with one value broken on purpose (the mocks accept it)
    monkeypatch.setattr(module, attribute, broken)
    deployed = synthesize(lambda: deploy(StackSettings(), project, "test"))
    # WHEN the values are checked THEN the broken one is reported, naming the input and the reason
    findings = findings_of(deployed)
    assert findings, f"{attribute}={broken!r} went through"
    assert all(f": {input_path} = {broken!r}: " in finding and words in finding for finding in findings), findings


def test_a_setting_past_the_service_limit_is_caught_when_the_settings_check_misses_it(project: Path) -> None:
    # GIVEN settings whose own check was bypassed (as if a limit were missing from stack/settings.py)
    settings = StackSettings()
    object.__setattr__(settings, "batch_size", 20_000)
    deployed = synthesize(lambda: deploy(settings, project, "test"))
    # THEN the mapping's batch size is reported against Lambda's CreateEventSourceMapping maximum
    (finding,) = findings_of(deployed)
    assert "batchSize = 20000" in finding
    assert "above the maximum 10000" in finding


def test_a_resource_type_with_no_mapping_is_reported() -> None:
    (finding,) = check_resources([("aws:ec2/vpc:Vpc", "network", {"cidrBlock": "10.0.0.0/16"})])
    assert "no API members mapped" in str(finding)
