"""The model endpoint: ``model.tar.gz`` uploaded, a SageMaker model on the prebuilt scikit-learn
image pinned to the training version (``model.container``), serverless or instance-based.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from model.artifact import export_feature_config
from model.container import MODEL_ENVIRONMENT, SKLEARN_IMAGE_REPOSITORY, SKLEARN_IMAGE_TAG
from model.rows import FEATURE_CONFIG_ID
from stack.buckets import PrivateBucket, PrivateBucketArgs
from stack.exceptions import StackError
from stack.iam import Statement, assume_role_policy, key_use, policy_document

VARIANT_NAME = "primary"
MODELS_PREFIX = "models/"
# Each model's feature configuration, as ``<id>.json`` (model.artifact.publish_feature_config): the
# stack publishes its own model's, the retraining cycle each candidate's and the live one's, and the
# scorer reads the one the endpoint's model names (scorer.model_config.FeatureConfigs).
FEATURE_CONFIGS_PREFIX = f"{MODELS_PREFIX}feature-configs/"
# What SageMaker's CreateModel permissions page lists for the execution role on "*": these actions
# have no resource-level permissions (the policy pack allows "*" for exactly such actions).
SAGEMAKER_ACTIONS_WITHOUT_RESOURCES = ("cloudwatch:PutMetricData", "ecr:GetAuthorizationToken")


@dataclass(frozen=True)
class ModelEndpointArgs:
    artifact_path: Path
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    serverless: bool
    memory_mib: int
    max_concurrency: int
    instance_type: str
    min_instances: int
    max_instances: int
    invocations_per_instance: int
    # The retraining cycle updates the endpoint to its own configurations: Pulumi then leaves the
    # endpoint's configuration alone instead of rolling a promoted model back on the next `up`.
    config_owned_by_cycle: bool = False


def artifact_key(path: Path) -> str:
    """The artifact's object key, named by its content: a new model is a new object, so SageMaker
    gets a new model and endpoint configuration instead of a silently replaced file."""
    if not path.is_file():
        raise StackError(f"model artifact {path} not found: run `make model` or set vedette:modelArtifactPath")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"{MODELS_PREFIX}model-{digest}.tar.gz"


def stack_feature_config(artifact_path: Path) -> tuple[str, str]:
    """The id and JSON of the artifact's feature configuration, as the scorer reads it."""
    with tempfile.TemporaryDirectory(prefix="vedette-feature-config-") as scratch:
        text = export_feature_config(artifact_path, Path(scratch) / "feature_config.json").read_text()
    return str(json.loads(text)[FEATURE_CONFIG_ID]), text


def _slug(instance_type: str) -> str:
    return instance_type.removeprefix("ml.").replace(".", "-")


class ModelEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]
    endpoint_arn: pulumi.Output[str]
    artifacts_bucket_name: pulumi.Output[str]
    feature_configs_uri: pulumi.Output[str]  # s3://bucket/prefix/ of the models' feature configurations
    feature_configs_arn: pulumi.Output[str]  # their objects, for the readers' policies
    artifacts_bucket_arn: pulumi.Output[str]
    variant_name: str
    image: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:ModelEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = artifact_key(args.artifact_path)
        artifacts = PrivateBucket(f"{name}-artifacts", PrivateBucketArgs(kms_key_arn=args.kms_key_arn), opts=child)
        artifact = aws.s3.BucketObjectv2(
            f"{name}-artifact",
            bucket=artifacts.bucket_name,
            key=key,
            source=pulumi.FileAsset(str(args.artifact_path)),
            content_type="application/gzip",
            # SSE-KMS set on the object itself: the upload may run before the bucket's default
            # encryption is configured, and would then be stored with S3-managed keys.
            server_side_encryption="aws:kms",
            kms_key_id=args.kms_key_arn,
            bucket_key_enabled=True,
            opts=child,
        )
        config_id, config_json = stack_feature_config(args.artifact_path)
        aws.s3.BucketObjectv2(
            f"{name}-feature-config",
            bucket=artifacts.bucket_name,
            key=f"{FEATURE_CONFIGS_PREFIX}{config_id}.json",
            content=config_json,
            content_type="application/json",
            server_side_encryption="aws:kms",
            kms_key_id=args.kms_key_arn,
            bucket_key_enabled=True,
            opts=child,
        )
        image = aws.sagemaker.get_prebuilt_ecr_image_output(
            repository_name=SKLEARN_IMAGE_REPOSITORY,
            image_tag=SKLEARN_IMAGE_TAG,
            region=args.region,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        repository_arn = pulumi.Output.concat(
            "arn:",
            args.partition,
            ":ecr:",
            args.region,
            ":",
            image.registry_id,
            ":repository/",
            SKLEARN_IMAGE_REPOSITORY,
        )
        # SageMaker names the endpoint's log group after the endpoint, which is named after this role
        # exists: scope logging to this component's endpoint names.
        endpoint_logs = pulumi.Output.concat(
            "arn:",
            args.partition,
            ":logs:",
            args.region,
            ":",
            args.account_id,
            ":log-group:/aws/sagemaker/Endpoints/",
            name,
            "-endpoint*",
        )
        role = aws.iam.Role(
            f"{name}-sagemaker-role",
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com", args.account_id),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-sagemaker-policy",
            role=role.id,
            policy=policy_document(
                [
                    # Every model's artifact, not only the new one: during a rollout the old variant
                    # still serves, and re-reads its own artifact when it scales out.
                    Statement(
                        "ReadTheArtifacts",
                        ("s3:GetObject",),
                        [pulumi.Output.concat(artifacts.arn, "/", MODELS_PREFIX, "*")],
                    ),
                    key_use("DecryptTheArtifacts", args.kms_key_arn, args.region, ("s3",), actions=("kms:Decrypt",)),
                    Statement(
                        "PullTheScikitLearnImage",
                        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
                        [repository_arn],
                    ),
                    Statement(
                        "WriteEndpointLogs",
                        (
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                        ),
                        [endpoint_logs, pulumi.Output.concat(endpoint_logs, ":log-stream:*")],
                    ),
                    Statement("AuthenticateAndPublishMetrics", SAGEMAKER_ACTIONS_WITHOUT_RESOURCES, ["*"]),
                ]
            ),
            opts=child,
        )
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=role.arn,
            primary_container={
                "image": image.registry_path,
                "model_data_url": pulumi.Output.concat("s3://", artifacts.bucket_name, "/", artifact.key),
                "environment": MODEL_ENVIRONMENT,
            },
            # The container only reads its artifact and answers invocations: no network at all, on
            # instances. Serverless endpoints do not support network isolation (SageMaker's serverless
            # inference lists it among the features it excludes), so there the flag is left off.
            enable_network_isolation=not args.serverless,
            # SageMaker checks the role can read the artifact when the model is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        variant: aws.sagemaker.EndpointConfigurationProductionVariantArgsDict = {
            "variant_name": VARIANT_NAME,
            "model_name": model.name,
        }
        if args.serverless:
            variant["serverless_config"] = {
                "memory_size_in_mb": args.memory_mib,
                "max_concurrency": args.max_concurrency,
            }
        else:
            variant["instance_type"] = args.instance_type
            variant["initial_instance_count"] = args.min_instances
            variant["initial_variant_weight"] = 1.0
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-endpoint-config",
            production_variants=[variant],
            # Serverless endpoints have no ML storage volume, and SageMaker rejects a key for them.
            kms_key_arn=None if args.serverless else args.kms_key_arn,
            opts=child,
        )
        # SageMaker refuses UpdateEndpoint to another instance type while an autoscaling target is
        # registered on the variant. The instance type is part of the endpoint's logical name, so a
        # new type is a new endpoint (and target): created before the old ones are deregistered and
        # deleted, and the scorer switches to it in the same update. A new model keeps the name and
        # is rolled out by UpdateEndpoint.
        endpoint_name = f"{name}-endpoint" if args.serverless else f"{name}-endpoint-{_slug(args.instance_type)}"
        endpoint = aws.sagemaker.Endpoint(
            endpoint_name,
            endpoint_config_name=config.name,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["endpointConfigName"] if args.config_owned_by_cycle else None
            ),
        )
        if not args.serverless:
            target = aws.appautoscaling.Target(
                f"{name}-scaling-target",
                service_namespace="sagemaker",
                resource_id=pulumi.Output.concat("endpoint/", endpoint.name, "/variant/", VARIANT_NAME),
                scalable_dimension="sagemaker:variant:DesiredInstanceCount",
                min_capacity=args.min_instances,
                max_capacity=args.max_instances,
                opts=child,
            )
            aws.appautoscaling.Policy(
                f"{name}-scaling-policy",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration={
                    "target_value": float(args.invocations_per_instance),
                    "predefined_metric_specification": {
                        "predefined_metric_type": "SageMakerVariantInvocationsPerInstance"
                    },
                    # Scale out fast on a burst, in slowly: a cold instance takes minutes.
                    "scale_in_cooldown": 600,
                    "scale_out_cooldown": 60,
                },
                opts=child,
            )
        self.artifacts_bucket_name = artifacts.bucket_name
        self.artifacts_bucket_arn = artifacts.arn
        self.feature_configs_uri = pulumi.Output.concat("s3://", artifacts.bucket_name, "/", FEATURE_CONFIGS_PREFIX)
        self.feature_configs_arn = pulumi.Output.concat(artifacts.arn, "/", FEATURE_CONFIGS_PREFIX, "*")
        self.endpoint_name = endpoint.name
        self.endpoint_arn = endpoint.arn
        self.variant_name = VARIANT_NAME
        self.image = image.registry_path
        self.repository_arn = repository_arn
        self.role_arn = role.arn
        self.register_outputs({"endpoint_name": self.endpoint_name, "image": self.image})
