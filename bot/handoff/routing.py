"""Which team a chat goes to, how urgent it is, and which agent is offered it.

Choosing an agent, in order:

1. candidates: active agents of the team, with fewer open chats than their `max_chats`, not
   excluded (those whose offer for this chat timed out). An agent with no teams belongs to the
   default team only.
2. language: those who speak the customer's language (an agent with no languages speaks any).
   When nobody free speaks it, anyone free in the team gets the chat: a person answering in
   another language (or with a translator) beats a customer left waiting in the queue.
3. the least busy first; among equally busy agents, the one given a chat longest ago (never
   first), then the lowest id. Recording `last_assigned_at` on every assignment turns this
   into a round robin among equals.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.handoff import Agent

DEFAULT_TEAM = "support"
_NEVER = datetime.min.replace(tzinfo=UTC)


def agent_teams(agent: Agent, default_team: str = DEFAULT_TEAM) -> frozenset[str]:
    """The teams `agent` answers for: its own, or the default team when it lists none."""
    return frozenset(agent.teams) if agent.teams else frozenset({default_team})


def speaks(agent: Agent, language: str) -> bool:
    """Whether `agent` speaks `language` ("pt-BR" counts as "pt"); no languages means any."""
    if not agent.languages or not language:
        return True
    wanted = _base(language)
    return any(_base(spoken) == wanted for spoken in agent.languages)


def choose_agent(
    agents: Sequence[Agent],
    loads: Mapping[int, int],
    team: str,
    language: str,
    exclude: Collection[int] = (),
    *,
    default_team: str = DEFAULT_TEAM,
) -> Agent | None:
    """The agent to offer a chat of `team` in `language` to, or None when nobody is free.

    `loads` maps agent id -> open chats (offered or active); a missing id counts as 0."""
    free = [
        agent
        for agent in agents
        if agent.active
        and agent.id not in exclude
        and team in agent_teams(agent, default_team)
        and loads.get(agent.id, 0) < agent.max_chats
    ]
    fluent = [agent for agent in free if speaks(agent, language)]
    pool = fluent or free
    if not pool:
        return None
    return min(pool, key=lambda a: (loads.get(a.id, 0), _assigned(a), a.id))


def team_for(tags: Iterable[str], routing: Mapping[str, str], default_team: str) -> str:
    """The team for a contact with `tags`: the first entry of `routing` (tag -> team, in
    config order) whose tag the contact has, else `default_team`."""
    have = {tag.strip().casefold() for tag in tags}
    return next((team for tag, team in routing.items() if tag.casefold() in have), default_team)


@dataclass(frozen=True)
class Priorities:
    """How far ahead in the queue a chat goes: higher first, 0 by default."""

    complaint: int = 10
    tags: Mapping[str, int] = field(default_factory=lambda: {"vip": 20})


def priority_for(reason_is_complaint: bool, tags: Iterable[str], policy: Priorities) -> int:
    """The complaint priority (for a complaint) plus the highest priority among the contact's
    tags: a complaining VIP goes ahead of both a calm VIP and an ordinary complaint."""
    have = {tag.strip().casefold() for tag in tags}
    tagged = [value for tag, value in policy.tags.items() if tag.casefold() in have]
    return (policy.complaint if reason_is_complaint else 0) + max(tagged, default=0)


@dataclass(frozen=True)
class Routing:
    """Team selection and agent choice with the configured default team and tag routes."""

    default_team: str = DEFAULT_TEAM
    tag_teams: Mapping[str, str] = field(default_factory=dict)  # contact tag -> team

    def team_for(self, tags: Iterable[str]) -> str:
        return team_for(tags, self.tag_teams, self.default_team)

    def teams_of(self, agent: Agent) -> frozenset[str]:
        return agent_teams(agent, self.default_team)

    def choose_agent(
        self,
        agents: Sequence[Agent],
        loads: Mapping[int, int],
        team: str,
        language: str,
        exclude: Collection[int] = (),
    ) -> Agent | None:
        return choose_agent(agents, loads, team, language, exclude, default_team=self.default_team)


def _assigned(agent: Agent) -> datetime:
    when = agent.last_assigned_at
    if when is None:
        return _NEVER
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _base(language: str) -> str:
    return language.replace("_", "-").split("-")[0].casefold()
