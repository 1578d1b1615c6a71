"""The capacity plan: its table recomputed from its inputs, and the first limit picked where a quota is crossed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from loadtest import pricing
from loadtest.inputs import SOURCES, measured
from loadtest.plan import (
    PLANNED_USER_HASH_BUCKETS,
    PROCESSOR_BUFFER_BYTES,
    SCALES,
    Deployment,
    distinct_share,
    plan,
    table,
    time_only_read_fits_up_to,
)
from loadtest.pricing import SECONDS_PER_MONTH
from loadtest.quotas import (
    DYNAMODB_TABLE_READ,
    DYNAMODB_TABLE_WRITE,
    FIREHOSE_ACTIVE_PARTITIONS,
    LAMBDA_CONCURRENCY,
    QUOTAS,
    SAGEMAKER_PROCESSING_INSTANCES,
)
from model.sampling import DEFAULT_MAX_EVENTS, READ_MARGIN
from stack.archive import PARTITIONER_MEMORY_MIB
from stack.retraining import JOB_MAX_SECONDS
from stack.settings import DYNAMIC_PARTITIONING_BUFFER_MIB, MAX_SAMPLING_INSTANCES, StackSettings

REPOSITORY = Path(__file__).resolve().parent.parent


def test_every_input_says_where_it_comes_from():
    # GIVEN the measured inputs
    inputs = measured()

    # THEN each has a source, and each quota a documented value with its page
    fields = set(inputs.__dataclass_fields__) - {"sources"}
    assert fields <= set(SOURCES), sorted(fields - set(SOURCES))
    for quota in QUOTAS:
        assert quota.value > 0, quota.key
        assert quota.source.startswith("https://docs.aws.amazon.com/"), quota.key


def test_deployment_defaults_are_the_stacks():
    # GIVEN the stack's defaults, WHEN the plan assumes a deployment, THEN it is the default one
    stack, deployment = StackSettings(), Deployment()
    assert deployment.scorer_memory_mib == stack.scorer_memory_mib
    assert deployment.endpoint_memory_mib == stack.endpoint_memory_mib
    assert deployment.batching_window_seconds == stack.batching_window_seconds
    assert deployment.parallelization_factor == stack.parallelization_factor
    assert deployment.archive_infrequent_access_days == stack.archive_infrequent_access_days
    assert deployment.archive_expiration_days == stack.archive_expiration_days
    assert deployment.archive_user_hash_buckets is None  # the plan's choice; the stack's default is time only
    assert deployment.partitioned_buffer_bytes == DYNAMIC_PARTITIONING_BUFFER_MIB[0] * 2**20
    assert deployment.partitioner_memory_mib == PARTITIONER_MEMORY_MIB
    assert deployment.training_days == stack.retrain_training_days
    assert deployment.sampling_job_max_seconds == JOB_MAX_SECONDS
    assert deployment.max_sampling_instances == MAX_SAMPLING_INSTANCES == SAGEMAKER_PROCESSING_INSTANCES.value


@pytest.mark.parametrize("events_per_second", SCALES)
def test_table_rows_recompute_from_the_inputs(events_per_second):
    # GIVEN the measured inputs
    inputs = measured()

    # WHEN the plan is made at one of the table's scales
    row = plan(events_per_second)
    needs = row.needs

    # THEN the stream carries the events' bytes in the shards it names, with its headroom
    bytes_per_second = events_per_second * inputs.event_bytes
    assert needs["stream"]["mib_per_second"] == pytest.approx(bytes_per_second / 2**20, abs=1e-3)
    usable = pricing.SHARD_WRITE_BYTES_PER_SECOND * (1 - pricing.DEFAULT_HEADROOM)
    assert needs["stream"]["shards"] >= math.ceil(bytes_per_second / usable)
    # one scorer per shard, once a second, together scoring every event
    assert needs["scorer"]["concurrency"] == needs["stream"]["shards"]
    assert needs["scorer"]["invocations_per_second"] * needs["scorer"]["events_per_invocation"] == pytest.approx(
        events_per_second, rel=1e-3
    )
    # every event touches one item of each state kind, less the repeats within a batch
    share = distinct_share(events_per_second / row.users)
    assert needs["state"]["items_written_per_second"] == pytest.approx(
        events_per_second * share * len(inputs.state_item_bytes), rel=1e-3
    )
    write_units = sum(events_per_second * share * math.ceil(size / 1024) for size in inputs.state_item_bytes.values())
    # plus an announcement per event that brings a shard to an address new to it, and the shared
    # address's copies in its hot items (docs/capacity.md, hot keys)
    state = needs["state"]
    assert state["address_announcement_write_units_per_second"] == pytest.approx(
        events_per_second * inputs.ip_announcements_per_event, abs=0.5
    )
    write_units += state["address_announcement_write_units_per_second"] + state["shared_address_write_units_per_second"]
    assert state["write_units_per_second"] == pytest.approx(write_units, rel=1e-3)
    # and each address's home is read eventually consistent (half a unit) beside its part
    assert state["address_home_read_units_per_second"] == pytest.approx(events_per_second * share / 2, abs=0.5)
    # and the month's cost is the sum of its lines, the state's the cheaper of its two modes
    assert row.monthly_usd == pytest.approx(sum(row.cost.values()), abs=0.01)
    units = write_units + needs["state"]["anomaly_write_units_per_second"]
    on_demand = (needs["state"]["read_units_per_second"] * 0.125 + units * 0.625) * SECONDS_PER_MONTH / 1e6 + needs[
        "state"
    ]["stored_gb"] * pricing.DYNAMODB_GB_MONTH_USD
    assert row.cost["dynamodb"] <= on_demand + 0.01


def test_first_limit_is_the_quota_crossed_just_above_its_threshold():
    # GIVEN the load at which the state table's read quota is reached (each address's home is read
    # beside its part: reads per event outgrow writes, docs/capacity.md)
    threshold = plan(SCALES[0]).next_limit
    assert threshold is not None
    assert threshold.quota is DYNAMODB_TABLE_READ
    load = threshold.reached_at_events_per_second
    assert load is not None

    # WHEN the plan is made just below and just above it
    below, above = plan(load * 0.99), plan(load * 1.01)

    # THEN below nothing is exceeded, above it is the first limit, with the units the load needs
    assert below.first_limit is None
    assert above.first_limit is not None
    assert above.first_limit.quota is DYNAMODB_TABLE_READ
    assert below.needs["state"]["read_units_per_second"] <= DYNAMODB_TABLE_READ.value
    assert above.needs["state"]["read_units_per_second"] > DYNAMODB_TABLE_READ.value


def test_first_limit_is_the_one_reached_at_the_lowest_load():
    # GIVEN a load above the state table's read and write quotas and Lambda's concurrency quota
    load = 2_500_000
    result = plan(load)
    exceeded = {usage.quota.key: usage for usage in result.usage if usage.exceeded}
    assert {LAMBDA_CONCURRENCY.key, DYNAMODB_TABLE_WRITE.key, DYNAMODB_TABLE_READ.key} <= set(exceeded)

    # WHEN the table's quotas are raised past that load (as after a quota increase)
    raised = tuple(
        replace(quota, value=1e12) if quota in (DYNAMODB_TABLE_WRITE, DYNAMODB_TABLE_READ) else quota
        for quota in QUOTAS
    )
    after_increase = plan(load, quotas=raised)

    # THEN the first limit is the exceeded quota with the lowest threshold: the table's reads, then
    # its writes, then Lambda's concurrency
    def threshold(key: str) -> float:
        return exceeded[key].reached_at_events_per_second or 0.0

    assert result.first_limit is not None
    assert result.first_limit.quota is DYNAMODB_TABLE_READ
    assert (
        threshold(DYNAMODB_TABLE_READ.key)
        < threshold(DYNAMODB_TABLE_WRITE.key)
        < threshold(LAMBDA_CONCURRENCY.key)
        < load
    )
    assert after_increase.first_limit is not None
    assert after_increase.first_limit.quota is LAMBDA_CONCURRENCY
    # (the scorer's executions, one per shard, and the archive partitioner's while Firehose invokes it)
    partitioner = math.ceil(result.needs["archive"]["partitioner_concurrency"])
    assert partitioner > 0
    assert after_increase.first_limit.used == result.needs["scorer"]["concurrency"] + partitioner
    assert after_increase.first_limit.used > LAMBDA_CONCURRENCY.value


@pytest.mark.parametrize("events_per_second", SCALES)
def test_training_reads_the_window_or_only_the_buckets_the_sample_needs(events_per_second):
    # GIVEN the measured read rate of one sampling worker, and the job's limits
    inputs, deployment = measured(), Deployment()
    window_events = events_per_second * 86_400 * deployment.training_days
    time_only_seconds = window_events * inputs.archive_read_seconds_per_event

    # WHEN the plan is made at one of the table's scales
    training = plan(events_per_second).needs["training"]
    buckets = plan(events_per_second).needs["archive"]["user_hash_buckets"]

    # THEN the time-only read is the window at that rate, over as many instances as 4-hour runs need
    assert training["time_only_read_hours_on_one_instance"] == pytest.approx(time_only_seconds / 3600, abs=0.05)
    assert training["time_only_sampling_instances"] == math.ceil(time_only_seconds / JOB_MAX_SECONDS)
    fits = training["time_only_sampling_instances"] <= SAGEMAKER_PROCESSING_INSTANCES.value
    if fits:
        # while that fits, the archive stays time only and the job reads all of it
        assert buckets == 0
        assert training["events_read"] == round(window_events)
    else:
        # past it, the archive is laid out by user hash and the job reads the lowest buckets that hold
        # the sample with its margin: at least one bucket of the window, not the window
        assert buckets == PLANNED_USER_HASH_BUCKETS
        bucket_events = window_events / buckets
        assert training["user_hash_buckets_read"] == max(1, math.ceil(DEFAULT_MAX_EVENTS * READ_MARGIN / bucket_events))
        assert training["events_read"] == pytest.approx(training["user_hash_buckets_read"] * bucket_events, rel=1e-6)
        assert training["events_read"] >= DEFAULT_MAX_EVENTS * READ_MARGIN
    # AND the job fits its quota and its longest run either way
    assert training["sampling_instances"] <= SAGEMAKER_PROCESSING_INSTANCES.value
    assert training["hours_per_instance"] * 3600 <= JOB_MAX_SECONDS


def test_the_layout_is_turned_on_where_the_time_only_read_stops_fitting():
    # GIVEN the load up to which the sampling job reads the time-only window in time
    limit = time_only_read_fits_up_to(measured(), Deployment())
    assert SCALES[1] < limit < SCALES[2]

    # WHEN the plan is made just below and just above it
    below, above = plan(limit * 0.99), plan(limit * 1.01)

    # THEN below the archive is time only and its read takes nearly the most instances; above, by user
    # hash, and the read drops to the buckets the sample needs
    assert below.needs["archive"]["user_hash_buckets"] == 0
    assert below.needs["training"]["sampling_instances"] >= 0.99 * SAGEMAKER_PROCESSING_INSTANCES.value
    assert above.needs["archive"]["user_hash_buckets"] == PLANNED_USER_HASH_BUCKETS
    assert above.needs["training"]["sampling_instances"] == 1
    assert above.needs["training"]["time_only_sampling_instances"] > SAGEMAKER_PROCESSING_INSTANCES.value
    # AND only above does the plan bill dynamic partitioning and the partitioner
    assert below.cost["firehose_dynamic_partitioning"] == below.cost["archive_partitioner"] == 0
    assert above.cost["firehose_dynamic_partitioning"] > 0
    assert above.cost["archive_partitioner"] > 0


def test_the_partitioned_archive_is_billed_from_its_bytes_objects_and_invocations():
    # GIVEN the 1,000,000 events/s row, laid out by user hash
    inputs, events_per_second = measured(), 1_000_000
    row = plan(events_per_second)
    archive = row.needs["archive"]
    assert archive["user_hash_buckets"] == PLANNED_USER_HASH_BUCKETS
    stream_bytes = events_per_second * inputs.event_bytes

    # THEN dynamic partitioning bills the records' bytes and the objects delivered, at the page's prices
    assert archive["dynamic_partitioning_gb_per_month"] == pytest.approx(
        stream_bytes * SECONDS_PER_MONTH / 1e9, rel=1e-4
    )
    assert archive["dynamic_partitioning_objects_per_month"] == archive["s3_objects_per_month"]
    assert row.cost["firehose_dynamic_partitioning"] == pytest.approx(
        archive["dynamic_partitioning_gb_per_month"] * pricing.FIREHOSE_DYNAMIC_PARTITIONING_GB_USD
        + archive["s3_objects_per_month"] / 1000 * pricing.FIREHOSE_DYNAMIC_PARTITIONING_THOUSAND_OBJECTS_USD,
        abs=0.01,
    )
    # AND each bucket's 64 MiB buffer fills before its interval: an object per 64 MiB of records
    assert archive["s3_objects_per_month"] == pytest.approx(stream_bytes / 2**26 * SECONDS_PER_MONTH, rel=1e-3)
    # AND the partitioner runs once per processor buffer, for the measured CPU per event at its memory
    assert archive["partitioner_invocations_per_second"] == pytest.approx(
        stream_bytes / PROCESSOR_BUFFER_BYTES, rel=1e-3
    )
    vcpu = PARTITIONER_MEMORY_MIB / 1769
    assert archive["partitioner_duration_seconds"] == pytest.approx(
        archive["partitioner_events_per_invocation"] * inputs.partitioner_cpu_seconds_per_event / vcpu, rel=1e-2
    )
    # AND its open hours stay within Firehose's default active partitions
    assert archive["active_partitions"] == 2 * PLANNED_USER_HASH_BUCKETS <= FIREHOSE_ACTIVE_PARTITIONS.value


def test_more_buckets_read_less_but_exceed_the_default_active_partitions():
    # GIVEN the 1,000,000 events/s row with the largest bucket count the layout allows
    default, most = plan(1_000_000), plan(1_000_000, deployment=Deployment(archive_user_hash_buckets=2048))

    # THEN the sampling job reads a 16th of what 128 buckets make it read
    assert most.needs["training"]["events_read"] * 16 == pytest.approx(default.needs["training"]["events_read"])
    assert most.needs["training"]["sampling_instances"] < default.needs["training"]["sampling_instances"]
    # AND the delivery stream needs more active partitions than the default quota (5,000 on request)
    partitions = {usage.quota.key: usage for usage in most.usage}[FIREHOSE_ACTIVE_PARTITIONS.key]
    assert partitions.exceeded
    assert partitions.used == 4096


def test_the_command_prints_the_plan(tmp_path):
    # WHEN the plan is asked for from the command line
    command = [sys.executable, "-m", "loadtest.plan", "--events-per-second", "20000", "--users", "50000"]
    text = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, check=True).stdout
    figures = json.loads(
        subprocess.run([*command, "--json"], cwd=REPOSITORY, capture_output=True, text=True, check=True).stdout
    )

    # THEN it names the load, the cost and the first limit with its documented value and source
    assert "20,000 events/s" in text
    assert "first limit hit" in text
    assert DYNAMODB_TABLE_READ.source in text
    assert figures["users"] == 50_000
    assert figures["first_limit"]["quota"] == DYNAMODB_TABLE_READ.name
    assert figures["first_limit"]["value"] == DYNAMODB_TABLE_READ.value
    assert figures["total_usd_per_month"] == pytest.approx(sum(figures["cost_usd_per_month"].values()), abs=0.01)
    assert [row.events_per_second for row in table()] == list(SCALES)
