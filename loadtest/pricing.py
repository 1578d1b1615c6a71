"""Kinesis Data Streams capacity and cost from a measured load: the one place prices live.

Prices are the published on-demand list prices for us-east-1 (November 2026); other regions
differ. Each group names the pricing page it comes from; check it before relying on a figure. The
stream's prices are used by the load test and by the whole-pipeline plan (``loadtest.plan``); the
others by the plan only, and match the cost table of docs/deploy.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vedette.limits import (
    KIB,
    MIB,
    PUT_PAYLOAD_UNIT_BYTES,
    SHARD_WRITE_BYTES_PER_SECOND,
    SHARD_WRITE_RECORDS_PER_SECOND,
)

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

PROVISIONED_SHARD_HOUR_USD = 0.015
PROVISIONED_MILLION_PUT_PAYLOAD_UNITS_USD = 0.014
ON_DEMAND_STREAM_HOUR_USD = 0.04
ON_DEMAND_GB_IN_USD = 0.08  # each record rounded up to 1 KiB
ON_DEMAND_GB_OUT_USD = 0.04  # per consumer reading everything once

# https://aws.amazon.com/lambda/pricing/ (arm64, first 7.5 billion GB-seconds a month).
LAMBDA_MILLION_REQUESTS_USD = 0.20
LAMBDA_ARM_GB_SECOND_USD = 0.0000133334

# https://aws.amazon.com/dynamodb/pricing/ (standard table class; on-demand after the November 2024
# reduction). A write unit is 1 KB; a read unit is one strongly consistent read of up to 4 KB.
DYNAMODB_MILLION_WRITE_REQUEST_UNITS_USD = 0.625
DYNAMODB_MILLION_READ_REQUEST_UNITS_USD = 0.125
DYNAMODB_WCU_HOUR_USD = 0.00065
DYNAMODB_RCU_HOUR_USD = 0.00013
DYNAMODB_GB_MONTH_USD = 0.25

# https://aws.amazon.com/sagemaker/pricing/ (serverless inference: per second at the endpoint's
# memory, i.e. per GB-second; data processed in and out; real-time instances per hour).
SAGEMAKER_SERVERLESS_GB_SECOND_USD = 0.00002  # $0.00004 a second at 2 GB
SAGEMAKER_GB_PROCESSED_USD = 0.016
SAGEMAKER_INSTANCE_HOUR_USD = {"ml.c5.large": 0.102, "ml.c5.xlarge": 0.204, "ml.c5.4xlarge": 0.816}
SAGEMAKER_INSTANCE_VCPUS = {"ml.c5.large": 2, "ml.c5.xlarge": 4, "ml.c5.4xlarge": 16}

# https://aws.amazon.com/firehose/pricing/ (ingestion from a Kinesis stream, first 500 TB a month;
# each record rounded up to a multiple of 5 KB).
FIREHOSE_GB_USD = 0.029
FIREHOSE_RECORD_INCREMENT_BYTES = 5 * KIB
# The same page, dynamic partitioning for S3 delivery (archiveUserHashBuckets): per GB processed
# (the records partitioned, before compression), per 1,000 objects delivered, and per JQ processing
# hour, which is not billed here (the partition key comes from the Lambda processor, not JQ). The
# stored copy of the page did not show its table: these are the us-east-1 figures as a public cost
# table restates them ($0.020 / GB, $0.005 / 1,000 objects; $0.07 / JQ hour); check the page.
FIREHOSE_DYNAMIC_PARTITIONING_GB_USD = 0.020
FIREHOSE_DYNAMIC_PARTITIONING_THOUSAND_OBJECTS_USD = 0.005

# https://aws.amazon.com/s3/pricing/ (S3 Standard first 50 TB, Standard-IA, PUT requests).
S3_STANDARD_GB_MONTH_USD = 0.023
S3_STANDARD_IA_GB_MONTH_USD = 0.0125
S3_THOUSAND_PUTS_USD = 0.005

# https://aws.amazon.com/athena/pricing/ (SQL queries, per TB scanned, 10 MB minimum per query).
ATHENA_TB_SCANNED_USD = 5.0

# https://aws.amazon.com/cloudwatch/pricing/ (logs ingested, custom metrics, standard alarms, dashboards).
CLOUDWATCH_LOGS_GB_USD = 0.50
CLOUDWATCH_METRIC_MONTH_USD = 0.30
CLOUDWATCH_ALARM_MONTH_USD = 0.10
CLOUDWATCH_DASHBOARD_MONTH_USD = 3.0

DEFAULT_HEADROOM = 0.25  # keep a quarter of each shard free for bursts and uneven keys


@dataclass(frozen=True)
class Load:
    """A sustained load as Kinesis sees it (aggregated records, not user events)."""

    records_per_second: float
    bytes_per_second: float
    payload_units_per_second: float
    consumers: int = 2  # the scorer and Firehose each read the stream once


def shards_needed(load: Load, headroom: float = DEFAULT_HEADROOM) -> int:
    """Shards that carry ``load`` with ``headroom`` left under both per-shard write limits."""
    usable = 1.0 - headroom
    by_bytes = load.bytes_per_second / (SHARD_WRITE_BYTES_PER_SECOND * usable)
    by_records = load.records_per_second / (SHARD_WRITE_RECORDS_PER_SECOND * usable)
    return max(1, math.ceil(max(by_bytes, by_records)))


def monthly_cost(load: Load, mean_record_bytes: float, headroom: float = DEFAULT_HEADROOM) -> dict[str, float]:
    """Monthly USD of the stream in both capacity modes (ingest and reads; no extended retention)."""
    shards = shards_needed(load, headroom)
    provisioned = (
        shards * HOURS_PER_MONTH * PROVISIONED_SHARD_HOUR_USD
        + load.payload_units_per_second * SECONDS_PER_MONTH / 1e6 * PROVISIONED_MILLION_PUT_PAYLOAD_UNITS_USD
    )
    billed_record_bytes = math.ceil(mean_record_bytes / KIB) * KIB if mean_record_bytes else 0
    gb_in = load.records_per_second * billed_record_bytes * SECONDS_PER_MONTH / 2**30
    gb_out = load.bytes_per_second * SECONDS_PER_MONTH / 2**30 * load.consumers
    on_demand = (
        HOURS_PER_MONTH * ON_DEMAND_STREAM_HOUR_USD + gb_in * ON_DEMAND_GB_IN_USD + gb_out * ON_DEMAND_GB_OUT_USD
    )
    return {
        "shards": shards,
        "provisioned_usd_per_month": round(provisioned, 2),
        "on_demand_usd_per_month": round(on_demand, 2),
        "headroom": headroom,
        "mib_per_second": round(load.bytes_per_second / MIB, 3),
        "put_payload_unit_bytes": PUT_PAYLOAD_UNIT_BYTES,
    }
