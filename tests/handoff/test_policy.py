"""The policy built from the `handoff:` section, and the one with no section at all."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.config.handoff import HandoffSettings
from bot.domain.handoff import Agent, AgentRole
from bot.handoff.hours import WorkingHours
from bot.handoff.policy import Desk, HandoffPolicy

CONFIG = """
handoff:
  default_team: support
  offer_timeout_seconds: 90
  idle_close_minutes: 0
  triggers:
    failed_answers: 3
    not_helpful: false
    tags: [VIP]
    person_phrases:
      en: [talk to sales]
  priority: {complaint: 7, tags: {vip: 30}}
  routing:
    tags: {billing: billing}
  teams:
    support:
      languages: [en, ro]
      timezone: Europe/Chisinau
      hours: {mon-fri: "09:00-18:00"}
      holidays: [2026-12-25, "01-01"]
      first_response_minutes: 15
    billing:
      first_response_minutes: 60
  sla_by_tag: {vip: 5}
  agents:
    - {key: alice, name: Alice, telegram_user_id: 111, languages: [en, ro], teams: [support]}
    - {key: olga, role: supervisor, teams: [support, billing], max_chats: 8, trainee: true}
  desk:
    group_chat_id: -1001234567890
    transcript_messages: 5
"""


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def policy(tmp_path: Path) -> HandoffPolicy:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    return HandoffPolicy.from_settings(load_settings(path, environ={}).handoff)


def test_default_policy_works_with_zero_config() -> None:
    policy = HandoffPolicy.default()
    assert policy.enabled
    assert policy.default_team == "support"
    assert policy.team_names == ("support",)
    assert policy.agents == ()
    assert policy.hours_for("support").is_open(utc(2026, 12, 25, 3, 0))
    assert policy.routing.team_for(["anything"]) == "support"
    assert policy.offer_timeout == timedelta(seconds=120)
    assert policy.idle_close == timedelta(minutes=60)
    assert policy.desk == Desk(None, 10)
    assert policy.sla.first_response_target("support", ["vip"]) is None
    assert policy.priority_for(True, ["vip"]) == 30
    assert policy.triggers.wants_person("оператор")
    assert policy.triggers.is_complaint("scam")
    assert policy.triggers.failed_answers == 2
    assert policy == HandoffPolicy.from_settings(HandoffSettings())


def test_from_settings(policy: HandoffPolicy) -> None:
    assert policy.team_names == ("support", "billing")
    assert policy.offer_timeout == timedelta(seconds=90)
    assert policy.idle_close is None
    assert policy.desk == Desk(-1001234567890, 5)
    assert policy.team_languages == {"support": ("en", "ro"), "billing": ()}
    assert policy.team_for(["Billing"]) == "billing"
    assert policy.team_for([]) == "support"
    assert policy.priority_for(True, []) == 7
    assert policy.priority_for(False, ["vip"]) == 30


def test_triggers_from_settings(policy: HandoffPolicy) -> None:
    triggers = policy.triggers
    assert (triggers.failed_answers, triggers.not_helpful, triggers.complaint) == (3, False, True)
    assert triggers.tags == frozenset({"vip"})
    assert triggers.wants_person("can I talk to sales?")
    assert not triggers.wants_person("a real person")  # the English list was replaced
    assert triggers.wants_person("оператор")  # the other languages keep theirs
    assert triggers.wants_person("상담원")


def test_hours_per_team(policy: HandoffPolicy) -> None:
    support = policy.hours_for("support")
    assert support.timezone == "Europe/Chisinau"
    assert support.is_open(utc(2026, 1, 5, 7, 0))  # Monday 09:00 in Chisinau
    assert not support.is_open(utc(2026, 1, 5, 16, 0))
    assert not support.is_open(utc(2026, 12, 25, 10, 0))  # a holiday
    assert not support.is_open(utc(2027, 1, 1, 10, 0))  # every year
    assert policy.hours_for("billing") == WorkingHours.always()
    assert policy.hours_for("no-such-team") == WorkingHours.always()


def test_sla_from_team_and_tags(policy: HandoffPolicy) -> None:
    minutes = timedelta(minutes=1)
    assert policy.sla.first_response_target("support", []) == 15 * minutes
    assert policy.sla.first_response_target("billing", ["vip"]) == 5 * minutes
    # Handed off on Saturday: 15 working minutes from Monday 09:00 in Chisinau.
    due = policy.first_response_due("support", [], utc(2026, 1, 10, 12, 0))
    assert due == utc(2026, 1, 12, 7, 15)
    assert policy.first_response_due("billing", [], utc(2026, 1, 10, 12, 0)) == utc(
        2026, 1, 10, 13, 0
    )
    assert policy.first_response_due("sales", [], utc(2026, 1, 10)) is None


def test_agents_from_settings(policy: HandoffPolicy) -> None:
    alice, olga = policy.agents
    assert alice == Agent(
        id=0,
        key="alice",
        name="Alice",
        telegram_user_id=111,
        languages=["en", "ro"],
        teams=["support"],
    )
    assert (olga.name, olga.role, olga.max_chats, olga.trainee) == (
        "olga",
        AgentRole.SUPERVISOR,
        8,
        True,
    )
    assert olga.is_supervisor
    assert olga.active
    assert olga.password_hash is None


def test_routing_uses_the_config_agents(policy: HandoffPolicy) -> None:
    agents = [dataclasses.replace(a, id=i) for i, a in enumerate(policy.agents, start=1)]
    assert policy.routing.choose_agent(agents, {}, "billing", "en") == agents[1]
    assert policy.routing.choose_agent(agents, {1: 2}, "support", "ru") == agents[1]


def test_the_policy_cannot_be_changed() -> None:
    policy = HandoffPolicy.default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.enabled = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.hours["support"] = WorkingHours.always()  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.priorities.tags["vip"] = 0  # type: ignore[index]
