"""Small charts as geometry for inline SVG, drawn server-side by the templates (``_charts.html``).

Only numbers and labels computed here reach the SVG, and Jinja escapes the labels: nothing from an
event is ever drawn as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

WIDTH = 640
HEIGHT = 120
MARGIN = 24
BUCKETS = 40


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    marked: bool = False


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    title: str
    marked: bool = False


@dataclass(frozen=True)
class Chart:
    """A chart's shapes in a ``WIDTH`` x ``HEIGHT`` box; ``rule_y`` a horizontal rule (a threshold)."""

    title: str
    bars: list[Bar] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    rule_y: float | None = None
    rule_label: str = ""
    band: tuple[float, float] | None = None  # x range shaded (the episode)
    left_label: str = ""
    right_label: str = ""
    top_label: str = ""
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_bottom(self) -> float:
        return self.height - MARGIN


def _x(moment: datetime, start: datetime, end: datetime) -> float:
    span = max((end - start).total_seconds(), 1.0)
    share = min(max((moment - start).total_seconds() / span, 0.0), 1.0)
    return MARGIN + share * (WIDTH - 2 * MARGIN)


def _y(value: float, top: float) -> float:
    share = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
    return HEIGHT - MARGIN - share * (HEIGHT - 2 * MARGIN)


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def rate_chart(
    times: Sequence[datetime],
    start: datetime,
    end: datetime,
    episode: tuple[datetime, datetime] | None = None,
    flagged: Sequence[datetime] = (),
) -> Chart:
    """Events per interval from ``start`` to ``end`` as bars; intervals holding a flagged event marked."""
    span = max((end - start).total_seconds(), 1.0)
    step = span / BUCKETS
    counts = [0] * BUCKETS
    marked = [False] * BUCKETS
    for moment in times:
        counts[min(BUCKETS - 1, max(0, int((moment - start).total_seconds() / step)))] += 1
    for moment in flagged:
        marked[min(BUCKETS - 1, max(0, int((moment - start).total_seconds() / step)))] = True
    top = max(counts, default=0)
    width = (WIDTH - 2 * MARGIN) / BUCKETS
    per_minute = 60.0 / step
    bars = [
        Bar(
            MARGIN + index * width,
            _y(count, top),
            max(width - 1, 1),
            HEIGHT - MARGIN - _y(count, top),
            f"{count} events ({count * per_minute:.1f}/min)",
            marked[index],
        )
        for index, count in enumerate(counts)
        if count
    ]
    band = (_x(episode[0], start, end), _x(episode[1], start, end)) if episode else None
    return Chart(
        "Events over time",
        bars=bars,
        band=band,
        left_label=_clock(start),
        right_label=_clock(end),
        top_label=f"{top} per {step / 60:.1f} min",
    )


def score_chart(points: Sequence[tuple[datetime, float]], start: datetime, end: datetime) -> Chart:
    """Each flagged event's severity (its score over the event model's threshold) against the line at 1."""
    top = max([1.5, *(value * 1.1 for _, value in points)])
    dots = [
        Dot(_x(moment, start, end), _y(value, top), f"{_clock(moment)}: severity {value:.2f}", True)
        for moment, value in points
    ]
    return Chart(
        "Flagged events' severity (score / threshold)",
        dots=dots,
        rule_y=_y(1.0, top),
        rule_label="flagged from severity 1",
        left_label=_clock(start),
        right_label=_clock(end),
        top_label=f"{top:.1f}",
    )


def hours_chart(hours: Sequence[int]) -> Chart:
    """Events by UTC hour of day (24 bars)."""
    counts = [0] * 24
    for hour in hours:
        counts[hour % 24] += 1
    top = max(counts, default=0)
    width = (WIDTH - 2 * MARGIN) / 24
    bars = [
        Bar(
            MARGIN + hour * width,
            _y(count, top),
            width - 2,
            HEIGHT - MARGIN - _y(count, top),
            f"{hour:02d}:00 UTC: {count} events",
        )
        for hour, count in enumerate(counts)
        if count
    ]
    return Chart("Events by hour of day (UTC)", bars=bars, left_label="00:00", right_label="23:59", top_label=str(top))
