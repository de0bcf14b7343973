"""The `webhooks:` section and NUDGE_EVENTS_SECRET."""

from __future__ import annotations

from pathlib import Path

from bot.config import check_settings, load_settings

SECRET = {"NUDGE_EVENTS_SECRET": "0123456789abcdef"}


def problems(tmp_path: Path, text: str, environ: dict[str, str]) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return [
        str(problem).replace(f"{path}", "config.yaml")
        for problem in check_settings(path, environ=environ)
    ]


def test_endpoints_are_read_and_matched(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "webhooks:\n  endpoints:\n"
        "    - {url: 'https://shop.example/h?x=1', events: [funnel.*, conversation.closed]}\n"
        "    - url: https://crm.example/h\n"
    )
    settings = load_settings(path, environ=SECRET)
    shop, crm = settings.webhooks.endpoints
    assert shop.url == "https://shop.example/h?x=1"
    assert shop.wants("funnel.exited") and shop.wants("conversation.closed")
    assert not shop.wants("survey.answered") and not shop.wants("funnelx")
    assert crm.events == ["*"] and crm.wants("survey.answered")
    assert settings.secrets.events_secret is not None


def test_endpoints_need_the_secret(tmp_path: Path) -> None:
    text = "webhooks:\n  endpoints: [{url: 'https://a.example/h'}]\n"
    assert problems(tmp_path, text, {}) == [
        "config.yaml:2:14: webhooks.endpoints: webhook endpoints need NUDGE_EVENTS_SECRET set"
        " in the environment (to sign them)"
    ]
    assert problems(tmp_path, text, SECRET) == []


def test_bad_entries_are_named(tmp_path: Path) -> None:
    text = "webhooks:\n  endpoints:\n    - {url: 'ftp://a.example', events: ['Funnel Exited']}\n"
    assert problems(tmp_path, text, SECRET) == [
        "config.yaml:3:13: webhooks.endpoints[0].url: must be an absolute URL starting with"
        " https:// (or http://)",
        "config.yaml:3:41: webhooks.endpoints[0].events[0]: 'Funnel Exited' is not an event type:"
        " write one like funnel.goal_reached, a family like funnel.*, or * for every event",
    ]


def test_backoff_initial_is_at_most_the_maximum(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "webhooks:\n  backoff_initial_seconds: 10000\n", SECRET)
    assert problem == (
        "config.yaml:2:28: webhooks.backoff_initial_seconds: must not be more than"
        " webhooks.backoff_max_seconds (3600)"
    )


def test_a_short_events_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    found = problems(tmp_path, "", {"NUDGE_EVENTS_SECRET": "short-one"})
    assert found == [
        "environment: NUDGE_EVENTS_SECRET: must be at least 16 characters (a long random string)"
    ]


def test_a_secret_under_webhooks_points_at_the_events_secret(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "webhooks:\n  secret: abc\n", SECRET)
    assert problem.endswith("set NUDGE_EVENTS_SECRET instead")
