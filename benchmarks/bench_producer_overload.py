"""producer_overload: offered load above a stream's capacity for a long while, one shard hot.

4 shards on kinesalite behind ``emulators.kinesis_limits``; two service threads offer twice the
stream's capacity, 40 % of the events on one shard (as a few very active users make it), for
VEDETTE_BENCH_OVERLOAD_SECONDS (20 by default; 60 is the issue's check). Our producer with its
default settings refuses the excess at put (``ShardBacklogFullError``), under both meters; with
``buffer_full_timeout_seconds`` set, put waits instead (bucket meter). Goal: no accepted event
expires or is left undelivered at close. Baseline in the same run: the producer before issue 23
(exported from git), window meter, where its bursts fared worst.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from benchmarks.shard_limits import (
    SHARDS,
    create_stream,
    limited_kinesis,
    previous_producer,
    run_producer,
    with_hot_shard,
)
from benchmarks.workload import realistic_events
from emulators import DUMMY_CREDENTIALS

SECONDS = float(os.environ.get("VEDETTE_BENCH_OVERLOAD_SECONDS", "20"))
WARMUP_SECONDS = 3.0
OFFERED_EVENTS_PER_SECOND = 20_000  # twice what the four shards take
HOT_SHARD_SHARE = 0.4
# The previous producer may hold a long backlog at the end; what it cannot send by then is
# reported undelivered at close.
CLOSE_TIMEOUT_SECONDS = 40.0


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    events = with_hot_shard(realistic_events(20_000), HOT_SHARD_SHARE)
    run = {"rate": OFFERED_EVENTS_PER_SECOND, "warmup": WARMUP_SECONDS, "seconds": SECONDS}
    results: dict[str, Any] = {}
    for limit_algo in ("window", "bucket"):
        with limited_kinesis(limit_algo) as (endpoint, client):
            stream = create_stream(client, "bench-vedette")
            results[limit_algo] = run_producer(endpoint, stream, events, close_timeout=CLOSE_TIMEOUT_SECONDS, **run)
            if limit_algo == "bucket":
                results["bucket_put_waits_up_to_5_s"] = run_producer(
                    endpoint,
                    create_stream(client, "bench-vedette-waiting"),
                    events,
                    close_timeout=CLOSE_TIMEOUT_SECONDS,
                    buffer_full_timeout_seconds=5.0,
                    **run,
                )
            else:
                baseline = previous_producer(
                    endpoint,
                    create_stream(client, "bench-previous"),
                    hot_share=HOT_SHARD_SHARE,
                    close_timeout=CLOSE_TIMEOUT_SECONDS,
                    **run,
                )
    print(
        json.dumps(
            {
                "bench": "producer_overload",
                "shards": SHARDS,
                "seconds": SECONDS,
                "offered_events_per_second": OFFERED_EVENTS_PER_SECOND,
                "hot_shard_share": HOT_SHARD_SHARE,
                **results,
                "baseline": {"window": baseline},
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
