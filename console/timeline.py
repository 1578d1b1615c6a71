"""An entity's events from the archive, through the SQL layer: the query, and the engines that run it.

The SQL is written once, with ``?`` placeholders for every value that came from an event, for the
archive's one table (``archive.table``): DuckDB runs it here (``DuckDbArchive``, through
``archive.sql``); Athena runs the same text with its execution parameters in the stack's workgroup
(``AthenaArchive``, for a console on AWS).

The archive is partitioned by the hour an object's oldest record *arrived*, not by when events
occurred. A query names the arrival hours to read (``ArrivalRange``s): around the events' own times
(in production they arrive within seconds), and around when the alert was raised (replayed or
simulated traffic, as in ``make demo``, arrives long after its events' times). Only those hours'
objects are opened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from archive import sql as archive_sql
from archive.table import TABLE_NAME
from model.waves import WAVES_BY_KIND
from vedette.events import format_timestamp

# Events of the timeline at most (the page draws every one of them).
TIMELINE_MAX_EVENTS = 1000
HISTORY_MAX_EVENTS = 20000
# How much before and after the episode the timeline shows (the episode's idle gap).
CONTEXT = timedelta(minutes=30)
# Arrival lags the event's time by the producer's buffering, the stream and Firehose's buffer (at
# most 15 minutes): an hour either side covers it, as docs/archive-sql.md advises.
ARRIVAL_SLACK = timedelta(hours=1)
TIMELINE_COLUMNS = (
    "event_id",
    "occurred_at",
    "event_type",
    "user_id",
    "session_id",
    "ip",
    "user_agent",
    "resource",
    "status",
)


@dataclass(frozen=True, slots=True)
class ArrivalRange:
    """Arrival hours to read, from the hour of ``start`` to the hour of ``end`` (UTC)."""

    start: datetime
    end: datetime

    @staticmethod
    def around(start: datetime, end: datetime, slack: timedelta = ARRIVAL_SLACK) -> ArrivalRange:
        return ArrivalRange(start - slack, end + slack)


def _day_hours(ranges: Sequence[ArrivalRange]) -> dict[date, tuple[int, int]]:
    """Per UTC day, the first and last hour to read (ranges merged)."""
    days: dict[date, tuple[int, int]] = {}
    for item in ranges:
        moment = item.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = item.end.astimezone(UTC)
        while moment <= end:
            last = min(23, end.hour) if moment.date() == end.date() else 23
            low, high = days.get(moment.date(), (moment.hour, last))
            days[moment.date()] = (min(low, moment.hour), max(high, last))
            moment = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
    return days


def arrival_condition(ranges: Sequence[ArrivalRange]) -> str:
    """SQL over the partition columns alone, one term per day (DuckDB prunes objects by such simple
    comparisons, and Athena's partition projection computes the prefixes from them; an expression
    over the columns would open every object). Numbers computed here, never text from an event."""
    parts = [
        f"(year = {day.year} AND month = {day.month} AND day = {day.day} AND hour BETWEEN {low} AND {high})"
        for day, (low, high) in sorted(_day_hours(ranges).items())
    ]
    return "(" + " OR ".join(parts) + ")" if parts else "false"


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """SQL with ``?`` placeholders, and the values that fill them in order."""

    sql: str
    parameters: tuple[Any, ...]


# A request that sent a code: a POST or PUT, or one of a log without methods (``sends_code``); its form
# fetched (a GET) sent none. The method is in the properties map: a key absent from a map is NULL to
# DuckDB's subscript and an error to Athena's, hence the CASE, which both evaluate only when it is there.
SENT_BY_METHOD = (
    "coalesce(upper(CASE WHEN contains(map_keys(properties), 'method') THEN properties['method'] END), 'POST') "
    "IN ('POST', 'PUT')"
)


def entity_events_query(
    kind: str, entity: str, start: datetime, end: datetime, arrivals: Sequence[ArrivalRange]
) -> ArchiveQuery:
    """An entity's events (a user's, or a session's; for a wave, the service's attempts it counts) that
    occurred from ``start`` to ``end``, in time order."""
    parameters: tuple[str, ...] = ()
    wave = WAVES_BY_KIND.get(kind)
    if wave is not None and wave.event_types:
        condition = f"event_type IN ({', '.join(repr(event_type) for event_type in wave.event_types)})"
    elif wave is not None:
        # (the path, without its query, and the method, as the scorer reads them:
        # model.features.resources.sends_code)
        condition = f"regexp_like(split_part(resource, '?', 1), ?) AND {SENT_BY_METHOD}"
        parameters = (f"(?i){wave.resource_pattern}",)
    else:
        condition, parameters = f"{'user_id' if kind == 'user' else 'session_id'} = ?", (entity,)
    sql = (
        f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM {TABLE_NAME} "
        f"WHERE {arrival_condition(arrivals)} AND {condition} AND occurred_at >= ? AND occurred_at <= ? "
        f"ORDER BY occurred_at, event_id LIMIT {TIMELINE_MAX_EVENTS}"
    )
    return ArchiveQuery(sql, (*parameters, format_timestamp(start), format_timestamp(end)))


def user_history_query(user_id: str, arrivals: Sequence[ArrivalRange]) -> ArchiveQuery:
    """A user's events in the given arrival hours (for their usual countries, clients and hours, and
    the sessions whose alerts the user page lists)."""
    sql = (
        f"SELECT occurred_at, ip, user_agent, session_id FROM {TABLE_NAME} "
        f"WHERE {arrival_condition(arrivals)} AND user_id = ? ORDER BY occurred_at DESC LIMIT {HISTORY_MAX_EVENTS}"
    )
    return ArchiveQuery(sql, (user_id,))


class ArchiveEngine(Protocol):
    def run(self, query: ArchiveQuery) -> list[dict[str, Any]]:
        """Rows as dicts by column name. Raises ``archive.sql.SqlQueryError``."""
        ...


class DuckDbArchive:
    """The archive (a folder or ``s3://``) through ``archive.sql``'s DuckDB view. The connection,
    which lists the archive's objects when it opens, is reused for ``refresh_seconds`` so new
    objects show up without listing the bucket on every page."""

    def __init__(
        self, archive: str, *, endpoint_url: str | None = None, s3_client: Any = None, refresh_seconds: float = 30.0
    ) -> None:
        self.archive = archive
        self.endpoint_url = endpoint_url
        self.s3_client = s3_client
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._connection: Any = None
        self._opened = 0.0

    def run(self, query: ArchiveQuery) -> list[dict[str, Any]]:
        import duckdb

        with self._lock:  # one DuckDB connection is not for concurrent use
            if self._connection is None or time.monotonic() - self._opened > self.refresh_seconds:
                self.close_connection()
                self._connection = archive_sql.connect(
                    self.archive, endpoint_url=self.endpoint_url, s3_client=self.s3_client
                )
                self._opened = time.monotonic()
            try:
                cursor = self._connection.execute(query.sql, list(query.parameters))
                columns = [description[0] for description in cursor.description]
                return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            except duckdb.Error as error:
                raise archive_sql.SqlQueryError(query.sql, str(error)) from None

    def close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# Athena's result types that are not text, and how to read them (everything else stays a string).
_ATHENA_TYPES = {"tinyint": int, "smallint": int, "integer": int, "bigint": int, "double": float, "float": float}
_ATHENA_DONE = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def athena_literal(value: Any) -> str:
    """A value as an Athena execution parameter: Athena substitutes the text as it stands, so a string
    must be a quoted SQL literal, its quotes doubled (values from events are attacker-controlled)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "'" + str(value).replace("'", "''") + "'"
    return repr(value)


class AthenaArchive:
    """The archive through Athena: the Glue table (``stack.query``) in the stack's workgroup, which
    holds the results location and the scan limit. Runs a query, waits for it, and reads its rows."""

    def __init__(
        self,
        client: Any,
        workgroup: str,
        database: str,
        *,
        poll_seconds: float = 0.25,
        timeout_seconds: float = 60.0,
        sleep: Any = time.sleep,
    ) -> None:
        self.client = client
        self.workgroup = workgroup
        self.database = database
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep

    def run(self, query: ArchiveQuery) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "QueryString": query.sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if query.parameters:
            request["ExecutionParameters"] = [athena_literal(value) for value in query.parameters]
        execution_id = self.client.start_query_execution(**request)["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            status = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            if status["State"] in _ATHENA_DONE:
                break
            if time.monotonic() > deadline:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise archive_sql.SqlQueryError(query.sql, f"Athena took over {self.timeout_seconds:g} s")
            self.sleep(self.poll_seconds)
        if status["State"] != "SUCCEEDED":
            reason = status.get("StateChangeReason") or status["State"]
            raise archive_sql.SqlQueryError(query.sql, f"Athena: {reason}")
        rows: list[dict[str, Any]] = []
        columns: list[tuple[str, Any]] = []
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
            result = page["ResultSet"]
            if not columns:
                columns = [
                    (column["Name"], _ATHENA_TYPES.get(column.get("Type", "varchar"), str))
                    for column in result["ResultSetMetadata"]["ColumnInfo"]
                ]
                data = result["Rows"][1:]  # the first page begins with the column names
            else:
                data = result["Rows"]
            for row in data:
                cells = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append(
                    {
                        name: None if cell is None else convert(cell)
                        for (name, convert), cell in zip(columns, cells, strict=True)
                    }
                )
        return rows
