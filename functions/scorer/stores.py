"""Where the scorer keeps state and results: DynamoDB, S3 and SNS behind small protocols.

Tables (created by the stack, and by the local pipeline under the same names):

- state table, key ``key`` (S): ``user#<user_id>``, ``entity#<kind>#<id>`` for an entity's episode
  evidence (``model.entities.Evidence``; kind ``user`` or ``session``), and an address's items
  (``ip#<ip>`` and the shards' parts of its state: ``scorer.ip_slices``); attributes ``state`` (B,
  the serialized state), ``applied`` (B, per shard the last Kinesis record the item has applied, so
  a retried batch applies nothing twice; ``scorer.progress``), ``seen`` (B, on users: the hashes of
  their last event ids, so a producer's duplicate in a later batch is dropped) and ``expires_at``
  (N, the table's TTL attribute). An address's home item has ``shards`` (BS) instead, and its hot
  items one ``s_<shard tag>`` (B) per shard, both written only by ``UpdateItem`` (``announce``,
  ``save_parts``) so that no shard's write replaces another's. Items written by earlier releases
  hold one position as ``applied_through`` (S, ``<shard>:<sequence number>``) instead of
  ``applied``; both are read.
- anomalies table, key ``user_id`` (S) + ``sk`` (S): ``<occurred_at>#<event_id>`` for an anomaly, so a
  user's anomalies are queryable by time, and ``alert#<window start>`` for the marker that keeps
  alerts to one per user per window (without an entity stage), or ``alert#<episode start>`` under
  the entity (``user_id``, or ``session:<session_id>``) for the one alert of an entity's episode.
  Both are written with ``attribute_not_exists``: a retried batch never records an anomaly twice. A
  marker is the alert's outbox entry: written ``pending`` (``status``) before its alert is
  published and set ``sent`` after; a retry that finds it pending publishes again, with the same
  deduplication id (see ``SnsAlertPublisher``). An entity's marker, once claimed, is rewritten (still
  pending) with the alert's whole record (``DynamoAnomalyStore.describe_alert``: kind, entity,
  score, threshold, severity, episode, its first and last event, pages, reasons in words, the client
  of the request that raised it, when it was raised) and kept like an anomaly (no ``expires_at``);
  its ``alert_feed`` (S, ``entity``) and ``alert_at`` (S, ``<last event>#<partition>``) put it in the
  sparse index ``ALERTS_INDEX``, where the analyst console reads alerts newest first. A per-event
  alert's window marker is rewritten the same way (``event_alert``: the flagged event as a one-event
  episode, from its client). While pending, a record also carries
  ``pending_feed`` (S, ``entity``), removed when it is sent: the sparse index ``PENDING_ALERTS_INDEX``
  (by ``alerted_at``) holds only the alerts not yet sent, which ``scorer.sweeper`` publishes once
  their batch can no longer be retried.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson

from model.client_alerts import alert_client
from model.entities import AlertClient, EntityAlert, EpisodeSoFar
from scorer.exceptions import TransientError
from scorer.progress import legacy_applied
from vedette.events import format_timestamp

BATCH_GET_MAX_KEYS = 100  # DynamoDB BatchGetItem limit
BATCH_WRITE_MAX_ITEMS = 25  # DynamoDB BatchWriteItem limit
UNPROCESSED_RETRIES = 5
USER_PREFIX = "user#"
IP_PREFIX = "ip#"
ENTITY_PREFIX = "entity#"
# A shard's count of the site's traffic now (model.features.site: the pages its visitors reach and
# whether it is failing them): one item per shard, named when it held the pages alone.
SITE_PREFIX = "paths#"
ALERT_PREFIX = "alert#"
# The anomalies table's sparse index of entity alert records, newest first by their last event. One
# index partition holds them all: the alert budget keeps alerts to a few per 1,000 entities a day,
# far below the 1,000 writes/s a partition takes, and one partition pages through time in order.
ALERTS_INDEX = "alerts-by-time"
ALERT_FEED_ATTRIBUTE = "alert_feed"
ALERT_FEED = "entity"
ALERT_AT_ATTRIBUTE = "alert_at"
ALERT_PENDING = "pending"
ALERT_SENT = "sent"
# Counted into its client's alert of the day instead (``model.client_alerts``); the marker names it.
ALERT_FOLDED = "folded"
FOLDED_INTO_ATTRIBUTE = "folded_into"
# On a client's marker: how many alerts were folded into its alert of the day (the console shows it).
FOLDED_COUNT_ATTRIBUTE = "folded_count"
# On an entity's alert record: how far its episode went after the alert (``EpisodeSoFar``).
WENT_ON_UNTIL_ATTRIBUTE = "went_on_until"
PAGES_SO_FAR_ATTRIBUTE = "pages_so_far"
# The sparse index of entity alert records still pending, oldest first (``scorer.sweeper``).
PENDING_ALERTS_INDEX = "alerts-pending"
PENDING_FEED_ATTRIBUTE = "pending_feed"
PENDING_AT_ATTRIBUTE = "alerted_at"

T = TypeVar("T")


NO_PARTS: Mapping[str, bytes] = MappingProxyType({})
PART_ATTRIBUTE_PREFIX = "s_"  # an address's hot item: one attribute per shard (scorer.ip_slices)


class StoredState(NamedTuple):
    """One state item (a tuple: a batch reads and writes one per user and IP)."""

    state: bytes
    applied: bytes = b""  # per shard, the last Kinesis record applied (scorer.progress)
    seen: bytes = b""  # users only: the hashes of their last event ids (scorer.progress), oldest first
    # An address's home item: the tags of the shards whose parts are items of their own.
    shards: frozenset[bytes] = frozenset()
    # An address's hot item: per attribute (``PART_ATTRIBUTE_PREFIX`` and a shard's tag), its part.
    parts: Mapping[str, bytes] = NO_PARTS
    expires_at: int = 0


@dataclass
class Announced:
    """What ``StateStore.announce`` did: the home items it could not write, and those whose set of
    shards was full (the shard was not added)."""

    failed: set[str] = field(default_factory=set)
    full: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Anomaly:
    event: Mapping[str, Any]  # the wire dict
    score: float
    threshold: float
    top_features: list[dict[str, Any]]
    scored_at: str

    @property
    def severity(self) -> float:
        return self.score / self.threshold if self.threshold > 0 else float("inf")


class StateStore(Protocol):
    def load(self, keys: Collection[str], eventually: Collection[str] = ()) -> dict[str, StoredState]:
        """Read ``keys`` strongly consistent (a retry must see this scorer's own last writes) and
        ``eventually`` eventually consistent (half the read units: other shards' parts, whose last
        second may be missing), in one parallel round; the items found."""
        ...

    def save(self, items: Mapping[str, StoredState], expires_at: int) -> set[str]:
        """Write every item; returns the keys that could not be written."""
        ...

    def announce(self, homes: Mapping[str, bytes | None], limit: int, expires_at: int) -> Announced:
        """Add a shard's tag to each home item's ``shards`` unless it holds ``limit`` others (a set
        union: concurrent announcements are all kept), and set its ``expires_at``; a None tag only
        sets ``expires_at``."""
        ...

    def save_parts(self, parts: Mapping[str, tuple[str, bytes]], expires_at: int) -> set[str]:
        """Set one attribute of each item (key -> (attribute, value)), leaving its other attributes
        as they are; returns the keys that could not be written."""
        ...


class AnomalyStore(Protocol):
    def record(self, anomaly: Anomaly) -> bool:
        """Store it once; False when it was already recorded. Raises ``TransientError``."""
        ...

    def claim_alert(self, user_id: str, window_start: int, expires_at: int | None = None) -> str | None:
        """Take the user's (or entity's, or client's) alert slot for the window (or episode, or day),
        marked pending, to expire at ``expires_at`` (default: the window's start plus the alert
        window): None if this call took it, else the status it was found in (``ALERT_PENDING``: its
        alert may not have been sent; ``ALERT_SENT``; ``ALERT_FOLDED``). Raises ``TransientError``."""
        ...

    def alert_sent(self, user_id: str, window_start: int) -> None:
        """Mark the slot's alert published. Raises ``TransientError``."""
        ...

    def count_folded(self, user_id: str, window_start: int, count: int) -> None:
        """Add ``count`` to the alerts folded into the slot's. Raises ``TransientError``."""
        ...

    def alert_folded(self, user_id: str, window_start: int, into: str, expires_at: int) -> bool:
        """Mark the slot's alert counted into another's (``into`` names that one's slot), not sent, to
        expire at ``expires_at``: True if done; False if the slot's alert was recorded (it may have
        been sent, or the sweeper will send it) or the slot is gone. Raises ``TransientError``."""
        ...

    def episode_went_on(self, so_far: EpisodeSoFar) -> None:
        """Add to an entity's alert record how far its episode has gone since (``EpisodeSoFar``),
        unless a later report is there already; nothing where the episode's alert has no record
        (folded into its client's or a wave's). Raises ``TransientError``."""
        ...


class AlertRecords(Protocol):
    def describe_alert(self, alert: EntityAlert, alerted_at: datetime, start: int | None = None) -> None:
        """Write the whole record of an alert onto its claimed marker. Raises ``TransientError``."""
        ...


class AlertPublisher(Protocol):
    def publish(self, anomaly: Anomaly, slot: str, window_start: int) -> None:
        """Publish an anomaly's alert; ``slot`` (``alert_slot``) names its alert slot (the user's
        window from ``window_start``): publishing the same slot again within SNS's deduplication
        interval sends nothing more."""
        ...

    def publish_entity(self, alert: EntityAlert, slot: str) -> None: ...


def alert_slot(partition: str, start: int) -> str:
    """The deduplication id of an alert slot (a user's window, or an entity's episode): at most 128
    characters of the set SNS accepts, whatever the ids hold."""
    return hashlib.sha256(f"{partition}\n{ALERT_PREFIX}{start}".encode()).hexdigest()


def evidence_key(kind: str, entity: str) -> str:
    """The state table key of an entity's episode evidence."""
    return f"{ENTITY_PREFIX}{kind}#{entity}"


def alert_partition(kind: str, entity: str) -> str:
    """Where an entity's alert markers live in the anomalies table (its ``user_id`` attribute)."""
    return entity if kind == "user" else f"{kind}:{entity}"


def alert_sort_key(first_event_at: float) -> str:
    """The marker's ``sk`` of an entity episode: keyed by its first event, in whole seconds."""
    return f"{ALERT_PREFIX}{int(first_event_at)}"


def alert_record_item(alert: EntityAlert, alerted_at: datetime, start: int | None = None) -> dict[str, Any]:
    """The DynamoDB item of an entity alert's whole record, under its marker's key (``start``: the
    marker's, when it is not the episode's first event: a per-event alert's window)."""
    partition = alert_partition(alert.kind, alert.entity)
    last = _timestamp(alert.last_event_at)
    return {
        "user_id": {"S": partition},
        "sk": {"S": alert_sort_key(alert.first_event_at if start is None else start)},
        "kind": {"S": alert.kind},
        "entity": {"S": alert.entity},
        "score": {"N": repr(round(alert.score, 6))},
        "threshold": {"N": repr(round(alert.threshold, 6))},
        "severity": {"N": repr(round(alert.severity, 6))},
        "episode": {"N": str(alert.episode)},
        "first_event_at": {"S": _timestamp(alert.first_event_at)},
        "last_event_at": {"S": last},
        "pages": {"N": str(alert.pages)},
        "reasons": {"L": [{"S": reason} for reason in alert.reasons]},
        **(
            {"client": {"M": {name: {"S": value} for name, value in client_fields(alert.client).items()}}}
            if alert.client is not None
            else {}
        ),
        "alerted_at": {"S": format_timestamp(alerted_at)},
        # Written before the alert is published; DynamoAnomalyStore.alert_sent marks it sent after.
        "status": {"S": ALERT_PENDING},
        ALERT_FEED_ATTRIBUTE: {"S": ALERT_FEED},
        ALERT_AT_ATTRIBUTE: {"S": f"{last}#{partition}"},
        PENDING_FEED_ATTRIBUTE: {"S": ALERT_FEED},
    }


def client_fields(client: AlertClient) -> dict[str, str]:
    """An alert's client as its message and record hold it: the fields known (``address``,
    ``user_agent``, ``country``, ``network``)."""
    return {name: value for name, value in client._asdict().items() if value}


def client_of_record(item: Mapping[str, Any]) -> AlertClient | None:
    """The client an alert record holds (``alert_record_item``); None for a record without one (a
    wave's, or one written before records held it)."""
    fields = item.get("client", {}).get("M")
    if not fields:
        return None
    return AlertClient(**{name: value["S"] for name, value in fields.items() if name in AlertClient._fields})


def event_alert(anomaly: Anomaly) -> EntityAlert:
    """A per-event alert (a model without an entity stage) as an alert record: one flagged event, its
    user, and the features that stood out most."""
    moment = datetime.fromisoformat(anomaly.event["occurred_at"].replace("Z", "+00:00")).timestamp()
    reasons = tuple(
        f"an unusual {explanation['feature']} (contribution {float(explanation.get('contribution', 0.0)):.2f})"
        for explanation in anomaly.top_features
        if "feature" in explanation
    )
    return EntityAlert(
        anomaly.event["user_id"],
        "user",
        anomaly.score,
        anomaly.threshold,
        0,
        moment,
        moment,
        1,
        reasons,
        alert_client(anomaly.event),
    )


class PendingAlert(NamedTuple):
    """An entity alert recorded but not marked sent: its record, and its marker's key."""

    alert: EntityAlert
    partition: str
    start: int
    alerted_at: str


def pending_alert_of(item: Mapping[str, Any]) -> PendingAlert:
    """The alert an ``alert_record_item`` holds, read back."""

    def seconds(name: str) -> float:
        return datetime.fromisoformat(item[name]["S"].replace("Z", "+00:00")).timestamp()

    alert = EntityAlert(
        entity=item["entity"]["S"],
        kind=item["kind"]["S"],
        score=float(item["score"]["N"]),
        threshold=float(item["threshold"]["N"]),
        episode=int(item["episode"]["N"]),
        first_event_at=seconds("first_event_at"),
        last_event_at=seconds("last_event_at"),
        pages=int(item["pages"]["N"]),
        reasons=tuple(reason["S"] for reason in item["reasons"]["L"]),
        client=client_of_record(item),
    )
    start = int(item["sk"]["S"].removeprefix(ALERT_PREFIX))
    return PendingAlert(alert, item["user_id"]["S"], start, item[PENDING_AT_ATTRIBUTE]["S"])


class BadEventSink(Protocol):
    def put(self, name: str, arrived_at: datetime, lines: Sequence[Mapping[str, Any]]) -> None: ...


def _retry_unprocessed(call: Callable[[T], T | None], request: T, what: str, base_delay: float = 0.05) -> None:
    """Call until DynamoDB leaves nothing unprocessed, with jittered backoff; raise if it never does."""
    pending: T | None = request
    for attempt in range(UNPROCESSED_RETRIES + 1):
        if not pending:
            return
        if attempt:
            time.sleep(random.uniform(0, base_delay * 2**attempt))
        pending = call(pending)
    if pending:
        raise TransientError("dynamodb", f"{what}: items still unprocessed after {UNPROCESSED_RETRIES} retries")


def _client_error_is_transient(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, BotoCoreError):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return (
            status >= 500
            or "Throttl" in code
            or code in {"ProvisionedThroughputExceededException", "RequestLimitExceeded"}
        )
    return False


@contextmanager
def transient_errors(service: str, operation: str) -> Iterator[None]:
    """Raise what a retry may cure (throttling, a 5xx, a lost connection) as ``TransientError``
    naming the call; anything else as it is."""
    try:
        yield
    except Exception as error:
        if _client_error_is_transient(error):
            raise TransientError(service, f"{operation}: {error}") from error
        raise


def _condition_failed(error: Exception) -> bool:
    """Whether a conditional write was refused because its condition was false (nothing written)."""
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == (
        "ConditionalCheckFailedException"
    )


class _ConditionFailed(Exception):
    """An UpdateItem's condition was false: nothing was written."""


def stored_state(item: Mapping[str, Any]) -> StoredState:
    """A state table item as read (DynamoDB's JSON of attribute values)."""
    if "applied" in item:
        applied = bytes(item["applied"]["B"])
    else:
        through = item.get("applied_through", {}).get("S")
        applied = legacy_applied(through) if through else b""
    parts = {name: bytes(value["B"]) for name, value in item.items() if name.startswith(PART_ATTRIBUTE_PREFIX)}
    return StoredState(
        bytes(item["state"]["B"]) if "state" in item else b"",
        applied,
        bytes(item["seen"]["B"]) if "seen" in item else b"",
        frozenset(bytes(tag) for tag in item["shards"]["BS"]) if "shards" in item else frozenset(),
        parts or NO_PARTS,
        int(item["expires_at"]["N"]) if "expires_at" in item else 0,
    )


class DynamoStateStore:
    """Per-user and per-IP feature state in one table, read and written in parallel batches."""

    def __init__(self, client: Any, table: str, workers: int = 8) -> None:
        self.client = client
        self.table = table
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="state")

    def load(self, keys: Collection[str], eventually: Collection[str] = ()) -> dict[str, StoredState]:
        chunks = [(chunk, True) for chunk in _chunks(sorted(keys), BATCH_GET_MAX_KEYS)]
        chunks += [(chunk, False) for chunk in _chunks(sorted(eventually), BATCH_GET_MAX_KEYS)]
        found: dict[str, StoredState] = {}
        for part in self.pool.map(lambda chunk: self._load_chunk(*chunk), chunks):
            found.update(part)
        return found

    def _load_chunk(self, keys: list[str], consistent: bool) -> dict[str, StoredState]:
        found: dict[str, StoredState] = {}

        def call(request: dict[str, Any]) -> dict[str, Any] | None:
            with transient_errors("dynamodb", "BatchGetItem"):
                response = self.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table, []):
                found[item["key"]["S"]] = stored_state(item)
            return response.get("UnprocessedKeys") or None

        request = {self.table: {"Keys": [{"key": {"S": key}} for key in keys], "ConsistentRead": consistent}}
        _retry_unprocessed(call, request, "BatchGetItem")
        return found

    def announce(self, homes: Mapping[str, bytes | None], limit: int, expires_at: int) -> Announced:
        announced = Announced()

        def call(key: str) -> None:
            tag = homes[key]
            values: dict[str, Any] = {":e": {"N": str(expires_at)}}
            request: dict[str, Any] = {"UpdateExpression": "SET expires_at = :e"}
            if tag is not None:
                values.update({":tags": {"BS": [tag]}, ":tag": {"B": tag}, ":limit": {"N": str(limit)}})
                request = {
                    "UpdateExpression": "ADD shards :tags SET expires_at = :e",
                    # Already listed (a retry) or room left: DynamoDB evaluates it on the item as it
                    # is when the write applies, so the set never grows past the limit.
                    "ConditionExpression": "attribute_not_exists(shards) OR size(shards) < :limit "
                    "OR contains(shards, :tag)",
                }
            try:
                self._update(key, request, values)
            except _ConditionFailed:
                announced.full.add(key)
            except TransientError:
                announced.failed.add(key)

        list(self.pool.map(call, sorted(homes)))
        return announced

    def save_parts(self, parts: Mapping[str, tuple[str, bytes]], expires_at: int) -> set[str]:
        failed: set[str] = set()

        def call(key: str) -> None:
            attribute, value = parts[key]
            try:
                self._update(
                    key,
                    {
                        "UpdateExpression": "SET #part = :part, expires_at = :e",
                        "ExpressionAttributeNames": {"#part": attribute},
                    },
                    {":part": {"B": value}, ":e": {"N": str(expires_at)}},
                )
            except TransientError:
                failed.add(key)

        list(self.pool.map(call, sorted(parts)))
        return failed

    def _update(self, key: str, request: dict[str, Any], values: dict[str, Any]) -> None:
        try:
            with transient_errors("dynamodb", "UpdateItem"):
                self.client.update_item(
                    TableName=self.table, Key={"key": {"S": key}}, ExpressionAttributeValues=values, **request
                )
        except Exception as error:
            if _condition_failed(error):
                raise _ConditionFailed from None
            raise

    def save(self, items: Mapping[str, StoredState], expires_at: int) -> set[str]:
        chunks = _chunks(sorted(items), BATCH_WRITE_MAX_ITEMS)
        failed: set[str] = set()
        for keys, ok in zip(
            chunks, self.pool.map(lambda part: self._save_chunk(part, items, expires_at), chunks), strict=True
        ):
            if not ok:
                failed.update(keys)
        return failed

    def _save_chunk(self, keys: list[str], items: Mapping[str, StoredState], expires_at: int) -> bool:
        def put(key: str) -> dict[str, Any]:
            item: dict[str, Any] = {
                "key": {"S": key},
                "state": {"B": items[key].state},
                "expires_at": {"N": str(expires_at)},
            }
            if items[key].applied:
                item["applied"] = {"B": items[key].applied}
            if items[key].seen:
                item["seen"] = {"B": items[key].seen}
            return {"PutRequest": {"Item": item}}

        def call(request: dict[str, Any]) -> dict[str, Any] | None:
            with transient_errors("dynamodb", "BatchWriteItem"):
                response = self.client.batch_write_item(RequestItems=request)
            return response.get("UnprocessedItems") or None

        try:
            _retry_unprocessed(call, {self.table: [put(key) for key in keys]}, "BatchWriteItem")
        except TransientError:
            return False
        return True


class DynamoAnomalyStore:
    """Anomalies and alert markers, each written at most once (conditional puts); a marker goes from
    pending to sent."""

    def __init__(self, client: Any, table: str, ttl_seconds: int) -> None:
        self.client = client
        self.table = table
        self.ttl_seconds = ttl_seconds

    def _put_once(self, item: dict[str, Any]) -> bool:
        try:
            with transient_errors("dynamodb", "PutItem"):
                self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(sk)")
        except Exception as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def record(self, anomaly: Anomaly) -> bool:
        event = anomaly.event
        item = {
            "user_id": {"S": event["user_id"]},
            "sk": {"S": f"{event['occurred_at']}#{event['event_id']}"},
            "event_id": {"S": event["event_id"]},
            "occurred_at": {"S": event["occurred_at"]},
            "event_type": {"S": event["event_type"]},
            "score": {"N": repr(anomaly.score)},
            "threshold": {"N": repr(anomaly.threshold)},
            "severity": {"N": repr(round(anomaly.severity, 6))},
            "top_features": {"S": orjson.dumps(anomaly.top_features).decode()},
            "event": {"S": orjson.dumps(event).decode()},
            "scored_at": {"S": anomaly.scored_at},
        }
        return self._put_once(item)

    def claim_alert(self, user_id: str, window_start: int, expires_at: int | None = None) -> str | None:
        from botocore.exceptions import ClientError

        item = {
            "user_id": {"S": user_id},
            "sk": {"S": f"{ALERT_PREFIX}{window_start}"},
            "status": {"S": ALERT_PENDING},
            "expires_at": {"N": str(window_start + self.ttl_seconds if expires_at is None else expires_at)},
        }
        try:
            # A taken slot answers with the marker as it is: no second call to read its status.
            with transient_errors("dynamodb", "PutItem"):
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(sk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            # Endpoints that predate ReturnValuesOnConditionCheckFailure (dynalite, the local
            # pipeline's) answer without the item: it is read instead.
            found = error.response.get("Item") or self._marker(item["user_id"], item["sk"])
            # Markers of earlier releases carry no status: they were kept only once their alert
            # was sent. A marker gone meanwhile (expired): publishing again is the safe side.
            status: str = found.get("status", {}).get("S", ALERT_SENT) if found else ALERT_PENDING
            return status
        return None

    def _marker(self, user_id: dict[str, str], sort_key: dict[str, str]) -> dict[str, Any] | None:
        """A marker's key and status (markers of earlier releases have no status), or None if there is none."""
        with transient_errors("dynamodb", "GetItem"):
            response = self.client.get_item(
                TableName=self.table,
                Key={"user_id": user_id, "sk": sort_key},
                ConsistentRead=True,
                ProjectionExpression="sk, #status",
                ExpressionAttributeNames={"#status": "status"},
            )
        found: dict[str, Any] | None = response.get("Item")
        return found

    def _update_marker(self, user_id: str, window_start: int, **update: Any) -> bool:
        """``UpdateItem`` on an alert marker (``update``: its expressions and values): False if its
        condition failed."""
        try:
            with transient_errors("dynamodb", "UpdateItem"):
                self.client.update_item(
                    TableName=self.table,
                    Key={"user_id": {"S": user_id}, "sk": {"S": f"{ALERT_PREFIX}{window_start}"}},
                    **update,
                )
        except Exception as error:
            if not _condition_failed(error):
                raise
            return False
        return True

    def alert_sent(self, user_id: str, window_start: int) -> None:
        self._update_marker(
            user_id,
            window_start,
            # Sent, it leaves the index of pending alerts.
            UpdateExpression=f"SET #status = :sent REMOVE {PENDING_FEED_ATTRIBUTE}",
            # A window's marker that expired meanwhile is not brought back as a bare item.
            ConditionExpression="attribute_exists(sk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sent": {"S": ALERT_SENT}},
        )

    def count_folded(self, user_id: str, window_start: int, count: int) -> None:
        self._update_marker(
            user_id,
            window_start,
            UpdateExpression=f"ADD {FOLDED_COUNT_ATTRIBUTE} :count",
            ConditionExpression="attribute_exists(sk)",
            ExpressionAttributeValues={":count": {"N": str(count)}},
        )

    def alert_folded(self, user_id: str, window_start: int, into: str, expires_at: int) -> bool:
        return self._update_marker(
            user_id,
            window_start,
            UpdateExpression=f"SET #status = :folded, {FOLDED_INTO_ATTRIBUTE} = :into, expires_at = :expires",
            # Only a bare claim: a recorded alert carries its place in the pending index until it is
            # sent, and one sent is not folded after the fact.
            ConditionExpression=f"#status = :pending AND attribute_not_exists({PENDING_FEED_ATTRIBUTE})",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":folded": {"S": ALERT_FOLDED},
                ":into": {"S": into},
                ":expires": {"N": str(expires_at)},
                ":pending": {"S": ALERT_PENDING},
            },
        )

    def episode_went_on(self, so_far: EpisodeSoFar) -> None:
        self._update_marker(
            alert_partition(so_far.kind, so_far.entity),
            int(so_far.first_event_at),
            UpdateExpression=f"SET {WENT_ON_UNTIL_ATTRIBUTE} = :until, {PAGES_SO_FAR_ATTRIBUTE} = :pages",
            # (a record, not a bare or folded marker; and reports applied in any order end at the
            # latest: the timestamps are of one width, so their text sorts as their times)
            ConditionExpression=(
                f"attribute_exists(reasons) AND (attribute_not_exists({WENT_ON_UNTIL_ATTRIBUTE}) "
                f"OR {WENT_ON_UNTIL_ATTRIBUTE} < :until)"
            ),
            ExpressionAttributeValues={
                ":until": {"S": _timestamp(so_far.last_event_at)},
                ":pages": {"N": str(so_far.pages)},
            },
        )

    def describe_alert(self, alert: EntityAlert, alerted_at: datetime, start: int | None = None) -> None:
        """Rewrite the claimed marker with the alert's whole record (``alert_record_item``), still
        pending and kept without expiry like an anomaly: if the alert then cannot be published, the
        retry finds it pending, writes it again and publishes with the same deduplication id."""
        with transient_errors("dynamodb", "PutItem"):
            self.client.put_item(TableName=self.table, Item=alert_record_item(alert, alerted_at, start))

    def pending_alerts(self, recorded_before: datetime) -> Iterator[PendingAlert]:
        """The entity alerts recorded before ``recorded_before`` and not yet sent, oldest first
        (``PENDING_ALERTS_INDEX``: only pending records are in it). Raises ``TransientError``."""
        with transient_errors("dynamodb", "Query"):
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table,
                IndexName=PENDING_ALERTS_INDEX,
                KeyConditionExpression="#feed = :feed AND #at < :before",
                ExpressionAttributeNames={"#feed": PENDING_FEED_ATTRIBUTE, "#at": PENDING_AT_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":feed": {"S": ALERT_FEED},
                    ":before": {"S": format_timestamp(recorded_before)},
                },
            ):
                yield from map(pending_alert_of, page["Items"])


SNS_SUBJECT_MAX_CHARACTERS = 99  # "less than 100 characters"


def sns_subject(text: str) -> str:
    """An SNS Subject: printable ASCII only (no line breaks or control characters), under 100 characters."""
    cleaned = "".join(char if " " <= char <= "~" else "?" for char in text)
    return cleaned[:SNS_SUBJECT_MAX_CHARACTERS]


class SnsAlertPublisher:
    """Alerts on an SNS topic. On a FIFO topic (the stack's: its ARN ends in ``.fifo``) each alert
    carries its slot as ``MessageDeduplicationId``, so a Publish that SNS accepted but whose answer was
    lost, retried by the client or by Lambda within SNS's 5-minute deduplication interval, is
    delivered once; the message group is the alerted entity, so its alerts keep their order. With
    ``records``, an entity alert's record is written before it is sent, so the analyst console can
    show every alert that was sent."""

    def __init__(self, client: Any, topic_arn: str, records: AlertRecords | None = None) -> None:
        self.client = client
        self.topic_arn = topic_arn
        self.fifo = topic_arn.endswith(".fifo")
        self.records = records

    def publish(self, anomaly: Anomaly, slot: str, window_start: int) -> None:
        if self.records is not None:
            # Recorded like an entity alert, on the window's marker, for the console and the sweeper.
            self.records.describe_alert(event_alert(anomaly), datetime.now(UTC), start=window_start)
        event = anomaly.event
        message = {
            "user_id": event["user_id"],
            "event_id": event["event_id"],
            "event_type": event["event_type"],
            "occurred_at": event["occurred_at"],
            "ip": event.get("ip"),
            "resource": event.get("resource"),
            "score": anomaly.score,
            "severity": round(anomaly.severity, 3),
            "top_features": anomaly.top_features,
        }
        subject = sns_subject(f"Vedette: anomalous {event['event_type']} by {event['user_id']}")
        self._publish(subject, message, {"user_id": event["user_id"]}, event["user_id"], slot)

    def publish_entity(self, alert: EntityAlert, slot: str) -> None:
        """One message per entity episode: who, the episode so far, the score and the reasons in words."""
        if self.records is not None:
            self.records.describe_alert(alert, datetime.now(UTC))
        message = {
            "kind": "entity_alert",
            "entity": {"kind": alert.kind, "id": alert.entity},
            "score": round(alert.score, 4),
            "threshold": round(alert.threshold, 4),
            "severity": round(alert.severity, 3),
            "episode": {
                "number": alert.episode,
                "first_event_at": _timestamp(alert.first_event_at),
                "last_event_at": _timestamp(alert.last_event_at),
                "pages": alert.pages,
            },
            "reasons": list(alert.reasons),
            **({"client": client_fields(alert.client)} if alert.client is not None else {}),
        }
        subject = sns_subject(f"Vedette: anomalous {alert.kind} {alert.entity}")
        attributes = {"entity_kind": alert.kind, "entity_id": alert.entity}
        self._publish(subject, message, attributes, alert_partition(alert.kind, alert.entity), slot)

    def _publish(
        self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str], entity: str, slot: str
    ) -> None:
        """Publish a JSON message with string attributes (for subscription filters); a throttled or
        unreachable SNS raises ``TransientError``."""
        fifo: dict[str, str] = {}
        if self.fifo:
            # Group ids take the deduplication id's characters and length: hash the entity.
            fifo = {"MessageGroupId": hashlib.sha256(entity.encode()).hexdigest(), "MessageDeduplicationId": slot}
        with transient_errors("sns", "Publish"):
            self.client.publish(
                TopicArn=self.topic_arn,
                Subject=subject,
                Message=orjson.dumps(message).decode(),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
                },
                **fifo,
            )


def _timestamp(seconds: float) -> str:
    return format_timestamp(datetime.fromtimestamp(seconds, UTC))


class S3BadEventSink:
    """Bad events as one JSON-lines object per batch; the key is fixed by the batch, so a retry overwrites."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def put(self, name: str, arrived_at: datetime, lines: Sequence[Mapping[str, Any]]) -> None:
        key = f"{self.prefix}{arrived_at.astimezone(UTC):%Y/%m/%d/%H}/{name}.jsonl"
        body = b"".join(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE) for line in lines)
        with transient_errors("s3", "PutObject"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson")


def _chunks(items: Sequence[T] | Iterable[T], size: int) -> list[list[T]]:
    sequence = list(items)
    return [sequence[start : start + size] for start in range(0, len(sequence), size)]
