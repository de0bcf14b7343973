"""The `funnels:` section: where funnel files live and the rules every funnel shares."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from bot.config.base import Section


class FunnelsSettings(Section):
    folder: str = "funnels"
    timezone: str = "UTC"
    frequency_cap_messages: int = Field(default=2, ge=0, le=1000)
    frequency_cap_period: str = "1d"
    # 100: on SQLite a batch holds the event loop while it runs (~0.4 ms a step): bench/funnels.py
    batch_size: int = Field(default=100, ge=1, le=10_000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone like Europe/Chisinau or UTC") from None
        return value

    @field_validator("frequency_cap_period")
    @classmethod
    def _duration(cls, value: str) -> str:
        from bot.funnel.durations import DurationError, parse_duration

        try:
            parse_duration(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def cap_period(self) -> timedelta:
        from bot.funnel.durations import parse_duration

        return parse_duration(self.frequency_cap_period)
