"""producer_fairness: two producers, each in its own process, on one 4-shard stream.

kinesalite behind ``emulators.kinesis_limits``, under both meters. Each producer (default settings)
is offered as much as the whole stream takes, so together they offer twice its capacity; each
paces itself on its own and learns of the other only from throttles (its adaptive share). Figures:
the share of the stream's byte capacity each one got over a steady window (goal: 40 to 60 % each),
what the stream admitted and throttled in all, and each one's expired events. Baseline in the same
run and conditions: two boto3 writers with the standard retry mode, resending failed entries.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from benchmarks.shard_limits import (
    LIMIT_ALGORITHMS,
    SHARDS,
    create_stream,
    limited_kinesis,
    start_writer,
    writer_figures,
)
from emulators import DUMMY_CREDENTIALS

WARMUP_SECONDS = 5.0
SECONDS = 12.0
EACH_OFFERS_EVENTS_PER_SECOND = 10_000  # about what the four shards take


def two_writers(kind: str, endpoint: str, stream: str) -> dict[str, Any]:
    options = {"warmup": WARMUP_SECONDS, "seconds": SECONDS}
    if kind == "producer":
        options["rate"] = EACH_OFFERS_EVENTS_PER_SECOND
    writers = [start_writer(kind, endpoint, stream, **options) for _ in range(2)]
    first, second = (writer_figures(writer) for writer in writers)
    return {
        "shares_of_byte_capacity": [first.get("own_share_of_byte_capacity"), second.get("own_share_of_byte_capacity")],
        "stream_byte_capacity_admitted": first.get("byte_capacity_admitted"),
        "stream_entries_throttled": first.get("entries_throttled"),
        "accepted_events_expired": [first.get("accepted_events_expired"), second.get("accepted_events_expired")],
        "writers": [first, second],
    }


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    results: dict[str, Any] = {}
    baselines: dict[str, Any] = {}
    for limit_algo in LIMIT_ALGORITHMS:
        with limited_kinesis(limit_algo) as (endpoint, client):
            results[limit_algo] = two_writers("producer", endpoint, create_stream(client, "bench-vedette"))
            baselines[limit_algo] = {
                "name": "two boto3 writers, standard retry mode, failed entries resent with backoff",
                **two_writers("boto3", endpoint, create_stream(client, "bench-boto3")),
            }
    print(
        json.dumps(
            {
                "bench": "producer_fairness",
                "shards": SHARDS,
                "seconds": SECONDS,
                "each_offers_events_per_second": EACH_OFFERS_EVENTS_PER_SECOND,
                **results,
                "baseline": baselines,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
