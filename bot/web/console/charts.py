"""Chart geometry for the supervisors' dashboard: plain numbers the templates draw as SVG.

Why server-side SVG: the console's Content-Security-Policy allows no inline script and no
inline style (`style=` attributes are refused by the browser). SVG geometry attributes (`x`,
`y`, `width`, `height`, `points`) are not CSS, so charts drawn from them work under that policy
and without JavaScript; their colours come from classes in console.css. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

# The funnel chart's coordinate system (the SVG viewBox; the browser scales it to the card).
FUNNEL_WIDTH = 760.0
FUNNEL_LABELS = 140.0  # step names, right-aligned before the bars
FUNNEL_BARS = 400.0  # the widest bar (everyone who entered); the counts follow it
FUNNEL_ROW = 40.0
FUNNEL_BAR_HEIGHT = 28.0
MIN_VISIBLE = 2.0  # a step someone reached never disappears, however few they were
LABEL_CHARS = 18  # about 130 px of 13 px text: what fits before the bars

# The trend charts' coordinate system.
TREND_WIDTH = 520.0
TREND_HEIGHT = 230.0
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 58.0, 508.0, 18.0, 186.0
MAX_COLUMN = 36.0
MAX_X_LABELS = 7
MAX_VALUE_LABELS = 14  # more columns than this: values only in the tooltips and the table

# Axis steps for durations, in seconds: what people read easily (30s, 2m, 15m, 1h, 1d).
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                43200, 86400, 172800, 432000, 864000)  # fmt: skip
MAX_TICKS = 4


def percent_label(value: float | None) -> str:
    """`66.67` -> `67%`; None (nothing to divide) -> an en dash."""
    return "–" if value is None else f"{value:.0f}%"


def seconds_label(seconds: float | None) -> str:
    """`150` -> `2m 30s`, `5400` -> `1h 30m`, `90000` -> `1d 1h` (the two largest units)."""
    if seconds is None:
        return "–"
    whole = max(0, round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s"))]
    shown = [part for part in parts if not part.startswith("0")]
    return " ".join(shown[:2]) or "0s"


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the funnel chart --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelBar:
    step: str
    label: str  # the step, shortened to fit before the bar
    count: int  # enrollments that reached the step
    percent: float | None  # of those who entered
    x: float
    y: float
    width: float
    height: float
    worst: bool  # the step where most enrollments dropped out

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2

    @property
    def percent_text(self) -> str:
        return percent_label(self.percent)


@dataclass(frozen=True, slots=True)
class FunnelChart:
    bars: tuple[FunnelBar, ...]
    connectors: tuple[str, ...]  # SVG polygon points joining a bar to the next, narrowing
    width: float
    height: float
    label_x: float  # where the step names end (text-anchor: end)
    value_x: float  # where the counts start

    @property
    def empty(self) -> bool:
        return not self.bars


def funnel_chart(
    steps: Sequence[tuple[str, int]], entered: int, worst: str | None = None
) -> FunnelChart:
    """One centred bar per step, in the order given, its width proportional to the count.

    The widest bar is everyone who entered (or the biggest step, should a step count more:
    a bar never overflows its column). A step nobody reached has no bar.
    """
    scale = max([entered, *(count for _, count in steps)])
    bars = []
    for index, (step, count) in enumerate(steps):
        width = FUNNEL_BARS * count / scale if scale else 0.0
        if count > 0:
            width = max(width, MIN_VISIBLE)
        bars.append(
            FunnelBar(
                step=step,
                label=short_label(step),
                count=count,
                percent=100.0 * count / entered if entered else None,
                x=FUNNEL_LABELS + (FUNNEL_BARS - width) / 2,
                y=index * FUNNEL_ROW + (FUNNEL_ROW - FUNNEL_BAR_HEIGHT) / 2,
                width=width,
                height=FUNNEL_BAR_HEIGHT,
                worst=worst is not None and step == worst,
            )
        )
    connectors = tuple(_connector(upper, lower) for upper, lower in pairwise(bars))
    return FunnelChart(
        bars=tuple(bars),
        connectors=connectors,
        width=FUNNEL_WIDTH,
        height=len(bars) * FUNNEL_ROW,
        label_x=FUNNEL_LABELS - 10,
        value_x=FUNNEL_LABELS + FUNNEL_BARS + 12,
    )


def _connector(upper: FunnelBar, lower: FunnelBar) -> str:
    top, bottom = upper.y + upper.height, lower.y
    corners = [
        (upper.x, top),
        (upper.x + upper.width, top),
        (lower.x + lower.width, bottom),
        (lower.x, bottom),
    ]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in corners)


# --- the trend charts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """The value axis: 0 to `maximum`, with labelled ticks."""

    maximum: float
    ticks: tuple[float, ...]
    label: Callable[[float], str]


def percent_scale() -> Scale:
    return Scale(100.0, (0.0, 25.0, 50.0, 75.0, 100.0), percent_label)


def duration_scale(values: Sequence[float | None]) -> Scale:
    """0 up to a round duration above the largest value, in at most MAX_TICKS steps."""
    top = max((v for v in values if v is not None), default=0.0)
    step = next((s for s in NICE_SECONDS if top <= s * MAX_TICKS), None)
    if step is None:  # beyond ten days a tick: whole multiples of the last step
        step = NICE_SECONDS[-1] * math.ceil(top / (NICE_SECONDS[-1] * MAX_TICKS))
    count = max(1, math.ceil(top / step))
    return Scale(
        float(step * count), tuple(float(step * i) for i in range(count + 1)), seconds_label
    )


@dataclass(frozen=True, slots=True)
class Column:
    day: date
    value: float
    label: str  # the value as people read it (`75%`, `2m 30s`)
    x: float
    y: float
    width: float
    height: float
    cx: float  # the column's centre: where the line's point sits
    count: int  # answers or hand-offs the value is computed from


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    columns: tuple[Column, ...]  # the points that have a value (a gap has none)
    segments: tuple[str, ...]  # polyline points of each run of consecutive values
    y_ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]
    show_values: bool  # few enough columns to print each value above it
    width: float = TREND_WIDTH
    height: float = TREND_HEIGHT
    left: float = PLOT_LEFT
    right: float = PLOT_RIGHT
    top: float = PLOT_TOP
    bottom: float = PLOT_BOTTOM

    @property
    def empty(self) -> bool:
        return not self.columns


def day_label(day: date) -> str:
    """`Nov 2`: short enough to sit under a column."""
    return f"{day:%b} {day.day}"


def trend_chart(points: Sequence[tuple[date, float | None, int]], scale: Scale) -> TrendChart:
    """Columns (and a line through them) for `(first day, value, count)` points, one slot
    each, in order; a point without a value leaves its slot empty and breaks the line."""
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(points) if points else 0.0
    width = min(MAX_COLUMN, slot * 0.7)
    columns = []
    for index, (day, value, count) in enumerate(points):
        if value is None:
            continue
        top = _y(min(value, scale.maximum), scale)
        cx = PLOT_LEFT + (index + 0.5) * slot
        columns.append(
            Column(
                day,
                value,
                scale.label(value),
                cx - width / 2,
                top,
                width,
                PLOT_BOTTOM - top,
                cx,
                count,
            )
        )
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    x_labels = tuple(
        XLabel(PLOT_LEFT + (index + 0.5) * slot, day_label(day))
        for index, (day, _, _) in enumerate(points)
        if index % every == 0
    )
    ticks = tuple(Tick(_y(value, scale), scale.label(value)) for value in scale.ticks)
    return TrendChart(
        columns=tuple(columns),
        segments=_segments(points, columns),
        y_ticks=ticks,
        x_labels=x_labels,
        show_values=len(points) <= MAX_VALUE_LABELS,
    )


def _y(value: float, scale: Scale) -> float:
    share = value / scale.maximum if scale.maximum else 0.0
    return PLOT_BOTTOM - share * (PLOT_BOTTOM - PLOT_TOP)


def _segments(
    points: Sequence[tuple[date, float | None, int]], columns: Sequence[Column]
) -> tuple[str, ...]:
    by_day = {column.day: column for column in columns}
    runs: list[list[Column]] = [[]]
    for day, value, _ in points:
        if value is None:
            runs.append([])
        else:
            runs[-1].append(by_day[day])
    return tuple(" ".join(f"{c.cx:.1f},{c.y:.1f}" for c in run) for run in runs if len(run) > 1)
