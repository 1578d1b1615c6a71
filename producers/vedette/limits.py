"""Kinesis Data Streams service limits, named once.

Numbers come from the Kinesis and KPL documentation; the producer's defaults derive from them.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

# PutRecords: per call and per record (data blob plus partition key).
MAX_RECORDS_PER_PUT = 500
# Newer documentation allows 10 MiB per call; 5 MiB is accepted everywhere, emulators included.
MAX_BYTES_PER_PUT = 5 * MIB
MAX_RECORD_BYTES = 1 * MIB
MAX_PARTITION_KEY_LENGTH = 256

# Per-shard write throughput; exceeding either throttles with ProvisionedThroughputExceeded.
SHARD_WRITE_BYTES_PER_SECOND = 1 * MIB
SHARD_WRITE_RECORDS_PER_SECOND = 1000

# Provisioned streams bill PUTs in 25 KiB payload units per record.
PUT_PAYLOAD_UNIT_BYTES = 25 * KIB

# The hash key space: MD5(partition key) read as an unsigned 128-bit integer.
MAX_HASH_KEY = 2**128 - 1

# KPL defaults. 51,200 bytes is exactly two PUT payload units, so full aggregates waste nothing.
KPL_AGGREGATION_MAX_BYTES = 51_200
KPL_RECORD_MAX_BUFFERED_SECONDS = 0.1
KPL_RECORD_TTL_SECONDS = 30.0


def put_payload_units(record_bytes: int) -> int:
    """PUT payload units a record of ``record_bytes`` bytes is billed for (at least one)."""
    return max(1, -(-record_bytes // PUT_PAYLOAD_UNIT_BYTES))
