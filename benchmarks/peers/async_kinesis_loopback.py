"""Runs async-kinesis's Producer for a fixed number of events until all are flushed; prints one JSON line.

Its `put` returns long before records are sent (in KPL mode 5 s of puts took 200 s to flush), so
the figure is events over the time from the first put to the end of the final flush.

Executed by benchmarks/bench_producer_loopback.py with .venv-peers' Python, so it may import
only async-kinesis and the standard library (benchmarks.workload is stdlib-only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from kinesis import Producer
from kinesis.processors import JsonProcessor, KPLJsonProcessor

from benchmarks.workload import realistic_events


async def run(endpoint: str, stream: str, mode: str, count: int) -> dict[str, float]:
    events = realistic_events(count)
    processor = KPLJsonProcessor() if mode == "kpl" else JsonProcessor()
    put = 0
    started = time.monotonic()
    async with Producer(
        stream_name=stream, endpoint_url=endpoint, region_name="us-east-1", processor=processor
    ) as producer:
        for event in events:
            # Its KPL mode refuses custom partition keys: every record goes under one key.
            await producer.put(event, partition_key=None if mode == "kpl" else event["user_id"])
            put += 1
        await producer.flush()
    elapsed = time.monotonic() - started
    return {"events": put, "seconds": round(elapsed, 2), "events_per_second": round(put / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--mode", choices=["kpl", "json"], required=True)
    parser.add_argument("--events", type=int, default=20_000)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.endpoint, arguments.stream, arguments.mode, arguments.events))))


if __name__ == "__main__":
    main()
