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
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from model.entities import entity_key
from model.features import event_time, stable_hash

HASH_LIMIT = 2**32  # stable_hash is 32-bit
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


def _user(event: Any) -> str:
    return str(entity_key(event, "user"))


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
        user = _user(event)
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
    users = len({_user(event) for _, _, event in ordered})
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
