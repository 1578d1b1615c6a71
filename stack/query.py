"""SQL over the archive in AWS: a Glue Data Catalog table over Firehose's objects, an Athena workgroup
whose results go to their own encrypted bucket, and the IAM policy that lets people and functions
query it.

The table is ``archive.table``, the definition ``python -m archive.sql`` reads locally: the event
contract's columns and the ``year``/``month``/``day``/``hour`` partitions, found by partition
projection from the ``events/yyyy/MM/dd/HH/`` keys (no crawler, no ``MSCK REPAIR TABLE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from archive.table import (
    EVENT_COLUMNS,
    EVENTS_PREFIX,
    PARTITION_COLUMNS,
    TABLE_NAME,
    USER_HASH_COLUMN,
    USER_HASH_TABLE_NAME,
    projection_properties,
)
from stack.buckets import ExpiringPrefix, PrivateBucket, PrivateBucketArgs
from stack.iam import Statement, key_use, policy_document, read_archived_events

RESULTS_PREFIX = "results/"
GIB = 1024**3
# Athena's engine the SQL in docs/archive-sql.md is written for (Trino-based).
ATHENA_ENGINE_VERSION = "Athena engine version 3"
# Firehose's objects are GZIP text: Hive's text formats read them (GZIP by the .gz extension), and
# the OpenX JSON SerDe maps each line to the columns. A line that is not JSON reads as a row of
# NULLs, as in DuckDB (archive.sql), instead of failing the query.
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
ATHENA_QUERY_ACTIONS = (
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetWorkGroup",
    "athena:ListQueryExecutions",
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
)
GLUE_READ_ACTIONS = ("glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable", "glue:GetTables")


def catalog_database_name(project: str, stack: str) -> str:
    """A Glue database name Athena accepts unquoted: lower-case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]", "_", f"{project}_{stack}".lower())


@dataclass(frozen=True)
class ArchiveQueriesArgs:
    archive_bucket_name: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    partition: pulumi.Input[str]
    database_name: str
    results_expiration_days: int
    scan_limit_gib: int
    # archiveUserHashBuckets: with it, the table by user hash beside the hours' one (archive.table).
    user_hash_buckets: int = 0


class ArchiveQueries(pulumi.ComponentResource):
    database_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]
    results_bucket_name: pulumi.Output[str]
    policy_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ArchiveQueriesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:ArchiveQueries", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        results = PrivateBucket(
            f"{name}-query-results",
            PrivateBucketArgs(
                kms_key_arn=args.kms_key_arn,
                # Results are copies of what the archive holds: they expire instead of piling up.
                lifecycle=[ExpiringPrefix(RESULTS_PREFIX, args.results_expiration_days)],
            ),
            opts=child,
        )
        database = aws.glue.CatalogDatabase(
            f"{name}-catalog",
            name=args.database_name,
            description="Vedette: the event archive as tables (docs/archive-sql.md)",
            opts=child,
        )
        archive_root = pulumi.Output.concat("s3://", args.archive_bucket_name, "/")
        hours = "Interaction events archived by Firehose (GZIP JSON lines), partitioned by arrival hour."
        table = events_table(f"{name}-events-table", TABLE_NAME, database.name, archive_root, 0, child, hours)
        tables = [table]
        if args.user_hash_buckets:
            by_hash = "The hours archived by user hash, by arrival hour and the first hash of the user's bucket."
            tables.append(
                events_table(
                    f"{name}-events-by-user-hash-table",
                    USER_HASH_TABLE_NAME,
                    database.name,
                    archive_root,
                    args.user_hash_buckets,
                    child,
                    by_hash,
                )
            )
        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            description="Vedette: SQL over the event archive; results encrypted with the pipeline key.",
            configuration={
                # Clients cannot send results elsewhere or unencrypted, nor lift the scan limit.
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": args.scan_limit_gib * GIB,
                "engine_version": {"selected_engine_version": ATHENA_ENGINE_VERSION},
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", results.bucket_name, "/", RESULTS_PREFIX),
                    "encryption_configuration": {"encryption_option": "SSE_KMS", "kms_key_arn": args.kms_key_arn},
                },
            },
            # The workgroup's saved queries go with it; results stay in the bucket until they expire.
            force_destroy=True,
            opts=child,
        )
        glue_prefix = pulumi.Output.concat("arn:", args.partition, ":glue:", args.region, ":", args.account_id, ":")
        policy = aws.iam.Policy(
            f"{name}-query-policy",
            description="Query the Vedette event archive with Athena (attach to people's or functions' roles).",
            policy=policy_document(
                [
                    Statement("RunQueriesInTheWorkgroup", ATHENA_QUERY_ACTIONS, [workgroup.arn]),
                    Statement(
                        "ReadTheTable",
                        GLUE_READ_ACTIONS,
                        [
                            pulumi.Output.concat(glue_prefix, "catalog"),
                            pulumi.Output.concat(glue_prefix, "database/", database.name),
                            *(pulumi.Output.concat(glue_prefix, "table/", database.name, "/", t.name) for t in tables),
                        ],
                    ),
                    Statement("LocateTheArchive", ("s3:GetBucketLocation",), [args.archive_bucket_arn]),
                    *read_archived_events(args.archive_bucket_arn),
                    Statement(
                        "ListResults",
                        ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"),
                        [results.arn],
                    ),
                    Statement(
                        "WriteAndReadResults",
                        ("s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"),
                        [pulumi.Output.concat(results.arn, "/", RESULTS_PREFIX, "*")],
                    ),
                    # Archive objects and results are both SSE-KMS with the pipeline key, through S3.
                    key_use("DecryptEventsEncryptResults", args.kms_key_arn, args.region, ("s3",)),
                ]
            ),
            opts=child,
        )
        self.database_name = database.name
        self.table_name = table.name
        self.workgroup_name = workgroup.name
        self.results_bucket_name = results.bucket_name
        self.policy_arn = policy.arn
        self.register_outputs(
            {
                "database_name": self.database_name,
                "workgroup_name": self.workgroup_name,
                "policy_arn": self.policy_arn,
            }
        )


def events_table(
    resource_name: str,
    table_name: str,
    database_name: pulumi.Input[str],
    archive_root: pulumi.Output[str],
    user_hash_buckets: int,
    opts: pulumi.ResourceOptions,
    description: str,
) -> aws.glue.CatalogTable:
    """A Glue table over the archive's event objects: the contract's columns, the arrival hour and,
    with ``user_hash_buckets``, the user-hash bucket, all found by partition projection."""
    parameters = archive_root.apply(
        lambda root: {"classification": "json", "EXTERNAL": "TRUE", **projection_properties(root, user_hash_buckets)}
    )
    partitions = [*PARTITION_COLUMNS, USER_HASH_COLUMN] if user_hash_buckets else list(PARTITION_COLUMNS)
    return aws.glue.CatalogTable(
        resource_name,
        name=table_name,
        database_name=database_name,
        table_type="EXTERNAL_TABLE",
        description=description,
        parameters=parameters,
        partition_keys=[
            {"name": column.name, "type": column.glue_type, "comment": column.comment} for column in partitions
        ],
        storage_descriptor={
            "location": pulumi.Output.concat(archive_root, EVENTS_PREFIX),
            "input_format": INPUT_FORMAT,
            "output_format": OUTPUT_FORMAT,
            "compressed": True,
            "ser_de_info": {
                "serialization_library": JSON_SERDE,
                "parameters": {"ignore.malformed.json": "TRUE"},
            },
            "columns": [
                {"name": column.name, "type": column.glue_type, "comment": column.comment} for column in EVENT_COLUMNS
            ],
        },
        opts=opts,
    )
