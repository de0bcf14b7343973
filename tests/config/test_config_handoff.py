"""The `handoff:` section: defaults, the demo in config.yaml, every kind of mistake, overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings, check_settings, load_settings
from bot.config.handoff import HandoffSettings, TeamSettings, handoff_problems
from bot.handoff.triggers import DEFAULT_PERSON_PHRASES

REPO = Path(__file__).resolve().parents[2]


def problems_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return [str(p).replace(f"{path}", "config.yaml") for p in check_settings(path, environ or {})]


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> HandoffSettings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path, environ or {}).handoff


def test_defaults() -> None:
    handoff = Settings().handoff
    assert handoff.enabled is True
    assert handoff.default_team == "support"
    assert handoff.team_names == ["support"]
    assert handoff.team("support") == TeamSettings()
    assert (handoff.offer_timeout_seconds, handoff.idle_close_minutes) == (120, 60)
    assert handoff.teams == {} and handoff.agents == [] and handoff.sla_by_tag == {}
    assert handoff.triggers.failed_answers == 2
    assert handoff.triggers.person_phrases["ko"] == list(DEFAULT_PERSON_PHRASES["ko"])
    assert handoff.priority.tags == {"vip": 20}
    assert handoff.desk.group_chat_id is None
    assert handoff_problems(handoff) == []


def test_the_commented_demo_in_config_yaml_is_valid(tmp_path: Path) -> None:
    """Uncomment the examples under handoff: (lines like `# teams:` and `#   - key: x`)."""
    shipped = (REPO / "config.yaml").read_text()
    section = shipped[shipped.index("\nhandoff:") :]
    demo = re.sub(r"(?m)^(\s*)# ( *(?:[\w-]+:|- ))", r"\1\2", section)
    demo = re.sub(r"(?m)^  (teams|agents): (\{\}|\[\]).*\n", "", demo)
    handoff = load(tmp_path, demo)
    assert handoff.team_names == ["support", "billing"]
    assert handoff.teams["support"].timezone == "Europe/Chisinau"
    assert [agent.key for agent in handoff.agents] == ["alice", "boris", "olga"]
    assert handoff.triggers.person_phrases["ru"][0] == "оператор*"
    assert handoff.triggers.person_phrases["ko"] == list(DEFAULT_PERSON_PHRASES["ko"])


def test_a_full_section(tmp_path: Path) -> None:
    handoff = load(
        tmp_path,
        "handoff:\n"
        "  triggers:\n    tags: [VIP, ' Gold ']\n"
        "  routing:\n    tags: {Billing: billing}\n"
        "  teams:\n"
        "    support:\n"  # nothing under it: the defaults
        "    billing:\n"
        "      timezone: Asia/Seoul\n"
        "      hours:\n        mon-fri: ['09:00-12:00', '13:00-18:00']\n        sat: 10:00-14:00\n"
        "      holidays: [2026-12-25, '01-01']\n"
        "      first_response_minutes: 30\n"
        "  agents:\n"
        "    - key: alice\n      teams: [billing]\n      role: Supervisor\n",
    )
    assert handoff.triggers.tags == ["vip", "gold"]
    assert handoff.routing.tags == {"billing": "billing"}
    assert handoff.teams["support"] == TeamSettings()
    billing = handoff.teams["billing"]
    assert billing.hours == {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-14:00"]}
    assert billing.holidays == ["2026-12-25", "01-01"]  # the unquoted date is kept as text
    assert handoff.agents[0].role == "supervisor"
    assert handoff.agents[0].display_name == "alice"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "handoff:\n  default_team: Support Team\n",
            "config.yaml:2:17: handoff.default_team: 'Support Team' is not a valid name: use"
            " lower-case letters, digits, '-' and '_', like billing or night-shift",
        ),
        (
            "handoff:\n  offer_timeout_seconds: 5\n",
            "config.yaml:2:26: handoff.offer_timeout_seconds: must be at least 10",
        ),
        (
            "handoff:\n  idle_close_minutes: -1\n",
            "config.yaml:2:23: handoff.idle_close_minutes: must be at least 0",
        ),
        (
            "handoff:\n  triggers:\n    faild_answers: 3\n",
            "config.yaml:3:5: handoff.triggers.faild_answers: unknown setting 'faild_answers'"
            " (did you mean 'failed_answers'?)",
        ),
        (
            "handoff:\n  triggers:\n    person_phrases:\n      english: [operator]\n",
            "config.yaml:4:7: handoff.triggers.person_phrases.english: 'english' is not a"
            " language code like en, ru or pt-BR",
        ),
        (
            "handoff:\n  triggers:\n    complaint_words:\n      en: [bad, '!!']\n",
            "config.yaml:4:17: handoff.triggers.complaint_words.en[1]: '!!' has no letters or"
            " digits to match",
        ),
        (
            "handoff:\n  teams:\n    support:\n      timezone: Europe/Chisinu\n",
            "config.yaml:4:17: handoff.teams.support.timezone: unknown time zone"
            " 'Europe/Chisinu' (did you mean 'Europe/Chisinau'?); use a name like"
            " Europe/Chisinau or UTC",
        ),
        (
            "handoff:\n  teams:\n    support:\n      hours:\n        mon-fry: '09:00-18:00'\n",
            "config.yaml:5:9: handoff.teams.support.hours.mon-fry: 'mon-fry' is not a day or a"
            " range of days; write mon, tue, wed, thu, fri, sat, sun, a range like mon-fri,"
            " or daily",
        ),
        (
            "handoff:\n  teams:\n    support:\n      hours:\n        sat: '9-14'\n",
            "config.yaml:5:14: handoff.teams.support.hours.sat: '9-14' is not a time range like"
            " 09:00-18:00",
        ),
        (
            "handoff:\n  teams:\n    support:\n      hours:\n        sat: ['10:00-12:00', 7]\n",
            "config.yaml:5:14: handoff.teams.support.hours.sat: 7 is not a time range like"
            " 09:00-18:00",
        ),
        (
            "handoff:\n  teams:\n    support:\n      hours: {mon-fri: '09:00-18:00',"
            " fri: '09:00-16:00'}\n",
            "config.yaml:4:14: handoff.teams.support.hours: fri is given twice (in 'mon-fri'"
            " and 'fri')",
        ),
        (
            "handoff:\n  teams:\n    support:\n      hours: {}\n",
            "config.yaml:4:14: handoff.teams.support.hours: lists no days; leave hours out for"
            " a team that is always open",
        ),
        (
            "handoff:\n  teams:\n    support:\n      holidays: [2026-12-25, '2026-02-30']\n",
            "config.yaml:4:30: handoff.teams.support.holidays[1]: '2026-02-30' is not a date"
            " like 2026-12-25 (or 12-25 for every year)",
        ),
        (
            "handoff:\n  teams:\n    Night Shift: {}\n",
            "config.yaml:3:5: handoff.teams.Night Shift: 'Night Shift' is not a valid name: use"
            " lower-case letters, digits, '-' and '_', like billing or night-shift",
        ),
        (
            "handoff:\n  sla_by_tag: {vip: 0}\n",
            "config.yaml:2:21: handoff.sla_by_tag.vip: must be at least 1",
        ),
        (
            "handoff:\n  agents:\n    - {key: alice, role: boss}\n",
            "config.yaml:3:26: handoff.agents[0].role: must be 'agent' or 'supervisor'"
            " (got 'boss')",
        ),
        (
            "handoff:\n  agents:\n    - {key: alice, languages: [en, english]}\n",
            "config.yaml:3:36: handoff.agents[0].languages[1]: 'english' is not a language"
            " code like en, ru or pt-BR",
        ),
        (
            "handoff:\n  agents:\n    - {name: Alice}\n",
            "config.yaml:3:7: handoff.agents[0].key: is required",
        ),
        (
            "handoff:\n  agents:\n    - {key: alice, max_chats: 0}\n",
            "config.yaml:3:31: handoff.agents[0].max_chats: must be at least 1",
        ),
        (
            "handoff:\n  agents:\n    - {key: alice, team: [billing]}\n",
            "config.yaml:3:20: handoff.agents[0].team: unknown setting 'team'"
            " (did you mean 'teams'?)",
        ),
        (
            "handoff:\n  desk:\n    group_chat_id: 12345\n",
            "config.yaml:3:20: handoff.desk.group_chat_id: 12345 is not a group's chat id:"
            " group ids are negative, like -1001234567890",
        ),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_for(tmp_path, text) == [expected]


def test_references_and_repeats_are_checked_across_the_section(tmp_path: Path) -> None:
    text = (
        "handoff:\n"
        "  routing:\n    tags: {billing: billling}\n"
        "  teams:\n    billing:\n"
        "  agents:\n"
        "    - {key: alice, telegram_user_id: 111, teams: [support, sales]}\n"
        "    - {key: alice, telegram_user_id: 222}\n"
        "    - {key: bob, telegram_user_id: 111}\n"
    )
    assert problems_for(tmp_path, text) == [
        "config.yaml:3:21: handoff.routing.tags.billing: 'billling' is not a team; add it"
        " under handoff.teams (teams: support, billing)",
        "config.yaml:7:60: handoff.agents[0].teams[1]: 'sales' is not a team; add it under"
        " handoff.teams (teams: support, billing)",
        "config.yaml:8:13: handoff.agents[1].key: 'alice' is already the key of handoff.agents[0]",
        "config.yaml:9:36: handoff.agents[2].telegram_user_id: 111 is already the Telegram"
        " user id of handoff.agents[0] (alice)",
    ]


def test_the_default_team_needs_no_entry(tmp_path: Path) -> None:
    text = (
        "handoff:\n  default_team: help\n  routing:\n    tags: {x: help}\n"
        "  agents:\n    - {key: a, teams: [help]}\n"
    )
    handoff = load(tmp_path, text)
    assert handoff.team_names == ["help"]
    assert handoff.routing.tags == {"x": "help"}


def test_a_secret_under_an_agent_is_refused(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "handoff:\n  agents:\n    - {key: a, password: x}\n")
    assert problem.startswith("config.yaml:3:16: handoff.agents[0].password: secrets come from")


def test_overrides_of_keys_inside_sub_sections(tmp_path: Path) -> None:
    text = "handoff:\n  desk:\n    transcript_messages: 3\n  triggers:\n    tags: [vip]\n"
    environ = {
        "NUDGE_HANDOFF__DESK__GROUP_CHAT_ID": "-100777",
        "NUDGE_HANDOFF__TRIGGERS__FAILED_ANSWERS": "0",
        "NUDGE_HANDOFF__PRIORITY__TAGS": "{vip: 50}",
        "NUDGE_HANDOFF__SLA_BY_TAG": '{"vip": 5}',
        "NUDGE_HANDOFF__ENABLED": "false",
    }
    handoff = load(tmp_path, text, environ)
    assert (handoff.desk.group_chat_id, handoff.desk.transcript_messages) == (-100777, 3)
    assert (handoff.triggers.failed_answers, handoff.triggers.tags) == (0, ["vip"])
    assert handoff.priority.tags == {"vip": 50}
    assert handoff.sla_by_tag == {"vip": 5}
    assert handoff.enabled is False


def test_overrides_of_whole_sub_sections_lists_and_mappings(tmp_path: Path) -> None:
    environ = {
        "NUDGE_HANDOFF__DESK": "{group_chat_id: -1}",
        "NUDGE_HANDOFF__TEAMS": "{billing: {timezone: Europe/Chisinau}}",
        "NUDGE_HANDOFF__AGENTS": "[{key: a, teams: [billing]}, {key: b}]",
        "NUDGE_HANDOFF__ROUTING": "",
    }
    text = "handoff:\n  desk:\n    transcript_messages: 3\n"
    handoff = load(tmp_path, text, environ)
    assert (handoff.desk.group_chat_id, handoff.desk.transcript_messages) == (-1, 10)
    assert handoff.team_names == ["support", "billing"]
    assert [agent.key for agent in handoff.agents] == ["a", "b"]
    assert handoff.routing.tags == {}


def test_override_problems_say_where_inside_the_variable(tmp_path: Path) -> None:
    environ = {
        "NUDGE_HANDOFF__AGENTS": "[{key: a}, {key: b, max_chats: 0}]",
        "NUDGE_HANDOFF__DESK__GROUP_CHAT_ID": "abc",
        "NUDGE_HANDOFF__SLA_BY_TAG": "{vip: [}",
        "NUDGE_HANDOFF__TRIGGERS__FAILED": "1",
        "NUDGE_HANDOFF__TEAMS": "{billing: {timezone: Mars/Base}}",
    }
    found = problems_for(tmp_path, "", environ)
    assert sorted(found) == [
        "environment: NUDGE_HANDOFF__AGENTS: item 2, max_chats: must be at least 1",
        "environment: NUDGE_HANDOFF__DESK__GROUP_CHAT_ID: must be a whole number (got 'abc')",
        "environment: NUDGE_HANDOFF__SLA_BY_TAG: is not a valid YAML/JSON mapping: expected"
        " the node content, but found '}'",
        "environment: NUDGE_HANDOFF__TEAMS: billing, timezone: unknown time zone 'Mars/Base';"
        " use a name like Europe/Chisinau or UTC",
        "environment: NUDGE_HANDOFF__TRIGGERS__FAILED: no such setting"
        " 'handoff.triggers.failed' (did you mean NUDGE_HANDOFF__TRIGGERS__FAILED_ANSWERS?)",
    ]


def test_cross_check_problems_from_the_environment(tmp_path: Path) -> None:
    environ = {"NUDGE_HANDOFF__AGENTS": "[{key: a, teams: [sales]}]"}
    assert problems_for(tmp_path, "", environ) == [
        "environment: NUDGE_HANDOFF__AGENTS: item 1, teams, item 1: 'sales' is not a team;"
        " add it under handoff.teams (teams: support)"
    ]


def test_a_key_override_keeps_the_files_other_keys(tmp_path: Path) -> None:
    text = "handoff:\n  triggers:\n    failed_answers: 4\n    complaint: false\n"
    handoff = load(tmp_path, text, {"NUDGE_HANDOFF__TRIGGERS__NOT_HELPFUL": "no"})
    triggers = handoff.triggers
    assert (triggers.failed_answers, triggers.complaint, triggers.not_helpful) == (4, False, False)
