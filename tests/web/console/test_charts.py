"""The dashboard's chart geometry (bot/web/console/charts.py): pure numbers, checked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.web.console.charts import (
    FUNNEL_BARS,
    FUNNEL_LABELS,
    LABEL_CHARS,
    MAX_VALUE_LABELS,
    MIN_VISIBLE,
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    duration_scale,
    funnel_chart,
    percent_label,
    percent_scale,
    seconds_label,
    short_label,
    trend_chart,
)

DAY = date(2026, 11, 2)


def days(*values: float | None) -> list[tuple[date, float | None, int]]:
    return [(DAY + timedelta(days=i), v, 0 if v is None else 1) for i, v in enumerate(values)]


def test_funnel_bars_are_proportional_centred_and_narrowing() -> None:
    chart = funnel_chart([("hello", 6), ("offer", 4), ("reminder", 1)], entered=6, worst="offer")
    hello, offer, reminder = chart.bars
    assert hello.width == FUNNEL_BARS  # everyone who entered: the full width
    assert offer.width == pytest.approx(FUNNEL_BARS * 4 / 6)
    assert reminder.width == pytest.approx(FUNNEL_BARS / 6)
    assert [round(b.percent or 0) for b in chart.bars] == [100, 67, 17]
    for bar in chart.bars:  # centred on the same axis: the funnel shape
        assert bar.x + bar.width / 2 == pytest.approx(FUNNEL_LABELS + FUNNEL_BARS / 2)
    assert hello.y < offer.y < reminder.y  # in the order given (the file's)
    assert [b.worst for b in chart.bars] == [False, True, False]
    assert offer.percent_text == "67%"
    # The connector joins hello's bottom edge to offer's top edge.
    first = [tuple(map(float, p.split(","))) for p in chart.connectors[0].split()]
    assert first[0][0] == pytest.approx(hello.x, abs=0.05)
    assert first[0][1] == hello.y + hello.height
    assert first[2][1] == offer.y and len(chart.connectors) == 2


def test_a_step_bigger_than_the_entries_never_overflows() -> None:
    chart = funnel_chart([("a", 3), ("b", 6)], entered=3)
    assert chart.bars[1].width == FUNNEL_BARS
    assert chart.bars[0].width == FUNNEL_BARS / 2
    assert chart.bars[1].percent == 200.0  # still said as it is


def test_a_tiny_step_stays_visible_and_an_empty_one_has_no_bar() -> None:
    chart = funnel_chart([("big", 10_000), ("tiny", 1), ("none", 0)], entered=10_000)
    assert chart.bars[1].width == MIN_VISIBLE
    assert chart.bars[2].width == 0.0 and chart.bars[2].percent == 0.0


def test_an_empty_funnel_chart() -> None:
    chart = funnel_chart([], entered=0)
    assert chart.empty and chart.height == 0 and chart.connectors == ()
    nobody = funnel_chart([("hello", 0)], entered=0)
    assert nobody.bars[0].width == 0.0 and nobody.bars[0].percent is None
    assert nobody.bars[0].percent_text == "–"


def test_long_step_names_are_shortened() -> None:
    assert short_label("a" * 30, 10) == "a" * 9 + "…"
    assert short_label("hello", 10) == "hello"
    chart = funnel_chart([("x" * 40, 1)], entered=1)
    assert chart.bars[0].step == "x" * 40 and len(chart.bars[0].label) == LABEL_CHARS


def test_percent_trend_columns_scale_from_the_bottom() -> None:
    chart = trend_chart(days(100.0, 50.0, 0.0), percent_scale())
    full, half, zero = chart.columns
    height = PLOT_BOTTOM - PLOT_TOP
    assert (full.y, full.height) == (PLOT_TOP, height)
    assert half.height == pytest.approx(height / 2)
    assert zero.height == 0 and zero.label == "0%"  # drawn as its value label
    slot = (PLOT_RIGHT - PLOT_LEFT) / 3
    assert [c.cx for c in chart.columns] == pytest.approx(
        [PLOT_LEFT + slot / 2, PLOT_LEFT + 1.5 * slot, PLOT_LEFT + 2.5 * slot]
    )
    assert [t.label for t in chart.y_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart.y_ticks[0].y == PLOT_BOTTOM and chart.y_ticks[-1].y == PLOT_TOP
    assert chart.segments == (" ".join(f"{c.cx:.1f},{c.y:.1f}" for c in chart.columns),)
    assert chart.show_values and not chart.empty


def test_gaps_leave_slots_empty_and_break_the_line() -> None:
    chart = trend_chart(days(10.0, 20.0, None, 30.0, None, 40.0, 50.0), duration_scale([50.0]))
    assert [c.day.day for c in chart.columns] == [2, 3, 5, 7, 8]
    # Runs 2-3 and 7-8 are lines; the lone 5th is a dot only (no one-point polyline).
    assert len(chart.segments) == 2
    assert all(len(segment.split()) == 2 for segment in chart.segments)


def test_one_point() -> None:
    chart = trend_chart(days(180.0), duration_scale([180.0]))
    (column,) = chart.columns
    assert column.cx == pytest.approx((PLOT_LEFT + PLOT_RIGHT) / 2)
    assert chart.segments == ()  # a single point is drawn as a dot
    assert [label.label for label in chart.x_labels] == ["Nov 2"]


def test_all_none_and_no_points_are_empty() -> None:
    for points in (days(None, None, None), []):
        chart = trend_chart(points, duration_scale([p[1] for p in points]))
        assert chart.empty and chart.columns == () and chart.segments == ()


def test_many_points_thin_out_labels_and_values() -> None:
    chart = trend_chart(days(*[50.0] * 30), percent_scale())
    assert len(chart.x_labels) <= 7 and chart.x_labels[0].label == "Nov 2"
    assert not chart.show_values
    few = trend_chart(days(*[50.0] * MAX_VALUE_LABELS), percent_scale())
    assert few.show_values


@pytest.mark.parametrize(
    ("largest", "maximum", "ticks"),
    [
        (150.0, 180.0, ["0s", "1m", "2m", "3m"]),
        (40.0, 40.0, ["0s", "10s", "20s", "30s", "40s"]),
        (3 * 3600.0, 3 * 3600.0, ["0s", "1h", "2h", "3h"]),
        (0.0, 1.0, ["0s", "1s"]),
    ],
)
def test_duration_scales_use_round_steps(largest: float, maximum: float, ticks: list[str]) -> None:
    scale = duration_scale([None, largest])
    assert [scale.label(t) for t in scale.ticks] == ticks
    assert scale.ticks[-1] == scale.maximum == maximum >= largest


def test_a_value_above_the_scale_is_clipped_to_the_top() -> None:
    chart = trend_chart(days(130.0), percent_scale())
    assert chart.columns[0].y == PLOT_TOP and chart.columns[0].label == "130%"


def test_labels() -> None:
    assert [seconds_label(s) for s in (0, 45, 150, 3600, 5400, 90000, 90061)] == [
        "0s", "45s", "2m 30s", "1h", "1h 30m", "1d 1h", "1d 1h",
    ]  # fmt: skip
    assert seconds_label(None) == "–" and percent_label(None) == "–"
    assert percent_label(66.67) == "67%"
