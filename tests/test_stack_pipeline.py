"""The whole program on Pulumi's mocks: wiring through real ARNs, scoped IAM, alarms, options."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from archive_partitioner.handler import BUCKETS_VARIABLE
from model.artifact import export_feature_config
from model.container import MODEL_ENVIRONMENT, SKLEARN_IMAGE_REPOSITORY, SKLEARN_IMAGE_TAG
from scorer import settings as scorer_env
from scorer.stores import PENDING_ALERTS_INDEX
from scorer.sweeper import SWEEP_AFTER_SECONDS, SweeperSettings
from stack.archive import PARTITIONER_HANDLER
from stack.exceptions import StackError
from stack.pipeline import BAD_EVENTS_PREFIX, deploy
from stack.scorer import HANDLER, SWEEPER_HANDLER, sweep_after_seconds
from stack.settings import StackSettings
from tests.stack_harness import (
    ACCOUNT_ID,
    REGION,
    Synthesized,
    policy_statements,
    synthesize,
    write_model_artifact,
    write_project,
)

ROOT = Path(__file__).resolve().parent.parent


def run_pipeline(folder: Path, **overrides: Any) -> Synthesized:
    settings = StackSettings(**overrides)
    return synthesize(lambda: deploy(settings, folder, "test"))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def deployed(fixtures: Path) -> Synthesized:
    return run_pipeline(fixtures)


def env_of(deployed: Synthesized) -> dict[str, str]:
    variables: dict[str, str] = deployed.named("vedette-function").inputs["environment"]["variables"]
    return variables


def test_mapping_reads_the_stream_into_the_function_with_limits_and_a_failure_queue(deployed: Synthesized) -> None:
    mapping = deployed.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    # THEN the source is the Kinesis stream (not a bucket), the target the scorer function
    assert deployed.arn_owner(mapping["eventSourceArn"]).typ == "aws:kinesis/stream:Stream"
    assert deployed.arn_owner(mapping["functionName"]).typ == "aws:lambda/function:Function"
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    # AND it invokes as records arrive (no batching window: Lambda's default, for latency)
    assert (mapping["batchSize"], mapping["maximumBatchingWindowInSeconds"]) == (500, 0)
    assert mapping["parallelizationFactor"] == 1
    assert mapping["maximumRetryAttempts"] == 5
    assert mapping["maximumRecordAgeInSeconds"] == 3600
    assert mapping["startingPosition"] == "LATEST"
    destination = mapping["destinationConfig"]["onFailure"]["destinationArn"]
    queue = deployed.arn_owner(destination)
    assert queue.typ == "aws:sqs/queue:Queue"
    assert deployed.arn_owner(queue.inputs["kmsMasterKeyId"]).typ == "aws:kms/key:Key"


def test_mapping_settings_follow_the_configuration(fixtures: Path) -> None:
    settings = StackSettings.from_config(
        {"batchSize": "2000", "startingPosition": "TRIM_HORIZON", "maxRetryAttempts": "2"}
    )
    deployed = synthesize(lambda: deploy(settings, fixtures, "test"))
    mapping = deployed.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    assert (mapping["batchSize"], mapping["parallelizationFactor"]) == (2000, 1)
    assert (mapping["startingPosition"], mapping["maximumRetryAttempts"]) == ("TRIM_HORIZON", 2)


def test_reserved_concurrency_is_set_only_when_configured(fixtures: Path) -> None:
    deployed = run_pipeline(fixtures, scorer_reserved_concurrency=10, scorer_memory_mib=2048)
    function = deployed.named("vedette-function").inputs
    assert (function["reservedConcurrentExecutions"], function["memorySize"]) == (10, 2048)


def test_function_runs_the_bundle_handler_on_a_current_python_on_arm64(deployed: Synthesized) -> None:
    function = deployed.named("vedette-function").inputs
    assert function["handler"] == HANDLER == "scorer.handler.lambda_handler"
    assert function["runtime"] in {"python3.12", "python3.13", "python3.14"}
    assert function["architectures"] == ["arm64"]
    assert (function["memorySize"], function["timeout"]) == (1024, 60)
    assert "reservedConcurrentExecutions" not in function
    assert function["loggingConfig"]["logFormat"] == "JSON"


def test_function_environment_names_the_real_endpoint_tables_topic_and_sink(deployed: Synthesized) -> None:
    env = env_of(deployed)
    endpoint = deployed.one("aws:sagemaker/endpoint:Endpoint").outputs["name"]
    tables = {table.name: table.outputs["name"] for table in deployed.of_type("aws:dynamodb/table:Table")}
    assert env[scorer_env.ENDPOINT_NAME] == endpoint
    assert env[scorer_env.STATE_TABLE] == tables["vedette-state"]
    assert env[scorer_env.ANOMALIES_TABLE] == tables["vedette-anomalies"]
    assert deployed.arn_owner(env[scorer_env.ALERTS_TOPIC_ARN]).name == "vedette-alerts"
    archive_bucket = deployed.named("vedette-archive-bucket").outputs["bucket"]
    assert env[scorer_env.BAD_EVENTS_BUCKET] == archive_bucket
    assert env[scorer_env.BAD_EVENTS_PREFIX] == BAD_EVENTS_PREFIX
    # AND the scorer's own settings accept the environment as deployed
    read = scorer_env.ScorerSettings.from_environ(env)
    assert read.max_payload_bytes <= scorer_env.SERVERLESS_MAX_PAYLOAD_BYTES


def test_tables_have_the_schemas_the_scorer_uses_and_are_encrypted(deployed: Synthesized) -> None:
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    state = deployed.named("vedette-state").inputs
    assert state["hashKey"] == "key"
    assert state["attributes"] == [{"name": "key", "type": "S"}]
    assert state["ttl"] == {"attributeName": "expires_at", "enabled": True}
    anomalies = deployed.named("vedette-anomalies").inputs
    assert (anomalies["hashKey"], anomalies["rangeKey"]) == ("user_id", "sk")
    assert anomalies["pointInTimeRecovery"] == {"enabled": True}
    for table in (state, anomalies):
        assert table["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key_arn}


def test_scorer_role_allows_exactly_the_scorer_calls_on_their_resources(deployed: Synthesized) -> None:
    policy = deployed.named("vedette-policy").inputs["policy"]
    statements = {statement["Sid"]: statement for statement in policy_statements(policy)}
    owner = {
        sid: [
            deployed.arn_owner(re.split("/bad-events/|/models/", arn)[0]).name
            for arn in s["Resource"]
            if ":log-group:" not in arn
        ]
        for sid, s in statements.items()
    }
    assert statements["ReadAndWriteState"]["Action"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:UpdateItem",
    ]
    assert owner["ReadAndWriteState"] == ["vedette-state"]
    assert statements["RecordAnomalies"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert owner["RecordAnomalies"] == ["vedette-anomalies"]
    assert statements["PublishAlerts"]["Action"] == ["sns:Publish"]
    assert owner["PublishAlerts"] == ["vedette-alerts"]
    assert statements["WriteBadEvents"]["Action"] == ["s3:PutObject"]
    archive_arn = deployed.named("vedette-archive-bucket").outputs["arn"]
    assert statements["WriteBadEvents"]["Resource"] == [f"{archive_arn}/{BAD_EVENTS_PREFIX}*"]
    assert statements["ScoreOnTheEndpoint"]["Action"] == ["sagemaker:InvokeEndpoint"]
    assert owner["ScoreOnTheEndpoint"] == ["vedette-endpoint"]
    assert owner["ReadTheStream"] == ["vedette-stream"]
    assert owner["SendFailedBatches"] == ["vedette-on-failure"]
    artifacts_arn = deployed.named("vedette-artifacts-bucket").outputs["arn"]
    assert statements["ReadFeatureConfigs"]["Action"] == ["s3:GetObject"]
    assert statements["ReadFeatureConfigs"]["Resource"] == [f"{artifacts_arn}/models/feature-configs/*"]
    assert owner["ReadFeatureConfigs"] == ["vedette-artifacts-bucket"]
    log_group = deployed.named("vedette-logs").outputs["arn"]
    assert statements["WriteLogs"]["Resource"] == [f"{log_group}:log-stream:*"]


def test_every_role_trusts_one_service_and_every_statement_names_stack_resources(deployed: Synthesized) -> None:
    conditions = {}
    for role in deployed.of_type("aws:iam/role:Role"):
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        conditions[trust["Principal"]["Service"]] = trust["Condition"]
    # THEN each service may assume its role for this account only, with the condition it documents
    assert conditions == {
        "firehose.amazonaws.com": {"StringEquals": {"sts:ExternalId": ACCOUNT_ID}},
        "lambda.amazonaws.com": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        "sagemaker.amazonaws.com": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        "scheduler.amazonaws.com": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        "states.amazonaws.com": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
    }
    assert deployed.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    for policy in deployed.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in policy_statements(policy.inputs["policy"]):
            if statement["Sid"] == "AuthenticateAndPublishMetrics":
                # SageMaker's execution role: actions IAM only grants on "*".
                assert statement["Resource"] == ["*"]
                assert statement["Action"] == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]
                continue
            if any(action.startswith("kms:") for action in statement["Action"]):
                # THEN the pipeline key is only used through the services that encrypt for the role
                (via,) = statement["Condition"]["StringEquals"]["kms:ViaService"][:1]
                assert via.endswith(f".{REGION}.amazonaws.com"), (policy.name, via)
            for arn in statement["Resource"]:
                assert arn != "*", (policy.name, statement["Sid"])
                assert arn.startswith("arn:aws:"), (policy.name, arn)
                assert arn.split(":", 5)[5] not in {"*", ""}, (policy.name, arn)


def test_model_runs_the_uploaded_artifact_on_the_pinned_scikit_learn_image(deployed: Synthesized) -> None:
    model = deployed.one("aws:sagemaker/model:Model").inputs
    artifact = deployed.named("vedette-artifact").inputs
    container = model["primaryContainer"]
    assert container["image"].endswith(f"/{SKLEARN_IMAGE_REPOSITORY}:{SKLEARN_IMAGE_TAG}")
    assert f".dkr.ecr.{REGION}.amazonaws.com/" in container["image"]
    assert container["modelDataUrl"] == f"s3://{artifact['bucket']}/{artifact['key']}"
    assert artifact["key"].startswith("models/model-")
    assert artifact["key"].endswith(".tar.gz")
    assert container["environment"] == MODEL_ENVIRONMENT
    assert "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage" in deployed.invokes
    assert deployed.arn_owner(model["executionRoleArn"]).name == "vedette-sagemaker-role"


def test_serverless_endpoint_by_default_with_memory_and_concurrency(deployed: Synthesized) -> None:
    (variant,) = deployed.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 5}
    assert variant["modelName"] == deployed.one("aws:sagemaker/model:Model").outputs["name"]
    assert deployed.of_type("aws:appautoscaling/target:Target") == []


def test_instance_endpoint_scales_its_variant_between_the_configured_bounds(fixtures: Path) -> None:
    deployed = run_pipeline(fixtures, endpoint_mode="instance", endpoint_min_instances=2, endpoint_max_instances=4)
    config = deployed.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs
    (variant,) = config["productionVariants"]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == ("ml.c5.large", 2)
    assert deployed.arn_owner(config["kmsKeyArn"]).typ == "aws:kms/key:Key"
    # On instances the model container runs without any network
    assert deployed.one("aws:sagemaker/model:Model").inputs["enableNetworkIsolation"] is True
    target = deployed.one("aws:appautoscaling/target:Target").inputs
    endpoint = deployed.one("aws:sagemaker/endpoint:Endpoint").outputs["name"]
    assert target["resourceId"] == f"endpoint/{endpoint}/variant/{variant['variantName']}"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 4)
    policy = deployed.one("aws:appautoscaling/policy:Policy").inputs
    metric = policy["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert metric["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    env = env_of(deployed)
    assert int(env[scorer_env.MAX_PAYLOAD_BYTES]) > scorer_env.SERVERLESS_MAX_PAYLOAD_BYTES


def test_alarm_dimensions_name_resources_of_the_stack(deployed: Synthesized) -> None:
    names = {
        "FunctionName": deployed.named("vedette-function").outputs["name"],
        "QueueName": deployed.one("aws:sqs/queue:Queue").outputs["name"],
        "EndpointName": deployed.one("aws:sagemaker/endpoint:Endpoint").outputs["name"],
        "DeliveryStreamName": deployed.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").outputs["name"],
    }
    (variant,) = deployed.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    names["VariantName"] = variant["variantName"]
    names["service"] = "vedette-scorer"  # the scorer's Powertools service (functions/scorer/handler.py)
    alarms = deployed.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    watched = {alarm.inputs["metricName"]: alarm.inputs for alarm in alarms}
    assert sorted(watched) == sorted(
        [
            "IteratorAge",
            "Errors",
            "Throttles",
            "ApproximateNumberOfMessagesVisible",
            "Invocation5XXErrors",
            "ModelLatency",
            "DeliveryToS3.DataFreshness",
            "Alerts",
        ]
    )
    for alarm in alarms:
        assert alarm.inputs["dimensions"], alarm.name
        for dimension, value in alarm.inputs["dimensions"].items():
            assert value == names[dimension], (alarm.name, dimension)
        assert deployed.arn_owner(alarm.inputs["alarmActions"][0]).name == "vedette-alarms"
    assert watched["IteratorAge"]["threshold"] == 300_000  # milliseconds
    assert watched["ModelLatency"]["threshold"] == 2_000_000  # microseconds
    assert watched["ModelLatency"]["extendedStatistic"] == "p99"


def test_dashboard_graphs_the_alarmed_metrics(deployed: Synthesized) -> None:
    dashboard = deployed.one("aws:cloudwatch/dashboard:Dashboard").inputs
    body = json.loads(dashboard["dashboardBody"])
    metrics = [metric[1] for widget in body["widgets"] for metric in widget["properties"]["metrics"]]
    assert {"IteratorAge", "Invocation5XXErrors", "DeliveryToS3.DataFreshness", "IncomingRecords"} <= set(metrics)
    assert dashboard["dashboardName"] == "vedette-test"


def test_email_subscriptions_only_when_configured(fixtures: Path, deployed: Synthesized) -> None:
    assert deployed.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    with_email = run_pipeline(fixtures, alert_email="secops@example.com")
    subscriptions = with_email.of_type("aws:sns/topicSubscription:TopicSubscription")
    # The alerts topic is FIFO, which delivers to SQS queues only: the email gets the alarms
    assert {with_email.arn_owner(s.inputs["topic"]).name for s in subscriptions} == {"vedette-alarms"}
    assert {s.inputs["endpoint"] for s in subscriptions} == {"secops@example.com"}


def test_alerts_topic_is_fifo_with_explicit_deduplication_ids(deployed: Synthesized) -> None:
    # A retried Publish is delivered once only on a FIFO topic, with the scorer's deduplication ids
    # (content-based deduplication off: the message of a re-published alert is the same anyway, but
    # the id is what names the alert slot)
    topic = deployed.named("vedette-alerts").inputs
    assert topic["fifoTopic"] is True
    assert topic["contentBasedDeduplication"] is False
    assert topic["name"].endswith(".fifo")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,251}\.fifo", topic["name"]), topic["name"]


def test_outputs_hold_what_operators_and_producers_need(deployed: Synthesized) -> None:
    outputs = deployed.outputs
    assert deployed.arn_owner(outputs["stream_arn"]).typ == "aws:kinesis/stream:Stream"
    assert outputs["producer_settings"]["stream_name"] == outputs["stream_name"]
    assert outputs["producer_settings"]["region"] == REGION
    assert outputs["on_failure_queue_url"].startswith(f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/")
    statements = policy_statements(outputs["producer_policy"])
    assert [s["Resource"] for s in statements] == [[outputs["stream_arn"]], [outputs["kms_key_arn"]]]
    # A producer encrypts records with the key only through Kinesis
    assert statements[1]["Condition"] == {"StringEquals": {"kms:ViaService": [f"kinesis.{REGION}.amazonaws.com"]}}
    for name in (
        "archive_bucket",
        "artifacts_bucket",
        "endpoint_name",
        "state_table_name",
        "anomalies_table_name",
        "alerts_topic_arn",
        "dashboard_name",
    ):
        assert outputs[name], name


def test_a_missing_artifact_or_bundle_is_a_clear_error(tmp_path: Path) -> None:
    write_model_artifact(tmp_path / "build" / "model.tar.gz")
    with pytest.raises(StackError, match="make bundle"):
        run_pipeline(tmp_path)
    write_project(tmp_path)
    (tmp_path / "build" / "model.tar.gz").unlink()
    with pytest.raises(StackError, match="make model"):
        run_pipeline(tmp_path)


def test_a_bundle_built_for_another_model_is_refused(tmp_path: Path) -> None:
    # GIVEN a bundle built for one model, then a model retrained with another country lookup
    write_project(tmp_path)
    write_model_artifact(tmp_path / "build" / "model.tar.gz", "synthetic", parsed_agents=True)
    # WHEN the program runs THEN it stops before declaring anything
    with pytest.raises(StackError, match="another model"):
        run_pipeline(tmp_path)


def test_main_reads_the_config_and_exports_every_output(fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the project's __main__.py, run as `pulumi up` runs it, with a config override
    config = {
        "modelArtifactPath": str(fixtures / "build" / "model.tar.gz"),
        "scorerBundlePath": str(fixtures / "build" / "scorer.zip"),
        "batchSize": "250",
    }
    deployed = synthesize(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__") and None, config)
    # THEN the override reached the mapping
    assert deployed.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs["batchSize"] == 250


def test_sagemaker_role_reads_only_the_artifact_and_pulls_only_the_scikit_learn_image(deployed: Synthesized) -> None:
    artifact = deployed.named("vedette-artifact").inputs
    bucket = deployed.named("vedette-artifacts-bucket").outputs
    assert artifact["bucket"] == bucket["bucket"]
    statements = {s["Sid"]: s for s in policy_statements(deployed.named("vedette-sagemaker-policy").inputs["policy"])}
    assert statements["ReadTheArtifacts"]["Action"] == ["s3:GetObject"]
    # Every model's artifact: the variant being replaced re-reads its own when it scales out.
    assert statements["ReadTheArtifacts"]["Resource"] == [f"{bucket['arn']}/models/*"]
    assert artifact["key"].startswith("models/")
    # THEN the artifact is stored with the pipeline key whatever the order of the bucket's resources
    key_arn = deployed.one("aws:kms/key:Key").outputs["arn"]
    assert (artifact["serverSideEncryption"], artifact["kmsKeyId"]) == ("aws:kms", key_arn)
    assert statements["DecryptTheArtifacts"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}
    }
    # SageMaker's CreateModel permissions: log streams described, images authenticated, metrics put
    assert "logs:DescribeLogStreams" in statements["WriteEndpointLogs"]["Action"]
    # Serverless endpoints (the default) exclude network isolation: the model must not ask for it
    assert deployed.one("aws:sagemaker/model:Model").inputs["enableNetworkIsolation"] is False
    (repository,) = statements["PullTheScikitLearnImage"]["Resource"]
    assert repository.endswith(f":repository/{SKLEARN_IMAGE_REPOSITORY}")
    registry = deployed.one("aws:sagemaker/model:Model").inputs["primaryContainer"]["image"].split(".", 1)[0]
    assert f":ecr:{REGION}:{registry}:" in repository
    for arn in statements["WriteEndpointLogs"]["Resource"]:
        assert ":log-group:/aws/sagemaker/Endpoints/vedette-endpoint" in arn


def test_state_table_is_on_demand_by_default_and_autoscaled_when_provisioned(
    fixtures: Path, deployed: Synthesized
) -> None:
    # GIVEN the default: on demand, no scaling
    assert deployed.named("vedette-state").inputs["billingMode"] == "PAY_PER_REQUEST"
    assert deployed.of_type("aws:appautoscaling/target:Target") == []
    # WHEN a capacity floor is configured
    provisioned = run_pipeline(fixtures, state_table_capacity_units=300)
    state = provisioned.named("vedette-state")
    # THEN the table is provisioned at the floor, and both dimensions scale from it to 4x on utilization
    assert (state.inputs["billingMode"], state.inputs["readCapacity"], state.inputs["writeCapacity"]) == (
        "PROVISIONED",
        300,
        300,
    )
    targets = {t.inputs["scalableDimension"]: t.inputs for t in provisioned.of_type("aws:appautoscaling/target:Target")}
    assert sorted(targets) == ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"]
    for target in targets.values():
        assert target["resourceId"] == f"table/{state.outputs['name']}"
        assert (target["minCapacity"], target["maxCapacity"]) == (300, 1200)
    metrics = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]
        for p in provisioned.of_type("aws:appautoscaling/policy:Policy")
    }
    assert metrics == {"DynamoDBReadCapacityUtilization", "DynamoDBWriteCapacityUtilization"}


def test_a_fresh_clone_stops_with_one_line_naming_the_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a clone where `make model bundle` has not run (the program reads paths from the config)
    config = {
        "modelArtifactPath": str(tmp_path / "build" / "model.tar.gz"),
        "scorerBundlePath": str(tmp_path / "build" / "scorer.zip"),
    }
    # WHEN `pulumi preview` runs __main__.py
    with pytest.raises(pulumi.RunError) as raised:
        synthesize(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__") and None, config)
    # THEN it stops with one line (no traceback: a RunError) naming the command that builds both
    message = str(raised.value)
    assert "\n" not in message
    assert "run `make model bundle` first" in message
    assert "model.tar.gz and " in message


def test_a_new_instance_type_is_a_new_endpoint_and_scaling_target(fixtures: Path) -> None:
    # GIVEN two instance-mode deployments that differ only in the instance type
    small = run_pipeline(fixtures, endpoint_mode="instance", endpoint_instance_type="ml.c5.large")
    large = run_pipeline(fixtures, endpoint_mode="instance", endpoint_instance_type="ml.c5.xlarge")
    names = []
    for deployed in (small, large):
        endpoint = deployed.one("aws:sagemaker/endpoint:Endpoint")
        target = deployed.one("aws:appautoscaling/target:Target").inputs
        # THEN the scaling target is registered on that deployment's endpoint, which the scorer calls
        assert target["resourceId"] == f"endpoint/{endpoint.outputs['name']}/variant/primary"
        assert env_of(deployed)[scorer_env.ENDPOINT_NAME] == endpoint.outputs["name"]
        names.append(endpoint.name)
    # AND the endpoints are distinct resources: Pulumi creates the new one, never UpdateEndpoint to
    # another instance type while a target is registered (which SageMaker refuses)
    assert names == ["vedette-endpoint-c5-large", "vedette-endpoint-c5-xlarge"]


def test_the_alert_sweeper_runs_the_bundle_on_a_schedule_with_only_the_calls_it_makes(deployed: Synthesized) -> None:
    sweeper = deployed.named("vedette-sweeper").inputs
    scorer = deployed.named("vedette-function").inputs
    # THEN it is the scorer's bundle with the sweeper's handler, one run at a time
    assert sweeper["handler"] == SWEEPER_HANDLER == "scorer.sweeper.lambda_handler"
    assert sweeper["code"].path == scorer["code"].path
    assert sweeper["reservedConcurrentExecutions"] == 1
    # AND it waits past the mapping's last retry of a batch before sending that batch's alerts
    env = sweeper["environment"]["variables"]
    mapping = deployed.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    assert int(env[SWEEP_AFTER_SECONDS]) > mapping["maximumRecordAgeInSeconds"]
    settings = SweeperSettings.from_environ(env)
    assert settings.anomalies_table == deployed.named("vedette-anomalies").outputs["name"]
    assert deployed.arn_owner(settings.alerts_topic_arn).name == "vedette-alerts"
    # AND its role may read the pending index, mark alerts sent and publish, nothing else
    policy = deployed.named("vedette-sweeper-policy").inputs["policy"]
    statements = {statement["Sid"]: statement for statement in policy_statements(policy)}
    anomalies_arn = deployed.named("vedette-anomalies").outputs["arn"]
    assert statements["ReadPendingAlerts"]["Action"] == ["dynamodb:Query"]
    assert statements["ReadPendingAlerts"]["Resource"] == [f"{anomalies_arn}/index/{PENDING_ALERTS_INDEX}"]
    assert statements["MarkAlertsSent"]["Action"] == ["dynamodb:UpdateItem"]
    assert statements["MarkAlertsSent"]["Resource"] == [anomalies_arn]
    assert statements["PublishAlerts"]["Action"] == ["sns:Publish"]
    assert [deployed.arn_owner(arn).name for arn in statements["PublishAlerts"]["Resource"]] == ["vedette-alerts"]
    assert set(statements) == {"ReadPendingAlerts", "MarkAlertsSent", "PublishAlerts", "UseThePipelineKey", "WriteLogs"}
    assert deployed.arn_owner(sweeper["role"]).name == "vedette-sweeper-role"
    # AND a schedule invokes it every few minutes through a role allowed to invoke only it
    schedule = deployed.named("vedette-sweeper-schedule").inputs
    assert schedule["scheduleExpression"] == "rate(5 minutes)"
    assert deployed.arn_owner(schedule["target"]["arn"]).name == "vedette-sweeper"
    assert deployed.arn_owner(schedule["target"]["roleArn"]).name == "vedette-sweeper-scheduler-role"
    (invoke,) = policy_statements(deployed.named("vedette-sweeper-scheduler-policy").inputs["policy"])
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert [deployed.arn_owner(arn).name for arn in invoke["Resource"]] == ["vedette-sweeper"]


@pytest.mark.parametrize(("record_age", "wait"), [(3600, 3600 + 900), (-1, 7 * 86400 + 900)])
def test_the_sweepers_wait_follows_the_mappings_record_age(record_age: int, wait: int) -> None:
    assert sweep_after_seconds(record_age) == wait


def test_the_stack_publishes_its_models_feature_configuration_where_the_scorer_looks(
    deployed: Synthesized, fixtures: Path, tmp_path: Path
) -> None:
    # GIVEN the deployed stack's artifacts bucket, scorer and model artifact
    artifacts = deployed.named("vedette-artifacts-bucket").outputs["bucket"]
    published = deployed.named("vedette-feature-config").inputs
    environment = deployed.named("vedette-function").inputs["environment"]["variables"]
    # THEN the model's configuration is an object named by its id, encrypted with the pipeline key
    config = json.loads(published["content"])
    assert published["bucket"] == artifacts
    assert published["key"] == f"models/feature-configs/{config['feature_config_id']}.json"
    assert published["kmsKeyId"] == deployed.one("aws:kms/key:Key").outputs["arn"]
    # AND it is the configuration of the model the stack deploys, and the scorer is told where the others are
    artifact = fixtures / StackSettings().model_artifact_path
    assert config == json.loads(export_feature_config(artifact, tmp_path / "exported.json").read_text())
    assert environment["VEDETTE_FEATURE_CONFIGS_URI"] == f"s3://{artifacts}/models/feature-configs/"


def test_the_user_hash_archive_runs_the_bundles_partitioner_and_defaults_to_none(
    deployed: Synthesized, fixtures: Path
) -> None:
    # GIVEN the default stack THEN the archive has no partitioner
    assert deployed.outputs["archive_partitioner_function_name"] is None
    assert sorted(f.inputs["handler"] for f in deployed.of_type("aws:lambda/function:Function")) == [
        HANDLER,
        SWEEPER_HANDLER,
    ]
    # WHEN archiveUserHashBuckets is set (with dynamic partitioning's buffer)
    partitioned = run_pipeline(fixtures, archive_user_hash_buckets=256, archive_buffer_mib=64)
    functions = {f.inputs["handler"]: f for f in partitioned.of_type("aws:lambda/function:Function")}
    partitioner = functions[PARTITIONER_HANDLER]
    # THEN the partitioner is a function of the scorer's bundle, told the stack's bucket count
    assert partitioner.inputs["code"].path == functions[HANDLER].inputs["code"].path
    assert partitioner.inputs["environment"]["variables"] == {BUCKETS_VARIABLE: "256"}
    assert partitioned.outputs["archive_partitioner_function_name"] == partitioner.outputs["name"]
    delivery = partitioned.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs
    processors = delivery["extendedS3Configuration"]["processingConfiguration"]["processors"]
    assert processors[0]["parameters"][0]["parameterValue"] == f"{partitioner.outputs['arn']}:$LATEST"


def test_the_user_hash_archive_is_watched_where_records_leave_its_tables(deployed: Synthesized, fixtures: Path) -> None:
    # GIVEN a stack whose archive is laid out by user hash, and the default one
    partitioned = run_pipeline(fixtures, archive_user_hash_buckets=256, archive_buffer_mib=64)
    partitioner = next(
        f for f in partitioned.of_type("aws:lambda/function:Function") if f.inputs["handler"] == PARTITIONER_HANDLER
    )
    delivery_stream = partitioned.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").outputs["name"]

    # WHEN their alarms are read by what they watch
    def watched(stack: Synthesized) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            (alarm.inputs["namespace"], alarm.inputs["metricName"], *alarm.inputs["dimensions"].values()): alarm.inputs
            for alarm in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        }

    alarms, default = watched(partitioned), watched(deployed)

    # THEN the partitioned archive has the default's alarms and four more: the partitioner's failed
    # calls as Firehose sees them, the function's errors and throttles, and partitions beyond the limit
    processing = alarms["AWS/Firehose", "ExecuteProcessing.Success", delivery_stream]
    assert (processing["statistic"], processing["comparisonOperator"], processing["threshold"]) == (
        "Minimum",
        "LessThanThreshold",
        1.0,
    )
    assert alarms["AWS/Lambda", "Errors", partitioner.outputs["name"]]["threshold"] == 1
    assert alarms["AWS/Lambda", "Throttles", partitioner.outputs["name"]]["threshold"] == 1
    exceeded = alarms["AWS/Firehose", "PartitionCountExceeded", delivery_stream]
    assert (exceeded["statistic"], exceeded["threshold"]) == ("Maximum", 1)
    assert len(alarms) == len(default) + 4
    # AND the two on Firehose's metrics notify the operators' topic at their first minute
    for key in [key for key in alarms if key[1] in {"ExecuteProcessing.Success", "PartitionCountExceeded"}]:
        assert (alarms[key]["evaluationPeriods"], alarms[key]["datapointsToAlarm"]) == (1, 1)
        assert partitioned.arn_owner(alarms[key]["alarmActions"][0]).name == "vedette-alarms"
