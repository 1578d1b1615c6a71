"""A small world for the analyst console on moto's server: tables created as the local pipeline
creates them, alert records and anomalies written by the scorer's own store, and an archive bucket
written by the archive's own writer (as Firehose lays it out)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from archive import ArchiveWriter
from console.alerts import DynamoAlerts
from console.app import ConsoleServices
from console.labels import DynamoLabels
from console.timeline import DuckDbArchive
from local_pipeline.resources import anomalies_table_definition, labels_table_definition
from model.entities import AlertClient, EntityAlert
from scorer.stores import Anomaly, DynamoAnomalyStore
from tests.conftest import CHROME_ON_LINUX
from traffic.geo import network_of
from vedette.events import format_timestamp, normalize_event

REGION = "us-east-1"
EPISODE_START = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
# Replayed traffic: events arrive (and the alert is raised) long after they occurred, as in the demo.
ARRIVED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SCRIPT_AGENT = "<script>document.title='pwned'</script>"
IMG_RESOURCE = '/search?q="><img src=x onerror=alert(1)>'
SCRAPER = "u-scraper"
HOSTILE = "u-<b>hostile</b>"
# Addresses of the simulator's synthetic geography (traffic.geo): blocks belong to countries.
HOME_IP = "198.18.0.10"  # US
AWAY_IP = "198.18.200.10"  # FR

_worlds = itertools.count()


@dataclass
class ConsoleWorld:
    endpoint_url: str
    anomalies_table: str
    labels_table: str
    bucket: str
    alerts: list[EntityAlert] = field(default_factory=list)
    flagged_event_ids: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION)

    def services(self, page_size: int = 25) -> ConsoleServices:
        dynamodb = self.client("dynamodb")
        return ConsoleServices(
            alerts=DynamoAlerts(dynamodb, self.anomalies_table),
            labels=DynamoLabels(dynamodb, self.labels_table),
            archive=DuckDbArchive(f"s3://{self.bucket}", s3_client=self.client("s3"), refresh_seconds=0),
            network_of=network_of,
            analyst="tester",
            page_size=page_size,
            clock=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        )

    def stored_labels(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.client("dynamodb").scan(TableName=self.labels_table)["Items"]
        return items


def _event(number: int, user: str, at: datetime, **fields: Any) -> dict[str, Any]:
    event = {
        "event_id": f"00000000-0000-4000-8000-{number:012d}",
        "occurred_at": format_timestamp(at),
        "event_type": "page_view",
        "user_id": user,
        "session_id": f"s-{user}",
        "ip": HOME_IP,
        "user_agent": CHROME_ON_LINUX,
        "resource": f"/catalog/items/{number}",
        "status": 200,
        **fields,
    }
    return normalize_event(event)


def build_world(endpoint_url: str, extra_alerts: int = 0) -> ConsoleWorld:
    """Two alerted users (a scraper; a user whose events carry markup), ``extra_alerts`` quieter
    alerts on other users, their events in the archive and the scraper's flagged events."""
    name = f"console-{next(_worlds)}"
    world = ConsoleWorld(endpoint_url, f"{name}-anomalies", f"{name}-labels", f"{name}-archive")
    dynamodb = world.client("dynamodb")
    dynamodb.create_table(**anomalies_table_definition(world.anomalies_table))
    dynamodb.create_table(**labels_table_definition(world.labels_table))
    s3 = world.client("s3")
    s3.create_bucket(Bucket=world.bucket)
    store = DynamoAnomalyStore(dynamodb, world.anomalies_table, ttl_seconds=3600)

    numbers = itertools.count(1)
    events: list[dict[str, Any]] = []
    # The scraper: a usual visit the day before from home, then 40 pages two seconds apart from abroad.
    for minute in range(10):
        events.append(_event(next(numbers), SCRAPER, EPISODE_START - timedelta(days=1) + timedelta(minutes=minute)))
    scrape = [
        _event(
            next(numbers),
            SCRAPER,
            EPISODE_START + timedelta(seconds=2 * n),
            ip=AWAY_IP,
            user_agent="python-requests/2.32",
        )
        for n in range(40)
    ]
    events += scrape
    # The hostile user: attacker-controlled text in the agent and the resource.
    hostile_start = EPISODE_START + timedelta(hours=2)
    hostile = [
        _event(
            next(numbers),
            HOSTILE,
            hostile_start + timedelta(seconds=5 * n),
            user_agent=SCRIPT_AGENT,
            resource=IMG_RESOURCE,
        )
        for n in range(5)
    ]
    events += hostile
    with ArchiveWriter(f"s3://{world.bucket}/", s3_client=s3, buffer_seconds=60) as writer:
        for position, event in enumerate(sorted(events, key=lambda item: item["occurred_at"])):
            writer.put_event(event, arrival=ARRIVED_AT + timedelta(seconds=position))

    for event in scrape[5::5]:
        store.record(Anomaly(event, score=3.0, threshold=1.5, top_features=[], scored_at=format_timestamp(ARRIVED_AT)))
        world.flagged_event_ids.append(event["event_id"])

    def alert(
        entity: str,
        start: datetime,
        end: datetime,
        score: float,
        reasons: tuple[str, ...],
        pages: int,
        client: AlertClient | None = None,
    ) -> None:
        record = EntityAlert(entity, "user", score, 10.0, 1, start.timestamp(), end.timestamp(), pages, reasons, client)
        store.claim_alert(entity, int(record.first_event_at))
        store.describe_alert(record, ARRIVED_AT + timedelta(minutes=2))
        world.alerts.append(record)

    alert(
        SCRAPER,
        EPISODE_START,
        EPISODE_START + timedelta(seconds=78),
        40.0,
        (
            "pages in quick succession (typical pause 2.0 s) (page_gap_mean 1.10, usually 3.20)",
            "an HTTP library or command-line tool as client (http_library_mean 0.89, usually 0.00)",
        ),
        40,
        AlertClient(AWAY_IP, "python-requests/2.32", "FR", "AS64500 Example Hosting"),
    )
    alert(
        HOSTILE,
        hostile_start,
        hostile_start + timedelta(seconds=20),
        15.0,
        ("<script>alert('reason')</script> (agent_rarity_mean 0.90, usually 0.10)",),
        5,
        AlertClient("<b>hostile</b>", SCRIPT_AGENT),
    )
    for number in range(extra_alerts):
        start = EPISODE_START - timedelta(days=3 * (number + 1), hours=number)  # a few weeks before
        alert(
            f"u-quiet-{number:02d}",
            start,
            start + timedelta(minutes=5),
            11.0 + number * 0.01,
            ("a long episode (75 min) (log_duration 8.41, usually 6.00)",),
            12,
        )
    return world
