"""Everything the hand-off service needs to know from `config.yaml`, as one frozen object.

Built once at start (`HandoffPolicy.from_settings(settings.handoff)`); the settings' strings
("09:00-18:00", "Europe/Chisinau", phrase lists) are parsed here so the service only asks
questions: is the team open, who gets the chat, how urgent is it, when is it due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TypeVar

from bot.config.handoff import AgentSettings, HandoffSettings, TeamSettings
from bot.domain.handoff import Agent, AgentRole
from bot.handoff.hours import WorkingHours
from bot.handoff.routing import DEFAULT_TEAM, Priorities, Routing, priority_for
from bot.handoff.sla import SlaTargets
from bot.handoff.triggers import Triggers, every_language

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Desk:
    """The agents' Telegram group."""

    group_chat_id: int | None = None  # None: no Telegram desk
    transcript_messages: int = 10  # recent messages copied into a new topic


@dataclass(frozen=True)
class HandoffPolicy:
    enabled: bool = True
    default_team: str = DEFAULT_TEAM
    team_names: tuple[str, ...] = (DEFAULT_TEAM,)  # the default team first
    triggers: Triggers = field(default_factory=Triggers)
    routing: Routing = field(default_factory=Routing)
    priorities: Priorities = field(default_factory=Priorities)
    sla: SlaTargets = field(default_factory=SlaTargets)
    hours: Mapping[str, WorkingHours] = field(default_factory=dict)  # missing: always open
    team_languages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # for display
    offer_timeout: timedelta = timedelta(seconds=120)
    idle_close: timedelta | None = timedelta(minutes=60)  # None: never given back for silence
    desk: Desk = field(default_factory=Desk)
    agents: tuple[Agent, ...] = ()  # from config.yaml, id=0: upserted by key at start

    @classmethod
    def default(cls) -> HandoffPolicy:
        """The policy with no `handoff:` section: team support, always open, no agents."""
        return cls.from_settings(HandoffSettings())

    @classmethod
    def from_settings(cls, settings: HandoffSettings) -> HandoffPolicy:
        triggers = settings.triggers
        teams = {name: settings.team(name) for name in settings.team_names}
        return cls(
            enabled=settings.enabled,
            default_team=settings.default_team,
            team_names=tuple(teams),
            triggers=Triggers.build(
                every_language(triggers.person_phrases),
                every_language(triggers.complaint_words),
                failed_answers=triggers.failed_answers,
                not_helpful=triggers.not_helpful,
                complaint=triggers.complaint,
                tags=triggers.tags,
            ),
            routing=Routing(settings.default_team, _frozen(settings.routing.tags)),
            priorities=Priorities(settings.priority.complaint, _frozen(settings.priority.tags)),
            sla=_sla(settings, teams),
            hours=_frozen({name: _hours(team) for name, team in teams.items()}),
            team_languages=_frozen({name: tuple(team.languages) for name, team in teams.items()}),
            offer_timeout=timedelta(seconds=settings.offer_timeout_seconds),
            idle_close=(
                timedelta(minutes=settings.idle_close_minutes)
                if settings.idle_close_minutes
                else None
            ),
            desk=Desk(settings.desk.group_chat_id, settings.desk.transcript_messages),
            agents=tuple(_agent(agent) for agent in settings.agents),
        )

    def hours_for(self, team: str) -> WorkingHours:
        """The team's working hours; a team nobody configured is always open."""
        return self.hours.get(team) or WorkingHours.always()

    def team_for(self, tags: Iterable[str]) -> str:
        return self.routing.team_for(tags)

    def priority_for(self, is_complaint: bool, tags: Iterable[str]) -> int:
        return priority_for(is_complaint, tags, self.priorities)

    def first_response_due(
        self, team: str, tags: Iterable[str], requested_at: datetime
    ) -> datetime | None:
        """When a person must first answer a chat of `team` handed off at `requested_at`,
        counting only the team's working hours; None when no target applies."""
        return self.sla.due_at(requested_at, team, tags, self.hours_for(team))


def _sla(settings: HandoffSettings, teams: Mapping[str, TeamSettings]) -> SlaTargets:
    by_team = {
        name: timedelta(minutes=team.first_response_minutes)
        for name, team in teams.items()
        if team.first_response_minutes is not None
    }
    by_tag = {tag: timedelta(minutes=minutes) for tag, minutes in settings.sla_by_tag.items()}
    return SlaTargets(_frozen(by_team), _frozen(by_tag))


def _hours(team: TeamSettings) -> WorkingHours:
    return WorkingHours.from_spec(team.timezone, team.hours, team.holidays)


def _agent(settings: AgentSettings) -> Agent:
    return Agent(
        id=0,
        key=settings.key,
        name=settings.display_name,
        role=AgentRole(settings.role),
        telegram_user_id=settings.telegram_user_id,
        languages=list(settings.languages),
        teams=list(settings.teams),
        max_chats=settings.max_chats,
        trainee=settings.trainee,
    )


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only view, so a policy shared by every task cannot be changed by one of them."""
    return MappingProxyType(dict(mapping))
