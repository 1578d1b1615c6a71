"""Analysts' verdicts on alerts, in the labels table (DynamoDB, declared by ``stack.state``).

One item per alert, under the alert's own key in the anomalies table: ``entity`` (S) is the alert
partition (``scorer.stores.alert_partition``: the user id, or ``session:<id>``) and ``alert`` (S) its
marker's sort key (``alert#<episode start>``). A later verdict on the same alert replaces the earlier
one. Beside the verdict and its note, the item copies what training and the backtest need of the
alert (kind, entity, reasons, severity, its last event), so they read labels without a join.

Kept free of the web framework: the stack imports the key names from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from console.exceptions import InvalidVerdictError

LABELS_HASH_KEY = "entity"
LABELS_RANGE_KEY = "alert"
TRUE_POSITIVE = "true_positive"
BENIGN = "benign"
VERDICTS = {TRUE_POSITIVE: "true positive", BENIGN: "benign"}
NOTE_MAX_CHARACTERS = 2000
BATCH_GET_MAX_KEYS = 100  # DynamoDB BatchGetItem limit


@dataclass(frozen=True, slots=True)
class AlertKey:
    """Which alert: its partition in the anomalies table and its episode's start (whole seconds)."""

    partition: str
    start: int

    @property
    def sort_key(self) -> str:
        return f"alert#{self.start}"


@dataclass(frozen=True, slots=True)
class Verdict:
    key: AlertKey
    verdict: str  # TRUE_POSITIVE or BENIGN
    note: str
    analyst: str
    decided_at: str  # RFC 3339 UTC
    kind: str
    entity: str
    reasons: tuple[str, ...]
    severity: float
    last_event_at: str

    @property
    def words(self) -> str:
        return VERDICTS.get(self.verdict, self.verdict)


def check_verdict(verdict: str, note: str) -> tuple[str, str]:
    """The verdict and its note, stripped; raises ``InvalidVerdictError`` for anything else."""
    if verdict not in VERDICTS:
        raise InvalidVerdictError("verdict", f"must be one of {', '.join(VERDICTS)}")
    note = note.strip()
    if len(note) > NOTE_MAX_CHARACTERS:
        raise InvalidVerdictError("note", f"at most {NOTE_MAX_CHARACTERS} characters")
    return verdict, note


def _item(verdict: Verdict) -> dict[str, Any]:
    item: dict[str, Any] = {
        LABELS_HASH_KEY: {"S": verdict.key.partition},
        LABELS_RANGE_KEY: {"S": verdict.key.sort_key},
        "verdict": {"S": verdict.verdict},
        "analyst": {"S": verdict.analyst},
        "decided_at": {"S": verdict.decided_at},
        "kind": {"S": verdict.kind},
        "entity_id": {"S": verdict.entity},
        "reasons": {"L": [{"S": reason} for reason in verdict.reasons]},
        "severity": {"N": repr(verdict.severity)},
        "last_event_at": {"S": verdict.last_event_at},
    }
    if verdict.note:
        item["note"] = {"S": verdict.note}
    return item


def _verdict(item: dict[str, Any]) -> Verdict:
    sort_key = item[LABELS_RANGE_KEY]["S"]
    return Verdict(
        key=AlertKey(item[LABELS_HASH_KEY]["S"], int(sort_key.removeprefix("alert#"))),
        verdict=item["verdict"]["S"],
        note=item.get("note", {}).get("S", ""),
        analyst=item.get("analyst", {}).get("S", ""),
        decided_at=item.get("decided_at", {}).get("S", ""),
        kind=item.get("kind", {}).get("S", ""),
        entity=item.get("entity_id", {}).get("S", ""),
        reasons=tuple(value["S"] for value in item.get("reasons", {}).get("L", [])),
        severity=float(item.get("severity", {}).get("N", "nan")),
        last_event_at=item.get("last_event_at", {}).get("S", ""),
    )


class DynamoLabels:
    """The labels table through a boto3 DynamoDB client."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put(self, verdict: Verdict) -> None:
        self.client.put_item(TableName=self.table, Item=_item(verdict))

    def get(self, key: AlertKey) -> Verdict | None:
        response = self.client.get_item(
            TableName=self.table,
            Key={LABELS_HASH_KEY: {"S": key.partition}, LABELS_RANGE_KEY: {"S": key.sort_key}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _verdict(item) if item else None

    def get_many(self, keys: Iterable[AlertKey]) -> dict[AlertKey, Verdict]:
        """The verdicts of those alerts that have one."""
        wanted = sorted(set(keys), key=lambda key: (key.partition, key.start))
        found: dict[AlertKey, Verdict] = {}
        for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {LABELS_HASH_KEY: {"S": key.partition}, LABELS_RANGE_KEY: {"S": key.sort_key}}
                        for key in wanted[start : start + BATCH_GET_MAX_KEYS]
                    ]
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    verdict = _verdict(item)
                    found[verdict.key] = verdict
                request = response.get("UnprocessedKeys") or {}
        return found

    def for_partition(self, partition: str) -> list[Verdict]:
        """Every verdict on an entity's alerts, oldest episode first."""
        verdicts: list[Verdict] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="#entity = :entity",
            ExpressionAttributeNames={"#entity": LABELS_HASH_KEY},
            ExpressionAttributeValues={":entity": {"S": partition}},
        ):
            verdicts.extend(_verdict(item) for item in page["Items"])
        return verdicts

    def all(self) -> list[Verdict]:
        """Every verdict (a scan: the table holds one item per judged alert)."""
        verdicts: list[Verdict] = []
        for page in self.client.get_paginator("scan").paginate(TableName=self.table):
            verdicts.extend(_verdict(item) for item in page["Items"])
        return verdicts
