"""Runs async-kinesis's Producer against a stream for a fixed time; prints one JSON line.

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


async def run(endpoint: str, stream: str, mode: str, seconds: float) -> dict[str, float]:
    events = realistic_events(50_000)
    processor = KPLJsonProcessor() if mode == "kpl" else JsonProcessor()
    put = 0
    started = time.monotonic()
    async with Producer(
        stream_name=stream, endpoint_url=endpoint, region_name="us-east-1", processor=processor
    ) as producer:
        while time.monotonic() - started < seconds:
            for event in events[:1000]:
                # Its KPL mode refuses custom partition keys: every record goes under one key.
                await producer.put(event, partition_key=None if mode == "kpl" else event["user_id"])
            put += 1000
            events = events[1000:] + events[:1000]
        await producer.flush()
    elapsed = time.monotonic() - started
    return {"events": put, "seconds": round(elapsed, 2), "events_per_second": round(put / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--mode", choices=["kpl", "json"], required=True)
    parser.add_argument("--seconds", type=float, default=20)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(run(arguments.endpoint, arguments.stream, arguments.mode, arguments.seconds))))


if __name__ == "__main__":
    main()
