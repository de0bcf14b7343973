"""The `handoff:` section: triggers, queue priority, teams and their hours, agents, the desk.

With no `handoff:` section at all there is one team, `support`, open around the clock, and no
agents (add them here or with `nudge agents`). Checks that compare keys with each other (an
agent's team exists, keys are unique) are in `handoff_problems`, run with the other cross
checks, so each problem points at the line it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from bot.config.base import Section, check_language
from bot.config.yaml_tree import YamlPath
from bot.handoff.hours import parse_days, parse_holiday, parse_range, parse_shifts, zone
from bot.handoff.routing import DEFAULT_TEAM
from bot.handoff.triggers import DEFAULT_COMPLAINT_WORDS, DEFAULT_PERSON_PHRASES, Phrase

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"'{value}' is not a valid name: use lower-case letters, digits, '-' and '_',"
            " like billing or night-shift"
        )
    return value


def _tag(value: str) -> str:
    tag = value.strip().casefold()
    if not tag:
        raise ValueError("a tag cannot be empty")
    return tag


def _phrase(value: str) -> str:
    Phrase.parse(value)  # raises ValueError with the sentence
    return value.strip()


def _days(value: str) -> str:
    parse_days(value)
    return value


def _time_ranges(value: object) -> list[str]:
    """One range ("09:00-18:00") or a list of them (["09:00-13:00", "14:00-18:00"])."""
    ranges = [value] if isinstance(value, str) else value
    if not isinstance(ranges, list) or not ranges:
        raise ValueError("must be a time range like 09:00-18:00, or a list of them")
    for text in ranges:
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not a time range like 09:00-18:00")
        parse_range(text)
    return ranges


def _holiday(value: object) -> str:
    """YAML reads an unquoted 2026-12-25 as a date; keep every holiday as text."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | date):
        parse_holiday(value)
        return str(value).strip()
    raise ValueError("must be a date like 2026-12-25, or 12-25 for every year")


Name = Annotated[str, AfterValidator(_name)]
Language = Annotated[str, AfterValidator(check_language)]
Tag = Annotated[str, AfterValidator(_tag)]
PhraseText = Annotated[str, AfterValidator(_phrase)]
Days = Annotated[str, AfterValidator(_days)]
TimeRanges = Annotated[list[str], BeforeValidator(_time_ranges)]
Holiday = Annotated[str, BeforeValidator(_holiday)]
Minutes = Annotated[int, Field(ge=1)]
PhraseLists = dict[Language, list[PhraseText]]


def _defaults(lists: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {language: list(texts) for language, texts in lists.items()}


class TriggerSettings(Section):
    person_phrases: PhraseLists = Field(default_factory=lambda: _defaults(DEFAULT_PERSON_PHRASES))
    complaint_words: PhraseLists = Field(default_factory=lambda: _defaults(DEFAULT_COMPLAINT_WORDS))
    failed_answers: int = Field(default=2, ge=0)
    not_helpful: bool = True
    complaint: bool = True
    tags: list[Tag] = Field(default_factory=list)

    @field_validator("person_phrases")
    @classmethod
    def _person_defaults(cls, value: PhraseLists) -> PhraseLists:
        """A language given replaces its built-in list; the other languages keep theirs."""
        return {**_defaults(DEFAULT_PERSON_PHRASES), **value}

    @field_validator("complaint_words")
    @classmethod
    def _complaint_defaults(cls, value: PhraseLists) -> PhraseLists:
        return {**_defaults(DEFAULT_COMPLAINT_WORDS), **value}


class PrioritySettings(Section):
    complaint: int = Field(default=10, ge=0, le=1000)
    tags: dict[Tag, Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: {"vip": 20}
    )


class RoutingSettings(Section):
    tags: dict[Tag, Name] = Field(default_factory=dict)
    """Contact tag -> team; the first listed tag the contact has decides."""


class TeamSettings(Section):
    languages: list[Language] = Field(default_factory=list)
    timezone: str = "UTC"
    hours: dict[Days, TimeRanges] | None = None
    holidays: list[Holiday] = Field(default_factory=list)
    first_response_minutes: Minutes | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("hours")
    @classmethod
    def _whole_week(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is not None:
            parse_shifts(value)  # empty, or a day under two keys
        return value


class AgentSettings(Section):
    key: Name
    name: str | None = None
    telegram_user_id: int | None = Field(default=None, ge=1)
    languages: list[Language] = Field(default_factory=list)
    teams: list[Name] = Field(default_factory=list)
    max_chats: int = Field(default=5, ge=1, le=100)
    trainee: bool = False
    role: Literal["agent", "supervisor"] = "agent"

    @field_validator("role", mode="before")
    @classmethod
    def _lower_role(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def display_name(self) -> str:
        return self.name.strip() if self.name and self.name.strip() else self.key


class DeskSettings(Section):
    group_chat_id: int | None = None
    transcript_messages: int = Field(default=10, ge=0, le=50)

    @field_validator("group_chat_id")
    @classmethod
    def _group_id(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                f"{value} is not a group's chat id: group ids are negative, like -1001234567890"
            )
        return value


class HandoffSettings(Section):
    enabled: bool = True
    default_team: Name = DEFAULT_TEAM
    offer_timeout_seconds: int = Field(default=120, ge=10)
    idle_close_minutes: int = Field(default=60, ge=0)
    triggers: TriggerSettings = Field(default_factory=TriggerSettings)
    priority: PrioritySettings = Field(default_factory=PrioritySettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    teams: dict[Name, TeamSettings] = Field(default_factory=dict)
    sla_by_tag: dict[Tag, Minutes] = Field(default_factory=dict)
    agents: list[AgentSettings] = Field(default_factory=list)
    desk: DeskSettings = Field(default_factory=DeskSettings)

    @field_validator("teams", mode="before")
    @classmethod
    def _bare_team(cls, value: object) -> object:
        """`support:` with nothing under it is a team with the defaults."""
        if isinstance(value, dict):
            return {name: {} if team is None else team for name, team in value.items()}
        return value

    @property
    def team_names(self) -> list[str]:
        """The default team first, then the others as listed."""
        return [self.default_team, *(name for name in self.teams if name != self.default_team)]

    def team(self, name: str) -> TeamSettings:
        """A team's settings; a team not listed (the default one) has the defaults."""
        return self.teams.get(name) or TeamSettings()


def handoff_problems(handoff: HandoffSettings) -> list[tuple[YamlPath, str]]:
    """(path inside `handoff`, message) for every reference to a team that does not exist and
    every agent key or Telegram user id used twice."""
    known = handoff.team_names
    problems: list[tuple[YamlPath, str]] = []

    def unknown(team: str) -> str:
        return f"'{team}' is not a team; add it under handoff.teams (teams: {', '.join(known)})"

    for index, agent in enumerate(handoff.agents):
        for position, team in enumerate(agent.teams):
            if team not in known:
                problems.append((("agents", index, "teams", position), unknown(team)))
    for tag, team in handoff.routing.tags.items():
        if team not in known:
            problems.append((("routing", "tags", tag), unknown(team)))
    problems += _repeats(handoff.agents, "key", "key")
    problems += _repeats(handoff.agents, "telegram_user_id", "Telegram user id")
    return problems


def _repeats(agents: list[AgentSettings], field: str, what: str) -> list[tuple[YamlPath, str]]:
    """A problem at every agent after the first that has the same `field` value."""
    first: dict[Any, int] = {}
    problems: list[tuple[YamlPath, str]] = []
    for index, agent in enumerate(agents):
        value = getattr(agent, field)
        if value is None:
            continue
        if value not in first:
            first[value] = index
            continue
        owner = first[value]
        named = "" if field == "key" else f" ({agents[owner].key})"
        message = f"{value!r} is already the {what} of handoff.agents[{owner}]{named}"
        problems.append((("agents", index, field), message))
    return problems
