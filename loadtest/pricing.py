"""Kinesis Data Streams capacity and cost from a measured load: the one place prices live.

Prices are the published on-demand list prices for us-east-1 (November 2026); other regions
differ. Check https://aws.amazon.com/kinesis/data-streams/pricing/ before relying on them.
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
