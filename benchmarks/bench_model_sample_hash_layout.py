"""model_sample_hash_layout: a training sample read from the archive laid out by user hash, against
the same events archived by time only, in the same run.

``VEDETTE_BENCH_HASH_EVENTS`` (default 300,000) simulated events are archived twice with
``archive.ArchiveWriter`` and Firehose's default 300 s buffers, arriving at ``VEDETTE_BENCH_HASH_RATE``
events/s (default 500: a bucket's buffer then holds about 1,200 events, the large objects of a busy
stream; 0 keeps the simulator's own times, a stream of about 0.5 events/s whose bucket objects hold
a few events each): by time only, and by time then user hash in ``VEDETTE_BENCH_HASH_BUCKETS``
(default 128) buckets, each batch of about 1 MiB of records
(Firehose's default buffering hint for a Lambda processor) going through the partitioner's own
handler in Firehose's transformation contract, as ``local_pipeline.firehose`` does. Then each
archive is sampled for the same cap (``VEDETTE_BENCH_HASH_CAP``, default 30,000 events) by the
training path (``model.sampling.sampled_window``, then ``sample_users``). Figures: objects listed and
read, bytes and events read, seconds, events kept, whether the hash-layout sample is exactly every
event of the users below its cutoff, and the partitioner's CPU per event (the Lambda's work, which
``loadtest.plan`` counts). The time-only layout is the baseline.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from archive.layout import DEFAULT_BUFFER_SECONDS

EVENTS = int(os.environ.get("VEDETTE_BENCH_HASH_EVENTS", "300000"))
BUCKETS = int(os.environ.get("VEDETTE_BENCH_HASH_BUCKETS", "128"))
CAP = int(os.environ.get("VEDETTE_BENCH_HASH_CAP", "30000"))
RATE = float(os.environ.get("VEDETTE_BENCH_HASH_RATE", "500"))
# Firehose's default buffering hint for a Lambda processor: it invokes the function with about this
# many bytes of records (Firehose developer guide, "Transform source data": 1 MB, 0.2-3 MB).
PROCESSOR_BUFFER_BYTES = 1024 * 1024


def simulated_records() -> list[tuple[bytes, datetime, dict[str, Any]]]:
    """The events as the stream carries them (the contract's bytes), with their arrival times."""
    from traffic.simulator import Simulator
    from vedette.events import encode_event, normalize_event, parse_timestamp

    simulator = Simulator(seed=11, users=max(1_000, EVENTS // 100), attack_share=0.0)
    records = []
    for number, (event, _) in enumerate(simulator.events(count=EVENTS)):
        wire = normalize_event(event)
        occurred_at = parse_timestamp(wire["occurred_at"])
        if RATE > 0:
            # Paced from the first event on; the sample reads the whole archive, whatever the times.
            first = records[0][1] if records else occurred_at
            arrival = first + timedelta(seconds=number / RATE)
        else:
            arrival = occurred_at
        records.append((encode_event(wire), arrival, wire))
    return records


def write_time_only(folder: Path, records: list[tuple[bytes, datetime, dict[str, Any]]]) -> float:
    from archive import ArchiveWriter

    started = time.perf_counter()
    with ArchiveWriter(folder, buffer_seconds=DEFAULT_BUFFER_SECONDS) as writer:
        for data, arrival, _ in records:
            writer.put(data, arrival)
    return time.perf_counter() - started


def write_by_user_hash(folder: Path, records: list[tuple[bytes, datetime, dict[str, Any]]]) -> tuple[float, float, int]:
    """Seconds writing, seconds in the partitioner's handler, and its invocations."""
    from archive import USER_HASH_PREFIX, ArchiveWriter
    from archive_partitioner.handler import OK, handle
    from local_pipeline.firehose import transformation_invocation

    started = time.perf_counter()
    in_handler, invocations = 0.0, 0
    with ArchiveWriter(folder, prefix=USER_HASH_PREFIX, buffer_seconds=DEFAULT_BUFFER_SECONDS) as writer:
        batch: list[tuple[bytes, datetime]] = []
        size = 0
        for index, (data, arrival, _) in enumerate(records):
            batch.append((data, arrival))
            size += len(data)
            if size < PROCESSOR_BUFFER_BYTES and index < len(records) - 1:
                continue
            invocation = transformation_invocation(batch, "vedette-archive")
            handler_started = time.perf_counter()
            answers = handle(invocation, BUCKETS)["records"]
            in_handler += time.perf_counter() - handler_started
            invocations += 1
            for (_, arrived_at), answer in zip(batch, answers, strict=True):
                if answer["result"] != OK:
                    raise RuntimeError(f"the partitioner failed a simulated event: {answer}")
                writer.put(base64.b64decode(answer["data"]), arrived_at, answer["metadata"]["partitionKeys"])
            batch, size = [], 0
    return time.perf_counter() - started, in_handler, invocations


def sample(folder: Path) -> dict[str, Any]:
    """What the training path reads from ``folder`` for a sample of ``CAP`` events, and keeps."""
    from archive import ReadStats
    from model.sampling import sample_users, sampled_window

    stats = ReadStats()
    started = time.perf_counter()
    events, chosen = sampled_window(folder, None, None, CAP, stats=stats)
    kept = sample_users(events, CAP, chosen.hash_cutoff)
    seconds = time.perf_counter() - started
    return {
        "objects_listed": chosen.objects_listed,
        "objects_read": stats.objects,
        "bytes_listed": chosen.bytes_listed,
        "bytes_read": stats.bytes_read,
        "events_read": stats.events,
        "seconds": round(seconds, 2),
        "events_read_per_second": round(stats.events / seconds),
        "events_kept": len(kept.ordered),
        "users_kept": kept.users_kept,
        "hash_cutoff": kept.hash_cutoff,
        "kept_ids": {event["event_id"] for _, _, event in kept.ordered},
    }


def main() -> None:
    from model.sampling import user_hash

    records = simulated_records()
    with tempfile.TemporaryDirectory(prefix="vedette-bench-hash-") as folder:
        root = Path(folder)
        time_only_write = write_time_only(root / "time-only", records)
        hash_write, in_handler, invocations = write_by_user_hash(root / "by-hash", records)
        baseline, by_hash = sample(root / "time-only"), sample(root / "by-hash")
    below = {wire["event_id"] for _, _, wire in records if user_hash(wire) < by_hash["hash_cutoff"]}
    exact = by_hash.pop("kept_ids") == below
    baseline.pop("kept_ids")
    figures = {
        "bench": "model_sample_hash_layout",
        "archive_events": len(records),
        "buckets": BUCKETS,
        "cap": CAP,
        "stream_events_per_second": RATE or "the simulator's",
        **by_hash,
        "archive_bytes_per_event": round(by_hash["bytes_listed"] / len(records), 1),
        "sample_is_exact": exact,
        "share_of_events_read": round(by_hash["events_read"] / baseline["events_read"], 3),
        "speedup": round(baseline["seconds"] / by_hash["seconds"], 1),
        "write_seconds": round(hash_write, 1),
        "partitioner_invocations": invocations,
        "partitioner_events_per_invocation": round(len(records) / invocations),
        "partitioner_us_per_event": round(in_handler / len(records) * 1e6, 2),
        "baseline": {
            "name": "the same events archived by time only, sampled by the same code",
            **baseline,
            "archive_bytes_per_event": round(baseline["bytes_listed"] / len(records), 1),
            "write_seconds": round(time_only_write, 1),
        },
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
