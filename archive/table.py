"""The archive as one SQL table, ``events``: the one definition Athena (the Glue table the stack
declares) and DuckDB (``archive.sql``) both query.

Columns are the event contract's fields (``vedette.events.FIELDS``) in wire order, then the time
partitions. The partitions are the ``yyyy/MM/dd/HH`` segments Firehose's prefix writes
(``archive.layout.FIREHOSE_PREFIX``): the UTC hour the object's *oldest record arrived*, not the
hour each event occurred. Filter on them to read fewer objects; filter on ``occurred_at`` for exact
event times. ``occurred_at`` stays the contract's canonical string (RFC 3339, UTC, microseconds,
``Z``), which sorts in time order and compares the same way in both engines.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.layout import FIREHOSE_PREFIX, static_prefix
from vedette.events import FIELDS

TABLE_NAME = "events"


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


def storage_location_template(root: str) -> str:
    """Athena's ``storage.location.template`` under ``root`` (``s3://bucket/``)."""
    return root + EVENTS_PREFIX + "".join(f"${{{name}}}/" for name, _, _ in PARTITIONS)


def projection_properties(root: str) -> dict[str, str]:
    """Glue table properties for partition projection: Athena computes each hour's prefix from the
    query's filters, with no crawler and no ``MSCK REPAIR TABLE``."""
    properties = {"projection.enabled": "true", "storage.location.template": storage_location_template(root)}
    for name, field, value_range in PARTITIONS:
        properties[f"projection.{name}.type"] = "integer"
        properties[f"projection.{name}.range"] = value_range
        # Keys are zero-padded (month 01): year has four digits, the others two.
        properties[f"projection.{name}.digits"] = "4" if field == "%Y" else "2"
    return properties
