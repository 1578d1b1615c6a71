"""The time of a count kept over the events' own times: ``EventClock``.

The site's counts (``model.features.popularity``, ``model.features.outages``) decay or roll over
with the events' times, which may come late, early or skewed: a device's wrong clock, a producer's
backfill, a log replayed from its start. So the clock is the latest event time counted, and it
moves on by at most ``step`` per event: one request stamped a month ahead neither decays every count
away nor ends what is under way. And a run of ``BEHIND_RESET`` events in a row more than ``far``
behind it sets it back to theirs: a clock set ahead by a shard's first event, or by a replay's
earlier run, would otherwise hold every later count at its time until real time caught up.
"""

from __future__ import annotations

from dataclasses import dataclass

# Events in a row far behind the clock that set it back to theirs.
BEHIND_RESET = 10


@dataclass(slots=True)
class EventClock:
    """The latest event time counted (``time``; None before the first, and once set back), and the
    events in a row that came more than ``far`` seconds behind it (``behind``)."""

    step: float
    far: float
    time: float | None = None
    behind: int = 0

    def read(self, now: float) -> float:
        """The time an event at ``now`` counts at: its own, though no earlier than the clock and at
        most ``step`` later."""
        return now if self.time is None else max(self.time, min(now, self.time + self.step))

    def skips(self, now: float) -> bool:
        """Whether an event at ``now`` is far behind the clock and goes uncounted. The last of a run
        of ``BEHIND_RESET`` such events sets the clock back (``time`` None: the count starts again
        from it) and is counted."""
        if self.time is not None and now < self.time - self.far:
            self.behind += 1
            if self.behind < BEHIND_RESET:
                return True
            self.time = None
        self.behind = 0
        return False

    def advance(self, now: float) -> float:
        """Move the clock on for an event at ``now`` that it counts; the time it counts at."""
        self.time = self.read(now)
        return self.time

    def copy(self) -> EventClock:
        return EventClock(self.step, self.far, self.time, self.behind)
