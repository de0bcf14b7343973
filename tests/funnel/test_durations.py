"""Durations and times of day as funnel files write them."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.funnel.durations import (
    DurationError,
    format_duration,
    parse_duration,
    parse_time_of_day,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        (" 6h ", timedelta(hours=6)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1.5h", "not a duration"),
        ("2 h", "not a duration"),
        ("1h1d", "not a duration"),  # units largest first
        ("P1D", "not a duration"),
        ("", "not a duration"),
        ("0m", "zero"),
        ("99999w", "ten years"),
        ("99999999999d", "ten years"),  # more days than a timedelta holds
        (30, "has no unit: write 30m"),
        (True, "a duration is expected"),
        (None, "a duration is expected"),
    ],
)
def test_bad_durations_say_what_is_wrong(value: object, says: str) -> None:
    with pytest.raises(DurationError, match=says):
        parse_duration(value)


@pytest.mark.parametrize("text", ["30m", "2h", "1d12h", "2w", "1w2d3h4m5s"])
def test_format_is_the_inverse_of_parse(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_times_of_day() -> None:
    assert parse_time_of_day("09:00") == time(9, 0)
    assert parse_time_of_day("21:30") == time(21, 30)
    assert parse_time_of_day("7:05") == time(7, 5)


@pytest.mark.parametrize(
    ("value", "says"),
    [("24:00", "HH:MM"), ("9pm", "HH:MM"), ("09:60", "HH:MM"), (1260, "in quotes")],
)
def test_bad_times_of_day(value: object, says: str) -> None:
    # 1260 is what YAML makes of an unquoted 21:00 (base 60)
    with pytest.raises(DurationError, match=says):
        parse_time_of_day(value)
