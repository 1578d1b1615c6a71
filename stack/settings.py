"""The stack's one typed settings object, built from the ``vedette:*`` configuration.

``CONFIG_KEYS`` is the list of keys: their type, default and meaning. ``Pulumi.yaml`` declares the
same keys with the same defaults (a test compares them), and ``StackSettings.from_config`` is the
only reader. Every value is checked against the service limit it ends up in, so a bad value fails
the preview with a ``StackConfigError`` naming the key instead of failing half-way through an update.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from archive.layout import (
    DEFAULT_BUFFER_BYTES,
    DEFAULT_BUFFER_SECONDS,
    MAX_BUFFER_BYTES,
    MAX_BUFFER_SECONDS,
    check_user_hash_buckets,
)
from scorer import settings as scorer_env
from scorer.exceptions import MissingSettingError
from stack.exceptions import StackConfigError

MIB = 1024 * 1024

# Service limits the checks below refer to (AWS documentation).
KINESIS_RETENTION_HOURS = (24, 8760)
FIREHOSE_BUFFER_MIB = (1, MAX_BUFFER_BYTES // MIB)
FIREHOSE_BUFFER_SECONDS = (0, int(MAX_BUFFER_SECONDS))
# With dynamic partitioning Firehose's buffer is 64 MiB at least, and zero buffering is not offered
# (Firehose, "Buffer data for dynamic partitioning"); 60 s is the console's smallest interval then.
DYNAMIC_PARTITIONING_BUFFER_MIB = (64, MAX_BUFFER_BYTES // MIB)
DYNAMIC_PARTITIONING_BUFFER_SECONDS = (60, int(MAX_BUFFER_SECONDS))
# "end-to-end delay of a batch of records might be 1.5 times of the configured buffering hint time"
# with dynamic partitioning (same page): the archive's freshness alarm allows for it.
DYNAMIC_PARTITIONING_DELAY_FACTOR = 1.5
S3_MIN_DAYS_BEFORE_INFREQUENT_ACCESS = 30
SERVERLESS_MEMORY_MIB = (1024, 2048, 3072, 4096, 5120, 6144)
SERVERLESS_MAX_CONCURRENCY = (1, 200)
LAMBDA_MEMORY_MIB = (128, 10240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
ESM_BATCH_SIZE = (1, 10_000)
ESM_BATCHING_WINDOW_SECONDS = (0, 300)
# Lambda allows 1-10, but it keeps order per *outer* partition key: a KPL aggregate carries many users
# under the first one's key, so above 1 one user's events could be scored in two batches at once and
# their state writes race. Per-user order is what the scorer's state depends on.
ESM_PARALLELIZATION_FACTOR = (1, 1)
# -1 (infinite) is a service value but never a sane one here: a poison record would block its shard.
ESM_RETRY_ATTEMPTS = (0, 10_000)
ESM_RECORD_AGE_SECONDS = (60, 604_800)
STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON")
STREAM_MODES = ("ON_DEMAND", "PROVISIONED")
ENDPOINT_MODES = ("serverless", "instance")
NameT = TypeVar("NameT")
# A processing job's instances (SageMaker's default quota per instance type is lower: ask for more).
MAX_SAMPLING_INSTANCES = 100
# EventBridge Scheduler's recurring expressions (one-time at(...) schedules would retrain once).
SCHEDULE_EXPRESSION = re.compile(r"cron\(\S+( \S+){5}\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557)


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One ``vedette:<name>`` key: its Pulumi.yaml type, default (as Pulumi.yaml states it) and meaning."""

    name: str
    type: str  # "string" | "integer" | "boolean"
    default: str | int | bool
    description: str


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("streamMode", "string", "ON_DEMAND", "Kinesis capacity mode: ON_DEMAND or PROVISIONED."),
    ConfigKey("streamShardCount", "integer", 1, "Shards when streamMode is PROVISIONED (ignored on demand)."),
    ConfigKey("streamRetentionHours", "integer", 24, "Kinesis retention, 24-8760 hours."),
    ConfigKey(
        "archiveBufferMiB",
        "integer",
        DEFAULT_BUFFER_BYTES // MIB,
        "Firehose buffer size before compression, 1-128 MiB.",
    ),
    ConfigKey(
        "archiveBufferSeconds",
        "integer",
        int(DEFAULT_BUFFER_SECONDS),
        "Firehose buffer interval, 0-900 seconds.",
    ),
    ConfigKey(
        "archiveUserHashBuckets",
        "integer",
        0,
        "0: archive under time prefixes only; N (a power of two, 2-2048): also by user hash in N buckets, "
        "so sampling reads only the buckets it needs (Firehose dynamic partitioning; archiveBufferMiB >= 64).",
    ),
    ConfigKey(
        "archiveInfrequentAccessDays", "integer", 30, "Days before archived objects move to STANDARD_IA (>= 30)."
    ),
    ConfigKey("archiveExpirationDays", "integer", 365, "Days before archived objects expire (after the IA move)."),
    ConfigKey(
        "modelArtifactPath", "string", "build/model.tar.gz", "The model.tar.gz to upload (make model builds it)."
    ),
    ConfigKey("endpointMode", "string", "serverless", "SageMaker endpoint kind: serverless or instance."),
    ConfigKey("endpointMemoryMiB", "integer", 2048, "Serverless endpoint memory: 1024-6144 in steps of 1024."),
    ConfigKey("endpointMaxConcurrency", "integer", 5, "Serverless endpoint concurrent invocations, 1-200."),
    ConfigKey("endpointInstanceType", "string", "ml.c5.large", "Instance type when endpointMode is instance."),
    ConfigKey("endpointMinInstances", "integer", 1, "Instances at least (instance mode, autoscaling floor)."),
    ConfigKey("endpointMaxInstances", "integer", 2, "Instances at most (instance mode, autoscaling ceiling)."),
    ConfigKey(
        "endpointInvocationsPerInstance",
        "integer",
        600,
        "Autoscaling target: invocations per instance per minute (instance mode).",
    ),
    ConfigKey("scorerBundlePath", "string", "build/scorer.zip", "The Lambda bundle (make bundle builds it)."),
    ConfigKey("scorerMemoryMiB", "integer", 1024, "Scorer Lambda memory, 128-10240 MiB."),
    ConfigKey("scorerTimeoutSeconds", "integer", 60, "Scorer Lambda timeout, 1-900 seconds."),
    ConfigKey(
        "scorerReservedConcurrency", "integer", -1, "Reserved concurrency for the scorer; -1 leaves it unreserved."
    ),
    ConfigKey("batchSize", "integer", 500, "Kinesis records per scorer invocation, 1-10000."),
    ConfigKey(
        "batchingWindowSeconds",
        "integer",
        0,
        "Seconds the mapping waits to fill a batch, 0-300; 0 invokes as records arrive (Lambda's default).",
    ),
    ConfigKey(
        "parallelizationFactor",
        "integer",
        1,
        "Concurrent batches per shard: 1 (aggregates mix users; more would split a user's events).",
    ),
    ConfigKey("maxRetryAttempts", "integer", 5, "Retries of a failing batch before it goes to the on-failure queue."),
    ConfigKey("maxRecordAgeSeconds", "integer", 3600, "Records older than this go to the on-failure queue, 60-604800."),
    ConfigKey("startingPosition", "string", "LATEST", "Where the mapping starts reading: LATEST or TRIM_HORIZON."),
    ConfigKey(
        "alertEmail",
        "string",
        "",
        "Email subscribed to the alarms (empty: none); alerts go to the FIFO alerts topic's SQS subscribers.",
    ),
    ConfigKey("alertMinSeverity", "string", "1.0", "Alert when score / threshold is at least this (number)."),
    ConfigKey("alertWindowSeconds", "integer", 3600, "At most one alert per user per this many seconds."),
    ConfigKey(
        "stateTableCapacityUnits",
        "integer",
        0,
        "0: state table on demand; N: provisioned N read and N write units, autoscaled to 4N at 70 %.",
    ),
    ConfigKey("stateTtlDays", "integer", 30, "Days an idle user's or IP's state is kept (DynamoDB TTL)."),
    ConfigKey("logRetentionDays", "integer", 30, "CloudWatch Logs retention of the scorer and Firehose logs."),
    ConfigKey("iteratorAgeAlarmSeconds", "integer", 300, "Alarm when the scorer falls this far behind the stream."),
    ConfigKey("endpointLatencyAlarmMs", "integer", 2000, "Alarm when the endpoint's p99 model latency exceeds this."),
    ConfigKey(
        "archiveFreshnessAlarmSeconds",
        "integer",
        900,
        "Alarm when the oldest record not yet archived is older than this (above the buffer interval).",
    ),
    ConfigKey("queryResultsExpirationDays", "integer", 30, "Days Athena query results are kept, 1-3650."),
    ConfigKey("queryScanLimitGiB", "integer", 100, "Athena cancels a query of the workgroup that scans more, 1-10000."),
    ConfigKey(
        "retrainSchedule",
        "string",
        "cron(0 3 ? * MON *)",
        "EventBridge Scheduler expression (UTC) that starts a retraining cycle: cron(...) or rate(...).",
    ),
    ConfigKey("retrainTrainingDays", "integer", 7, "Days of the archive a cycle trains on, before the held-out day."),
    ConfigKey("retrainInstanceType", "string", "ml.m5.xlarge", "Instance type of the cycle's training and gate jobs."),
    ConfigKey(
        "retrainSamplingInstances",
        "integer",
        1,
        "Instances that read the training window in parallel before training (1: the training job reads it), 1-100.",
    ),
    ConfigKey(
        "retrainAutoPromote",
        "boolean",
        False,
        "Roll a promoted candidate out to the endpoint (false: store and record it, deploy by hand).",
    ),
    ConfigKey(
        "rolloutAlertsAlarm", "integer", 50, "A rollout rolls back at this many entity alerts in 5 minutes (1-1000000)."
    ),
)


class ConfigSource(Protocol):
    """What ``pulumi.Config`` offers that the settings read (so tests can pass a plain mapping)."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class StackSettings:
    """Every deployable choice, typed and checked; defaults are the ``CONFIG_KEYS`` defaults."""

    stream_mode: str = "ON_DEMAND"
    stream_shard_count: int = 1
    stream_retention_hours: int = 24
    archive_buffer_mib: int = DEFAULT_BUFFER_BYTES // MIB
    archive_buffer_seconds: int = int(DEFAULT_BUFFER_SECONDS)
    archive_user_hash_buckets: int = 0
    archive_infrequent_access_days: int = 30
    archive_expiration_days: int = 365
    model_artifact_path: str = "build/model.tar.gz"
    endpoint_mode: str = "serverless"
    endpoint_memory_mib: int = 2048
    endpoint_max_concurrency: int = 5
    endpoint_instance_type: str = "ml.c5.large"
    endpoint_min_instances: int = 1
    endpoint_max_instances: int = 2
    endpoint_invocations_per_instance: int = 600
    scorer_bundle_path: str = "build/scorer.zip"
    scorer_memory_mib: int = 1024
    scorer_timeout_seconds: int = 60
    scorer_reserved_concurrency: int = -1
    batch_size: int = 500
    # Lambda's default for streams: a window adds up to its length, plus one more invocation of
    # waiting, to every event's latency (docs/deploy.md, "Latency").
    batching_window_seconds: int = 0
    parallelization_factor: int = 1
    max_retry_attempts: int = 5
    max_record_age_seconds: int = 3600
    starting_position: str = "LATEST"
    alert_email: str = ""
    alert_min_severity: str = "1.0"
    alert_window_seconds: int = 3600
    state_table_capacity_units: int = 0
    state_ttl_days: int = 30
    log_retention_days: int = 30
    iterator_age_alarm_seconds: int = 300
    endpoint_latency_alarm_ms: int = 2000
    archive_freshness_alarm_seconds: int = 900
    query_results_expiration_days: int = 30
    query_scan_limit_gib: int = 100
    retrain_schedule: str = "cron(0 3 ? * MON *)"
    retrain_training_days: int = 7
    retrain_instance_type: str = "ml.m5.xlarge"
    retrain_sampling_instances: int = 1
    retrain_auto_promote: bool = False
    rollout_alerts_alarm: int = 50

    def __post_init__(self) -> None:
        self._check()

    @property
    def serverless(self) -> bool:
        return self.endpoint_mode == "serverless"

    @property
    def on_demand(self) -> bool:
        return self.stream_mode == "ON_DEMAND"

    def scorer_environment(self, names: Mapping[str, NameT | str]) -> dict[str, NameT | str]:
        """The scorer's environment variables (names from ``scorer.settings``), given the resource
        names under the keys ``endpoint``, ``state_table``, ``anomalies_table``, ``alerts_topic_arn``,
        ``bad_events_bucket``, ``bad_events_prefix`` and ``feature_configs_uri``."""
        payload_limit = (
            scorer_env.SERVERLESS_MAX_PAYLOAD_BYTES if self.serverless else scorer_env.REAL_TIME_MAX_PAYLOAD_BYTES
        )
        return {
            scorer_env.ENDPOINT_NAME: names["endpoint"],
            scorer_env.STATE_TABLE: names["state_table"],
            scorer_env.ANOMALIES_TABLE: names["anomalies_table"],
            scorer_env.ALERTS_TOPIC_ARN: names["alerts_topic_arn"],
            scorer_env.BAD_EVENTS_BUCKET: names["bad_events_bucket"],
            scorer_env.BAD_EVENTS_PREFIX: names["bad_events_prefix"],
            scorer_env.ALERT_MIN_SEVERITY: self.alert_min_severity,
            scorer_env.ALERT_WINDOW_SECONDS: str(self.alert_window_seconds),
            scorer_env.STATE_TTL_SECONDS: str(self.state_ttl_days * 86400),
            # A margin under the endpoint's request limit for the JSON envelope.
            scorer_env.MAX_PAYLOAD_BYTES: str(payload_limit - 100_000),
            scorer_env.FEATURE_CONFIGS_URI: names["feature_configs_uri"],
        }

    @classmethod
    def from_config(cls, config: ConfigSource) -> StackSettings:
        """Read every ``CONFIG_KEYS`` key (missing ones take their default) and check the values."""
        values: dict[str, object] = {}
        for key in CONFIG_KEYS:
            text = config.get(key.name)
            values[_field_name(key.name)] = key.default if text is None else _parse(key, text)
        return cls(**values)  # type: ignore[arg-type]

    def _check(self) -> None:
        _one_of("streamMode", self.stream_mode, STREAM_MODES)
        if not self.on_demand:
            _within("streamShardCount", self.stream_shard_count, (1, 10_000))
        _within("streamRetentionHours", self.stream_retention_hours, KINESIS_RETENTION_HOURS)
        _within("archiveBufferMiB", self.archive_buffer_mib, FIREHOSE_BUFFER_MIB)
        _within("archiveBufferSeconds", self.archive_buffer_seconds, FIREHOSE_BUFFER_SECONDS)
        try:
            check_user_hash_buckets(self.archive_user_hash_buckets)
        except ValueError as error:
            raise StackConfigError("archiveUserHashBuckets", str(error)) from None
        if self.archive_user_hash_buckets:
            # Firehose's own minimums with dynamic partitioning, named here instead of failing the update.
            _within_when_partitioned("archiveBufferMiB", self.archive_buffer_mib, DYNAMIC_PARTITIONING_BUFFER_MIB)
            _within_when_partitioned(
                "archiveBufferSeconds", self.archive_buffer_seconds, DYNAMIC_PARTITIONING_BUFFER_SECONDS
            )
        _within("archiveInfrequentAccessDays", self.archive_infrequent_access_days, (30, 36_500))
        if self.archive_expiration_days <= self.archive_infrequent_access_days:
            raise StackConfigError(
                "archiveExpirationDays",
                f"must be greater than archiveInfrequentAccessDays ({self.archive_infrequent_access_days}), "
                f"got {self.archive_expiration_days}",
            )
        _non_empty("modelArtifactPath", self.model_artifact_path)
        _one_of("endpointMode", self.endpoint_mode, ENDPOINT_MODES)
        _one_of("endpointMemoryMiB", self.endpoint_memory_mib, SERVERLESS_MEMORY_MIB)
        _within("endpointMaxConcurrency", self.endpoint_max_concurrency, SERVERLESS_MAX_CONCURRENCY)
        if not self.endpoint_instance_type.startswith("ml."):
            raise StackConfigError(
                "endpointInstanceType", f"must be a SageMaker instance type (ml.*), got {self.endpoint_instance_type!r}"
            )
        _within("endpointMinInstances", self.endpoint_min_instances, (1, 100))
        _within("endpointMaxInstances", self.endpoint_max_instances, (self.endpoint_min_instances, 100))
        _within("endpointInvocationsPerInstance", self.endpoint_invocations_per_instance, (1, 1_000_000))
        _non_empty("scorerBundlePath", self.scorer_bundle_path)
        _within("scorerMemoryMiB", self.scorer_memory_mib, LAMBDA_MEMORY_MIB)
        _within("scorerTimeoutSeconds", self.scorer_timeout_seconds, LAMBDA_TIMEOUT_SECONDS)
        if self.scorer_reserved_concurrency != -1:
            _within("scorerReservedConcurrency", self.scorer_reserved_concurrency, (1, 10_000))
        _within("batchSize", self.batch_size, ESM_BATCH_SIZE)
        _within("batchingWindowSeconds", self.batching_window_seconds, ESM_BATCHING_WINDOW_SECONDS)
        _within("parallelizationFactor", self.parallelization_factor, ESM_PARALLELIZATION_FACTOR)
        _within("maxRetryAttempts", self.max_retry_attempts, ESM_RETRY_ATTEMPTS)
        _within("maxRecordAgeSeconds", self.max_record_age_seconds, ESM_RECORD_AGE_SECONDS)
        if self.max_record_age_seconds > self.stream_retention_hours * 3600:
            raise StackConfigError(
                "maxRecordAgeSeconds",
                f"must not exceed the stream's retention ({self.stream_retention_hours} h): records would expire "
                f"from the stream before the mapping gives up on them, got {self.max_record_age_seconds}",
            )
        _one_of("startingPosition", self.starting_position, STARTING_POSITIONS)
        if self.alert_email and ("@" not in self.alert_email or " " in self.alert_email):
            raise StackConfigError("alertEmail", f"must be an email address or empty, got {self.alert_email!r}")
        _within("stateTableCapacityUnits", self.state_table_capacity_units, (0, 10_000))
        _within("stateTtlDays", self.state_ttl_days, (1, 366))
        _one_of("logRetentionDays", self.log_retention_days, LOG_RETENTION_DAYS)
        _within("iteratorAgeAlarmSeconds", self.iterator_age_alarm_seconds, (1, 604_800))
        _within("endpointLatencyAlarmMs", self.endpoint_latency_alarm_ms, (1, 60_000))
        if self.archive_freshness_alarm_seconds <= self.archive_buffer_seconds:
            raise StackConfigError(
                "archiveFreshnessAlarmSeconds",
                f"must exceed archiveBufferSeconds ({self.archive_buffer_seconds}) or the alarm fires on every "
                f"buffered delivery, got {self.archive_freshness_alarm_seconds}",
            )
        delayed = self.archive_buffer_seconds * DYNAMIC_PARTITIONING_DELAY_FACTOR
        if self.archive_user_hash_buckets and self.archive_freshness_alarm_seconds <= delayed:
            raise StackConfigError(
                "archiveFreshnessAlarmSeconds",
                f"must exceed {delayed:g} s with archiveUserHashBuckets (dynamic partitioning may deliver "
                f"{DYNAMIC_PARTITIONING_DELAY_FACTOR:g} times archiveBufferSeconds late) or the alarm fires on "
                "ordinary deliveries, "
                f"got {self.archive_freshness_alarm_seconds}",
            )
        _within("queryResultsExpirationDays", self.query_results_expiration_days, (1, 3650))
        _within("queryScanLimitGiB", self.query_scan_limit_gib, (1, 10_000))
        if not SCHEDULE_EXPRESSION.fullmatch(self.retrain_schedule):
            raise StackConfigError(
                "retrainSchedule",
                f"must be an EventBridge Scheduler cron(...) or rate(...), got {self.retrain_schedule!r}",
            )
        _within("retrainTrainingDays", self.retrain_training_days, (1, 90))
        _within("retrainSamplingInstances", self.retrain_sampling_instances, (1, MAX_SAMPLING_INSTANCES))
        if not self.retrain_instance_type.startswith("ml."):
            raise StackConfigError(
                "retrainInstanceType", f"must be a SageMaker instance type (ml.*), got {self.retrain_instance_type!r}"
            )
        _within("rolloutAlertsAlarm", self.rollout_alerts_alarm, (1, 1_000_000))
        if self.retrain_auto_promote and not self.serverless and self.endpoint_min_instances < 2:
            # The canary is at most half the new fleet: with one instance there is no canary.
            raise StackConfigError(
                "endpointMinInstances", "must be at least 2 with retrainAutoPromote on an instance endpoint (canary)"
            )
        # The scorer checks its own settings at cold start; checking them here, with the scorer's
        # own code, makes a bad value fail the preview instead of every invocation.
        placeholder = dict.fromkeys(
            ("endpoint", "state_table", "anomalies_table", "alerts_topic_arn", "bad_events_bucket"), "x"
        )
        try:
            names = {**placeholder, "bad_events_prefix": "x/", "feature_configs_uri": "s3://x/models/feature-configs/"}
            scorer_env.ScorerSettings.from_environ(self.scorer_environment(names))
        except MissingSettingError as error:
            key = {
                scorer_env.ALERT_MIN_SEVERITY: "alertMinSeverity",
                scorer_env.ALERT_WINDOW_SECONDS: "alertWindowSeconds",
                scorer_env.STATE_TTL_SECONDS: "stateTtlDays",
            }.get(error.name, error.name)
            raise StackConfigError(key, error.reason) from None


def _field_name(key: str) -> str:
    out = "".join("_" + char.lower() if char.isupper() else char for char in key)
    return out.replace("_mi_b", "_mib").replace("_gi_b", "_gib").replace("_m_s", "_ms")


def _parse(key: ConfigKey, text: str) -> str | int | bool:
    text = text.strip()
    if key.type == "integer":
        try:
            return int(text)
        except ValueError:
            raise StackConfigError(key.name, f"must be an integer, got {text!r}") from None
    if key.type == "boolean":
        if text.lower() not in {"true", "false"}:
            raise StackConfigError(key.name, f"must be true or false, got {text!r}")
        return text.lower() == "true"
    if key.name == "alertMinSeverity":
        try:
            value = float(text)
        except ValueError:
            raise StackConfigError(key.name, f"must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise StackConfigError(key.name, f"must be a finite number, got {text!r}")
    return text


def _within(key: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise StackConfigError(key, f"must be within {low}-{high}, got {value}")


def _within_when_partitioned(key: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise StackConfigError(
            key, f"must be within {low}-{high} with archiveUserHashBuckets (Firehose dynamic partitioning), got {value}"
        )


def _one_of(key: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise StackConfigError(key, f"must be one of {', '.join(map(str, allowed))}, got {value!r}")


def _non_empty(key: str, value: str) -> None:
    if not value.strip():
        raise StackConfigError(key, "must not be empty")
