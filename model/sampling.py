"""Bound training's cost on a large archive: keep every event of a hash-chosen subset of users.

Sampling events would cut users' histories apart, and the features are per user, so whole users are
kept or dropped: a user is kept while the hash of its id is below a cutoff. Reading streams, the
cutoff starts above every hash and is lowered whenever the kept events outgrow ``max_events``, to
the hash that keeps three quarters of them (bottom-k sampling by hash). Memory stays bounded by
``max_events`` whatever the archive's size; the users kept are a uniform sample, the same ones in
every run over the same archive; and time grows with the archive only by reading and hashing.

Past what one machine reads in time, the reading is split (``python -m model.sample``): each of
``n`` instances of a SageMaker Processing job samples its share of the archive's objects
(``archive.ArchivePart``) the same way and writes what it kept with its cutoff (``write_part``).
Bottom-k samples by one hash merge: a worker kept every event (in its objects) of each user below
its cutoff, so below the lowest cutoff of all workers every part holds every event of those users,
and training samples the parts again from that cutoff (``read_parts``). The result is exactly the
events of the users whose hash is below the final cutoff, as one machine would have kept.

On an archive partitioned by the same hash (``archive.layout``: ``user_hash=`` folders, written by
Firehose with ``functions/archive_partitioner``, which calls ``user_hash`` below), the sample needs
only the lowest buckets: ``choose_objects`` keeps, from the window's listing, the buckets in
ascending hash order until the events their listed sizes hold (``estimated_events``) make the
sample with a margin, and gives the first hash it left out as the cutoff to sample from. Every
object that can hold a user below it is read (an object of the time-only layout holds every user,
so it is always read), so the sample is still every event of the users below its cutoff, and
reading grows with the sample, not the archive.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from archive.layout import USER_HASH_LIMIT
from model.entities import entity_key
from model.features import event_time, stable_hash

if TYPE_CHECKING:
    from archive.reader import ArchiveObject, ArchivePart, ReadStats

HASH_LIMIT = USER_HASH_LIMIT  # stable_hash is CRC-32; the archive's user_hash= folders cut the same range
# Training keeps every event of a hash-chosen sample of users up to this many events: under 4 GiB at
# peak here (make bench: model_train), whatever the archive's size.
DEFAULT_MAX_EVENTS = 500_000
SHRINK_TO = 0.75


@dataclass
class UserSample:
    """The events kept, as ``(time, position, event)`` in time order, and what was read."""

    ordered: list[tuple[float, int, Any]]
    events_read: int
    users_kept: int
    hash_cutoff: int

    def to_json(self, max_events: int) -> dict[str, Any]:
        return {
            "max_events": max_events,
            "events_read": self.events_read,
            "events_kept": len(self.ordered),
            "users_kept": self.users_kept,
            "user_share": round(self.hash_cutoff / HASH_LIMIT, 6),
        }


def sampled_user(event: Any) -> str:
    """The user an event is sampled by (an event without one: the user ``"None"``, one user)."""
    return str(entity_key(event, "user"))


def user_hash(event: Any) -> int:
    """The hash users are sampled by, and the archive partitioned by (``archive.layout``)."""
    return stable_hash(sampled_user(event))


def sample_users(events: Iterable[Any], max_events: int, hash_cutoff: int = HASH_LIMIT) -> UserSample:
    """At most ``max_events`` events, every event of each user kept, in time order; only users whose
    hash is below ``hash_cutoff`` (all, by default) are candidates."""
    if max_events < 1:
        raise ValueError(f"max_events: must be positive, got {max_events}")
    cutoff = hash_cutoff
    kept: list[tuple[int, float, int, Any]] = []
    hashes: dict[str, int] = {}
    read = 0
    for read, event in enumerate(events, start=1):
        user = sampled_user(event)
        user_hash = hashes.get(user)
        if user_hash is None:
            user_hash = stable_hash(user)
            if user_hash >= cutoff:
                continue  # not remembered: memory stays bounded by the users kept, not those read
            hashes[user] = user_hash
        elif user_hash >= cutoff:
            continue
        kept.append((user_hash, event_time(event), read, event))
        if len(kept) > max_events:
            values = np.fromiter((item[0] for item in kept), dtype=np.int64, count=len(kept))
            cutoff = int(np.partition(values, int(max_events * SHRINK_TO))[int(max_events * SHRINK_TO)])
            kept = [item for item in kept if item[0] < cutoff]
            # Users above the cutoff can never come back: forget them, so memory stays bounded.
            hashes = {name: value for name, value in hashes.items() if value < cutoff}
    ordered = sorted((moment, position, event) for _, moment, position, event in kept)
    users = len({sampled_user(event) for _, _, event in ordered})
    return UserSample(ordered, read, users, cutoff)


PART_SUFFIX = ".sample.json"


@dataclass(frozen=True)
class SampledArchive:
    """The parts that ``n`` sampling workers wrote: what training reads instead of the archive."""

    folder: Path
    manifests: list[dict[str, Any]]

    @property
    def hash_cutoff(self) -> int:
        return min(int(manifest["hash_cutoff"]) for manifest in self.manifests)

    @property
    def events_read(self) -> int:
        """Events the workers read from the archive, together."""
        return sum(int(manifest["events_read"]) for manifest in self.manifests)

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event the workers kept, part after part (training sorts them)."""
        for manifest in self.manifests:
            with gzip.open(self.folder / manifest["events_file"], "rb") as lines:
                for line in lines:
                    yield orjson.loads(line)

    def to_json(self) -> dict[str, Any]:
        return {"parts": len(self.manifests), "events_read_by_parts": self.events_read}


def part_name(index: int, parts: int) -> str:
    return f"part-{index:05d}-of-{parts:05d}"


def write_part(sample: UserSample, folder: str | os.PathLike[str], index: int, parts: int, max_events: int) -> Path:
    """Write one worker's sample (its events as GZIP JSON lines, and its manifest); returns the manifest."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    name = part_name(index, parts)
    with gzip.open(out / f"{name}.jsonl.gz", "wb", compresslevel=6) as lines:
        for _, _, event in sample.ordered:
            lines.write(orjson.dumps(event) + b"\n")
    manifest = {
        "part": index,
        "parts": parts,
        "events_file": f"{name}.jsonl.gz",
        "hash_cutoff": sample.hash_cutoff,
        **sample.to_json(max_events),
    }
    path = out / f"{name}{PART_SUFFIX}"
    # Written last: a part without its manifest was not finished.
    path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return path


def read_parts(folder: str | os.PathLike[str]) -> SampledArchive | None:
    """The sampled parts in ``folder``, or None when it holds none (an archive, then). Raises
    ``ValueError`` when parts are missing: a sample of part of the archive would train on a skewed
    share of it."""
    root = Path(folder)
    if not root.is_dir():
        return None
    manifests = [orjson.loads(path.read_bytes()) for path in sorted(root.glob(f"*{PART_SUFFIX}"))]
    if not manifests:
        return None
    expected = {int(manifest["parts"]) for manifest in manifests}
    if len(expected) != 1:
        raise ValueError(f"{root}: parts of different splits ({sorted(expected)} parts)")
    (parts,) = expected
    found = sorted(int(manifest["part"]) for manifest in manifests)
    if found != list(range(parts)):
        missing = sorted(set(range(parts)) - set(found))
        raise ValueError(f"{root}: {parts} parts expected, part(s) {missing} missing")
    return SampledArchive(root, manifests)


# GZIP'd archive bytes per event (57.4 B for realistic simulated events in Firehose's 5 MiB objects;
# loadtest.inputs takes it from here). An object costs about ARCHIVE_OBJECT_OVERHEAD_BYTES more than
# its events at that rate: its first events compress with no history to refer to. Measured on the
# same events (benchmarks/workload.py, gzip level 6 as archive/writer.py writes): objects of 100 to
# 12,400 events are 863-905 B above 57.3 B an event; an object of one event is 323 B, of 20 events
# 91 B an event (the small objects a low-volume stream writes into many buckets).
ARCHIVE_BYTES_PER_EVENT = 57.4
ARCHIVE_OBJECT_OVERHEAD_BYTES = 900
# The buckets chosen hold, by the events estimated from their listed sizes, this many times the
# sample: events larger than measured, invalid records and the window's slack hours (objects listed
# for their arrival that hold events outside the window) still leave a full sample. Every instance
# computes the same choice from the same listing, with nothing to agree on.
READ_MARGIN = 2.0
# The choice is remade every this many objects listed, to forget the buckets it can no longer need.
_PRUNE_EVERY = 4096


@dataclass
class ChosenObjects:
    """The objects a sample reads from a window's listing, and the cutoff it samples from: no user
    whose hash is below ``hash_cutoff`` has an event in an object left out."""

    objects: list[ArchiveObject]
    hash_cutoff: int
    objects_listed: int = 0
    bytes_listed: int = 0
    bytes_chosen: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.bytes_chosen = sum(item.size for item in self.objects)

    def to_json(self) -> dict[str, Any]:
        return {
            "objects_listed": self.objects_listed,
            "objects_chosen": len(self.objects),
            "bytes_listed": self.bytes_listed,
            "bytes_chosen": self.bytes_chosen,
            "bucket_cutoff_share": round(self.hash_cutoff / HASH_LIMIT, 6),
        }


def estimated_events(object_bytes: int) -> float:
    """The events a GZIP object of the archive holds, estimated from its listed size alone (the same
    on every instance): its bytes beyond one object's overhead at the measured bytes per event, and
    at least one. It errs low for objects of a few events, so that a choice made of small objects
    reads more than it needs rather than too little."""
    return max(1.0, (object_bytes - ARCHIVE_OBJECT_OVERHEAD_BYTES) / ARCHIVE_BYTES_PER_EVENT)


def choose_objects(listed: Iterable[ArchiveObject], max_events: int) -> ChosenObjects:
    """From a window's objects (``archive.list_window``), those a sample of ``max_events`` needs:
    every object of the time-only layout, and the user-hash buckets in ascending order until the
    events estimated below the next bucket's start (``estimated_events``) hold ``READ_MARGIN``
    samples; that start is the cutoff (``HASH_LIMIT`` when every bucket is needed). A time-only
    archive is read whole, as before."""
    target = max_events * READ_MARGIN
    time_only: list[ArchiveObject] = []
    buckets: dict[int, list[ArchiveObject]] = {}
    cutoff, listed_count, listed_bytes = HASH_LIMIT, 0, 0
    for item in listed:
        listed_count += 1
        listed_bytes += item.size
        start = item.user_hash_start
        if start is None:
            time_only.append(item)
        elif start < cutoff:  # the cutoff only falls as more is listed: a bucket above it stays unread
            buckets.setdefault(start, []).append(item)
        if listed_count % _PRUNE_EVERY == 0:
            # Only ever lower: the buckets at and above the cutoff are forgotten here, so a later
            # estimate over what is left must not raise the cutoff back above them.
            cutoff = min(cutoff, _bucket_cutoff(buckets, time_only, target))
            buckets = {start: items for start, items in buckets.items() if start < cutoff}
    cutoff = min(cutoff, _bucket_cutoff(buckets, time_only, target))
    chosen = time_only + [item for start, items in buckets.items() if start < cutoff for item in items]
    chosen.sort(key=lambda item: item.key)
    return ChosenObjects(chosen, cutoff, listed_count, listed_bytes)


def _bucket_cutoff(buckets: dict[int, list[ArchiveObject]], time_only: list[ArchiveObject], target: float) -> int:
    """The lowest bucket start below which the estimated events reach ``target``: the buckets' own,
    and the share of the time-only objects' events (every user's) below it."""
    time_only_events = sum(estimated_events(item.size) for item in time_only)
    below = 0.0
    for start in sorted(buckets):
        if below + time_only_events * start / HASH_LIMIT >= target:
            return start
        below += sum(estimated_events(item.size) for item in buckets[start])
    return HASH_LIMIT


def sampled_window(
    archive: str | os.PathLike[str],
    start: datetime | None,
    end: datetime | None,
    max_events: int,
    *,
    part: ArchivePart | None = None,
    endpoint_url: str | None = None,
    stats: ReadStats | None = None,
) -> tuple[Iterator[dict[str, Any]], ChosenObjects]:
    """The events of ``[start, end)`` a sample of ``max_events`` needs (``part``'s share of them),
    and the choice they come from: sample them from its ``hash_cutoff``. On a time-only archive,
    every event of the window, and the cutoff is ``HASH_LIMIT``."""
    from archive.reader import DEFAULT_LATE_ARRIVAL, arrival_window, iter_events, list_window

    listed_from, listed_to = arrival_window(start, end, DEFAULT_LATE_ARRIVAL)
    listing = list_window(archive, listed_from, listed_to, endpoint_url=endpoint_url, stats=stats)
    chosen = choose_objects(listing, max_events)
    events = iter_events(archive, start, end, endpoint_url=endpoint_url, stats=stats, part=part, objects=chosen.objects)
    return events, chosen
