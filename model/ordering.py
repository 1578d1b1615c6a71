"""Events put in time order as they stream, holding back only a few minutes of them.

Logs are written in about the order requests finish, by several servers, or delivered out of order
(Firehose, CloudFront's several files an hour); what reads them in time order (the import joining
sessions, the backtest replaying) holds each event until ``slack`` seconds of newer ones have come.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")


def in_time_order(
    items: Iterable[Item], moment_of: Callable[[Item], float], slack: float, max_held: int | None = None
) -> Iterator[tuple[float, Item]]:
    """``items`` as ``(time, item)`` in time order, holding back only ``slack`` seconds of them (and at
    most ``max_held``, the oldest let go first); ties keep their order. An item more than ``slack``
    behind the newest seen comes out when it arrives."""
    pending: list[tuple[float, int, Item]] = []
    newest = -math.inf
    for position, item in enumerate(items):
        moment = moment_of(item)
        newest = max(newest, moment)
        heapq.heappush(pending, (moment, position, item))
        while pending and (pending[0][0] <= newest - slack or (max_held is not None and len(pending) > max_held)):
            moment, _, ready = heapq.heappop(pending)
            yield moment, ready
    while pending:
        moment, _, ready = heapq.heappop(pending)
        yield moment, ready
