"""Run the console: the services from settings, and a WSGI server on loopback in a thread."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from console.alerts import DynamoAlerts
from console.app import ConsoleServices, create_app
from console.labels import DynamoLabels
from console.timeline import ArchiveEngine, AthenaArchive, DuckDbArchive

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8050


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the console reads and writes: table names, the archive, and the AWS endpoint (None:
    boto3's own configuration, ``AWS_ENDPOINT_URL_*`` included, with the analyst's credentials)."""

    anomalies_table: str
    labels_table: str
    archive: str  # a folder or s3://bucket[/prefix]
    endpoint_url: str | None = None
    # DynamoDB's endpoint where it is not ``endpoint_url`` (the local pipeline's tables are on dynalite).
    dynamodb_endpoint_url: str | None = None
    region: str | None = None
    geo: str = "embedded"  # model.network lookups: embedded, synthetic, none
    analyst: str | None = None
    # The stack's query_workgroup and query_database: timelines through Athena instead of DuckDB.
    athena_workgroup: str | None = None
    athena_database: str | None = None


def build_services(settings: ConsoleSettings) -> ConsoleServices:
    """The stores on real boto3 clients, the archive through Athena (with a workgroup) or DuckDB,
    the IP lookup."""
    import boto3

    from model.network import resolve_network_lookup

    session = boto3.session.Session(region_name=settings.region)
    dynamodb = session.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url or settings.endpoint_url)
    s3: Any = session.client("s3", endpoint_url=settings.endpoint_url) if settings.archive.startswith("s3://") else None
    network_of = resolve_network_lookup(settings.geo).network_of
    archive: ArchiveEngine = DuckDbArchive(settings.archive, s3_client=s3)
    if settings.athena_workgroup:
        if not settings.athena_database:
            raise ValueError("athena_database: needed with athena_workgroup (the stack output query_database)")
        athena = session.client("athena", endpoint_url=settings.endpoint_url)
        archive = AthenaArchive(athena, settings.athena_workgroup, settings.athena_database)
    return ConsoleServices(
        alerts=DynamoAlerts(dynamodb, settings.anomalies_table),
        labels=DynamoLabels(dynamodb, settings.labels_table),
        archive=archive,
        network_of=network_of,
        analyst=settings.analyst or getpass.getuser(),
    )


@dataclass(frozen=True)
class RunningConsole:
    url: str
    server: BaseWSGIServer


@contextmanager
def serving(app: Flask, host: str = LOOPBACK, port: int = 0) -> Iterator[RunningConsole]:
    """Serve ``app`` on ``host``:``port`` (0: any free port) from a thread until the block ends."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console", daemon=True)
    thread.start()
    try:
        yield RunningConsole(f"http://{host}:{server.server_port}", server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def console_app(settings: ConsoleSettings) -> Flask:
    return create_app(build_services(settings))


@contextmanager
def local_console(settings: ConsoleSettings, port: int = 0) -> Iterator[RunningConsole]:
    """The console over a local pipeline's tables and archive, on loopback, until the block ends."""
    with serving(console_app(settings), LOOPBACK, port) as running:
        yield running


def probe(url: str) -> dict[str, Any]:
    """Open the alert list and its newest alert over HTTP, as a browser would: what they showed."""
    import re
    import urllib.request
    from html import unescape

    with urllib.request.urlopen(f"{url}/", timeout=60) as response:
        listing = response.read().decode()
    links = [unescape(link) for link in re.findall(r'<a class="open-alert" href="([^"]+)"', listing)]
    figures: dict[str, Any] = {"url": f"{url}/", "alerts_on_first_page": len(links), "newest_alert_events": None}
    if links:
        with urllib.request.urlopen(f"{url}{links[0]}", timeout=60) as response:
            page = response.read().decode()
        figures["newest_alert_events"] = len(re.findall(r'<tr class="(?:flagged )?\s*(?:episode|context)">', page))
    return figures
