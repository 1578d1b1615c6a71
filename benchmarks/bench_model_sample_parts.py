"""model_sample_parts: the archive read that dominates training on a large archive, split across
workers (``python -m model.sample``, one process per part, as the instances of the retraining
cycle's sampling job), against one reader of the whole archive in the same run.

An archive of ``VEDETTE_BENCH_SAMPLE_EVENTS`` (default 1,000,000) simulated events is written once
(Firehose's layout, one object a minute of arrivals). Then, each on its own: one worker reading
every object (the baseline: what the training job does without sampling instances), and
``VEDETTE_BENCH_SAMPLE_WORKERS`` (default: this machine's cores) workers at once, each reading its
part; and the merge the training job reads back. Figures: wall seconds, archive events read per
second, the speed-up, and whether the merged sample equals the whole-archive sample's users below
the final cutoff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EVENTS = int(os.environ.get("VEDETTE_BENCH_SAMPLE_EVENTS", "1000000"))
WORKERS = int(os.environ.get("VEDETTE_BENCH_SAMPLE_WORKERS", str(os.cpu_count() or 2)))
MAX_EVENTS = 500_000


def write_archive(folder: Path) -> None:
    from archive import ArchiveWriter
    from traffic.simulator import Simulator

    simulator = Simulator(seed=9, users=max(1_000, EVENTS // 100), attack_share=0.0)
    with ArchiveWriter(folder, buffer_seconds=60) as writer:
        for event, _ in simulator.events(count=EVENTS):
            writer.put_event(event)


def run_workers(archive: Path, out: Path, parts: int) -> float:
    """Seconds for ``parts`` sampling workers run at once, each a process of its own."""
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "model.sample", "--archive", str(archive), "--out", str(out)),
                *("--part", f"{index}/{parts}", "--max-events", str(MAX_EVENTS)),
            ],
            stdout=subprocess.DEVNULL,
        )
        for index in range(parts)
    ]
    for worker in workers:
        if worker.wait() != 0:
            raise RuntimeError(f"a sampling worker failed with exit code {worker.returncode}")
    return time.perf_counter() - started


def main() -> None:
    from archive import iter_events
    from model.entities import entity_key
    from model.features import stable_hash
    from model.sampling import read_parts, sample_users

    with tempfile.TemporaryDirectory(prefix="vedette-bench-parts-") as folder:
        root = Path(folder)
        write_archive(root / "archive")
        one_seconds = run_workers(root / "archive", root / "one", 1)
        split_seconds = run_workers(root / "archive", root / "split", WORKERS)
        one, split = read_parts(root / "one"), read_parts(root / "split")
        assert one is not None
        assert split is not None
        started = time.perf_counter()
        merged = sample_users(split.events(), MAX_EVENTS, split.hash_cutoff)
        merge_seconds = time.perf_counter() - started
        whole = sample_users(one.events(), MAX_EVENTS, one.hash_cutoff)
        # Exact: the merge is every archived event of the users below its cutoff, none other.
        below = {
            event["event_id"]
            for event in iter_events(root / "archive")
            if stable_hash(str(entity_key(event, "user"))) < merged.hash_cutoff
        }
        exact = {event["event_id"] for _, _, event in merged.ordered} == below
        figures: dict[str, Any] = {
            "bench": "model_sample_parts",
            "archive_events": split.events_read,
            "workers": WORKERS,
            "seconds": round(split_seconds, 1),
            "events_read_per_second": round(split.events_read / split_seconds),
            "merge_seconds": round(merge_seconds, 1),
            "events_kept": len(merged.ordered),
            "speedup": round(one_seconds / split_seconds, 2),
            "merged_sample_is_exact": exact,
            "baseline": {
                "name": "one worker reading the whole archive",
                "seconds": round(one_seconds, 1),
                "events_read_per_second": round(one.events_read / one_seconds),
                "events_kept": len(whole.ordered),
            },
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
