"""Choosing the agent, the team and the priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.handoff import Agent
from bot.handoff.routing import (
    Priorities,
    Routing,
    agent_teams,
    choose_agent,
    priority_for,
    speaks,
    team_for,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def agent(
    id: int,
    *,
    languages: list[str] | None = None,
    teams: list[str] | None = None,
    max_chats: int = 5,
    active: bool = True,
    last: datetime | None = None,
) -> Agent:
    return Agent(
        id=id,
        key=f"a{id}",
        name=f"Agent {id}",
        languages=languages or [],
        teams=teams or [],
        max_chats=max_chats,
        active=active,
        last_assigned_at=last,
    )


def ids(found: Agent | None) -> int | None:
    return None if found is None else found.id


def test_least_busy_first() -> None:
    agents = [agent(1), agent(2), agent(3)]
    assert ids(choose_agent(agents, {1: 3, 2: 1, 3: 2}, "support", "en")) == 2
    assert ids(choose_agent(agents, {1: 1, 2: 1}, "support", "en")) == 3  # missing counts as 0


def test_ties_go_to_the_agent_given_a_chat_longest_ago_never_first() -> None:
    agents = [
        agent(1, last=T0),
        agent(2, last=T0 - timedelta(hours=1)),
        agent(3, last=None),
        agent(4, last=None),
    ]
    assert ids(choose_agent(agents, {}, "support", "en")) == 3
    assert ids(choose_agent(agents[:2], {}, "support", "en")) == 2
    naive = [agent(1, last=T0), agent(2, last=datetime(2026, 1, 1, 0, 0))]
    assert ids(choose_agent(naive, {}, "support", "en")) == 2  # naive read as UTC


def test_round_robin_among_equals() -> None:
    agents = [agent(1), agent(2), agent(3)]
    loads: dict[int, int] = {}
    order = []
    now = T0
    for _ in range(6):
        chosen = choose_agent(agents, loads, "support", "en")
        assert chosen is not None
        order.append(chosen.id)
        loads[chosen.id] = loads.get(chosen.id, 0) + 1
        chosen.last_assigned_at = now
        now += timedelta(seconds=1)
        if len(order) % 3 == 0:  # everyone closes their chat
            loads.clear()
    assert order == [1, 2, 3, 1, 2, 3]


def test_language() -> None:
    agents = [agent(1, languages=["ru"]), agent(2, languages=["en", "ro"]), agent(3)]
    loads = {1: 0, 2: 1, 3: 2}
    assert ids(choose_agent(agents, loads, "support", "ru")) == 1
    assert ids(choose_agent(agents, loads, "support", "ro")) == 2
    assert ids(choose_agent(agents, loads, "support", "ko")) == 3  # no languages: speaks any
    assert ids(choose_agent(agents, {1: 0, 2: 1, 3: 5}, "support", "ko")) == 1  # fallback
    assert ids(choose_agent(agents, loads, "support", "")) == 1  # unknown language: anyone


def test_language_variants_and_case() -> None:
    assert speaks(agent(1, languages=["pt"]), "pt-BR")
    assert speaks(agent(1, languages=["pt_BR"]), "PT")
    assert not speaks(agent(1, languages=["en"]), "ro")
    assert speaks(agent(1), "ko")


def test_nobody_speaks_it_so_anyone_free_in_the_team_gets_it() -> None:
    agents = [agent(1, languages=["en"]), agent(2, languages=["ro"], max_chats=1)]
    assert ids(choose_agent(agents, {2: 1}, "support", "ko")) == 1
    assert ids(choose_agent(agents, {}, "support", "ko")) == 1  # least busy still decides
    assert ids(choose_agent(agents, {1: 3}, "support", "ko")) == 2


def test_full_agents_are_skipped() -> None:
    agents = [agent(1, max_chats=2), agent(2, max_chats=5)]
    assert ids(choose_agent(agents, {1: 1, 2: 4}, "support", "en")) == 1
    assert ids(choose_agent(agents, {1: 2, 2: 4}, "support", "en")) == 2
    assert choose_agent(agents, {1: 2, 2: 5}, "support", "en") is None


def test_excluded_and_inactive_agents_are_skipped() -> None:
    agents = [agent(1), agent(2, active=False), agent(3)]
    assert ids(choose_agent(agents, {}, "support", "en", exclude=[1])) == 3
    assert choose_agent(agents, {}, "support", "en", exclude={1, 3}) is None
    assert choose_agent([], {}, "support", "en") is None


def test_teams() -> None:
    agents = [agent(1), agent(2, teams=["billing"]), agent(3, teams=["billing", "support"])]
    assert [a.id for a in agents if "support" in agent_teams(a)] == [1, 3]
    assert ids(choose_agent(agents, {3: 1}, "billing", "en")) == 2
    assert ids(choose_agent(agents, {1: 4, 3: 0}, "support", "en")) == 3
    assert choose_agent(agents, {}, "sales", "en") is None
    # An agent with no teams belongs to the default team, whatever it is called.
    assert ids(choose_agent(agents, {}, "help", "en", default_team="help")) == 1
    assert choose_agent(agents, {}, "support", "en", default_team="help", exclude=[3]) is None


def test_routing_object_uses_its_default_team() -> None:
    routing = Routing("help", {"billing": "billing"})
    agents = [agent(1), agent(2, teams=["billing"])]
    assert ids(routing.choose_agent(agents, {}, "help", "en")) == 1
    assert routing.choose_agent(agents, {}, "support", "en") is None
    assert routing.teams_of(agents[0]) == frozenset({"help"})
    assert routing.team_for(["Billing"]) == "billing"
    assert routing.team_for([]) == "help"


def test_team_for_takes_the_first_configured_route() -> None:
    routes = {"vip": "priority", "billing": "billing"}
    assert team_for(["billing", "vip"], routes, "support") == "priority"
    assert team_for(["billing"], routes, "support") == "billing"
    assert team_for([" BILLING "], routes, "support") == "billing"
    assert team_for(["new"], routes, "support") == "support"
    assert team_for([], {}, "support") == "support"


def test_priority() -> None:
    policy = Priorities(complaint=10, tags={"vip": 20, "gold": 5})
    assert priority_for(False, [], policy) == 0
    assert priority_for(True, [], policy) == 10
    assert priority_for(False, ["VIP"], policy) == 20
    assert priority_for(False, ["vip", "gold"], policy) == 20  # the highest tag, not the sum
    assert priority_for(True, ["vip"], policy) == 30  # a complaining VIP goes first
    assert priority_for(True, ["other"], Priorities(0, {})) == 0
    assert Priorities() == Priorities(10, {"vip": 20})
