"""SQL over the archive on this machine: DuckDB reads the GZIP JSON-lines objects where they are.

``python -m archive.sql --archive DIR|s3://bucket[/prefix] "SELECT ..."`` runs one query over the
table ``events`` (``archive.table``: the contract's columns and the ``year``, ``month``, ``day``,
``hour`` partitions) and prints the answer as a table, CSV or JSON lines (``--format``). Athena runs
the same SQL over the Glue table the stack declares (docs/archive-sql.md).

Firehose writes ``events/yyyy/MM/dd/HH/`` prefixes, not Hive's ``year=2026/`` folders. An fsspec
filesystem, registered with DuckDB, shows each object under its Hive-style path
(``events/year=2026/month=11/day=02/hour=05/...gz``), so DuckDB's own Hive partition pruning skips
every object whose hour a query's filter on the partitions rules out: those objects are never
opened. Objects are read through the project's archive location (a folder, or S3 through boto3,
which honours ``AWS_ENDPOINT_URL_S3``): DuckDB's httpfs extension is not bundled with its Python
package and would be downloaded at run time.

A line that is not JSON reads as a row whose contract columns are all NULL (DuckDB's
``ignore_errors``): it is counted by ``count(*)`` and found with ``WHERE event_id IS NULL``, never
dropped in silence and never failing the query.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import duckdb
from fsspec.spec import AbstractFileSystem

from archive.exceptions import ArchiveError
from archive.layout import FIREHOSE_PREFIX, arrival_of_key, user_hash_start_of_key
from archive.location import Location, make_s3_client, parse_location
from archive.reader import list_keys
from archive.table import EVENT_COLUMNS, EVENTS_PREFIX, PARTITION_COLUMNS, PARTITIONS, TABLE_NAME

PROTOCOL = "vedette-archive"
FORMATS = ("table", "csv", "json")
# Rows a terminal table shows (the first and last halves); CSV and JSON print every row.
TABLE_MAX_ROWS = 40


class SqlQueryError(ArchiveError):
    """DuckDB refused or failed the query; ``query`` is the SQL, ``reason`` DuckDB's message."""

    def __init__(self, query: str, reason: str) -> None:
        super().__init__(f"query failed: {reason}")
        self.query = query
        self.reason = reason


@dataclass
class ScanStats:
    """Objects listed and opened by DuckDB (``opened``: their keys), and keys outside the layout."""

    objects_listed: int = 0
    objects_opened: int = 0
    skipped_keys: int = 0
    opened: list[str] = field(default_factory=list)


def hive_path(key: str) -> str | None:
    """The Hive-style path DuckDB sees for an archive key, or None for a key outside the layout.

    ``events/2026/11/02/05/name.gz`` -> ``events/year=2026/month=11/day=02/hour=05/name.gz``, and
    ``events/2026/11/02/05/user_hash=0000000000/name.gz`` (the user-hash layout) to the same hour.
    """
    if not key.startswith(EVENTS_PREFIX) or arrival_of_key(key) is None:
        return None
    segments = key[len(EVENTS_PREFIX) :].split("/")
    if user_hash_start_of_key(key) is not None:
        # An hour's user_hash= folder: its objects are that hour's too (names are unique by their UUID).
        del segments[-2]
    if len(segments) != len(PARTITIONS) + 1 or not all(segment.isdigit() for segment in segments[:-1]):
        return None
    folders = "/".join(f"{name}={value}" for (name, _, _), value in zip(PARTITIONS, segments[:-1], strict=True))
    return f"{EVENTS_PREFIX}{folders}/{segments[-1]}"


class ArchiveFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """The archive's objects under Hive-style paths (read-only), listed once when created."""

    protocol = PROTOCOL
    # One instance per archive and client: fsspec must not hand a cached instance to another root.
    cachable = False

    def __init__(self, location: Location, s3_client: Any = None, stats: ScanStats | None = None) -> None:
        super().__init__()
        self.location = location
        self.s3 = s3_client
        self.stats = stats if stats is not None else ScanStats()
        self.keys: dict[str, str] = {}
        for key in list_keys(location, FIREHOSE_PREFIX, None, s3_client):
            path = hive_path(key)
            if path is None:
                self.stats.skipped_keys += 1
            else:
                self.keys[path] = key
        self.stats.objects_listed = len(self.keys)

    def glob(self, path: str, **kwargs: Any) -> list[str]:
        pattern = self._strip_protocol(path)
        return [f"{PROTOCOL}://{hive}" for hive in sorted(self.keys) if fnmatch.fnmatchcase(hive, pattern)]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        hive = self._strip_protocol(path)
        if hive not in self.keys:
            raise FileNotFoundError(path)
        key = self.keys[hive]
        if self.location.is_s3:
            size = self.s3.head_object(Bucket=self.location.bucket, Key=self.location.key(key))["ContentLength"]
        else:
            size = os.path.getsize(self.location.key(key))
        return {"name": hive, "type": "file", "size": size}

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        hive = self._strip_protocol(path)
        if hive not in self.keys:
            raise FileNotFoundError(path)
        if mode != "rb":
            raise PermissionError(f"{path}: the archive is read-only here")
        key = self.keys[hive]
        self.stats.objects_opened += 1
        self.stats.opened.append(key)
        if self.location.is_s3:
            body = self.s3.get_object(Bucket=self.location.bucket, Key=self.location.key(key))["Body"].read()
            return io.BytesIO(body)
        return open(self.location.key(key), "rb")


def _events_view(has_objects: bool) -> str:
    columns = ", ".join(f"'{column.name}': '{column.duckdb_type}'" for column in EVENT_COLUMNS)
    partitions = ", ".join(f"'{column.name}': '{column.duckdb_type}'" for column in PARTITION_COLUMNS)
    names = ", ".join([column.name for column in (*EVENT_COLUMNS, *PARTITION_COLUMNS)])
    if not has_objects:
        typed = ", ".join(
            f"CAST(NULL AS {column.duckdb_type}) AS {column.name}" for column in (*EVENT_COLUMNS, *PARTITION_COLUMNS)
        )
        return f"CREATE VIEW {TABLE_NAME} AS SELECT {typed} WHERE false"
    depth = "/".join("*" for _ in PARTITIONS)
    return (
        f"CREATE VIEW {TABLE_NAME} AS SELECT {names} FROM read_json('{PROTOCOL}://{EVENTS_PREFIX}{depth}/*', "
        f"format = 'newline_delimited', ignore_errors = true, columns = {{{columns}}}, "
        f"hive_partitioning = true, hive_types = {{{partitions}}})"
    )


def connect(
    archive: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    s3_client: Any = None,
    stats: ScanStats | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the view ``events`` over the archive at ``archive``."""
    location = parse_location(archive)
    s3 = s3_client if s3_client is not None or not location.is_s3 else make_s3_client(endpoint_url)
    filesystem = ArchiveFileSystem(location, s3, stats)
    connection = duckdb.connect()
    connection.register_filesystem(filesystem)
    connection.execute(_events_view(bool(filesystem.keys)))
    # Athena's (Trino's) name for a regular expression's search, so that a query runs on both (the
    # console's timeline of a surge of codes sent finds their requests by path).
    connection.execute("CREATE MACRO regexp_like(text, pattern) AS regexp_matches(text, pattern)")
    return connection


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def query(connection: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    """Run ``sql``; raises ``SqlQueryError`` with DuckDB's reason when it fails."""
    try:
        # None for a statement without a result (SET, CREATE...), whatever the stubs say.
        relation: duckdb.DuckDBPyRelation | None = connection.sql(sql)
        if relation is None:
            return QueryResult([], [])
        return QueryResult(list(relation.columns), relation.fetchall())
    except duckdb.Error as error:
        raise SqlQueryError(sql, str(error)) from None


def _text(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, sort_keys=True)
    return value


def write_result(result: QueryResult, output_format: str, out: TextIO) -> None:
    """CSV with a header row, or one JSON object per row (maps as objects)."""
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_text(value) for value in row] for row in result.rows])
    elif output_format == "json":
        for row in result.rows:
            out.write(json.dumps(dict(zip(result.columns, row, strict=True)), default=str) + "\n")
    else:
        raise ValueError(f"format must be csv or json here, got {output_format!r}")


def show_table(connection: duckdb.DuckDBPyConnection, sql: str, out: TextIO) -> None:
    """DuckDB's own box rendering of the answer (the first and last rows of a long one)."""
    try:
        relation: duckdb.DuckDBPyRelation | None = connection.sql(sql)
        if relation is None:
            return
        rendered = _render(relation)
    except duckdb.Error as error:
        raise SqlQueryError(sql, str(error)) from None
    out.write(rendered if rendered.endswith("\n") else rendered + "\n")


def _render(relation: duckdb.DuckDBPyRelation) -> str:
    # DuckDB's Python client prints the rendering to sys.stdout; it offers no other way to get it
    # with a row limit.
    captured = io.StringIO()
    previous, sys.stdout = sys.stdout, captured
    try:
        relation.show(max_rows=TABLE_MAX_ROWS, max_width=10_000)
    finally:
        sys.stdout = previous
    return captured.getvalue()


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m archive.sql",
        description=(
            "Run one SQL query over the event archive with DuckDB. The table is `events`: the event "
            "contract's columns, and year, month, day, hour (UTC, from the object keys): filter on them "
            "to read only those hours' objects."
        ),
    )
    parser.add_argument("--archive", required=True, help="the archive root: a folder or s3://bucket[/prefix]")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--endpoint-url", help="S3 endpoint (default: AWS_ENDPOINT_URL_S3 or AWS)")
    parser.add_argument("query", help='the SQL, e.g. "SELECT event_type, count(*) FROM events GROUP BY 1"')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The command line; returns the exit status (2 for a bad archive location or a failed query)."""
    args = _arguments(argv)
    stream = out if out is not None else sys.stdout
    try:
        connection = connect(args.archive, endpoint_url=args.endpoint_url)
    except ArchiveError as error:
        print(f"archive.sql: --archive: {error}", file=sys.stderr)
        return 2
    try:
        if args.format == "table":
            show_table(connection, args.query, stream)
        else:
            write_result(query(connection, args.query), args.format, stream)
    except SqlQueryError as error:
        print(f"archive.sql: {error}", file=sys.stderr)
        return 2
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
