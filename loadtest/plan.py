"""The whole pipeline's capacity and monthly cost at a sustained load, and the first quota it hits.

``python -m loadtest.plan --events-per-second N [--users U] [--event-bytes B] [--nat-users K] [--json]``

Every figure is arithmetic on three sources: this project's measured unit costs
(``loadtest.inputs``), list prices (``loadtest.pricing``) and documented quotas
(``loadtest.quotas``). Nothing here calls AWS. The model, stage by stage:

- Stream: bytes/s = events/s x event bytes, in aggregated records of the measured size; shards
  with 25 % headroom (``loadtest.pricing.shards_needed``), or more when one scorer per shard could
  not keep up (Lambda runs one batch per shard at a time; CPU is memory / 1,769 MB of a vCPU).
- Scorer: one invocation per shard per second (Lambda reads a caught-up shard once a second; with a
  batching window longer than that, one per window).
- State: each event touches its user, IP, user-episode and session-episode items; a batch reads and
  writes each distinct item once, so with ``users`` active users the share of distinct items is
  ``(1 - exp(-r)) / r`` for ``r`` = events per user per second (Poisson arrivals).
- Addresses (``scorer.ip_slices``): each shard keeps its own part of an address's state; a batch
  also reads each address's home (eventually consistent, half a read unit), and a shard meeting
  an address it has no place in yet announces itself there (one write unit).
- Hot key: ``nat_users`` of the users share one IP, on every shard. Up to ``ip_directory_size``
  shards keep their part in an item of their own (one write per batch each); the others copy it
  into one of ``hot_address_items`` hot items, whose fullest (the mean plus three standard
  deviations of a binomial share) takes one write per batch of each of its shards.
- Training: the retraining cycle's sampling job reads the training window at the measured rate of
  one worker, split over at most ``max_sampling_instances`` instances for at most
  ``sampling_job_max_seconds``. Where that no longer fits, the plan lays the archive out by user
  hash (``PLANNED_USER_HASH_BUCKETS``): the job then reads only the buckets that hold the sample with
  its margin (``model.sampling``), at least one bucket of the window; Firehose bills dynamic
  partitioning, and the partitioner Lambda runs once per processor buffer.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from loadtest import pricing
from loadtest.inputs import Inputs, measured
from loadtest.pricing import HOURS_PER_MONTH, SECONDS_PER_MONTH, Load
from loadtest.quotas import QUOTAS, SAGEMAKER_PROCESSING_INSTANCES, Quota
from model.sampling import DEFAULT_MAX_EVENTS, READ_MARGIN
from vedette.limits import KIB, put_payload_units

GB = 1000**3  # AWS bills data in GB; KiB-based units are named where they apply
SECONDS_PER_DAY = 86_400
# A hot item's key and expiry ("key", "ip#<address>#<n>" with the longest address, "expires_at" and
# its number) and the users an address's parts keep between them (model.features.MAX_IP_USERS, 12 B each).
HOT_ITEM_OVERHEAD_BYTES = 3 + 3 + 45 + 3 + 10 + 6
MAX_IP_USERS = 32
IP_USER_BYTES = 12
LAMBDA_MIB_PER_VCPU = 1769  # "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda docs)
LAMBDA_POLL_SECONDS = 1.0  # "Lambda polls each shard ... at a base rate of once per second" (Lambda docs)
SCALES = (1_000, 10_000, 100_000, 1_000_000)
# Firehose invokes a Lambda processor with the records it buffered: 1 MB or 60 s by default (hints of
# 0.2-3 MB and 0-900 s; Firehose developer guide, "Transform source data"). The stack sets neither.
PROCESSOR_BUFFER_BYTES = 1024 * 1024
PROCESSOR_BUFFER_SECONDS = 60.0
# An hour's user-hash partitions stay open beside the previous hour's for a buffer interval
# (archive.layout), so the active partitions reach twice the buckets.
OPEN_HOURS_PER_BUCKET = 2
# The buckets the plan lays the archive out in once the time-only read no longer fits the sampling
# job: the most (a power of two) whose open hours fit Firehose's default 500 active partitions.
PLANNED_USER_HASH_BUCKETS = 128
# When nothing is exceeded, how far up to look for the next quota.
SEARCH_CEILING_EVENTS_PER_SECOND = 1e9


@dataclass(frozen=True, slots=True)
class Deployment:
    """The stack's choices the plan depends on; defaults are ``stack/settings.py``'s ``CONFIG_KEYS``."""

    scorer_memory_mib: int = 1024
    endpoint_memory_mib: int = 2048
    endpoint_instance_type: str = "ml.c5.xlarge"
    endpoint_target_utilization: float = 0.7
    batching_window_seconds: float = 0.0
    parallelization_factor: int = 1
    ip_directory_size: int = 8  # the scorer's VEDETTE_IP_DIRECTORY_SIZE default (scorer.ip_slices)
    headroom: float = pricing.DEFAULT_HEADROOM
    dynamodb_target_utilization: float = 0.7  # provisioned tables autoscaled at 70 %
    archive_buffer_bytes: int = 5 * 1024 * 1024
    archive_buffer_seconds: float = 300.0
    archive_infrequent_access_days: int = 30
    archive_expiration_days: int = 365
    # archiveUserHashBuckets; None: the plan's choice, time only while the sampling job reads the
    # window in time, PLANNED_USER_HASH_BUCKETS past that (time_only_read_fits_up_to).
    archive_user_hash_buckets: int | None = None
    partitioned_buffer_bytes: int = 64 * 1024 * 1024  # stack.settings.DYNAMIC_PARTITIONING_BUFFER_MIB[0]
    partitioner_memory_mib: int = 512  # stack.archive.PARTITIONER_MEMORY_MIB
    training_days: int = 7  # retrainTrainingDays
    sampling_job_max_seconds: int = 4 * 3600  # stack.retraining.JOB_MAX_SECONDS
    max_sampling_instances: int = int(SAGEMAKER_PROCESSING_INSTANCES.value)  # stack.settings.MAX_SAMPLING_INSTANCES
    state_ttl_days: int = 30
    athena_queries_per_day: int = 24  # assumed: one query an hour, each over one day of the archive
    athena_scan_limit_gib: int = 100  # queryScanLimitGiB
    cloudwatch_alarms: int = 7
    cloudwatch_metrics: int = 12
    cloudwatch_dashboards: int = 1


@dataclass(frozen=True, slots=True)
class Usage:
    """One quota at this load: what is used, the documented value, and the load at which it is reached."""

    quota: Quota
    used: float
    exceeded: bool
    reached_at_events_per_second: float | None  # None: not within SEARCH_CEILING_EVENTS_PER_SECOND


@dataclass
class Plan:
    events_per_second: float
    users: float
    event_bytes: float
    nat_users: float
    needs: dict[str, dict[str, float]] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    usage: list[Usage] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return round(sum(self.cost.values()), 2)

    @property
    def first_limit(self) -> Usage | None:
        """The exceeded quota reached at the lowest load; None when nothing is exceeded."""
        exceeded = [usage for usage in self.usage if usage.exceeded]
        return min(exceeded, key=_reached_at, default=None)

    @property
    def next_limit(self) -> Usage | None:
        """When nothing is exceeded, the quota a growing load reaches first."""
        ahead = [usage for usage in self.usage if not usage.exceeded and usage.reached_at_events_per_second]
        return min(ahead, key=_reached_at, default=None)

    def to_json(self) -> dict[str, Any]:
        def usage_json(usage: Usage | None) -> dict[str, Any] | None:
            if usage is None:
                return None
            return {
                "quota": usage.quota.name,
                "value": usage.quota.value,
                "unit": usage.quota.unit,
                "used": round(usage.used, 1),
                "reached_at_events_per_second": _round(usage.reached_at_events_per_second),
                "source": usage.quota.source,
                "change": usage.quota.change,
            }

        return {
            "events_per_second": self.events_per_second,
            "users": self.users,
            "event_bytes": self.event_bytes,
            "nat_users": self.nat_users,
            "needs": self.needs,
            "cost_usd_per_month": self.cost,
            "total_usd_per_month": self.monthly_usd,
            "first_limit": usage_json(self.first_limit),
            "next_limit": usage_json(self.next_limit),
            "quotas": [usage_json(usage) for usage in self.usage],
        }


def _reached_at(usage: Usage) -> float:
    return usage.reached_at_events_per_second or math.inf


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def distinct_share(events_per_user_per_batch: float) -> float:
    """The expected share of a batch's events that are the first of their user in it (Poisson)."""
    rate = events_per_user_per_batch
    return 1.0 if rate <= 0 else (1 - math.exp(-rate)) / rate


def time_only_read_fits_up_to(inputs: Inputs, deployment: Deployment) -> float:
    """The load (events/s) up to which the sampling job reads the time-only training window in time:
    its most instances, each for the job's longest run, at the measured rate of one worker."""
    d = deployment
    window_seconds = SECONDS_PER_DAY * d.training_days
    return (
        d.max_sampling_instances * d.sampling_job_max_seconds / (window_seconds * inputs.archive_read_seconds_per_event)
    )


def user_hash_buckets_at(events_per_second: float, inputs: Inputs, deployment: Deployment) -> int:
    """The archive's user-hash buckets at a load: the deployment's, or the plan's choice (0, time only,
    while the time-only read fits; ``PLANNED_USER_HASH_BUCKETS`` past it)."""
    if deployment.archive_user_hash_buckets is not None:
        return deployment.archive_user_hash_buckets
    return 0 if events_per_second <= time_only_read_fits_up_to(inputs, deployment) else PLANNED_USER_HASH_BUCKETS


def needs(
    events_per_second: float,
    users: float,
    event_bytes: float,
    nat_users: float,
    inputs: Inputs,
    deployment: Deployment,
) -> dict[str, dict[str, float]]:
    """What the load needs from each service, per second unless the name says otherwise."""
    eps = events_per_second
    d = deployment
    # Stream.
    bytes_per_second = eps * event_bytes
    records_per_second = bytes_per_second / inputs.aggregate_record_bytes
    load = Load(
        records_per_second, bytes_per_second, records_per_second * put_payload_units(int(inputs.aggregate_record_bytes))
    )
    stream_shards = pricing.shards_needed(load, d.headroom)
    vcpu = d.scorer_memory_mib / LAMBDA_MIB_PER_VCPU
    rows_per_call = min(inputs.max_rows_per_call, int(inputs.max_request_bytes // inputs.request_bytes_per_row))
    # Seconds of one scorer per event: its CPU at its share of a vCPU, then waiting on the model.
    wall_per_event = (
        inputs.scorer_cpu_seconds_per_event / vcpu
        + inputs.model_seconds_per_row
        + inputs.endpoint_call_overhead_seconds / rows_per_call
    )
    scorer_events_per_shard = (1 - d.headroom) / wall_per_event
    scorer_shards = max(1, math.ceil(eps / scorer_events_per_shard))
    shards = max(stream_shards, scorer_shards)
    # Scorer: one batch per shard per read at Lambda's base rate, or per window if that is longer.
    batch_interval = max(LAMBDA_POLL_SECONDS, d.batching_window_seconds)
    invocations = shards * d.parallelization_factor / batch_interval
    events_per_invocation = eps / invocations
    calls_per_invocation = max(1, math.ceil(events_per_invocation / rows_per_call))
    duration = (
        events_per_invocation * wall_per_event
        - events_per_invocation * inputs.endpoint_call_overhead_seconds / rows_per_call
        + calls_per_invocation * inputs.endpoint_call_overhead_seconds
        + inputs.state_round_trips_per_invocation * inputs.dynamodb_round_trip_seconds
    )
    gb_seconds = invocations * duration * d.scorer_memory_mib / 1024
    # State: every kind once per distinct entity in a batch.
    share = distinct_share(eps / users / invocations * shards) if users > 0 else 1.0
    items = {kind: eps * share for kind in inputs.state_item_bytes}
    # Addresses: each one's home read eventually consistent (half a unit), and the announcements.
    homes_read = items.get("ip", 0.0)
    announcements = eps * inputs.ip_announcements_per_event
    write_units = sum(items[kind] * math.ceil(size / KIB) for kind, size in inputs.state_item_bytes.items())
    write_units += announcements
    read_units = sum(items[kind] * math.ceil(size / (4 * KIB)) for kind, size in inputs.state_item_bytes.items())
    read_units += homes_read / 2
    anomaly_write_units = eps * inputs.anomaly_share * math.ceil(inputs.anomaly_item_bytes / KIB)
    stored_gb = users * sum(inputs.state_item_bytes.values()) / GB
    # The shared address: each batch that holds its events writes that shard's part, and reads the
    # home, the listed parts and (when the home is full) the hot items.
    nat_events = eps * min(nat_users, users) / users if users > 0 else 0.0
    batches_per_shard = d.parallelization_factor / batch_interval
    hot_writes = shards * batches_per_shard * (1 - math.exp(-nat_events / (shards * batches_per_shard)))
    per_shard_writes = hot_writes / shards
    sharing = min(shards, nat_users)
    listed = min(sharing, d.ip_directory_size)
    unlisted = sharing - listed
    mean_parts = unlisted / inputs.hot_address_items
    fullest = math.ceil(mean_parts + 3 * math.sqrt(mean_parts)) if unlisted > 0 else 0
    hot_item_bytes = HOT_ITEM_OVERHEAD_BYTES + fullest * inputs.ip_part_bytes + MAX_IP_USERS * IP_USER_BYTES
    own_units = math.ceil(inputs.state_item_bytes.get("ip", KIB) / KIB)
    hot_item_units = math.ceil(hot_item_bytes / KIB) if fullest else 0
    hot_item_write_units = fullest * per_shard_writes * hot_item_units
    hot_item_read_units = hot_writes * math.ceil(hot_item_bytes / (4 * KIB)) / 2 if fullest else 0.0
    listed_reads = hot_writes * max(0, listed - 1) / 2
    hot_reads = hot_writes * inputs.hot_address_items * math.ceil(hot_item_bytes / (4 * KIB)) / 2 if fullest else 0.0
    # Beyond the one read and write per event the state figures count: the other parts read, the copies.
    read_units += listed_reads + hot_reads
    write_units += unlisted * per_shard_writes * hot_item_units
    # Endpoint.
    calls = invocations * calls_per_invocation
    call_seconds = inputs.endpoint_call_overhead_seconds + (eps / calls) * inputs.model_seconds_per_row
    serverless_concurrency = calls * call_seconds
    instance_vcpus = pricing.SAGEMAKER_INSTANCE_VCPUS[d.endpoint_instance_type]
    instances = max(1, math.ceil(eps * inputs.model_seconds_per_row / (instance_vcpus * d.endpoint_target_utilization)))
    # Archive: an object per partition when its buffer fills or its interval ends, whichever first.
    archive_bytes_per_second = eps * inputs.archive_bytes_per_event
    buckets = user_hash_buckets_at(eps, inputs, d)
    partitions = max(1, buckets)
    buffer_bytes = d.partitioned_buffer_bytes if buckets else d.archive_buffer_bytes
    objects = partitions * max(1 / d.archive_buffer_seconds, bytes_per_second / partitions / buffer_bytes)
    # The partitioner: one invocation per processor buffer, its CPU at its share of a vCPU.
    partitioner_invocations = (
        max(1 / PROCESSOR_BUFFER_SECONDS, bytes_per_second / PROCESSOR_BUFFER_BYTES) if buckets else 0.0
    )
    partitioner_vcpu = d.partitioner_memory_mib / LAMBDA_MIB_PER_VCPU
    partitioner_events = eps / partitioner_invocations if buckets else 0.0
    partitioner_duration = partitioner_events * inputs.partitioner_cpu_seconds_per_event / partitioner_vcpu
    # Training: the window read by the sampling job, whole (time only) or the buckets the sample needs.
    window_events = eps * SECONDS_PER_DAY * d.training_days
    time_only_read_seconds = window_events * inputs.archive_read_seconds_per_event
    buckets_read = (
        min(buckets, math.ceil(DEFAULT_MAX_EVENTS * READ_MARGIN / (window_events / buckets))) if buckets else 0
    )
    events_read = window_events * buckets_read / buckets if buckets else window_events
    read_seconds = events_read * inputs.archive_read_seconds_per_event
    sampling_instances = max(1, math.ceil(read_seconds / d.sampling_job_max_seconds))
    return {
        "stream": {
            "mib_per_second": round(bytes_per_second / 2**20, 3),
            "records_per_second": round(records_per_second, 1),
            "shards_for_throughput": stream_shards,
            "shards_for_scorer": scorer_shards,
            "shards": shards,
            "gb_per_month": round(bytes_per_second * SECONDS_PER_MONTH / GB, 1),
        },
        "scorer": {
            "invocations_per_second": round(invocations, 1),
            "events_per_invocation": round(events_per_invocation, 1),
            "duration_seconds": round(duration, 3),
            "gb_seconds_per_second": round(gb_seconds, 2),
            "concurrency": shards * d.parallelization_factor,
            "events_per_second_per_shard_max": round(scorer_events_per_shard),
        },
        "state": {
            "distinct_item_share": round(share, 3),
            "items_read_per_second": round(sum(items.values())),
            "items_written_per_second": round(sum(items.values())),
            "read_units_per_second": round(read_units),
            "write_units_per_second": round(write_units),
            # Of those, for the addresses' parts beyond one read and one write per address a batch:
            # the homes read and the announcements, and the shared address's other parts read and
            # hot copies written.
            "address_home_read_units_per_second": round(homes_read / 2),
            "address_announcement_write_units_per_second": round(announcements),
            "shared_address_read_units_per_second": round(listed_reads + hot_reads),
            "shared_address_write_units_per_second": round(unlisted * per_shard_writes * hot_item_units),
            "anomaly_write_units_per_second": round(anomaly_write_units, 1),
            "provisioned_rcu": math.ceil(read_units / d.dynamodb_target_utilization),
            "provisioned_wcu": math.ceil((write_units + anomaly_write_units) / d.dynamodb_target_utilization),
            "stored_gb": round(stored_gb, 2),
        },
        "hot_key": {
            "nat_events_per_second": round(nat_events, 1),
            "batches_writing_per_second": round(hot_writes, 1),
            "shards_in_own_items": listed,
            "shards_in_hot_items": unlisted,
            "parts_in_fullest_hot_item": fullest,
            "fullest_hot_item_bytes": round(hot_item_bytes) if fullest else 0,
            # The address's hottest item: a listed shard's own item, or the fullest hot item.
            "ip_item_write_units_per_second": round(max(per_shard_writes * own_units, hot_item_write_units), 1),
            "ip_item_read_units_per_second": round(max(hot_writes / 2, hot_item_read_units), 1),
            "reads_per_batch_for_the_address": 1 + listed + (inputs.hot_address_items if fullest else 0),
            # Each part has one writer: nothing replaces another shard's update.
            "updates_lost_per_second": 0,
        },
        "endpoint": {
            "calls_per_second": round(calls, 1),
            "rows_per_call": round(eps / calls, 1),
            "request_kb": round(eps / calls * inputs.request_bytes_per_row / 1000, 1),
            "serverless_concurrency": round(serverless_concurrency, 1),
            "serverless_gb_seconds_per_second": round(serverless_concurrency * d.endpoint_memory_mib / 1024, 2),
            "instances": instances,
        },
        "archive": {
            "firehose_billed_gb_per_month": round(
                records_per_second
                * math.ceil(inputs.aggregate_record_bytes / pricing.FIREHOSE_RECORD_INCREMENT_BYTES)
                * pricing.FIREHOSE_RECORD_INCREMENT_BYTES
                * SECONDS_PER_MONTH
                / GB,
                1,
            ),
            "s3_gb_per_month": round(archive_bytes_per_second * SECONDS_PER_MONTH / GB, 1),
            "s3_objects_per_month": round(objects * SECONDS_PER_MONTH),
            "gb_per_day": round(archive_bytes_per_second * SECONDS_PER_DAY / GB, 2),
            "user_hash_buckets": buckets,
            # Dynamic partitioning bills the records it partitions, before compression.
            "dynamic_partitioning_gb_per_month": round(bytes_per_second * SECONDS_PER_MONTH / GB, 1) if buckets else 0,
            "dynamic_partitioning_objects_per_month": round(objects * SECONDS_PER_MONTH) if buckets else 0,
            "active_partitions": buckets * OPEN_HOURS_PER_BUCKET,
            "partitioner_invocations_per_second": round(partitioner_invocations, 2),
            "partitioner_events_per_invocation": round(partitioner_events),
            "partitioner_duration_seconds": round(partitioner_duration, 3),
            "partitioner_gb_seconds_per_second": round(
                partitioner_invocations * partitioner_duration * d.partitioner_memory_mib / 1024, 2
            ),
            "partitioner_concurrency": round(partitioner_invocations * partitioner_duration, 1),
        },
        "training": {
            "window_events": round(window_events),
            "time_only_read_hours_on_one_instance": round(time_only_read_seconds / 3600, 1),
            "time_only_sampling_instances": math.ceil(time_only_read_seconds / d.sampling_job_max_seconds),
            "user_hash_buckets_read": buckets_read,
            "events_read": round(events_read),
            "read_hours_on_one_instance": round(read_seconds / 3600, 1),
            "sampling_instances": sampling_instances,
            "hours_per_instance": round(read_seconds / sampling_instances / 3600, 2),
            "objects_listed": round(objects * SECONDS_PER_DAY * d.training_days),
        },
    }


def monthly_cost(n: Mapping[str, Mapping[str, float]], eps: float, inputs: Inputs, d: Deployment) -> dict[str, float]:
    """USD a month per line, the cheaper capacity mode of each service."""
    stream_bytes = eps * inputs.event_bytes
    records = n["stream"]["records_per_second"]
    stream = pricing.monthly_cost(
        Load(records, stream_bytes, records * put_payload_units(int(inputs.aggregate_record_bytes))),
        inputs.aggregate_record_bytes,
        d.headroom,
    )
    shards = n["stream"]["shards"]
    provisioned_stream = stream["provisioned_usd_per_month"] + (shards - stream["shards"]) * HOURS_PER_MONTH * (
        pricing.PROVISIONED_SHARD_HOUR_USD
    )
    scorer = n["scorer"]
    lambda_usd = (
        scorer["invocations_per_second"] * SECONDS_PER_MONTH / 1e6 * pricing.LAMBDA_MILLION_REQUESTS_USD
        + scorer["gb_seconds_per_second"] * SECONDS_PER_MONTH * pricing.LAMBDA_ARM_GB_SECOND_USD
    )
    state = n["state"]
    on_demand_state = (
        state["read_units_per_second"] * SECONDS_PER_MONTH / 1e6 * pricing.DYNAMODB_MILLION_READ_REQUEST_UNITS_USD
        + (state["write_units_per_second"] + state["anomaly_write_units_per_second"])
        * SECONDS_PER_MONTH
        / 1e6
        * pricing.DYNAMODB_MILLION_WRITE_REQUEST_UNITS_USD
    )
    provisioned_state = HOURS_PER_MONTH * (
        state["provisioned_rcu"] * pricing.DYNAMODB_RCU_HOUR_USD
        + state["provisioned_wcu"] * pricing.DYNAMODB_WCU_HOUR_USD
    )
    endpoint = n["endpoint"]
    processed_gb = eps * (inputs.request_bytes_per_row + inputs.response_bytes_per_row) * SECONDS_PER_MONTH / GB
    serverless = (
        endpoint["serverless_gb_seconds_per_second"] * SECONDS_PER_MONTH * pricing.SAGEMAKER_SERVERLESS_GB_SECOND_USD
        + processed_gb * pricing.SAGEMAKER_GB_PROCESSED_USD
    )
    instances = endpoint["instances"] * HOURS_PER_MONTH * pricing.SAGEMAKER_INSTANCE_HOUR_USD[d.endpoint_instance_type]
    archive = n["archive"]
    month_gb = archive["s3_gb_per_month"]
    standard_months = d.archive_infrequent_access_days / 30
    ia_months = (d.archive_expiration_days - d.archive_infrequent_access_days) / 30
    athena_tb = archive["gb_per_day"] * d.athena_queries_per_day * 30 / 1000
    cloudwatch = (
        scorer["invocations_per_second"] * SECONDS_PER_MONTH * inputs.log_bytes_per_invocation / GB
    ) * pricing.CLOUDWATCH_LOGS_GB_USD + (
        d.cloudwatch_metrics * pricing.CLOUDWATCH_METRIC_MONTH_USD
        + d.cloudwatch_alarms * pricing.CLOUDWATCH_ALARM_MONTH_USD
        + d.cloudwatch_dashboards * pricing.CLOUDWATCH_DASHBOARD_MONTH_USD
    )
    return {
        "kinesis": round(min(provisioned_stream, stream["on_demand_usd_per_month"]), 2),
        "lambda": round(lambda_usd, 2),
        "dynamodb": round(
            min(on_demand_state, provisioned_state) + state["stored_gb"] * pricing.DYNAMODB_GB_MONTH_USD, 2
        ),
        "sagemaker": round(min(serverless, instances), 2),
        "firehose": round(archive["firehose_billed_gb_per_month"] * pricing.FIREHOSE_GB_USD, 2),
        "firehose_dynamic_partitioning": round(
            archive["dynamic_partitioning_gb_per_month"] * pricing.FIREHOSE_DYNAMIC_PARTITIONING_GB_USD
            + archive["dynamic_partitioning_objects_per_month"]
            / 1000
            * pricing.FIREHOSE_DYNAMIC_PARTITIONING_THOUSAND_OBJECTS_USD,
            2,
        ),
        "archive_partitioner": round(
            archive["partitioner_invocations_per_second"]
            * SECONDS_PER_MONTH
            / 1e6
            * pricing.LAMBDA_MILLION_REQUESTS_USD
            + archive["partitioner_gb_seconds_per_second"] * SECONDS_PER_MONTH * pricing.LAMBDA_ARM_GB_SECOND_USD,
            2,
        ),
        # Steady state after a year: a month's growth in STANDARD, the rest in STANDARD_IA until expiry.
        "s3": round(
            month_gb * standard_months * pricing.S3_STANDARD_GB_MONTH_USD
            + month_gb * ia_months * pricing.S3_STANDARD_IA_GB_MONTH_USD
            + archive["s3_objects_per_month"] / 1000 * pricing.S3_THOUSAND_PUTS_USD,
            2,
        ),
        "athena": round(athena_tb * pricing.ATHENA_TB_SCANNED_USD, 2),
        "cloudwatch": round(cloudwatch, 2),
    }


def _quota_usage(n: Mapping[str, Mapping[str, float]], eps: float, inputs: Inputs) -> dict[str, float]:
    return {
        "kinesis_on_demand_write": eps * inputs.event_bytes,
        "kinesis_shards": n["stream"]["shards"],
        # The Region's executions: the scorer's, and the archive partitioner's while Firehose invokes it.
        "lambda_concurrency": n["scorer"]["concurrency"] + math.ceil(n["archive"]["partitioner_concurrency"]),
        "dynamodb_table_write": n["state"]["write_units_per_second"] + n["state"]["anomaly_write_units_per_second"],
        "dynamodb_table_read": n["state"]["read_units_per_second"],
        "dynamodb_partition_write": n["hot_key"]["ip_item_write_units_per_second"],
        "dynamodb_partition_read": n["hot_key"]["ip_item_read_units_per_second"],
        "sagemaker_serverless_concurrency": n["endpoint"]["serverless_concurrency"],
        "firehose_active_partitions": n["archive"]["active_partitions"],
        "sagemaker_processing_instances": n["training"]["sampling_instances"],
    }


def reached_at(used_at: Callable[[float], float], limit: float, high: float) -> float | None:
    """The lowest load (events/s, to 0.1 %) at which ``used_at(load)`` exceeds ``limit``, searching up to
    ``high``; None if it never does. ``used_at`` must not decrease with the load."""
    if used_at(high) <= limit:
        return None
    low = 0.0
    while high - low > max(1e-3 * high, 0.5):
        middle = (low + high) / 2
        if used_at(middle) > limit:
            high = middle
        else:
            low = middle
    return high


def plan(
    events_per_second: float,
    users: float | None = None,
    event_bytes: float | None = None,
    nat_users: float = 10_000,
    inputs: Inputs | None = None,
    deployment: Deployment | None = None,
    quotas: tuple[Quota, ...] = QUOTAS,
) -> Plan:
    """The plan at ``events_per_second``. ``users`` defaults to ten active users per event/s (each sends
    an event every ten seconds); ``event_bytes`` to the measured mean."""
    inputs = inputs or measured()
    deployment = deployment or Deployment()
    users_per_event_per_second = None if users is None else users / events_per_second
    size = inputs.event_bytes if event_bytes is None else event_bytes

    def users_at(eps: float) -> float:
        return 10 * eps if users_per_event_per_second is None else users_per_event_per_second * eps

    def needs_at(eps: float) -> dict[str, dict[str, float]]:
        return needs(eps, users_at(eps), size, nat_users, inputs, deployment)

    result = Plan(events_per_second, users_at(events_per_second), size, nat_users)
    result.needs = needs_at(events_per_second)
    result.cost = monthly_cost(result.needs, events_per_second, _with_event_bytes(inputs, size), deployment)
    used = _quota_usage(result.needs, events_per_second, _with_event_bytes(inputs, size))
    for quota in quotas:
        exceeded = used[quota.key] > quota.value

        def used_at(eps: float, key: str = quota.key) -> float:
            return _quota_usage(needs_at(eps), eps, _with_event_bytes(inputs, size))[key]

        high = events_per_second if exceeded else SEARCH_CEILING_EVENTS_PER_SECOND
        result.usage.append(Usage(quota, used[quota.key], exceeded, reached_at(used_at, quota.value, high)))
    return result


def _with_event_bytes(inputs: Inputs, event_bytes: float) -> Inputs:
    return inputs if event_bytes == inputs.event_bytes else replace(inputs, event_bytes=event_bytes)


def render(result: Plan) -> str:
    """The plan as text: needs per service, the monthly cost per line, and the first limit."""
    lines = [
        f"Vedette capacity plan: {result.events_per_second:,.0f} events/s of {result.event_bytes:,.0f} B, "
        f"{result.users:,.0f} active users, {result.nat_users:,.0f} of them behind one address",
        "",
    ]
    for service, figures in result.needs.items():
        lines.append(f"  {service}: " + ", ".join(f"{name} {value:,}" for name, value in figures.items()))
    lines += ["", "  per month (USD, us-east-1 list prices, the cheaper capacity mode of each):"]
    width = max(len(name) for name in result.cost)
    lines += [f"    {name:<{width}} {usd:>14,.2f}" for name, usd in result.cost.items()]
    lines += [f"    {'total':<{width}} {result.monthly_usd:>14,.2f}", ""]
    first, ahead = result.first_limit, result.next_limit
    if first is not None:
        lines.append(
            f"  first limit hit: {first.quota.name}, {first.quota.value:,.0f} {first.quota.unit} (reached at "
            f"{first.reached_at_events_per_second:,.0f} events/s; this load needs {first.used:,.0f})"
        )
        lines.append(f"    {first.quota.quote}\n    source: {first.quota.source}\n    change: {first.quota.change}")
        others = [usage.quota.name for usage in result.usage if usage.exceeded and usage is not first]
        if others:
            lines.append(f"  also exceeded: {', '.join(others)}")
    elif ahead is not None:
        lines.append(
            f"  no quota hit; the first a growing load reaches: {ahead.quota.name}, {ahead.quota.value:,.0f} "
            f"{ahead.quota.unit}, at {ahead.reached_at_events_per_second:,.0f} events/s ({ahead.quota.source})"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-second", type=float, required=True)
    parser.add_argument("--users", type=float, help="active users (default: 10 per event/s)")
    parser.add_argument("--event-bytes", type=float, help="mean event size (default: the measured one)")
    parser.add_argument("--nat-users", type=float, default=10_000, help="users behind one shared address")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    if args.events_per_second <= 0 or (args.users is not None and args.users <= 0):
        parser.error("--events-per-second and --users must be positive")
    result = plan(args.events_per_second, args.users, args.event_bytes, args.nat_users)
    sys.stdout.write(json.dumps(result.to_json()) + "\n" if args.json else render(result))
    return 0


def table(scales: tuple[int, ...] = SCALES, **options: Any) -> list[Plan]:
    """The plan at each of ``scales`` (docs/capacity.md's table)."""
    return [plan(scale, **options) for scale in scales]


if __name__ == "__main__":
    sys.exit(main())
