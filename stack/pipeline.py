"""The whole pipeline wired from one ``StackSettings``: what ``__main__.py`` deploys and tests run.

Components only meet through typed Outputs: the mapping's source is the stream's ``arn``, the
scorer's environment names the endpoint, tables, topic and bucket that this program creates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from model.entities import DEFAULT_ALERT_BUDGET
from scorer.settings import ScorerSettings
from stack.archive import EventArchive, EventArchiveArgs
from stack.bundle import verify_bundle
from stack.console import AnalystConsole, AnalystConsoleArgs
from stack.encryption import PipelineKey, PipelineKeyArgs
from stack.exceptions import StackError
from stack.iam import Statement, key_use, policy_document
from stack.model_endpoint import ModelEndpoint, ModelEndpointArgs
from stack.operations import Operations, OperationsArgs
from stack.query import ArchiveQueries, ArchiveQueriesArgs, catalog_database_name
from stack.retraining import Retraining, RetrainingArgs, production_variant
from stack.scorer import Scorer, ScorerArgs
from stack.settings import StackSettings
from stack.state import ScorerState, ScorerStateArgs
from stack.stream import EventStream, EventStreamArgs

# The scorer's own default, so the sink prefix and the lifecycle rule cannot drift apart.
BAD_EVENTS_PREFIX = str(ScorerSettings.__dataclass_fields__["bad_events_prefix"].default)
PROJECT = "vedette"
# The endpoint's alarms a rollout rolls back on (with the retraining component's alert-volume alarm).
ROLLOUT_ALARMS = ("endpoint-5xx", "endpoint-latency")


def require_artifacts(settings: StackSettings, root: Path) -> None:
    """Stop with one line naming the command that builds what is missing (a fresh clone has neither)."""
    model = root / settings.model_artifact_path
    bundle = root / settings.scorer_bundle_path
    missing = [str(path) for path in (model, bundle) if not path.is_file()]
    if not missing:
        return
    # The bundle carries the model's feature configuration: a new model needs a new bundle.
    command = "make bundle" if model.is_file() else "make model bundle"
    raise StackError(
        f"{' and '.join(missing)} not found: run `{command}` first "
        "(or set vedette:modelArtifactPath and vedette:scorerBundlePath)"
    )


def deploy(settings: StackSettings, root: Path, stack_name: str) -> dict[str, Any]:
    """Declare every resource of the pipeline; returns the stack's outputs by name.

    ``root`` anchors the relative artifact and bundle paths (the project directory).
    """
    require_artifacts(settings, root)
    # Before any resource: the scorer must compute the features the deployed model was trained on.
    verify_bundle(root / settings.scorer_bundle_path, root / settings.model_artifact_path)
    identity = aws.get_caller_identity_output()
    region = aws.get_region_output().region
    partition = aws.get_partition_output().partition
    account_id = identity.account_id

    key = PipelineKey(PROJECT, PipelineKeyArgs(account_id=account_id, partition=partition, region=region))
    stream = EventStream(
        PROJECT,
        EventStreamArgs(
            on_demand=settings.on_demand,
            shard_count=settings.stream_shard_count,
            retention_hours=settings.stream_retention_hours,
            kms_key_arn=key.arn,
        ),
    )
    archive = EventArchive(
        PROJECT,
        EventArchiveArgs(
            stream_arn=stream.arn,
            kms_key_arn=key.arn,
            account_id=account_id,
            region=region,
            buffer_mib=settings.archive_buffer_mib,
            buffer_seconds=settings.archive_buffer_seconds,
            infrequent_access_days=settings.archive_infrequent_access_days,
            expiration_days=settings.archive_expiration_days,
            log_retention_days=settings.log_retention_days,
            extra_prefixes=(BAD_EVENTS_PREFIX,),
            user_hash_buckets=settings.archive_user_hash_buckets,
            bundle_path=root / settings.scorer_bundle_path,
        ),
    )
    queries = ArchiveQueries(
        PROJECT,
        ArchiveQueriesArgs(
            archive_bucket_name=archive.bucket_name,
            archive_bucket_arn=archive.bucket_arn,
            kms_key_arn=key.arn,
            account_id=account_id,
            region=region,
            partition=partition,
            database_name=catalog_database_name(PROJECT, stack_name),
            results_expiration_days=settings.query_results_expiration_days,
            scan_limit_gib=settings.query_scan_limit_gib,
            user_hash_buckets=settings.archive_user_hash_buckets,
        ),
    )
    state = ScorerState(
        PROJECT,
        ScorerStateArgs(
            kms_key_arn=key.arn,
            state_capacity_units=settings.state_table_capacity_units,
        ),
    )
    console = AnalystConsole(
        PROJECT,
        AnalystConsoleArgs(
            kms_key_arn=key.arn,
            region=region,
            anomalies_table_arn=state.anomalies_table_arn,
            archive_bucket_arn=archive.bucket_arn,
        ),
    )
    endpoint = ModelEndpoint(
        PROJECT,
        ModelEndpointArgs(
            artifact_path=root / settings.model_artifact_path,
            kms_key_arn=key.arn,
            account_id=account_id,
            partition=partition,
            region=region,
            serverless=settings.serverless,
            memory_mib=settings.endpoint_memory_mib,
            max_concurrency=settings.endpoint_max_concurrency,
            instance_type=settings.endpoint_instance_type,
            min_instances=settings.endpoint_min_instances,
            max_instances=settings.endpoint_max_instances,
            invocations_per_instance=settings.endpoint_invocations_per_instance,
            config_owned_by_cycle=settings.retrain_auto_promote,
        ),
    )
    resource_names: dict[str, pulumi.Output[str] | str] = {
        "endpoint": endpoint.endpoint_name,
        "state_table": state.state_table_name,
        "anomalies_table": state.anomalies_table_name,
        "alerts_topic_arn": state.alerts_topic_arn,
        "bad_events_bucket": archive.bucket_name,
        "bad_events_prefix": BAD_EVENTS_PREFIX,
        "feature_configs_uri": endpoint.feature_configs_uri,
    }
    environment = settings.scorer_environment(resource_names)
    scorer = Scorer(
        PROJECT,
        ScorerArgs(
            bundle_path=root / settings.scorer_bundle_path,
            stream_arn=stream.arn,
            kms_key_arn=key.arn,
            account_id=account_id,
            region=region,
            state_table_arn=state.state_table_arn,
            anomalies_table_arn=state.anomalies_table_arn,
            alerts_topic_arn=state.alerts_topic_arn,
            bad_events_bucket_arn=archive.bucket_arn,
            bad_events_prefix=BAD_EVENTS_PREFIX,
            endpoint_arn=endpoint.endpoint_arn,
            feature_configs_arn=endpoint.feature_configs_arn,
            environment=environment,
            memory_mib=settings.scorer_memory_mib,
            timeout_seconds=settings.scorer_timeout_seconds,
            reserved_concurrency=settings.scorer_reserved_concurrency,
            batch_size=settings.batch_size,
            batching_window_seconds=settings.batching_window_seconds,
            parallelization_factor=settings.parallelization_factor,
            max_retry_attempts=settings.max_retry_attempts,
            max_record_age_seconds=settings.max_record_age_seconds,
            starting_position=settings.starting_position,
            log_retention_days=settings.log_retention_days,
            anomalies_table_name=state.anomalies_table_name,
        ),
    )
    operations = Operations(
        PROJECT,
        OperationsArgs(
            kms_key_arn=key.arn,
            alert_email=settings.alert_email,
            region=region,
            dashboard_name=f"{PROJECT}-{stack_name}",
            stream_name=stream.stream_name,
            function_name=scorer.function_name,
            queue_name=scorer.queue_name,
            endpoint_name=endpoint.endpoint_name,
            variant_name=endpoint.variant_name,
            delivery_stream_name=archive.delivery_stream_name,
            iterator_age_alarm_seconds=settings.iterator_age_alarm_seconds,
            endpoint_latency_alarm_ms=settings.endpoint_latency_alarm_ms,
            archive_freshness_alarm_seconds=settings.archive_freshness_alarm_seconds,
            partitioner_function_name=archive.partitioner_function_name,
        ),
    )
    rollout_alarms = [operations.alarms[suffix] for suffix in ROLLOUT_ALARMS]
    retraining = Retraining(
        PROJECT,
        RetrainingArgs(
            build_dir=root / "build",
            kms_key_arn=key.arn,
            account_id=account_id,
            partition=partition,
            region=region,
            archive_bucket_name=archive.bucket_name,
            archive_bucket_arn=archive.bucket_arn,
            artifacts_bucket_name=endpoint.artifacts_bucket_name,
            artifacts_bucket_arn=endpoint.artifacts_bucket_arn,
            labels_table_name=console.labels_table_name,
            labels_table_arn=console.labels_table_arn,
            endpoint_name=endpoint.endpoint_name,
            endpoint_arn=endpoint.endpoint_arn,
            model_role_arn=endpoint.role_arn,
            image=endpoint.image,
            repository_arn=endpoint.repository_arn,
            variant=production_variant(
                settings.serverless,
                settings.endpoint_memory_mib,
                settings.endpoint_max_concurrency,
                settings.endpoint_instance_type,
                settings.endpoint_min_instances,
            ),
            serverless=settings.serverless,
            endpoint_alarm_names=[alarm.name for alarm in rollout_alarms],
            endpoint_alarm_arns=[alarm.arn for alarm in rollout_alarms],
            alarm_topic_arn=operations.topic_arn,
            schedule_expression=settings.retrain_schedule,
            training_days=settings.retrain_training_days,
            alert_budget=DEFAULT_ALERT_BUDGET,
            instance_type=settings.retrain_instance_type,
            sampling_instances=settings.retrain_sampling_instances,
            auto_promote=settings.retrain_auto_promote,
            alerts_alarm_threshold=settings.rollout_alerts_alarm,
        ),
    )
    # What a service embedding the producer needs: where to write, and the least IAM to do it
    # (vedette.producer calls ListShards and PutRecords; the stream is KMS-encrypted).
    producer_policy = policy_document(
        [
            Statement("WriteEvents", ("kinesis:ListShards", "kinesis:PutRecords"), [stream.arn]),
            key_use("EncryptEvents", key.arn, region, ("kinesis",), actions=("kms:GenerateDataKey",)),
        ]
    )
    return {
        "stream_name": stream.stream_name,
        "stream_arn": stream.arn,
        "archive_bucket": archive.bucket_name,
        "delivery_stream_name": archive.delivery_stream_name,
        "archive_partitioner_function_name": archive.partitioner_function_name,
        "endpoint_name": endpoint.endpoint_name,
        "artifacts_bucket": endpoint.artifacts_bucket_name,
        "endpoint_image": endpoint.image,
        "state_table_name": state.state_table_name,
        "anomalies_table_name": state.anomalies_table_name,
        "alerts_topic_arn": state.alerts_topic_arn,
        "alarms_topic_arn": operations.topic_arn,
        "on_failure_queue_url": scorer.queue_url,
        "scorer_function_name": scorer.function_name,
        "dashboard_name": operations.dashboard_name,
        "kms_key_arn": key.arn,
        "query_database": queries.database_name,
        "query_table": queries.table_name,
        "query_workgroup": queries.workgroup_name,
        "query_results_bucket": queries.results_bucket_name,
        "query_policy_arn": queries.policy_arn,
        "labels_table_name": console.labels_table_name,
        "console_policy_arn": console.policy_arn,
        "retraining_state_machine_arn": retraining.state_machine_arn,
        "retraining_schedule_name": retraining.schedule_name,
        "producer_settings": {"stream_name": stream.stream_name, "region": region, "aggregation": True},
        "producer_policy": producer_policy,
    }
