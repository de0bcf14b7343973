"""The `surveys:` section: where survey files live and when customers are asked."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.base import Section


class SurveysSettings(Section):
    folder: str = "surveys"
    # The survey sent when an agent closes a chat (or gives it back to the bot); null = none.
    after_close: str | None = "csat_after_chat"
    after_close_delay_minutes: float = Field(default=10, ge=0, le=7 * 24 * 60)
    throttle_days: float = Field(default=7, ge=0, le=366)
    after_bot_resolved: bool = False
    expiry_hours: float = Field(default=48, gt=0, le=90 * 24)
    low_score_alert: bool = True

    @field_validator("after_close", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def after_close_delay(self) -> timedelta:
        return timedelta(minutes=self.after_close_delay_minutes)

    @property
    def throttle(self) -> timedelta:
        return timedelta(days=self.throttle_days)

    @property
    def expiry(self) -> timedelta:
        return timedelta(hours=self.expiry_hours)
