"""Bound training's cost on a large archive: keep every event of a hash-chosen subset of users.

Sampling events would cut users' histories apart, and the features are per user, so whole users are
kept or dropped: a user is kept while the hash of its id is below a cutoff. Reading streams, the
cutoff starts above every hash and is lowered whenever the kept events outgrow ``max_events``, to
the hash that keeps three quarters of them (bottom-k sampling by hash). Memory stays bounded by
``max_events`` whatever the archive's size; the users kept are a uniform sample, the same ones in
every run over the same archive; and time grows with the archive only by reading and hashing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.entity_training import entity_key
from model.features import event_time, stable_hash

HASH_LIMIT = 2**32  # stable_hash is 32-bit
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


def sample_users(events: Iterable[Any], max_events: int) -> UserSample:
    """At most ``max_events`` events, every event of each user kept, in time order."""
    if max_events < 1:
        raise ValueError(f"max_events: must be positive, got {max_events}")
    cutoff = HASH_LIMIT
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
