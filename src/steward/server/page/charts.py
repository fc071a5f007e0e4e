"""The page's two charts as plain geometry (pure): the templates draw them as inline SVG.

No script draws anything: the numbers become ``<rect>`` attributes on the server, so a chart
reads the same with JavaScript off, and each chart sits beside a table with the same numbers
for screen readers (the SVG itself is ``aria-hidden``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from steward.server.page.queue import SERIES, Hour

BAR = 5  # px per bar of the hourly chart
GAP = 3  # px between hours
HEIGHT = 120  # px of the hourly chart's plot area
GANTT_WIDTH = 720  # px of the Gantt's time axis
GANTT_ROW = 22  # px per row of the Gantt
GANTT_LABEL = 220  # px left of the axis for row titles


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    kind: str
    """A CSS class: the series, or a stage's status."""
    title: str
    """What a pointer over the bar shows (an SVG ``<title>``)."""


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    rects: list[Rect]
    labels: list[Label]


def hourly(hours: Sequence[Hour]) -> Chart:
    """One group of bars per hour (received, done, retried, dead), scaled to the busiest
    series; an hour label every six hours."""
    peak = max((h.counts[s] for h in hours for s in SERIES), default=0) or 1
    group = BAR * len(SERIES) + GAP
    rects: list[Rect] = []
    labels: list[Label] = []
    for k, hour in enumerate(hours):
        x0 = k * group
        for j, series in enumerate(SERIES):
            n = hour.counts[series]
            h = HEIGHT * n / peak
            rects.append(
                Rect(
                    x=x0 + j * BAR,
                    y=HEIGHT - h,
                    width=BAR - 1,
                    height=h,
                    kind=series,
                    title=f"{_hh(hour.start)} UTC: {n} {series}",
                )
            )
        if k % 6 == 0:
            labels.append(Label(x=x0, y=HEIGHT + 14, text=_hh(hour.start)))
    labels.append(Label(x=0, y=10, text=f"max {peak}"))
    return Chart(width=len(hours) * group, height=HEIGHT + 18, rects=rects, labels=labels)


@dataclass(frozen=True, slots=True)
class Span:
    """One bar of a release run: a stage, or a part of one (a region, an architecture)."""

    title: str
    status: str
    start: float
    """Seconds from the run's first start."""
    seconds: float
    depth: int = 0
    """0 for a stage, 1 for its parts."""


def gantt(spans: Sequence[Span]) -> Chart:
    """Horizontal bars on one time axis, one row per span, as `release run`'s Mermaid Gantt
    draws them."""
    end = max((s.start + s.seconds for s in spans), default=0.0) or 1.0
    scale = GANTT_WIDTH / end
    rects: list[Rect] = []
    labels: list[Label] = []
    for row, span in enumerate(spans):
        y = row * GANTT_ROW
        indent = "  " * span.depth
        labels.append(Label(x=GANTT_LABEL - 8, y=y + 15, text=indent + span.title, anchor="end"))
        rects.append(
            Rect(
                x=GANTT_LABEL + span.start * scale,
                y=y + 4,
                width=max(span.seconds * scale, 1.0),
                height=GANTT_ROW - 8,
                kind=span.status if span.depth == 0 else f"{span.status} part",
                title=f"{span.title}: {span.status}, {span.seconds:.2f}s",
            )
        )
    height = len(spans) * GANTT_ROW + 18
    for k in range(5):
        t = end * k / 4
        labels.append(
            Label(x=GANTT_LABEL + t * scale, y=height - 4, text=f"{t:.0f}s", anchor="middle")
        )
    return Chart(width=GANTT_LABEL + GANTT_WIDTH + 20, height=height, rects=rects, labels=labels)


def _hh(when: datetime) -> str:
    return when.strftime("%H:00")
