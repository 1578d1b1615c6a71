"""The retraining cycle in AWS: an EventBridge Scheduler schedule starts a Step Functions state
machine that trains a candidate (SageMaker training job), judges it against the endpoint's live
model on the held-out day (SageMaker processing job running the same backtest and gate,
``python -m model.lifecycle gate``), and on promotion rolls it out with a guarded endpoint update;
every decision is recorded under ``lifecycle/decisions/`` in the artifacts bucket.

``definition`` builds the Amazon States Language document from plain values, so tests can validate
and walk it without Pulumi; the component resolves the ARNs and names into it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from model.build import LIFECYCLE_ENTRY_POINT_NAME, write_training_source
from model.container import MODEL_ENVIRONMENT
from model.lifecycle import ARTIFACT_NAME, DECISION_FILE
from stack.iam import Statement, assume_role_policy, key_use, policy_document
from stack.model_endpoint import (
    FEATURE_CONFIGS_PREFIX,
    MODELS_PREFIX,
    SAGEMAKER_ACTIONS_WITHOUT_RESOURCES,
    VARIANT_NAME,
)

SOURCE_PREFIX = "lifecycle/source/"
TRAINING_PREFIX = "lifecycle/training/"
# Where the sampling job's instances leave the training window's parts (model.sample), by cycle.
SAMPLES_PREFIX = "lifecycle/samples/"
DECISIONS_PREFIX = "lifecycle/decisions/"
# Under models/: the endpoint's execution role reads every artifact there, so a promoted candidate
# needs no new grant, and an old variant can still re-read its own during a rollout.
CYCLES_PREFIX = f"{MODELS_PREFIX}cycles/"
ARCHIVE_PREFIX = "events/"
# Where the processing job finds its inputs and leaves its output (SageMaker copies them to and from S3).
PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
CANDIDATE_DIR = f"{PROCESSING_ROOT}/input/candidate"
LIVE_DIR = f"{PROCESSING_ROOT}/input/live"
OUTPUT_DIR = f"{PROCESSING_ROOT}/output"
# The gate writes the candidate's and the live model's feature configurations here, for the scorer.
FEATURE_CONFIGS_DIR = f"{PROCESSING_ROOT}/feature-configs"
SAMPLE_DIR = f"{PROCESSING_ROOT}/output/sample"
# The training job's channel of sampled parts (SageMaker sets SM_CHANNEL_SAMPLE, model.lifecycle reads it).
SAMPLE_CHANNEL = "sample"
SOURCE_ARCHIVE = "sourcedir.tar.gz"


# The processing job unpacks the same source directory the training job gets (as the SageMaker
# Python SDK's FrameworkProcessor does), installs its requirements, and runs the gate.
def _job_script(command: str) -> str:
    return " && ".join(
        (
            f"cd {CODE_DIR}",
            f"tar -xzf {SOURCE_ARCHIVE}",
            "pip install --quiet -r requirements.txt",
            f'{command} "$@"',
        )
    )


GATE_SCRIPT = _job_script("python -m model.lifecycle gate")
# Each instance of the sampling job reads its share of the window (model.sample: its place among the hosts).
SAMPLE_SCRIPT = _job_script("python -m model.sample")
JOB_VOLUME_GIB = 30
JOB_MAX_SECONDS = 4 * 3600
# Guarded rollout (instance mode): the canary gets half the new fleet's capacity (the most SageMaker
# allows), the alarms watch it for WAIT, and the old fleet is kept for a final bake of BAKE.
CANARY_PERCENT = 50
CANARY_WAIT_SECONDS = 600
BAKE_SECONDS = 600
ROLLOUT_MAX_SECONDS = 3 * 3600
POLL_SECONDS = 60
# Step Functions watches .sync jobs through these managed EventBridge rules (its SageMaker IAM page).
TRAINING_RULE = "StepFunctionsGetEventsForSageMakerTrainingJobsRule"
PROCESSING_RULE = "StepFunctionsGetEventsForSageMakerProcessingJobsRule"
ALERTS_ALARM_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Plan:
    """Everything the state machine's definition names, resolved to plain values."""

    endpoint_name: str
    image: str
    bucket: str  # the artifacts bucket
    archive_bucket: str
    kms_key_arn: str
    training_role_arn: str
    gate_role_arn: str
    model_role_arn: str
    instance_type: str  # the jobs'
    training_days: int
    alert_budget: float
    serverless: bool
    auto_promote: bool
    variant: Mapping[str, Any]  # the endpoint configuration's production variant, less its model
    alarm_names: Sequence[str]
    source_key: str  # the jobs' source directory, tar.gz, in the artifacts bucket
    labels_table: str  # the console's verdicts, which the candidate learns its suppressions from
    # Above 1, a processing job of this many instances reads the training window in parallel and the
    # training job trains on its parts (model.sample); its role then.
    sampling_instances: int = 1
    sampling_role_arn: str | None = None


def _task(resource: str, parameters: Mapping[str, Any], next_state: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "Parameters": dict(parameters), "Next": next_state, **fields}


def _caught(state: dict[str, Any]) -> dict[str, Any]:
    """A task whose failure is recorded as the cycle's outcome instead of ending it silently."""
    return {**state, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}]}


def _outcome(name: str) -> dict[str, Any]:
    return {"Type": "Pass", "Result": name, "ResultPath": "$.outcome", "Next": "RecordDecision"}


def _poll(prefix: str, plan: Plan, done: str, rollback_failed: str = "Failed") -> dict[str, dict[str, Any]]:
    """Wait, DescribeEndpoint, and loop until the endpoint is InService (then ``done``), Failed, or
    UpdateRollbackFailed (then ``rollback_failed``)."""
    return {
        f"{prefix}Wait": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": f"{prefix}Describe"},
        f"{prefix}Describe": _caught(
            _task(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                {"EndpointName": plan.endpoint_name},
                f"{prefix}Status",
                ResultSelector={"status.$": "$.EndpointStatus", "config.$": "$.EndpointConfigName"},
                ResultPath="$.endpoint",
            )
        ),
        f"{prefix}Status": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.endpoint.status", "StringEquals": "InService", "Next": done},
                {"Variable": "$.endpoint.status", "StringEquals": "Failed", "Next": "Failed"},
                # The guardrails' rollback failed too: the endpoint serves a mix of both
                # configurations (DescribeEndpoint's EndpointStatus).
                {"Variable": "$.endpoint.status", "StringEquals": "UpdateRollbackFailed", "Next": rollback_failed},
            ],
            "Default": f"{prefix}Wait",
        },
    }


def deployment_config(plan: Plan) -> dict[str, Any]:
    """SageMaker's guardrails for the instance-mode update: blue/green with a canary and automatic
    rollback when one of the alarms fires."""
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": CANARY_PERCENT},
                "WaitIntervalInSeconds": CANARY_WAIT_SECONDS,
            },
            "TerminationWaitInSeconds": BAKE_SECONDS,
            "MaximumExecutionTimeoutInSeconds": ROLLOUT_MAX_SECONDS,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in plan.alarm_names]},
    }


def definition(plan: Plan) -> dict[str, Any]:
    """The state machine (Amazon States Language, JSONPath) of one retraining cycle."""
    cycle_prefix = f"s3://{plan.bucket}/{CYCLES_PREFIX}"
    source = f"s3://{plan.bucket}/{plan.source_key}"
    archive = f"s3://{plan.archive_bucket}/{ARCHIVE_PREFIX}"
    states: dict[str, dict[str, Any]] = {
        # One id names every job, model and record of the cycle; the start time fixes its held-out day.
        "Start": {
            "Type": "Pass",
            "Parameters": {"id.$": "States.UUID()", "as_of.$": "$$.Execution.StartTime"},
            "Next": "FindLiveConfig",
        },
        "FindLiveConfig": _caught(
            _task(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                {"EndpointName": plan.endpoint_name},
                "FindLiveModel",
                ResultSelector={"config.$": "$.EndpointConfigName"},
                ResultPath="$.live",
            )
        ),
        "FindLiveModel": _caught(
            _task(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpointConfig",
                {"EndpointConfigName.$": "$.live.config"},
                "FindLiveArtifact",
                ResultSelector={"model.$": "$.ProductionVariants[0].ModelName"},
                ResultPath="$.liveModel",
            )
        ),
        "FindLiveArtifact": _caught(
            _task(
                "arn:aws:states:::aws-sdk:sagemaker:describeModel",
                {"ModelName.$": "$.liveModel.model"},
                "Sample" if plan.sampling_instances > 1 else "Train",
                ResultSelector={"artifact.$": "$.PrimaryContainer.ModelDataUrl"},
                ResultPath="$.liveArtifact",
            )
        ),
        "Train": _caught(
            _task(
                "arn:aws:states:::sagemaker:createTrainingJob.sync",
                {
                    "TrainingJobName.$": "States.Format('vedette-train-{}', $.id)",
                    "RoleArn": plan.training_role_arn,
                    "AlgorithmSpecification": {"TrainingImage": plan.image, "TrainingInputMode": "File"},
                    # Script mode: the container fetches the source and runs the entry point with
                    # the hyper-parameters as --name value; the job reads the archive from S3 itself.
                    "HyperParameters": {
                        "sagemaker_program": LIFECYCLE_ENTRY_POINT_NAME,
                        "sagemaker_submit_directory": source,
                        "archive": archive,
                        "days": str(plan.training_days),
                        "alert-budget": str(plan.alert_budget),
                        "as-of.$": "$.as_of",
                        "verdicts-table": plan.labels_table,
                    },
                    "OutputDataConfig": {
                        "S3OutputPath": f"s3://{plan.bucket}/{TRAINING_PREFIX}",
                        "KmsKeyId": plan.kms_key_arn,
                    },
                    "ResourceConfig": {
                        "InstanceCount": 1,
                        "InstanceType": plan.instance_type,
                        "VolumeSizeInGB": JOB_VOLUME_GIB,
                        "VolumeKmsKeyId": plan.kms_key_arn,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": JOB_MAX_SECONDS},
                    **_sample_channel(plan),
                },
                "Gate",
                ResultSelector={"artifact.$": "$.ModelArtifacts.S3ModelArtifacts"},
                ResultPath="$.training",
            )
        ),
        "Gate": _caught(
            _task(
                "arn:aws:states:::sagemaker:createProcessingJob.sync",
                {
                    "ProcessingJobName.$": "States.Format('vedette-gate-{}', $.id)",
                    "RoleArn": plan.gate_role_arn,
                    "AppSpecification": {
                        "ImageUri": plan.image,
                        "ContainerEntrypoint": ["sh", "-c", GATE_SCRIPT, "gate"],
                        "ContainerArguments.$": (
                            f"States.Array('--archive', '{archive}', '--days', '{plan.training_days}', "
                            f"'--alert-budget', '{plan.alert_budget}', '--as-of', $.as_of, "
                            f"'--candidate', '{CANDIDATE_DIR}/{ARTIFACT_NAME}', "
                            f"'--live-model', '{LIVE_DIR}/{ARTIFACT_NAME}', '--output', '{OUTPUT_DIR}', "
                            f"'--feature-configs', '{FEATURE_CONFIGS_DIR}')"
                        ),
                    },
                    "ProcessingInputs": [
                        _processing_input("code", source, CODE_DIR),
                        _processing_input("candidate", "$.training.artifact", CANDIDATE_DIR),
                        _processing_input("live", "$.liveArtifact.artifact", LIVE_DIR),
                    ],
                    "ProcessingOutputConfig": {
                        "KmsKeyId": plan.kms_key_arn,
                        "Outputs": [
                            {
                                "OutputName": "decision",
                                "S3Output": {
                                    "S3Uri.$": f"States.Format('{cycle_prefix}{{}}', $.id)",
                                    "LocalPath": OUTPUT_DIR,
                                    "S3UploadMode": "EndOfJob",
                                },
                            },
                            {
                                "OutputName": "feature-configs",
                                "S3Output": {
                                    "S3Uri": f"s3://{plan.bucket}/{FEATURE_CONFIGS_PREFIX}",
                                    "LocalPath": FEATURE_CONFIGS_DIR,
                                    "S3UploadMode": "EndOfJob",
                                },
                            },
                        ],
                    },
                    "ProcessingResources": _processing_resources(plan, 1),
                    "StoppingCondition": {"MaxRuntimeInSeconds": JOB_MAX_SECONDS},
                },
                "ReadDecision",
                ResultPath=None,
            )
        ),
        "ReadDecision": _caught(
            _task(
                "arn:aws:states:::aws-sdk:s3:getObject",
                {"Bucket": plan.bucket, "Key.$": f"States.Format('{CYCLES_PREFIX}{{}}/{DECISION_FILE}', $.id)"},
                "Promoted?",
                ResultSelector={"record.$": "States.StringToJson($.Body)"},
                ResultPath="$.gate",
            )
        ),
        "Promoted?": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.gate.record.decision",
                    "StringEquals": "promoted",
                    "Next": "CreateModel" if plan.auto_promote else "PromotionHeld",
                }
            ],
            "Default": "Rejected",
        },
        "Rejected": _outcome("rejected"),
        "Failed": _outcome("failed"),
        "RecordDecision": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {
                "Bucket": plan.bucket,
                "Key.$": f"States.Format('{DECISIONS_PREFIX}{{}}.json', $.id)",
                "Body.$": "States.JsonToString($)",
                "ContentType": "application/json",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": plan.kms_key_arn,
            },
            "ResultPath": None,
            "End": True,
        },
    }
    if plan.sampling_instances > 1:
        states["Sample"] = _sample_state(plan, source, archive)
    if not plan.auto_promote:
        # Until the scorer switches its feature configuration with the model (docs/deploy.md), a
        # promoted candidate is stored with its card and recorded, and deployed by hand.
        states["PromotionHeld"] = _outcome("promoted-held")
    else:
        states |= _rollout_states(plan, cycle_prefix)
        states |= {
            "Deployed": _outcome("deployed"),
            "RolledBack": _outcome("rolled-back"),
            "Restored": _outcome("rollback-failed-restored"),
        }
    return {
        "Comment": "Vedette retraining cycle: train, gate on the held-out day, guarded rollout, record.",
        "StartAt": "Start",
        "States": states,
    }


def _samples_uri(plan: Plan) -> str:
    """The cycle's sampled parts (a States.Format template on the cycle's id)."""
    return f"States.Format('s3://{plan.bucket}/{SAMPLES_PREFIX}{{}}/', $.id)"


def _sample_state(plan: Plan, source: str, archive: str) -> dict[str, Any]:
    """The processing job whose instances each sample their share of the training window's objects
    and write their part (model.sample), so that the archive is read ``sampling_instances`` times
    faster; its parts are the training job's ``sample`` channel."""
    return _caught(
        _task(
            "arn:aws:states:::sagemaker:createProcessingJob.sync",
            {
                "ProcessingJobName.$": "States.Format('vedette-sample-{}', $.id)",
                "RoleArn": plan.sampling_role_arn,
                "AppSpecification": {
                    "ImageUri": plan.image,
                    "ContainerEntrypoint": ["sh", "-c", SAMPLE_SCRIPT, "sample"],
                    "ContainerArguments.$": (
                        f"States.Array('--archive', '{archive}', '--days', '{plan.training_days}', "
                        f"'--as-of', $.as_of, '--out', '{SAMPLE_DIR}')"
                    ),
                },
                "ProcessingInputs": [_processing_input("code", source, CODE_DIR)],
                "ProcessingOutputConfig": {
                    "KmsKeyId": plan.kms_key_arn,
                    "Outputs": [
                        {
                            "OutputName": "sample",
                            "S3Output": {
                                "S3Uri.$": _samples_uri(plan),
                                "LocalPath": SAMPLE_DIR,
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                    ],
                },
                "ProcessingResources": _processing_resources(plan, plan.sampling_instances),
                "StoppingCondition": {"MaxRuntimeInSeconds": JOB_MAX_SECONDS},
            },
            "Train",
            ResultPath=None,
        )
    )


def _processing_resources(plan: Plan, instances: int) -> dict[str, Any]:
    """A processing job's instances, their type and their encrypted volumes."""
    return {
        "ClusterConfig": {
            "InstanceCount": instances,
            "InstanceType": plan.instance_type,
            "VolumeSizeInGB": JOB_VOLUME_GIB,
            "VolumeKmsKeyId": plan.kms_key_arn,
        }
    }


def _sample_channel(plan: Plan) -> dict[str, Any]:
    """The training job's input of sampled parts, when a sampling job ran."""
    if plan.sampling_instances <= 1:
        return {}
    source = {"S3DataType": "S3Prefix", "S3Uri.$": _samples_uri(plan), "S3DataDistributionType": "FullyReplicated"}
    return {"InputDataConfig": [{"ChannelName": SAMPLE_CHANNEL, "DataSource": {"S3DataSource": source}}]}


def _processing_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    key = "S3Uri.$" if uri.startswith("$.") else "S3Uri"
    return {
        "InputName": name,
        "S3Input": {key: uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File"},
    }


def _rollout_states(plan: Plan, cycle_prefix: str) -> dict[str, dict[str, Any]]:
    update: dict[str, Any] = {
        "EndpointName": plan.endpoint_name,
        "EndpointConfigName.$": "States.Format('vedette-config-{}', $.id)",
    }
    if not plan.serverless:
        update["DeploymentConfig"] = deployment_config(plan)
    config: dict[str, Any] = {
        "EndpointConfigName.$": "States.Format('vedette-config-{}', $.id)",
        "ProductionVariants": [{**plan.variant, "ModelName.$": "States.Format('vedette-model-{}', $.id)"}],
    }
    if not plan.serverless:
        config["KmsKeyId"] = plan.kms_key_arn
    states: dict[str, dict[str, Any]] = {
        "CreateModel": _caught(
            _task(
                "arn:aws:states:::sagemaker:createModel",
                {
                    "ModelName.$": "States.Format('vedette-model-{}', $.id)",
                    "ExecutionRoleArn": plan.model_role_arn,
                    "PrimaryContainer": {
                        "Image": plan.image,
                        "ModelDataUrl.$": f"States.Format('{cycle_prefix}{{}}/{ARTIFACT_NAME}', $.id)",
                        "Environment": dict(MODEL_ENVIRONMENT),
                    },
                    "EnableNetworkIsolation": not plan.serverless,
                },
                "CreateEndpointConfig",
                ResultPath=None,
            )
        ),
        "CreateEndpointConfig": _caught(
            _task("arn:aws:states:::sagemaker:createEndpointConfig", config, "UpdateEndpoint", ResultPath=None)
        ),
        "UpdateEndpoint": _caught(
            _task("arn:aws:states:::sagemaker:updateEndpoint", update, "RolloutWait", ResultPath=None)
        ),
    }
    # When a rollout and SageMaker's rollback both fail, the endpoint serves both models: the machine
    # updates it once more to the configuration it captured (the remedy SageMaker's API reference
    # gives), and records the cycle as restored; if that fails too, as failed.
    states |= _switch_back("Restore", plan, "Restored")
    if not plan.serverless:
        # SageMaker rolls back on its own when an alarm fires: the configuration the endpoint ends on
        # tells a finished rollout from a rollback.
        states |= _poll("Rollout", plan, "RolloutOutcome", rollback_failed="Restore")
        states["RolloutOutcome"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.endpoint.config", "StringEqualsPath": "$.live.config", "Next": "RolledBack"}],
            "Default": "Deployed",
        }
        return states
    # Serverless: no canary (its size is a share of instances), so the machine does what the
    # guardrails would: bake, read the same alarms, and switch back to the captured configuration.
    states |= _poll("Rollout", plan, "Bake", rollback_failed="Restore")
    states["Bake"] = {"Type": "Wait", "Seconds": BAKE_SECONDS, "Next": "ReadAlarms"}
    states["ReadAlarms"] = _caught(
        _task(
            "arn:aws:states:::aws-sdk:cloudwatch:describeAlarms",
            {"AlarmNames": list(plan.alarm_names), "StateValue": "ALARM"},
            "Alarming?",
            ResultSelector={"alarming.$": "States.ArrayLength($.MetricAlarms)"},
            ResultPath="$.alarms",
        )
    )
    states["Alarming?"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.alarms.alarming", "NumericGreaterThan": 0, "Next": "RollBack"}],
        "Default": "Deployed",
    }
    states |= _switch_back("RollBack", plan, "RolledBack")
    return states


def _switch_back(name: str, plan: Plan, done: str) -> dict[str, dict[str, Any]]:
    """UpdateEndpoint back to the configuration captured at the cycle's start (``$.live.config``),
    then wait until it is InService (then ``done``)."""
    return {
        name: _caught(
            _task(
                "arn:aws:states:::sagemaker:updateEndpoint",
                {"EndpointName": plan.endpoint_name, "EndpointConfigName.$": "$.live.config"},
                f"{name}Wait",
                ResultPath=None,
            )
        ),
        **_poll(name, plan, done),
    }


def production_variant(
    serverless: bool, memory_mib: int, max_concurrency: int, instance_type: str, instances: int
) -> dict[str, Any]:
    """The cycle's endpoint configuration variant (CreateEndpointConfig's shape), the same as the
    one the stack declares: guardrails require the variant name to stay the same."""
    if serverless:
        return {
            "VariantName": VARIANT_NAME,
            "ServerlessConfig": {"MemorySizeInMB": memory_mib, "MaxConcurrency": max_concurrency},
        }
    return {
        "VariantName": VARIANT_NAME,
        "InstanceType": instance_type,
        "InitialInstanceCount": instances,
        "InitialVariantWeight": 1.0,
    }


def source_archive(destination: Path) -> Path:
    """The jobs' source directory (``model.build.write_training_source``) as a byte-reproducible
    tar.gz: the same sources give the same bytes, so its digest-named key changes only with them."""
    with tempfile.TemporaryDirectory(prefix="vedette-source-") as folder:
        root = write_training_source(Path(folder) / "source")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_dir():
                    continue
                info = tarfile.TarInfo(str(path.relative_to(root)))
                data = path.read_bytes()
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                archive.addfile(info, io.BytesIO(data))
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return destination


@dataclass(frozen=True)
class RetrainingArgs:
    build_dir: Path
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    archive_bucket_name: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]
    artifacts_bucket_name: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    labels_table_name: pulumi.Input[str]  # the console's verdicts, read by the training job
    labels_table_arn: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    endpoint_arn: pulumi.Input[str]
    model_role_arn: pulumi.Input[str]
    image: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    variant: Mapping[str, Any]
    serverless: bool
    # The endpoint's alarms the rollout watches (5xx, latency), by name and ARN; an alert-volume
    # alarm on the scorer's Alerts metric is added here.
    endpoint_alarm_names: Sequence[pulumi.Input[str]]
    endpoint_alarm_arns: Sequence[pulumi.Input[str]]
    alarm_topic_arn: pulumi.Input[str]
    schedule_expression: str
    training_days: int
    alert_budget: float
    instance_type: str
    auto_promote: bool
    alerts_alarm_threshold: int  # entity alerts in ALERTS_ALARM_PERIOD_SECONDS
    sampling_instances: int = 1


class Retraining(pulumi.ComponentResource):
    state_machine_arn: pulumi.Output[str]
    schedule_name: pulumi.Output[str]

    def __init__(self, name: str, args: RetrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:Retraining", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        source_path = source_archive(args.build_dir / "lifecycle-source.tar.gz")
        digest = hashlib.sha256(source_path.read_bytes()).hexdigest()[:16]
        source = aws.s3.BucketObjectv2(
            f"{name}-lifecycle-source",
            bucket=args.artifacts_bucket_name,
            key=f"{SOURCE_PREFIX}{digest}/{SOURCE_ARCHIVE}",
            source=pulumi.FileAsset(str(source_path)),
            content_type="application/gzip",
            server_side_encryption="aws:kms",
            kms_key_id=args.kms_key_arn,
            bucket_key_enabled=True,
            opts=child,
        )
        alerts_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alert-volume",
            alarm_description="The scorer raises more entity alerts than a good model would: a rollout rolls back.",
            namespace="Vedette",
            metric_name="Alerts",
            dimensions={"service": "vedette-scorer"},
            statistic="Sum",
            period=ALERTS_ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=float(args.alerts_alarm_threshold),
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            opts=child,
        )
        alarm_names = [*args.endpoint_alarm_names, alerts_alarm.name]
        alarm_arns = [*args.endpoint_alarm_arns, alerts_alarm.arn]

        def arn(service: str, resource: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(
                "arn:", args.partition, f":{service}:", args.region, ":", args.account_id, ":", resource
            )

        repository_arn = args.repository_arn

        def in_bucket(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(bucket_arn, "/", prefix, "*")

        def job_role(
            kind: str,
            log_group: str,
            reads: Sequence[pulumi.Output[str]],
            writes: Sequence[str],
            extra: Sequence[Statement] = (),
        ) -> aws.iam.Role:
            role = aws.iam.Role(
                f"{name}-{kind}-role",
                assume_role_policy=assume_role_policy("sagemaker.amazonaws.com", args.account_id),
                opts=child,
            )
            logs = arn("logs", f"log-group:/aws/sagemaker/{log_group}")
            aws.iam.RolePolicy(
                f"{name}-{kind}-policy",
                role=role.id,
                policy=policy_document(
                    [
                        Statement(
                            "ListTheArchive",
                            ("s3:ListBucket",),
                            [args.archive_bucket_arn],
                            {"StringLike": {"s3:prefix": [f"{ARCHIVE_PREFIX}*"]}},
                        ),
                        Statement("ReadInputs", ("s3:GetObject",), list(reads)),
                        Statement(
                            "WriteOutputs",
                            ("s3:PutObject",),
                            [in_bucket(args.artifacts_bucket_arn, prefix) for prefix in writes],
                        ),
                        key_use("UseThePipelineKey", args.kms_key_arn, args.region, ("s3",)),
                        Statement(
                            "PullTheScikitLearnImage",
                            ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
                            [repository_arn],
                        ),
                        Statement(
                            "WriteJobLogs",
                            (
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                            ),
                            [logs, pulumi.Output.concat(logs, ":log-stream:vedette-*")],
                        ),
                        Statement("AuthenticateAndPublishMetrics", SAGEMAKER_ACTIONS_WITHOUT_RESOURCES, ["*"]),
                        *extra,
                    ]
                ),
                opts=child,
            )
            return role

        archive_events = in_bucket(args.archive_bucket_arn, ARCHIVE_PREFIX)
        sources = in_bucket(args.artifacts_bucket_arn, SOURCE_PREFIX)
        samples = in_bucket(args.artifacts_bucket_arn, SAMPLES_PREFIX)
        sampling = args.sampling_instances > 1
        training_role = job_role(
            "training",
            "TrainingJobs",
            [archive_events, sources, *([samples] if sampling else [])],
            [TRAINING_PREFIX],
            [Statement("ReadTheVerdicts", ("dynamodb:Scan",), [args.labels_table_arn])],
        )
        sampling_role = (
            job_role("sampling", "ProcessingJobs", [archive_events, sources], [SAMPLES_PREFIX]) if sampling else None
        )
        gate_role = job_role(
            "gate",
            "ProcessingJobs",
            [
                archive_events,
                sources,
                in_bucket(args.artifacts_bucket_arn, TRAINING_PREFIX),
                in_bucket(args.artifacts_bucket_arn, MODELS_PREFIX),
            ],
            [CYCLES_PREFIX, FEATURE_CONFIGS_PREFIX],
        )

        machine_role = aws.iam.Role(
            f"{name}-machine-role",
            assume_role_policy=assume_role_policy("states.amazonaws.com", args.account_id),
            opts=child,
        )
        sagemaker = {
            "training": arn("sagemaker", "training-job/vedette-train-*"),
            "processing": arn("sagemaker", "processing-job/vedette-gate-*"),
            # Pulumi's model and configuration (vedette-model-..., vedette-endpoint-config-...) and the cycles'.
            "models": arn("sagemaker", "model/vedette-*"),
            "configs": arn("sagemaker", "endpoint-config/vedette-*"),
        }
        statements = [
            Statement(
                "RunTrainingJobs",
                ("sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
                [sagemaker["training"]],
            ),
            Statement(
                "RunProcessingJobs",
                ("sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"),
                [sagemaker["processing"], *([arn("sagemaker", "processing-job/vedette-sample-*")] if sampling else [])],
            ),
            Statement(
                "WatchJobsToTheirEnd",
                ("events:DescribeRule", "events:PutRule", "events:PutTargets"),
                [arn("events", f"rule/{TRAINING_RULE}"), arn("events", f"rule/{PROCESSING_RULE}")],
            ),
            Statement(
                "PassTheJobAndModelRoles",
                ("iam:PassRole",),
                [
                    training_role.arn,
                    gate_role.arn,
                    args.model_role_arn,
                    *([sampling_role.arn] if sampling_role else []),
                ],
                {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            Statement("FindTheLiveModel", ("sagemaker:DescribeEndpoint",), [args.endpoint_arn]),
            Statement("ReadConfigurations", ("sagemaker:DescribeEndpointConfig",), [sagemaker["configs"]]),
            Statement("ReadModels", ("sagemaker:DescribeModel",), [sagemaker["models"]]),
            Statement("ReadDecisions", ("s3:GetObject",), [in_bucket(args.artifacts_bucket_arn, CYCLES_PREFIX)]),
            Statement("RecordDecisions", ("s3:PutObject",), [in_bucket(args.artifacts_bucket_arn, DECISIONS_PREFIX)]),
            key_use("UseThePipelineKey", args.kms_key_arn, args.region, ("s3",)),
            # Job volumes and outputs, and instance endpoints' volumes, are encrypted with the key:
            # SageMaker creates grants on it for the resources the machine asks for.
            Statement(
                "LetSageMakerUseTheKey",
                ("kms:CreateGrant", "kms:DescribeKey"),
                [args.kms_key_arn],
                {
                    "StringEquals": {
                        "kms:ViaService": [pulumi.Output.concat("sagemaker.", args.region, ".amazonaws.com")]
                    },
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            ),
        ]
        if args.auto_promote:
            statements += [
                Statement("CreateModels", ("sagemaker:CreateModel",), [arn("sagemaker", "model/vedette-model-*")]),
                Statement(
                    "CreateConfigurations",
                    ("sagemaker:CreateEndpointConfig",),
                    [arn("sagemaker", "endpoint-config/vedette-config-*")],
                ),
                Statement("UpdateTheEndpoint", ("sagemaker:UpdateEndpoint",), [args.endpoint_arn]),
            ]
            if args.serverless:
                statements.append(Statement("ReadTheRolloutAlarms", ("cloudwatch:DescribeAlarms",), alarm_arns))
        machine_policy = aws.iam.RolePolicy(
            f"{name}-machine-policy", role=machine_role.id, policy=policy_document(statements), opts=child
        )
        plan = pulumi.Output.all(
            endpoint_name=args.endpoint_name,
            image=args.image,
            bucket=args.artifacts_bucket_name,
            archive_bucket=args.archive_bucket_name,
            kms_key_arn=args.kms_key_arn,
            training_role_arn=training_role.arn,
            gate_role_arn=gate_role.arn,
            model_role_arn=args.model_role_arn,
            alarm_names=pulumi.Output.all(*alarm_names),
            source_key=source.key,
            labels_table=args.labels_table_name,
            sampling_role_arn=sampling_role.arn if sampling_role else None,
        ).apply(
            lambda values: definition(
                Plan(
                    endpoint_name=values["endpoint_name"],
                    image=values["image"],
                    bucket=values["bucket"],
                    archive_bucket=values["archive_bucket"],
                    kms_key_arn=values["kms_key_arn"],
                    training_role_arn=values["training_role_arn"],
                    gate_role_arn=values["gate_role_arn"],
                    model_role_arn=values["model_role_arn"],
                    instance_type=args.instance_type,
                    training_days=args.training_days,
                    alert_budget=args.alert_budget,
                    serverless=args.serverless,
                    auto_promote=args.auto_promote,
                    variant=args.variant,
                    alarm_names=list(values["alarm_names"]),
                    source_key=values["source_key"],
                    labels_table=values["labels_table"],
                    sampling_instances=args.sampling_instances,
                    sampling_role_arn=values["sampling_role_arn"],
                )
            )
        )
        machine = aws.sfn.StateMachine(
            f"{name}-cycle",
            role_arn=machine_role.arn,
            definition=pulumi.Output.json_dumps(plan),
            # Step Functions checks the role when the machine is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[machine_policy]),
        )
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            assume_role_policy=assume_role_policy("scheduler.amazonaws.com", args.account_id),
            opts=child,
        )
        scheduler_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=policy_document([Statement("StartTheCycle", ("states:StartExecution",), [machine.arn])]),
            opts=child,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            schedule_expression=args.schedule_expression,
            schedule_expression_timezone="UTC",
            flexible_time_window={"mode": "OFF"},
            target={"arn": machine.arn, "role_arn": scheduler_role.arn, "input": "{}"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_policy]),
        )
        self.state_machine_arn = machine.arn
        self.schedule_name = schedule.name
        self.register_outputs({"state_machine_arn": self.state_machine_arn, "schedule_name": self.schedule_name})
