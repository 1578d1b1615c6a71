"""The retraining cycle's stack: schedule -> state machine -> roles -> jobs -> endpoint, on Pulumi's
mocks; the state machine's definition validated with statelint and walked through both branches."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.mocks import MockMonitor
from statelint.linter import Linter

from stack.pipeline import deploy
from stack.retraining import Plan, definition, production_variant
from stack.settings import StackSettings
from tests import stack_harness
from tests.stack_harness import ACCOUNT_ID, REGION, Synthesized, policy_statements, synthesize, write_project

LIVE_CONFIG = "vedette-endpoint-config-live"
PLAN = Plan(
    endpoint_name="vedette-endpoint",
    image="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
    bucket="artifacts",
    archive_bucket="archive",
    kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/k",
    training_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/training",
    gate_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/gate",
    model_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/model",
    instance_type="ml.m5.xlarge",
    training_days=7,
    alert_budget=5.0,
    serverless=False,
    auto_promote=True,
    variant=production_variant(False, 2048, 5, "ml.c5.large", 2),
    alarm_names=["endpoint-5xx", "endpoint-latency", "alert-volume"],
    source_key="lifecycle/source/abc/sourcedir.tar.gz",
    labels_table="vedette-labels",
)
MODES = {
    "instance": PLAN,
    "serverless": replace(PLAN, serverless=True, variant=production_variant(True, 2048, 5, "ml.c5.large", 1)),
    "held": replace(PLAN, auto_promote=False),
    "sampled": replace(PLAN, sampling_instances=4, sampling_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/sampling"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


def run(project: Path, **overrides: Any) -> Synthesized:
    settings = StackSettings(**overrides)
    return synthesize(lambda: deploy(settings, project, "test"))


@pytest.fixture(scope="module")
def instance_stack(project: Path) -> Synthesized:
    return run(project, endpoint_mode="instance", endpoint_min_instances=2, retrain_auto_promote=True)


def machine_definition(deployed: Synthesized) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(deployed.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])
    return document


def statements_of(deployed: Synthesized, policy_name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy_statements(deployed.named(policy_name).inputs["policy"])}


# --- the stack's wiring ---------------------------------------------------------------------------


def test_the_schedule_starts_the_state_machine_through_a_role_allowed_only_that(instance_stack: Synthesized) -> None:
    schedule = instance_stack.named("vedette-schedule").inputs
    machine = instance_stack.one("aws:sfn/stateMachine:StateMachine")
    # THEN the weekly default, on time, targets the state machine with the scheduler's own role
    assert schedule["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert instance_stack.arn_owner(schedule["target"]["arn"]) is machine
    role = instance_stack.arn_owner(schedule["target"]["roleArn"])
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"
    }
    # AND that role may start this state machine and nothing else
    (statement,) = statements_of(instance_stack, "vedette-scheduler-policy").values()
    assert (statement["Action"], statement["Resource"]) == (["states:StartExecution"], [machine.outputs["arn"]])
    assert instance_stack.arn_owner(machine.inputs["roleArn"]).name == "vedette-machine-role"


def test_the_jobs_run_on_the_endpoint_image_with_their_own_roles_over_the_archive(instance_stack: Synthesized) -> None:
    states = machine_definition(instance_stack)["States"]
    train, gate = states["Train"]["Parameters"], states["Gate"]["Parameters"]
    image = instance_stack.one("aws:sagemaker/model:Model").inputs["primaryContainer"]["image"]
    archive = instance_stack.named("vedette-archive-bucket").outputs["bucket"]
    artifacts = instance_stack.named("vedette-artifacts-bucket").outputs["bucket"]
    source = instance_stack.named("vedette-lifecycle-source").inputs
    # THEN training runs the lifecycle's train half, in script mode, from the uploaded source
    assert train["AlgorithmSpecification"]["TrainingImage"] == image == gate["AppSpecification"]["ImageUri"]
    assert instance_stack.arn_owner(train["RoleArn"]).name == "vedette-training-role"
    assert instance_stack.arn_owner(gate["RoleArn"]).name == "vedette-gate-role"
    hyper = train["HyperParameters"]
    assert hyper["sagemaker_program"] == "lifecycle_train.py"
    assert hyper["sagemaker_submit_directory"] == f"s3://{source['bucket']}/{source['key']}"
    assert source["bucket"] == artifacts
    assert (hyper["archive"], hyper["days"], hyper["as-of.$"]) == (f"s3://{archive}/events/", "7", "$.as_of")
    # AND it learns from the analysts' verdicts in the console's labels table, which its role may scan
    assert hyper["verdicts-table"] == instance_stack.named("vedette-labels").outputs["name"]
    assert train["OutputDataConfig"]["S3OutputPath"] == f"s3://{artifacts}/lifecycle/training/"
    # AND the gate gets the source, the trained candidate and the endpoint's live artifact
    inputs = {i["InputName"]: i["S3Input"] for i in gate["ProcessingInputs"]}
    assert inputs["code"]["S3Uri"] == hyper["sagemaker_submit_directory"]
    assert inputs["candidate"]["S3Uri.$"] == "$.training.artifact"
    assert inputs["live"]["S3Uri.$"] == "$.liveArtifact.artifact"
    assert "python -m model.lifecycle gate" in gate["AppSpecification"]["ContainerEntrypoint"][2]
    # AND it publishes both models' feature configurations where the scorer reads them
    outputs = {o["OutputName"]: o["S3Output"] for o in gate["ProcessingOutputConfig"]["Outputs"]}
    assert outputs["feature-configs"]["S3Uri"] == f"s3://{artifacts}/models/feature-configs/"
    assert (
        f"'--feature-configs', '{outputs['feature-configs']['LocalPath']}'"
        in gate["AppSpecification"]["ContainerArguments.$"]
    )
    key = instance_stack.one("aws:kms/key:Key").outputs["arn"]
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == key == gate["ProcessingOutputConfig"]["KmsKeyId"]


def test_the_rollout_updates_the_stacks_endpoint_with_canary_and_rollback_on_three_alarms(
    instance_stack: Synthesized,
) -> None:
    states = machine_definition(instance_stack)["States"]
    endpoint = instance_stack.one("aws:sagemaker/endpoint:Endpoint")
    update = states["UpdateEndpoint"]["Parameters"]
    assert update["EndpointName"] == endpoint.outputs["name"] == states["FindLiveConfig"]["Parameters"]["EndpointName"]
    policy = update["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert policy["Type"] == "CANARY"
    assert policy["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 50}
    alarms = {a["AlarmName"] for a in update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]}
    by_name = {a.outputs["name"]: a.inputs for a in instance_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    watched = {(by_name[name]["namespace"], by_name[name]["metricName"]) for name in alarms}
    assert watched == {
        ("AWS/SageMaker", "Invocation5XXErrors"),
        ("AWS/SageMaker", "ModelLatency"),
        ("Vedette", "Alerts"),
    }
    alerts = next(inputs for inputs in by_name.values() if inputs["metricName"] == "Alerts")
    assert alerts["dimensions"] == {"service": "vedette-scorer"}
    # AND the new model runs on the endpoint's own execution role, with the same variant name
    create = states["CreateModel"]["Parameters"]
    assert instance_stack.arn_owner(create["ExecutionRoleArn"]).name == "vedette-sagemaker-role"
    (variant,) = states["CreateEndpointConfig"]["Parameters"]["ProductionVariants"]
    declared = instance_stack.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    assert variant["VariantName"] == declared["productionVariants"][0]["variantName"]
    assert variant["InstanceType"] == declared["productionVariants"][0]["instanceType"]


class OptionsMonitor(MockMonitor):
    """The mocks' monitor, also keeping each registration's ignoreChanges (the mocks drop options)."""

    ignored: dict[str, list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        OptionsMonitor.ignored[request.name] = list(request.ignoreChanges)
        return super().RegisterResource(request)


@pytest.mark.parametrize(("auto_promote", "ignored"), [(True, ["endpointConfigName"]), (False, [])])
def test_pulumi_leaves_the_endpoints_configuration_to_the_cycle_only_when_the_cycle_promotes(
    project: Path, monkeypatch: pytest.MonkeyPatch, auto_promote: bool, ignored: list[str]
) -> None:
    # GIVEN the program registering through a monitor that keeps the resource options
    monkeypatch.setattr(stack_harness, "MockMonitor", OptionsMonitor)
    OptionsMonitor.ignored.clear()
    # WHEN it deploys with the cycle promoting or not
    deployed = run(project, retrain_auto_promote=auto_promote)
    # THEN the endpoint ignores its configuration's name exactly when the cycle owns it
    endpoint = deployed.one("aws:sagemaker/endpoint:Endpoint")
    assert OptionsMonitor.ignored[endpoint.name] == ignored
    assert ("CreateModel" in machine_definition(deployed)["States"]) is auto_promote


def test_the_machine_role_is_scoped_to_the_cycles_jobs_models_and_endpoint(instance_stack: Synthesized) -> None:
    statements = statements_of(instance_stack, "vedette-machine-policy")
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:"
    assert statements["RunTrainingJobs"]["Resource"] == [f"{prefix}training-job/vedette-train-*"]
    assert statements["RunProcessingJobs"]["Resource"] == [f"{prefix}processing-job/vedette-gate-*"]
    assert statements["CreateModels"]["Resource"] == [f"{prefix}model/vedette-model-*"]
    assert statements["CreateConfigurations"]["Resource"] == [f"{prefix}endpoint-config/vedette-config-*"]
    endpoint_arn = instance_stack.one("aws:sagemaker/endpoint:Endpoint").outputs["arn"]
    assert statements["UpdateTheEndpoint"]["Resource"] == [endpoint_arn]
    assert statements["FindTheLiveModel"]["Resource"] == [endpoint_arn]
    rules = statements["WatchJobsToTheirEnd"]["Resource"]
    assert [rule.rsplit("/", 1)[1] for rule in rules] == [
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
        "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    ]
    passed = {instance_stack.arn_owner(arn).name for arn in statements["PassTheJobAndModelRoles"]["Resource"]}
    assert passed == {"vedette-training-role", "vedette-gate-role", "vedette-sagemaker-role"}
    assert statements["PassTheJobAndModelRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    artifacts = instance_stack.named("vedette-artifacts-bucket").outputs["arn"]
    assert statements["ReadDecisions"]["Resource"] == [f"{artifacts}/models/cycles/*"]
    assert statements["RecordDecisions"]["Resource"] == [f"{artifacts}/lifecycle/decisions/*"]
    # Instance mode: SageMaker rolls back by itself, so the machine reads no alarms
    assert "ReadTheRolloutAlarms" not in statements


def test_the_job_roles_read_the_archive_and_write_only_their_own_outputs(instance_stack: Synthesized) -> None:
    archive = instance_stack.named("vedette-archive-bucket").outputs["arn"]
    artifacts = instance_stack.named("vedette-artifacts-bucket").outputs["arn"]
    training = statements_of(instance_stack, "vedette-training-policy")
    gate = statements_of(instance_stack, "vedette-gate-policy")
    assert training["WriteOutputs"]["Resource"] == [f"{artifacts}/lifecycle/training/*"]
    assert gate["WriteOutputs"]["Resource"] == [f"{artifacts}/models/cycles/*", f"{artifacts}/models/feature-configs/*"]
    assert training["ReadInputs"]["Resource"] == [f"{archive}/events/*", f"{artifacts}/lifecycle/source/*"]
    assert f"{artifacts}/models/*" in gate["ReadInputs"]["Resource"]
    assert training["ListTheArchive"]["Condition"] == {"StringLike": {"s3:prefix": ["events/*"]}}
    labels = instance_stack.named("vedette-labels").outputs["arn"]
    assert training["ReadTheVerdicts"] == {
        "Sid": "ReadTheVerdicts",
        "Effect": "Allow",
        "Action": ["dynamodb:Scan"],
        "Resource": [labels],
    }
    assert "ReadTheVerdicts" not in gate


def test_without_auto_promote_the_machine_may_not_touch_the_endpoint(project: Path) -> None:
    deployed = run(project)
    actions = {a for s in statements_of(deployed, "vedette-machine-policy").values() for a in s["Action"]}
    assert not actions & {"sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:UpdateEndpoint"}
    assert "sagemaker:DescribeEndpoint" in actions


def test_serverless_rollout_reads_only_the_three_rollout_alarms(project: Path) -> None:
    deployed = run(project, retrain_auto_promote=True)
    statements = statements_of(deployed, "vedette-machine-policy")
    owners = {deployed.arn_owner(arn).name for arn in statements["ReadTheRolloutAlarms"]["Resource"]}
    assert owners == {"vedette-endpoint-5xx", "vedette-endpoint-latency", "vedette-alert-volume"}
    update = machine_definition(deployed)["States"]["UpdateEndpoint"]["Parameters"]
    assert "DeploymentConfig" not in update


def test_auto_promote_on_a_one_instance_endpoint_is_refused() -> None:
    from stack.exceptions import StackConfigError

    with pytest.raises(StackConfigError, match="endpointMinInstances"):
        StackSettings(endpoint_mode="instance", retrain_auto_promote=True)
    with pytest.raises(StackConfigError, match="retrainSchedule"):
        StackSettings(retrain_schedule="every monday")


# --- the definition: valid ASL, and both branches walked ---------------------------------------


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_definition_is_valid_amazon_states_language(mode: str) -> None:
    assert Linter.validate(definition(MODES[mode])) == []


def test_statelint_catches_a_broken_definition() -> None:
    broken = definition(PLAN)
    broken["States"]["Promoted?"]["Default"] = "NoSuchState"
    assert Linter.validate(broken)


def test_the_deployed_definition_is_valid_amazon_states_language(instance_stack: Synthesized) -> None:
    assert Linter.validate(machine_definition(instance_stack)) == []


Service = Callable[[str, dict[str, Any]], Any]


def _path(data: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.removeprefix("$")):
        data = data[int(part[1:-1])] if part.startswith("[") else data[part]
    return data


def _value(data: Any, text: Any) -> Any:
    if not isinstance(text, str):
        return text
    if text == "States.UUID()":
        return "cycle-1"
    if text == "$$.Execution.StartTime":
        return "2026-11-30T03:00:00.000Z"
    if text == "States.JsonToString($)":
        return json.dumps(data)
    if match := re.fullmatch(r"States\.Format\('(.*)', (\$[\w.]+)\)", text):
        return match.group(1).replace("{}", str(_path(data, match.group(2))), 1)
    if match := re.fullmatch(r"States\.StringToJson\((\$[\w.]+)\)", text):
        return json.loads(_path(data, match.group(1)))
    if match := re.fullmatch(r"States\.ArrayLength\((\$[\w.]+)\)", text):
        return len(_path(data, match.group(1)))
    if text.startswith("States.Array("):
        return text
    return _path(data, text)


def _render(data: Any, template: Any) -> Any:
    if isinstance(template, dict):
        return {
            key.removesuffix(".$"): _value(data, value) if key.endswith(".$") else _render(data, value)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [_render(data, item) for item in template]
    return template


def _put(data: dict[str, Any], result_path: str | None, result: Any) -> dict[str, Any]:
    if result_path is None:
        return data
    if result_path == "$":
        return dict(result)
    *parents, last = result_path.removeprefix("$.").split(".")
    target = data
    for parent in parents:
        target = target.setdefault(parent, {})
    target[last] = result
    return data


def _choose(data: dict[str, Any], state: dict[str, Any]) -> str:
    for rule in state["Choices"]:
        value = _path(data, rule["Variable"])
        if (
            ("StringEquals" in rule and value == rule["StringEquals"])
            or ("StringEqualsPath" in rule and value == _path(data, rule["StringEqualsPath"]))
            or ("NumericGreaterThan" in rule and value > rule["NumericGreaterThan"])
        ):
            return str(rule["Next"])
    return str(state["Default"])


class ServiceError(Exception):
    pass


def walk(document: dict[str, Any], service: Service) -> tuple[list[str], dict[str, Any]]:
    """Run the definition on ``service`` (resource, parameters -> result): the states visited and the
    final data."""
    states, name, data = document["States"], document["StartAt"], {}
    visited: list[str] = []
    while True:
        visited.append(name)
        assert len(visited) < 200, visited
        state = states[name]
        kind = state["Type"]
        if kind == "Pass":
            result = _render(data, state["Parameters"]) if "Parameters" in state else state.get("Result")
            data = _put(data, state.get("ResultPath", "$"), result)
        elif kind == "Task":
            try:
                result = service(state["Resource"], _render(data, state["Parameters"]))
            except ServiceError as error:
                (catch,) = state["Catch"]
                data = _put(data, catch["ResultPath"], {"Error": str(error)})
                name = catch["Next"]
                continue
            if "ResultSelector" in state:
                result = _render(result, state["ResultSelector"])
            data = _put(data, state.get("ResultPath", "$"), result)
        elif kind == "Choice":
            name = _choose(data, state)
            continue
        if state.get("End"):
            return visited, data
        name = state["Next"]


class FakeAws:
    """The calls the machine makes, answered as SageMaker, S3 and CloudWatch would."""

    def __init__(self, decision: str, endpoint_configs: list[str], alarming: int = 0, fail: str = "") -> None:
        self.decision, self.endpoint_configs, self.alarming, self.fail = decision, endpoint_configs, alarming, fail
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.recorded: dict[str, Any] = {}

    def __call__(self, resource: str, parameters: dict[str, Any]) -> Any:
        action = resource.rsplit(":", 1)[1]
        self.calls.append((action, parameters))
        if action == self.fail:
            raise ServiceError(f"{action} failed")
        if action == "describeEndpoint":
            config = self.endpoint_configs.pop(0) if len(self.endpoint_configs) > 1 else self.endpoint_configs[0]
            status, _, config = config.partition(":") if ":" in config else ("InService", "", config)
            return {"EndpointStatus": status, "EndpointConfigName": config}
        answers: dict[str, Any] = {
            "describeEndpointConfig": {"ProductionVariants": [{"ModelName": "vedette-model-live"}]},
            "describeModel": {"PrimaryContainer": {"ModelDataUrl": "s3://artifacts/models/live.tar.gz"}},
            "createTrainingJob.sync": {"ModelArtifacts": {"S3ModelArtifacts": "s3://artifacts/lifecycle/t.tar.gz"}},
            "getObject": {"Body": json.dumps({"decision": self.decision, "reason": "why"})},
            "describeAlarms": {"MetricAlarms": [{"AlarmName": "a"}] * self.alarming},
        }
        if action == "putObject":
            self.recorded = json.loads(parameters["Body"])
        return answers.get(action, {})

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]


def test_a_rejected_candidate_is_recorded_and_the_endpoint_left_alone() -> None:
    aws = FakeAws("rejected", [LIVE_CONFIG])
    visited, _ = walk(definition(PLAN), aws)
    assert visited[-3:] == ["Promoted?", "Rejected", "RecordDecision"]
    assert aws.recorded["outcome"] == "rejected"
    assert aws.recorded["gate"]["record"]["reason"] == "why"
    assert "updateEndpoint" not in aws.actions()
    # AND the gate judged the candidate the training job wrote against the live model's artifact
    gate = dict(aws.calls)["createProcessingJob.sync"]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in gate["ProcessingInputs"]}
    assert inputs["candidate"] == "s3://artifacts/lifecycle/t.tar.gz"
    assert inputs["live"] == "s3://artifacts/models/live.tar.gz"


def test_a_promoted_candidate_rolls_out_with_guardrails_until_the_endpoint_serves_it() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG, f"Updating:{LIVE_CONFIG}", "InService:vedette-config-cycle-1"])
    visited, _ = walk(definition(PLAN), aws)
    assert visited[7:12] == ["Promoted?", "CreateModel", "CreateEndpointConfig", "UpdateEndpoint", "RolloutWait"]
    assert visited.count("RolloutDescribe") == 2
    assert aws.recorded["outcome"] == "deployed"
    model = dict(aws.calls)["createModel"]
    assert model["ModelName"] == "vedette-model-cycle-1"
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://artifacts/models/cycles/cycle-1/model.tar.gz"
    update = dict(aws.calls)["updateEndpoint"]
    assert update["EndpointConfigName"] == "vedette-config-cycle-1"
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"][2] == {"AlarmName": "alert-volume"}


def test_a_rollout_sagemaker_rolled_back_is_recorded_as_such() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG, "Updating:x", f"InService:{LIVE_CONFIG}"])
    visited, _ = walk(definition(PLAN), aws)
    assert visited[-2:] == ["RolledBack", "RecordDecision"]
    assert aws.recorded["outcome"] == "rolled-back"


@pytest.mark.parametrize("mode", ["instance", "serverless"])
def test_a_rollout_whose_rollback_failed_too_is_restored_to_the_captured_configuration(mode: str) -> None:
    # GIVEN a promoted candidate whose rollout and SageMaker's rollback both fail, leaving the
    # endpoint serving a mix of the two configurations
    aws = FakeAws("promoted", [LIVE_CONFIG, "UpdateRollbackFailed:vedette-config-cycle-1", f"InService:{LIVE_CONFIG}"])
    # WHEN the machine runs
    visited, _ = walk(definition(MODES[mode]), aws)
    # THEN it updates the endpoint back to the live configuration it captured, waits for it, and records that
    first, second = [parameters for action, parameters in aws.calls if action == "updateEndpoint"]
    assert first["EndpointConfigName"] == "vedette-config-cycle-1"
    assert second == {"EndpointName": first["EndpointName"], "EndpointConfigName": LIVE_CONFIG}
    assert visited[-3:] == ["RestoreStatus", "Restored", "RecordDecision"]
    assert aws.recorded["outcome"] == "rollback-failed-restored"


def test_a_restore_that_fails_too_is_recorded_as_a_failed_cycle() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG, "UpdateRollbackFailed:x", "UpdateRollbackFailed:x"])
    visited, _ = walk(definition(PLAN), aws)
    assert "Restore" in visited
    assert aws.recorded["outcome"] == "failed"


def test_a_serverless_rollout_whose_alarms_fire_is_switched_back_to_the_captured_configuration() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG, "InService:vedette-config-cycle-1"], alarming=1)
    visited, _ = walk(definition(MODES["serverless"]), aws)
    assert "Bake" in visited
    assert aws.recorded["outcome"] == "rolled-back"
    first, second = [parameters for action, parameters in aws.calls if action == "updateEndpoint"]
    assert "DeploymentConfig" not in first
    assert second == {"EndpointName": "vedette-endpoint", "EndpointConfigName": LIVE_CONFIG}


def test_a_serverless_rollout_with_quiet_alarms_is_deployed() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG, "InService:vedette-config-cycle-1"], alarming=0)
    visited, _ = walk(definition(MODES["serverless"]), aws)
    assert visited[-3:] == ["Alarming?", "Deployed", "RecordDecision"]
    assert aws.recorded["outcome"] == "deployed"
    assert [action for action in aws.actions() if action == "updateEndpoint"] == ["updateEndpoint"]
    assert dict(aws.calls)["describeAlarms"] == {"AlarmNames": list(PLAN.alarm_names), "StateValue": "ALARM"}


def test_without_auto_promote_a_promoted_candidate_is_held_and_recorded() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG])
    visited, _ = walk(definition(MODES["held"]), aws)
    assert visited[-2:] == ["PromotionHeld", "RecordDecision"]
    assert aws.recorded["outcome"] == "promoted-held"
    assert not {"createModel", "updateEndpoint"} & set(aws.actions())


def test_a_failed_training_job_is_recorded_as_a_failed_cycle() -> None:
    aws = FakeAws("promoted", [LIVE_CONFIG], fail="createTrainingJob.sync")
    visited, _ = walk(definition(PLAN), aws)
    assert visited[-2:] == ["Failed", "RecordDecision"]
    assert aws.recorded["outcome"] == "failed"
    assert aws.recorded["error"] == {"Error": "createTrainingJob.sync failed"}
    assert "createProcessingJob.sync" not in aws.actions()


def test_a_sampled_cycle_reads_the_window_on_parallel_instances_then_trains_on_their_parts() -> None:
    # GIVEN a cycle with four sampling instances
    aws = FakeAws("rejected", [LIVE_CONFIG])
    visited, _ = walk(definition(MODES["sampled"]), aws)
    # THEN the sampling job runs before training
    assert visited[visited.index("FindLiveArtifact") + 1 : visited.index("Gate")] == ["Sample", "Train"]
    sample_job = next(p for action, p in aws.calls if action == "createProcessingJob.sync")
    training_job = dict(aws.calls)["createTrainingJob.sync"]
    assert sample_job["ProcessingJobName"] == "vedette-sample-cycle-1"
    assert sample_job["RoleArn"] == MODES["sampled"].sampling_role_arn
    assert sample_job["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 4
    # AND each instance samples the cycle's training window (model.sample finds its part among the hosts)
    assert "python -m model.sample" in sample_job["AppSpecification"]["ContainerEntrypoint"][2]
    arguments = sample_job["AppSpecification"]["ContainerArguments"]
    for expected in ("'--archive', 's3://archive/events/'", "'--days', '7'", "'--as-of', $.as_of"):
        assert expected in arguments
    # AND the training job reads the parts they wrote, as its sample channel
    (output,) = sample_job["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == "s3://artifacts/lifecycle/samples/cycle-1/"
    (channel,) = training_job["InputDataConfig"]
    assert channel["ChannelName"] == "sample"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == output["S3Output"]["S3Uri"]
    # AND without sampling instances, the training job reads the archive itself
    plain = definition(PLAN)
    assert "Sample" not in plain["States"]
    assert "InputDataConfig" not in plain["States"]["Train"]["Parameters"]


def test_the_sampling_role_reads_the_archive_and_writes_only_the_parts(project: Path) -> None:
    deployed = run(project, retrain_sampling_instances=4)
    archive = deployed.named("vedette-archive-bucket").outputs["arn"]
    artifacts = deployed.named("vedette-artifacts-bucket").outputs["arn"]
    sampling = statements_of(deployed, "vedette-sampling-policy")
    assert sampling["ReadInputs"]["Resource"] == [f"{archive}/events/*", f"{artifacts}/lifecycle/source/*"]
    assert sampling["WriteOutputs"]["Resource"] == [f"{artifacts}/lifecycle/samples/*"]
    assert (
        f"{artifacts}/lifecycle/samples/*"
        in statements_of(deployed, "vedette-training-policy")["ReadInputs"]["Resource"]
    )
    machine = statements_of(deployed, "vedette-machine-policy")
    assert any(arn.endswith(":processing-job/vedette-sample-*") for arn in machine["RunProcessingJobs"]["Resource"])
    passed = {deployed.arn_owner(arn).name for arn in machine["PassTheJobAndModelRoles"]["Resource"]}
    assert "vedette-sampling-role" in passed
    states = machine_definition(deployed)["States"]
    assert deployed.arn_owner(states["Sample"]["Parameters"]["RoleArn"]).name == "vedette-sampling-role"
    assert Linter.validate(machine_definition(deployed)) == []


def test_without_sampling_instances_there_is_no_sampling_job_or_role(instance_stack: Synthesized) -> None:
    assert "Sample" not in machine_definition(instance_stack)["States"]
    assert not [role for role in instance_stack.of_type("aws:iam/role:Role") if role.name == "vedette-sampling-role"]
    from stack.exceptions import StackConfigError

    with pytest.raises(StackConfigError, match="retrainSamplingInstances"):
        StackSettings(retrain_sampling_instances=101)
