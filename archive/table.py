"""The archive as one SQL table, ``events``: the one definition Athena (the Glue table the stack
declares) and DuckDB (``archive.sql``) both query.

Columns are the event contract's fields (``vedette.events.FIELDS``) in wire order, then the time
partitions. The partitions are the ``yyyy/MM/dd/HH`` segments Firehose's prefix writes
(``archive.layout.FIREHOSE_PREFIX``): the UTC hour the object's *oldest record arrived*, not the
hour each event occurred. Filter on them to read fewer objects; filter on ``occurred_at`` for exact
event times. ``occurred_at`` stays the contract's canonical string (RFC 3339, UTC, microseconds,
``Z``), which sorts in time order and compares the same way in both engines.

An archive laid out by user hash (``archive.layout.USER_HASH_PREFIX``) keeps the hours: ``events``
reads both layouts, an hour's ``user_hash=`` folders with it (Athena reads every object under a
partition's location, DuckDB sees each object under its hour). Beside it,
``events_by_user_hash`` adds the ``user_hash`` partition (the first hash of the object's bucket,
``model.sampling.user_hash`` cut in the stack's buckets), which Athena projects from the bucket
count: ``WHERE user_hash < X`` opens only the buckets below X. It holds the hash-partitioned
hours only.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.layout import (
    FIREHOSE_PREFIX,
    USER_HASH_DIGITS,
    USER_HASH_KEY,
    USER_HASH_LIMIT,
    USER_HASH_PREFIX,
    check_user_hash_buckets,
    static_prefix,
)
from vedette.events import FIELDS

TABLE_NAME = "events"
USER_HASH_TABLE_NAME = "events_by_user_hash"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its Glue (Hive DDL) type, its DuckDB type and what it holds."""

    name: str
    glue_type: str
    duckdb_type: str
    comment: str


# status is an HTTP code or a short outcome string, and property values are strings, numbers or
# booleans: both are read as strings, as Athena's JSON SerDe and DuckDB's read_json both convert.
_CONTRACT_COLUMNS = {
    "schema_version": Column("schema_version", "int", "INTEGER", "Event contract version."),
    "event_id": Column("event_id", "string", "VARCHAR", "UUID, the idempotency key."),
    "occurred_at": Column("occurred_at", "string", "VARCHAR", "RFC 3339 UTC with microseconds and Z."),
    "event_type": Column("event_type", "string", "VARCHAR", "login_succeeded, page_view, purchase..."),
    "user_id": Column("user_id", "string", "VARCHAR", "The user; the stream's partition key."),
    "session_id": Column("session_id", "string", "VARCHAR", "Session, if known."),
    "ip": Column("ip", "string", "VARCHAR", "Client IP or its HMAC pseudonym."),
    "user_agent": Column("user_agent", "string", "VARCHAR", "Client user agent."),
    "resource": Column("resource", "string", "VARCHAR", "URL path or API operation."),
    "status": Column("status", "string", "VARCHAR", "HTTP-like code or short outcome, as text."),
    "properties": Column("properties", "map<string,string>", "MAP(VARCHAR, VARCHAR)", "Flat properties, as text."),
}
if tuple(_CONTRACT_COLUMNS) != FIELDS:
    raise ImportError(f"archive.table columns {tuple(_CONTRACT_COLUMNS)} differ from the contract's {FIELDS}")
EVENT_COLUMNS: tuple[Column, ...] = tuple(_CONTRACT_COLUMNS.values())

# (name, strftime field, Athena projection range) of each ``yyyy/MM/dd/HH`` segment, in path order.
PARTITIONS: tuple[tuple[str, str, str], ...] = (
    ("year", "%Y", "2025,2045"),
    ("month", "%m", "1,12"),
    ("day", "%d", "1,31"),
    ("hour", "%H", "0,23"),
)
PARTITION_COLUMNS: tuple[Column, ...] = tuple(
    Column(name, "int", "INTEGER", f"UTC {name} the object's oldest record arrived (from its key).")
    for name, _, _ in PARTITIONS
)
# Where the partitioned objects start: "events/".
EVENTS_PREFIX = static_prefix(FIREHOSE_PREFIX)
if FIREHOSE_PREFIX != EVENTS_PREFIX + "!{timestamp:yyyy/MM/dd/HH}/":
    raise ImportError(f"archive.table expects yyyy/MM/dd/HH partitions, the prefix is {FIREHOSE_PREFIX}")
if USER_HASH_PREFIX != FIREHOSE_PREFIX + USER_HASH_KEY + "=!{partitionKeyFromLambda:" + USER_HASH_KEY + "}/":
    raise ImportError(f"archive.table expects a user_hash= folder below the hour, the prefix is {USER_HASH_PREFIX}")
USER_HASH_COLUMN = Column(
    USER_HASH_KEY,
    "bigint",
    "BIGINT",
    "First user hash (CRC-32 of user_id, as model.sampling) of the object's bucket; users below X: user_hash < X.",
)


def storage_location_template(root: str, user_hash_buckets: int = 0) -> str:
    """Athena's ``storage.location.template`` under ``root`` (``s3://bucket/``): the hours, and the
    ``user_hash=`` folder when the table has that partition."""
    hours = root + EVENTS_PREFIX + "".join(f"${{{name}}}/" for name, _, _ in PARTITIONS)
    return hours + f"{USER_HASH_KEY}=${{{USER_HASH_KEY}}}/" if user_hash_buckets else hours


def projection_properties(root: str, user_hash_buckets: int = 0) -> dict[str, str]:
    """Glue table properties for partition projection: Athena computes each hour's prefix (and,
    with ``user_hash_buckets``, each bucket's) from the query's filters, with no crawler and no
    ``MSCK REPAIR TABLE``."""
    template = storage_location_template(root, check_user_hash_buckets(user_hash_buckets))
    properties = {"projection.enabled": "true", "storage.location.template": template}
    for name, field, value_range in PARTITIONS:
        properties[f"projection.{name}.type"] = "integer"
        properties[f"projection.{name}.range"] = value_range
        # Keys are zero-padded (month 01): year has four digits, the others two.
        properties[f"projection.{name}.digits"] = "4" if field == "%Y" else "2"
    if user_hash_buckets:
        # The buckets' first hashes: multiples of the bucket width, ten digits as the folders name them.
        width = USER_HASH_LIMIT // user_hash_buckets
        properties[f"projection.{USER_HASH_KEY}.type"] = "integer"
        properties[f"projection.{USER_HASH_KEY}.range"] = f"0,{USER_HASH_LIMIT - width}"
        properties[f"projection.{USER_HASH_KEY}.interval"] = str(width)
        properties[f"projection.{USER_HASH_KEY}.digits"] = str(USER_HASH_DIGITS)
    return properties
