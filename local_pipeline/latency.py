"""Where the time between ``put`` and the scored event goes, stage by stage.

Each live event of the demo carries timestamps the pipeline already has, without a field added to
the event contract:

- ``put``: when a service thread called ``Producer.put``;
- ``arrived``: its Kinesis record's ``ApproximateArrivalTimestamp`` (set when the stream stored it,
  and passed to the function in the Lambda event as ``approximateArrivalTimestamp``);
- ``invoked``: when the event source mapping invoked the function with the batch that checkpointed it;
- ``function_seconds``: that invocation's duration inside the function (the ``Duration`` of
  Lambda's ``REPORT`` line);
- ``scored``: when the mapping checkpointed that batch (the function had answered).

The stages split ``scored - put`` exactly, event by event, so their means add up to the mean
latency and their shares to one. Percentiles of the stages do not add up (the slowest events of
one stage are not those of another); ``tail_share`` is each stage's share of the time of the
slowest ``TAIL`` of events, what a p99 is made of. ``FunctionSteps`` splits the function stage by
the scorer's own steps, as its log lines report them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PERCENTILES = (0.50, 0.95, 0.99)
TAIL = 0.05  # the slowest 5 % of events, for ``tail_share``


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    description: str


STAGES = (
    Stage("producer", "put -> arrival in the stream: the producer's linger, aggregation and PutRecords"),
    Stage(
        "polling",
        "arrival -> invoke: the mapping's polling interval and batching window, the shard's batch "
        "before it, and retries",
    ),
    Stage("function", "inside the function: decode, state reads, featurize, endpoint, DynamoDB and SNS writes"),
    Stage("invoke", "invoke -> checkpoint outside the function: the event and the answer carried both ways"),
)


@dataclass(frozen=True, slots=True)
class EventTimes:
    """One event's timestamps, in seconds since the epoch (``function_seconds`` is a duration)."""

    put: float
    arrived: float
    invoked: float
    function_seconds: float
    scored: float

    @property
    def total(self) -> float:
        return self.scored - self.put

    def stages(self) -> tuple[float, float, float, float]:
        """The seconds each of ``STAGES`` took, in their order; they add up to ``total``."""
        function = min(self.function_seconds, self.scored - self.invoked)
        return (
            self.arrived - self.put,
            self.invoked - self.arrived,
            function,
            self.scored - self.invoked - function,
        )


def percentile(ordered: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``ordered`` (sorted, not empty) lies: the demo's one definition."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 1)


def keeping_up(events: Sequence[EventTimes]) -> dict[str, float]:
    """Whether the pipeline kept up with the events put: the rate they were put at and the rate they
    were scored at (over the same events, from the first put to the last put or scoring), and the
    median latency of the first and of the last quarter of them by put time. When the pipeline falls
    behind, latency grows through the run and measures the backlog, not the pipeline. Empty for
    fewer than four events."""
    if len(events) < 4:
        return {}
    ordered = sorted(events, key=lambda event: event.put)
    first_put = ordered[0].put
    put_seconds = max(ordered[-1].put - first_put, 1e-3)
    scored_seconds = max(max(event.scored for event in ordered) - first_put, 1e-3)
    quarter = len(ordered) // 4

    def median_ms(part: Sequence[EventTimes]) -> float:
        return _milliseconds(percentile(sorted(event.total for event in part), 0.5))

    return {
        "put_per_second": round(len(ordered) / put_seconds, 1),
        "scored_per_second": round(len(ordered) / scored_seconds, 1),
        "first_quarter_p50_ms": median_ms(ordered[:quarter]),
        "last_quarter_p50_ms": median_ms(ordered[-quarter:]),
    }


def breakdown(events: Sequence[EventTimes]) -> dict[str, Any]:
    """Produce-to-scored percentiles and mean, and per stage its percentiles, mean, share of the
    total time and share of the slowest ``TAIL`` of events' time; empty when there are no events."""
    if not events:
        return {}
    totals = [event.total for event in events]
    per_stage = list(zip(*(event.stages() for event in events), strict=True))
    ordered_totals = sorted(totals)
    slowest = sorted(range(len(events)), key=totals.__getitem__)[int(len(events) * (1 - TAIL)) :]
    tail_total = sum(totals[index] for index in slowest)
    grand_total = sum(totals)
    figures: dict[str, Any] = {
        "events": len(events),
        **{f"p{round(share * 100)}_ms": _milliseconds(percentile(ordered_totals, share)) for share in PERCENTILES},
        "mean_ms": _milliseconds(grand_total / len(events)),
        "stages": {},
    }
    for stage, seconds in zip(STAGES, per_stage, strict=True):
        ordered = sorted(seconds)
        figures["stages"][stage.name] = {
            **{f"p{round(share * 100)}_ms": _milliseconds(percentile(ordered, share)) for share in PERCENTILES},
            "mean_ms": _milliseconds(sum(seconds) / len(seconds)),
            "share": round(sum(seconds) / grand_total, 3) if grand_total > 0 else None,
            "tail_share": round(sum(seconds[index] for index in slowest) / tail_total, 3) if tail_total > 0 else None,
        }
    return figures


class FunctionSteps:
    """The function stage split by the scorer's steps: each invocation's ``step_ms`` (from the
    handler's summary log line, ``scorer.batch.BatchOutcome.step_ms``) added up, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._milliseconds: dict[str, float] = {}
        self.invocations = 0

    def add(self, step_ms: Mapping[str, float]) -> None:
        with self._lock:
            self.invocations += 1
            for step, milliseconds in step_ms.items():
                self._milliseconds[step] = self._milliseconds.get(step, 0.0) + milliseconds

    def figures(self) -> dict[str, dict[str, float]]:
        """Per step, in the order the steps first ran: mean milliseconds per invocation and share of
        the steps' time together; empty before any invocation."""
        with self._lock:
            total = sum(self._milliseconds.values())
            return {
                step: {
                    "mean_ms": round(milliseconds / self.invocations, 1),
                    "share": round(milliseconds / total, 3) if total > 0 else 0.0,
                }
                for step, milliseconds in self._milliseconds.items()
            }
