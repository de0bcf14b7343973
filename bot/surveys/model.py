"""A survey as its YAML file defines it, and the buttons its question carries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.domain.model import Button
from bot.domain.surveys import SurveyKind

BUTTON_PREFIX = "sv:"  # sv:<response id>:<score>; Telegram allows 64 bytes, this needs ~20
_BUTTON = re.compile(r"sv:([0-9]{1,18}):([0-9]{1,2})", re.ASCII)
CSAT_FACES = ("😞", "🙁", "😐", "🙂", "😄")  # for 1..5
# What survey texts may use: `{{ name }}` and the contact, and the agent's name after a chat.
TEXT_VARIABLES = ("name", "contact", "agent")


@dataclass(frozen=True)
class SurveyText:
    """A text per language (inline Jinja2, HTML-escaped like templates) or a template's name."""

    by_language: Mapping[str, str] = field(default_factory=dict)
    template: str | None = None

    def source_for(self, language: str | None, default_language: str) -> str | None:
        """The inline text in `language`, else the default language, else the first given."""
        primary = (language or "").split("-")[0].lower()
        for lang in (primary, default_language):
            if lang in self.by_language:
                return self.by_language[lang]
        return next(iter(self.by_language.values()), None)


@dataclass(frozen=True)
class Survey:
    id: str
    kind: SurveyKind
    question: SurveyText
    thanks: SurveyText
    low_score: int  # this score and below are low
    follow_up: SurveyText | None = None  # asked after a low score: the next message is a comment
    already_answered: SurveyText | None = None  # a second press; None: the built-in sentence
    expiry: timedelta | None = None  # None: `surveys.expiry_hours`
    source: Path | None = None

    @property
    def scores(self) -> range:
        return self.kind.scores

    def is_low(self, score: int) -> bool:
        return score <= self.low_score


def score_buttons(kind: SurveyKind, response_id: int) -> list[list[Button]]:
    """CSAT: one row `1 😞` .. `5 😄`; NPS: 0..10 on two rows (a row of 11 is too narrow)."""

    def button(score: int) -> Button:
        label = f"{score} {CSAT_FACES[score - 1]}" if kind is SurveyKind.CSAT else str(score)
        return Button(label, callback_data=f"{BUTTON_PREFIX}{response_id}:{score}")

    if kind is SurveyKind.CSAT:
        return [[button(score) for score in kind.scores]]
    return [[button(score) for score in range(0, 6)], [button(score) for score in range(6, 11)]]


def parse_button(data: str) -> tuple[int, int] | None:
    """`sv:12:4` -> (12, 4); None for anything else (not ours, or forged)."""
    found = _BUTTON.fullmatch(data)
    return (int(found[1]), int(found[2])) if found else None
