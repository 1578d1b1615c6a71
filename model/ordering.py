"""Events put in time order as they stream, holding back only a few minutes of them.

Logs are written in about the order requests finish, by several servers, or delivered out of order
(Firehose, CloudFront's several files an hour); what reads them in time order (the import joining
sessions, the backtest replaying) holds each event until ``slack`` seconds of newer ones have come.
"""

from __future__ import annotations

import heapq
import math
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any, TypeVar

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


def sorted_by_time(
    items: Iterable[Item], moment_of: Callable[[Item], float], run_size: int
) -> Iterator[tuple[float, Item]]:
    """``items`` as ``(time, item)`` in time order, whatever their order; ties keep their order.
    Runs of ``run_size`` are sorted in memory, and where there are several, each is written to a
    temporary file and the runs merged as they are read back: memory holds one run, not the input
    (as ``sort`` does, a log of any size)."""
    with ExitStack() as files:
        runs: list[Iterator[tuple[float, int, Item]]] = []
        run: list[tuple[float, int, Item]] = []
        for position, item in enumerate(items):
            run.append((moment_of(item), position, item))
            if len(run) == run_size:
                runs.append(_spilled(sorted(run, key=_time_then_position), files))
                run = []
        run.sort(key=_time_then_position)
        merged = heapq.merge(*runs, iter(run), key=_time_then_position) if runs else iter(run)
        for moment, _, item in merged:
            yield moment, item


# Items a run writes to its file at a time: one pickle each would cost a call per item.
_SPILL_BATCH = 1_000


def _time_then_position(entry: tuple[float, int, Any]) -> tuple[float, int]:
    return entry[0], entry[1]


def _spilled(run: list[tuple[float, int, Item]], files: ExitStack) -> Iterator[tuple[float, int, Item]]:
    """``run`` written to a temporary file (deleted when ``files`` closes), read back lazily."""
    spill = files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed with the stack)
    for start in range(0, len(run), _SPILL_BATCH):
        pickle.dump(run[start : start + _SPILL_BATCH], spill, protocol=pickle.HIGHEST_PROTOCOL)
    batches = -(-len(run) // _SPILL_BATCH)
    run.clear()

    def read_back() -> Iterator[tuple[float, int, Item]]:
        offset = 0
        for _ in range(batches):
            # (the runs are read in turns: each remembers where its next batch begins)
            spill.seek(offset)
            batch = pickle.load(spill)
            offset = spill.tell()
            yield from batch

    return read_back()
