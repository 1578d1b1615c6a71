"""console_pages: server-side time of the analyst console's pages, p50 and p95 in milliseconds.

The console runs against moto's server on 127.0.0.1 (DynamoDB for alerts and verdicts, S3 for the
archive, read through DuckDB), holding the console tests' world: two alerted users with their
archived events and ``EXTRA_ALERTS`` quieter alerts. Each round requests the alert list, every
alert on its first page and each alerted user's page through Flask's test client, so the figures
are the console's own work and its calls to the emulators, not a browser's. Baseline in the same
run: the console's stylesheet through the same application, the cost of a request that reads
nothing.
"""

from __future__ import annotations

import html
import json
import os
import re
import statistics
import time
from collections.abc import Callable

from console.app import create_app
from emulators import DUMMY_CREDENTIALS, moto_server
from tests.console_factories import build_world

EXTRA_ALERTS = 40
ROUNDS = 5


def _timed(fetch: Callable[[str], int], path: str, samples: list[float]) -> None:
    started = time.perf_counter()
    status = fetch(path)
    samples.append((time.perf_counter() - started) * 1000)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
    }


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with moto_server() as endpoint:
        world = build_world(endpoint, extra_alerts=EXTRA_ALERTS)
        client = create_app(world.services()).test_client()

        def fetch(path: str) -> int:
            return client.get(path).status_code

        listing = client.get("/").get_data(as_text=True)
        alerts = [html.unescape(link) for link in re.findall(r'<a class="open-alert" href="([^"]+)"', listing)]
        users = sorted({f"/user?id={alert.entity}" for alert in world.alerts if alert.kind == "user"})
        pages: dict[str, list[float]] = {"list": [], "alert": [], "user": []}
        stylesheet: list[float] = []
        for _ in range(ROUNDS):
            _timed(fetch, "/", pages["list"])
            for path in alerts:
                _timed(fetch, path, pages["alert"])
            for path in users:
                _timed(fetch, path, pages["user"])
            _timed(fetch, "/static/console.css", stylesheet)
    every_page = [sample for samples in pages.values() for sample in samples]
    by_page = {name: {"requests": len(samples), **_percentiles(samples)} for name, samples in pages.items()}
    print(
        json.dumps(
            {
                "bench": "console_pages",
                "pages": len(every_page),
                **_percentiles(every_page),
                "by_page": by_page,
                "alerts_stored": len(world.alerts),
                "baseline": {"name": "the stylesheet through the same application", **_percentiles(stylesheet)},
            }
        )
    )


if __name__ == "__main__":
    main()
