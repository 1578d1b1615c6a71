"""Entity alerts as the scorer records them (``scorer.stores.alert_record_item``), read back.

The list reads the anomalies table's sparse index ``ALERTS_INDEX`` newest first: time filters are
key conditions, severity a filter expression; reason and verdict are checked here (a reason is a
sentence naming its feature, a verdict lives in the labels table). A page is ``size`` alerts and a
cursor: the ``alert_at`` of its last alert, from which the next page continues.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from console.exceptions import AlertNotFoundError
from console.labels import AlertKey, Verdict
from model.client_alerts import client_marker, client_of, is_grouped
from model.entities import ENTITY_FEATURE_NAMES, AlertClient
from scorer.stores import (
    ALERT_AT_ATTRIBUTE,
    ALERT_FEED,
    ALERT_FEED_ATTRIBUTE,
    ALERT_PREFIX,
    ALERTS_INDEX,
    FOLDED_COUNT_ATTRIBUTE,
    PAGES_SO_FAR_ATTRIBUTE,
    WENT_ON_UNTIL_ATTRIBUTE,
    client_of_record,
)

PAGE_SIZE = 25
# Index items read per page request at most, so a filter that matches little cannot stall a page.
MAX_SCANNED_PER_PAGE = 2000
QUERY_LIMIT = 200
NO_VERDICT = "none"
# "pages in quick succession (typical pause 0.4 s) (page_gap_mean 0.31, usually 2.10)": the feature.
_REASON_FEATURE = re.compile(r"\((\w+) -?[\d.]+(?:e[+-]?\d+)?, usually")


def reason_feature(reason: str) -> str | None:
    """The entity feature a reason sentence names (``model.entities.EntityModel.reasons``)."""
    match = _REASON_FEATURE.search(reason)
    return match.group(1) if match else None


def reason_words(reason: str) -> str:
    """A reason without its figures in parentheses: the plain words."""
    match = _REASON_FEATURE.search(reason)
    return reason[: match.start()].rstrip() if match else reason


REASON_FEATURES = ENTITY_FEATURE_NAMES


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class AlertRecord:
    key: AlertKey
    kind: str  # "user" or "session"
    entity: str
    score: float
    threshold: float
    severity: float
    episode: int
    first_event_at: datetime
    last_event_at: datetime
    pages: int
    reasons: tuple[str, ...]
    alerted_at: datetime | None
    alert_at: str  # the index's sort key: the list's cursor
    client: AlertClient | None = None  # of the request that raised it (none for a wave's)
    # How far the episode went after the alert, at the scorer's last report (``EpisodeSoFar``)
    went_on_until: datetime | None = None
    pages_so_far: int | None = None

    @property
    def episode_end(self) -> datetime:
        """The episode's latest request known: at the alert, or as last reported since."""
        return max(self.last_event_at, self.went_on_until or self.last_event_at)

    @property
    def user_id(self) -> str | None:
        return self.entity if self.kind == "user" else None

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(feature for feature in map(reason_feature, self.reasons) if feature)


def record_of(item: Mapping[str, Any]) -> AlertRecord | None:
    """The alert record an item holds; None for a marker without one (an alert recorded before the
    scorer wrote records)."""
    if "kind" not in item or not item["sk"]["S"].startswith(ALERT_PREFIX):
        return None
    alerted = item.get("alerted_at", {}).get("S")
    return AlertRecord(
        key=AlertKey(item["user_id"]["S"], int(item["sk"]["S"].removeprefix(ALERT_PREFIX))),
        kind=item["kind"]["S"],
        entity=item["entity"]["S"],
        score=float(item["score"]["N"]),
        threshold=float(item["threshold"]["N"]),
        severity=float(item["severity"]["N"]),
        episode=int(item["episode"]["N"]),
        first_event_at=parse_time(item["first_event_at"]["S"]),
        last_event_at=parse_time(item["last_event_at"]["S"]),
        pages=int(item["pages"]["N"]),
        reasons=tuple(value["S"] for value in item.get("reasons", {}).get("L", [])),
        alerted_at=parse_time(alerted) if alerted else None,
        alert_at=item.get(ALERT_AT_ATTRIBUTE, {}).get("S", ""),
        client=client_of_record(item),
        went_on_until=parse_time(item[WENT_ON_UNTIL_ATTRIBUTE]["S"]) if WENT_ON_UNTIL_ATTRIBUTE in item else None,
        pages_so_far=int(item[PAGES_SO_FAR_ATTRIBUTE]["N"]) if PAGES_SO_FAR_ATTRIBUTE in item else None,
    )


@dataclass(frozen=True)
class AlertFilters:
    """What the list shows: alerts whose episode ended from ``since`` to ``until`` (days, UTC,
    inclusive), at least ``min_severity``, naming ``reason`` (a feature), with ``verdict``
    (``true_positive``, ``benign`` or ``none``)."""

    since: date | None = None
    until: date | None = None
    min_severity: float | None = None
    reason: str | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class AlertPage:
    alerts: list[AlertRecord]
    verdicts: dict[AlertKey, Verdict]
    next_cursor: str | None  # None on the last page
    scanned: int


VerdictLookup = Callable[[Iterable[AlertKey]], dict[AlertKey, Verdict]]


class DynamoAlerts:
    """Alert records and flagged events in the anomalies table, through a boto3 DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def page(
        self, filters: AlertFilters, verdicts_of: VerdictLookup, cursor: str | None = None, size: int = PAGE_SIZE
    ) -> AlertPage:
        """One page of alerts, newest first, after ``cursor`` (an ``alert_at`` of the previous page)."""
        names = {"#feed": ALERT_FEED_ATTRIBUTE}
        values: dict[str, Any] = {":feed": {"S": ALERT_FEED}}
        low = filters.since.isoformat() if filters.since else None
        high = (filters.until + timedelta(days=1)).isoformat() if filters.until else None
        if cursor and (high is None or cursor < high):
            high = cursor
        condition = "#feed = :feed"
        if low and high:
            condition += " AND #at BETWEEN :low AND :high"
            values |= {":low": {"S": low}, ":high": {"S": high}}
        elif low:
            condition += " AND #at >= :low"
            values[":low"] = {"S": low}
        elif high:
            condition += " AND #at < :high"
            values[":high"] = {"S": high}
        if low or high:  # DynamoDB refuses names an expression does not use
            names["#at"] = ALERT_AT_ATTRIBUTE
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": ALERTS_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ScanIndexForward": False,
            "Limit": QUERY_LIMIT,
        }
        if filters.min_severity is not None:
            request["FilterExpression"] = "severity >= :severity"
            values[":severity"] = {"N": repr(float(filters.min_severity))}
        request["ExpressionAttributeValues"] = values
        shown: list[AlertRecord] = []
        verdicts: dict[AlertKey, Verdict] = {}
        scanned = 0
        more = True
        while more and len(shown) <= size and scanned < MAX_SCANNED_PER_PAGE:
            response = self.client.query(**request)
            scanned += int(response.get("ScannedCount", 0))
            found = [record for record in map(record_of, response.get("Items", [])) if record is not None]
            # BETWEEN includes its upper bound: the cursor's own alert is on the page before.
            found = [record for record in found if not cursor or record.alert_at < cursor]
            if filters.reason:
                found = [record for record in found if filters.reason in record.features]
            judged = verdicts_of(record.key for record in found)
            if filters.verdict:
                found = [record for record in found if _verdict_matches(judged.get(record.key), filters.verdict)]
            shown.extend(found)
            verdicts |= {record.key: judged[record.key] for record in found if record.key in judged}
            last = response.get("LastEvaluatedKey")
            more = last is not None
            if last is not None:
                request["ExclusiveStartKey"] = last
        if len(shown) > size:
            return AlertPage(shown[:size], verdicts, shown[size - 1].alert_at, scanned)
        # A search that stopped at its budget continues, on the next page, from where it stopped.
        stopped = request.get("ExclusiveStartKey", {}).get(ALERT_AT_ATTRIBUTE, {}).get("S") if more else None
        return AlertPage(shown, verdicts, stopped, scanned)

    def get(self, key: AlertKey) -> AlertRecord:
        response = self.client.get_item(
            TableName=self.table, Key={"user_id": {"S": key.partition}, "sk": {"S": key.sort_key}}
        )
        record = record_of(response["Item"]) if "Item" in response else None
        if record is None:
            raise AlertNotFoundError(key.partition, key.start)
        return record

    def folded_into(self, record: AlertRecord, events: Iterable[Mapping[str, Any]]) -> int | None:
        """How many alerts of the record's client that day were counted into it (``model.client_alerts``),
        from the client's marker; None for an alert that is not grouped by client, none counted into
        it, or a marker gone (it lasts a day past its day). ``events``: its timeline, whose request at
        the alert's moment names the client."""
        raised = [event for event in events if abs((event["at"] - record.last_event_at).total_seconds()) < 0.001]
        client = client_of(raised[0]) if raised and is_grouped(record.kind, record.pages, record.entity) else None
        if client is None:
            return None
        partition, day_start = client_marker(client, record.last_event_at.timestamp())
        response = self.client.get_item(
            TableName=self.table, Key={"user_id": {"S": partition}, "sk": {"S": f"{ALERT_PREFIX}{day_start}"}}
        )
        count = int(response.get("Item", {}).get(FOLDED_COUNT_ATTRIBUTE, {}).get("N", 0))
        return count or None

    def for_partition(self, partition: str) -> list[AlertRecord]:
        """Every alert record of an entity, newest episode first."""
        records: list[AlertRecord] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="user_id = :partition AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":partition": {"S": partition}, ":prefix": {"S": ALERT_PREFIX}},
            ScanIndexForward=False,
        ):
            records.extend(record for record in map(record_of, page["Items"]) if record is not None)
        return records

    def flagged_events(self, user_id: str, start: datetime, end: datetime) -> dict[str, float]:
        """Severity (score over threshold) of each of a user's events flagged from ``start`` to
        ``end``, by event id (the anomaly items, sorted by ``<occurred_at>#<event_id>``)."""
        from vedette.events import format_timestamp

        flagged: dict[str, float] = {}
        for page in self.client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="user_id = :user AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":user": {"S": user_id},
                ":low": {"S": format_timestamp(start)},
                ":high": {"S": format_timestamp(end) + "~"},
            },
            ProjectionExpression="event_id, severity",
        ):
            for item in page["Items"]:
                flagged[item["event_id"]["S"]] = float(item["severity"]["N"])
        return flagged


def _verdict_matches(verdict: Verdict | None, wanted: str) -> bool:
    if wanted == NO_VERDICT:
        return verdict is None
    return verdict is not None and verdict.verdict == wanted
