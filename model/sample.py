"""Sample one share of the archive for training: the reading of a large archive, split across the
instances of a SageMaker Processing job (``model.sampling`` says why the parts merge exactly).

    python -m model.sample --archive s3://bucket/ --out DIR [--part i/n] [--start T] [--end T]
    python -m model.sample --archive s3://bucket/ --out DIR --as-of T --days N   (a retraining cycle's window)

Each instance lists the window, chooses the objects the sample needs (all of a time-only archive;
on one partitioned by the user's hash, the lowest buckets: ``model.sampling.choose_objects``, the
same choice on every instance), reads those of its part (``archive.ArchivePart``: by a hash of the
key, so no instance needs to know what the others read), keeps every event of a hash-chosen sample of users as
``model.train`` does, and writes them with its cutoff to ``--out``. ``python -m model.train --train
DIR`` on the folder of every part trains on their merge. In a processing job the part is the
instance's place among the job's hosts (``/opt/ml/config/resourceconfig.json``); ``--part`` sets it
by hand, so that ``n`` processes on one machine do the same.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from archive import ArchivePart, ReadStats
from model.sampling import DEFAULT_MAX_EVENTS, sample_users, sampled_window, write_part

RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
PROCESSING_OUTPUT = "/opt/ml/processing/output/sample"


def part_of_this_host(resource_config: str | os.PathLike[str] = RESOURCE_CONFIG) -> ArchivePart:
    """This instance's part: its place among the job's hosts (one part when not in a job)."""
    path = Path(resource_config)
    if not path.is_file():
        return ArchivePart(0, 1)
    config = json.loads(path.read_text())
    hosts = sorted(config["hosts"])
    return ArchivePart(hosts.index(config["current_host"]), len(hosts))


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a time zone (e.g. 2026-11-01T00:00:00Z)")
    return moment


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.sample", description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", required=True, help="archive: folder or s3:// URL")
    parser.add_argument("--out", default=PROCESSING_OUTPUT, help="folder for this part (default %(default)s)")
    parser.add_argument("--part", type=ArchivePart.parse, default=None, help="i/n: this worker's part (from 0)")
    parser.add_argument("--start", type=_parse_time, default=None, help="first event time (ISO 8601, UTC)")
    parser.add_argument("--end", type=_parse_time, default=None, help="end of the window, exclusive")
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="instead of --start/--end: the training window of the cycle started at --as-of (model.lifecycle)",
    )
    parser.add_argument("--as-of", default=None, help="with --days: the cycle's start time (default: now)")
    parser.add_argument("--max-events", type=int, default=DEFAULT_MAX_EVENTS, help="as model.train's")
    parser.add_argument("--endpoint-url", default=None, help="S3 endpoint (else AWS_ENDPOINT_URL_S3)")
    arguments = parser.parse_args(argv)
    if arguments.days is not None and (arguments.start or arguments.end):
        parser.error("give --days (with --as-of) or --start/--end, not both")
    if arguments.days is not None and arguments.days < 1:
        parser.error("--days must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = parse_args(argv)
    part = arguments.part or part_of_this_host()
    started = time.perf_counter()
    start, end = arguments.start, arguments.end
    if arguments.days is not None:
        from model.lifecycle import newest_complete_day, parse_as_of, training_window

        held_out_day = newest_complete_day(arguments.archive, parse_as_of(arguments.as_of), arguments.endpoint_url)
        start, end = training_window(held_out_day, arguments.days)
    stats = ReadStats()
    # On a user-hash partitioned archive, only the lowest buckets the sample needs (every instance
    # makes the same choice from the same listing); this part reads its share of them.
    events, chosen = sampled_window(
        arguments.archive, start, end, arguments.max_events, part=part, endpoint_url=arguments.endpoint_url, stats=stats
    )
    sample = sample_users(events, arguments.max_events, chosen.hash_cutoff)
    manifest = write_part(sample, arguments.out, part.index, part.parts, arguments.max_events)
    summary = {
        "part": str(part),
        "window": [None if start is None else start.isoformat(), None if end is None else end.isoformat()],
        "manifest": str(manifest),
        "objects": stats.objects,
        "bytes": stats.bytes_read,
        **chosen.to_json(),
        "invalid_records": stats.invalid,
        **sample.to_json(arguments.max_events),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
