"""Produce-to-scored latency from probes: events the load test puts and the scorer records.

Each producer process puts one probe a second: an SQL injection by a probe user, which the model
flags, so the scorer writes it to the anomalies table with the time it scored it (``scored_at``). The
latency of a probe is ``scored_at`` minus the time it was put. Probes reach the scorer through the
same producer, stream and mapping as the load, so they wait behind it: this is the end-to-end delay
the load causes. A probe the model does not flag, or one not scored within the wait, has no
latency; the report counts them. On AWS the probe users' alerts are limited to one per window like
any user's.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def probe_latencies(
    dynamodb: Any, table: str, probes: list[dict[str, Any]], wait_seconds: float = 30.0
) -> dict[str, Any]:
    """Poll the anomalies table for every probe until all are found or ``wait_seconds`` pass."""
    pending = {(probe["user_id"], f"{probe['occurred_at']}#{probe['event_id']}"): probe for probe in probes}
    latencies: list[float] = []
    deadline = time.monotonic() + wait_seconds
    while pending and time.monotonic() < deadline:
        keys = list(pending)[:100]  # BatchGetItem takes at most 100 keys
        response = dynamodb.batch_get_item(
            RequestItems={table: {"Keys": [{"user_id": {"S": user}, "sk": {"S": sk}} for user, sk in keys]}}
        )
        for item in response.get("Responses", {}).get(table, []):
            probe = pending.pop((item["user_id"]["S"], item["sk"]["S"]), None)
            if probe is not None:
                latencies.append(_seconds(item["scored_at"]["S"]) - probe["put_at"])
        if pending and not response.get("Responses", {}).get(table):
            time.sleep(0.5)
    ordered = sorted(latencies)

    def percentile(share: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000) if ordered else None

    return {
        "probes": len(probes),
        "probes_scored": len(latencies),
        "probes_not_found": len(pending),
        "produce_to_scored_ms_p50": percentile(0.50),
        "produce_to_scored_ms_p99": percentile(0.99),
        "produce_to_scored_ms_max": round(ordered[-1] * 1000) if ordered else None,
    }
