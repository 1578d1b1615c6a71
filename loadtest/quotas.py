"""The service quotas the capacity plan checks, each with its documented default and where it is stated.

Defaults for us-east-1 as the pages read in December 2026; most are adjustable in Service Quotas.
A quota's ``change`` is what the plan proposes once a load exceeds it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quota:
    key: str
    name: str
    value: float
    unit: str
    source: str  # the documentation page
    quote: str  # what the page says, shortened
    change: str  # what to change when a load exceeds it


KINESIS_SHARDS = Quota(
    "kinesis_shards",
    "Kinesis provisioned shards per account",
    20_000,
    "shards",
    "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html",
    "The default shard quota is 20,000 shards per AWS account for US East (N. Virginia), US West (Oregon) "
    "and Europe (Ireland); 1,000 or 6,000 in other Regions.",
    "request a shard quota increase, or split the traffic across Regions/accounts",
)
KINESIS_ON_DEMAND_WRITE = Quota(
    "kinesis_on_demand_write",
    "Kinesis on-demand stream write throughput",
    10 * 1000**3,
    "bytes/s",
    "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html",
    "On-demand streams start at 4 MB/s of write and scale up to 10 GB/s of write in us-east-1, "
    "us-west-2 and eu-west-1 (200 MB/s elsewhere).",
    "switch the stream to provisioned mode (streamMode: PROVISIONED) or split it",
)
LAMBDA_CONCURRENCY = Quota(
    "lambda_concurrency",
    "Lambda concurrent executions per Region",
    1_000,
    "concurrent executions",
    "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
    "Concurrent executions: default quota 1,000, can be increased up to tens of thousands.",
    "request a concurrency increase (the scorer needs one execution per shard), or give the scorer "
    "1,769 MB (one vCPU) so fewer shards keep up",
)
DYNAMODB_TABLE_WRITE = Quota(
    "dynamodb_table_write",
    "DynamoDB write request units per table (on demand)",
    40_000,
    "write units/s",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    "Per table: 40,000 read request units and 40,000 write request units (on-demand); "
    "40,000 RCU and 40,000 WCU (provisioned), 80,000 each per account.",
    "request a table throughput increase; cut write units per event (smaller state items, "
    "fewer items per event); see docs/capacity.md",
)
DYNAMODB_TABLE_READ = Quota(
    "dynamodb_table_read",
    "DynamoDB read request units per table (on demand)",
    40_000,
    "read units/s",
    DYNAMODB_TABLE_WRITE.source,
    DYNAMODB_TABLE_WRITE.quote,
    "request a table throughput increase; read user and IP state eventually consistent (half the units)",
)
DYNAMODB_PARTITION_WRITE = Quota(
    "dynamodb_partition_write",
    "DynamoDB write units per partition (the shared address's hottest item)",
    1_000,
    "write units/s",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html",
    "Each individual partition is limited to 1,000 write units per second and 3,000 read units per second.",
    "more hot items per address (functions/scorer/ip_slices.py HOT_ADDRESS_ITEMS; docs/capacity.md, hot keys)",
)
DYNAMODB_PARTITION_READ = Quota(
    "dynamodb_partition_read",
    "DynamoDB read units per partition (the shared address's hottest item)",
    3_000,
    "read units/s",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html",
    "Each individual partition is limited to 1,000 write units per second and 3,000 read units per second.",
    "more hot items per address, or a reader caching the other shards' parts for a second (docs/capacity.md, hot keys)",
)
SAGEMAKER_SERVERLESS_CONCURRENCY = Quota(
    "sagemaker_serverless_concurrency",
    "SageMaker serverless MaxConcurrency per endpoint",
    200,
    "concurrent invocations",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html",
    "MaxConcurrency: the maximum number of concurrent invocations your serverless endpoint can process; "
    "valid range 1 to 200. (The account-wide total is a separate quota, 200 by default or lower on new accounts.)",
    "switch to instances (endpointMode: instance) with autoscaling",
)
FIREHOSE_ACTIVE_PARTITIONS = Quota(
    "firehose_active_partitions",
    "Firehose active partitions per delivery stream (dynamic partitioning)",
    500,
    "active partitions",
    "https://docs.aws.amazon.com/firehose/latest/dev/buffering.html",
    "Once the active partitions reach the limit of 500 per Firehose stream, the rest of the records are "
    "delivered to the S3 error prefix (activePartitionExceeded); the quota can be raised to 5,000 per stream.",
    "fewer user-hash buckets (archiveUserHashBuckets; each hour's are open beside the previous hour's for a "
    "buffer interval), or request up to 5,000 active partitions",
)
SAGEMAKER_PROCESSING_INSTANCES = Quota(
    "sagemaker_processing_instances",
    "SageMaker Processing instances per job (the retraining cycle's sampling job)",
    100,
    "instances",
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProcessingClusterConfig.html",
    "InstanceCount: the number of ML compute instances to use in the processing job; valid range 1 to 100.",
    "lay the archive out by more user-hash buckets (archiveUserHashBuckets, within the active-partition "
    "quota) or train on fewer days (retrainTrainingDays)",
)

QUOTAS: tuple[Quota, ...] = (
    KINESIS_ON_DEMAND_WRITE,
    KINESIS_SHARDS,
    LAMBDA_CONCURRENCY,
    DYNAMODB_TABLE_WRITE,
    DYNAMODB_TABLE_READ,
    DYNAMODB_PARTITION_WRITE,
    DYNAMODB_PARTITION_READ,
    SAGEMAKER_SERVERLESS_CONCURRENCY,
    FIREHOSE_ACTIVE_PARTITIONS,
    SAGEMAKER_PROCESSING_INSTANCES,
)
