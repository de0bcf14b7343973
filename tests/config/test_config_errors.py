"""Every kind of problem names its file, line and setting in a plain sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, ConfigProblem, check_settings, load_settings


def problems_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    found = check_settings(path, environ or {})
    return [str(problem).replace(f"{path}", "config.yaml") for problem in found]


def test_problem_str_has_file_line_column_path_and_message() -> None:
    problem = ConfigProblem(
        "config.yaml", 12, 3, "delivery.global_per_second", "must be greater than 0"
    )
    assert str(problem) == "config.yaml:12:3: delivery.global_per_second: must be greater than 0"
    assert str(ConfigProblem("environment", None, None, "NUDGE_X__Y", "bad")) == (
        "environment: NUDGE_X__Y: bad"
    )


def test_out_of_range_points_at_the_value(tmp_path: Path) -> None:
    text = "delivery:\n  batch_size: 10\n  global_per_second: 0\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:3:22: delivery.global_per_second: must be greater than 0"
    ]


def test_unknown_key_points_at_the_key(tmp_path: Path) -> None:
    text = "web:\n  host: 0.0.0.0\n  prot: 80\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:3:3: web.prot: unknown setting 'prot' (did you mean 'port'?)"
    ]


def test_unknown_key_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "inbound:\n  zzz: 1\n")
    assert (
        problem
        == "config.yaml:2:3: inbound.zzz: unknown setting 'zzz'; the known ones are: batch_size"
    )


def test_unknown_section(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "\nwbe:\n  port: 1\n") == [
        "config.yaml:2:1: wbe: unknown section 'wbe' (did you mean 'web'?)"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  port: eighty", "web.port: must be a whole number (got 'eighty')"),
        ("  port: 80.5", "web.port: must be a whole number (got 80.5)"),
        ("  port:", "web.port: must be a whole number (got an empty value)"),
        ("  port: 0", "web.port: must be at least 1"),
        ("  port: 70000", "web.port: must be at most 65535"),
        ("  host: [a]", "web.host: must be text (got a list)"),
        ("  public_url: ftp://x", "web.public_url: must be an absolute URL starting with https://"),
    ],
)
def test_wrong_values_point_at_the_value(tmp_path: Path, line: str, expected: str) -> None:
    [problem] = problems_for(tmp_path, f"# web server\nweb:\n{line}\n")
    assert problem.startswith("config.yaml:3:")
    assert expected in problem


def test_wrong_type_in_other_sections(tmp_path: Path) -> None:
    text = (
        "telegram:\n  mode: pull\n"
        "webchat:\n  enabled: maybe\n"
        "bot:\n  default_language: no\n"
        "logging:\n  format: xml\n"
    )
    assert problems_for(tmp_path, text) == [
        "config.yaml:2:9: telegram.mode: must be 'polling' or 'webhook' (got 'pull')",
        "config.yaml:4:12: webchat.enabled: must be true or false (got 'maybe')",
        "config.yaml:6:21: bot.default_language: must be text"
        " (got false; put it in quotes if you meant it as text)",
        "config.yaml:8:11: logging.format: must be 'text' or 'json' (got 'xml')",
    ]


def test_list_item_points_at_the_item(tmp_path: Path) -> None:
    text = "bot:\n  languages:\n    - en\n    - [ru]\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:4:7: bot.languages[1]: must be text (got a list)"
    ]


def test_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "web: 8080\n") == [
        "config.yaml:1:6: web: must be a section of `key: value` settings (got 8080)"
    ]


def test_top_level_that_is_not_a_mapping(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "- web\n")
    assert problem.startswith("config.yaml:1:1: the top level must be sections")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "web:\n  port: 80\n   host: x\n",
            "config.yaml:3:8: invalid YAML: mapping values are not allowed here",
        ),
        (
            "web:\n\tport: 80\n",
            "config.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token",
        ),
        (
            "bot:\n  title: 'unclosed\n",
            "config.yaml:3:1: invalid YAML: found unexpected end of stream",
        ),
        (
            "web: !!python/object:os.system x\n",
            "config.yaml:1:6: invalid YAML: could not determine",
        ),
    ],
)
def test_yaml_syntax_error_is_one_problem_with_its_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    [problem] = problems_for(tmp_path, text)
    assert problem.startswith(expected)


def test_duplicate_key(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "web:\n  port: 1\n  port: 2\n") == [
        "config.yaml:3:3: web.port: is given more than once (first on line 2)"
    ]


def test_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    text = "x-common: &common\n  port: 1\nweb:\n  <<: *common\n  port: 2\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:1:1: x-common: unknown section 'x-common'; the known ones are: bot,"
        " delivery, funnels, handoff, inbound, knowledge, logging, storage, surveys, telegram, web,"
        " webchat, webhooks"
    ]


@pytest.mark.parametrize(
    ("text", "path", "variable"),
    [
        ("telegram:\n  token: '123:abc'\n", "telegram.token", "NUDGE_TELEGRAM_TOKEN"),
        (
            "telegram:\n  webhook_secret: s3cret\n",
            "telegram.webhook_secret",
            "NUDGE_TELEGRAM_WEBHOOK_SECRET",
        ),
        ("storage:\n  password: hunter2\n", "storage.password", "NUDGE_DATABASE_PASSWORD"),
        ("secret_key: abc\n", "secret_key", "NUDGE_SECRET_KEY"),
        ("web:\n  agent_desk_token: abc\n", "web.agent_desk_token", "NUDGE_AGENT_DESK_TOKEN"),
    ],
)
def test_secret_in_file_points_at_the_key(
    tmp_path: Path, text: str, path: str, variable: str
) -> None:
    [problem] = problems_for(tmp_path, text)
    line = text.count("\n")
    column = 1 if line == 1 else 3
    assert problem == (
        f"config.yaml:{line}:{column}: {path}: "
        f"secrets come from the environment: set {variable} instead"
    )


def test_api_key_in_file_names_the_secret_variables(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "bot:\n  api_key: abc\n")
    assert problem.startswith("config.yaml:2:3: bot.api_key: secrets come from the environment:")
    assert "NUDGE_TELEGRAM_TOKEN" in problem


def test_password_in_database_url_in_file(tmp_path: Path) -> None:
    text = "storage:\n  url: postgresql+asyncpg://nudge:hunter2@db/nudge\n"
    [problem] = problems_for(tmp_path, text)
    assert problem.startswith("config.yaml:2:8: storage.url: remove the password")
    assert "NUDGE_DATABASE_PASSWORD" in problem
    assert "hunter2" not in problem


def test_unsupported_database(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "storage:\n  url: mysql://u:pw@db/x\n")
    assert problem.startswith("config.yaml:2:8: storage.url: unsupported database URL ('mysql')")
    assert "pw" not in problem


def test_webhook_without_secret_or_public_url(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "telegram:\n  mode: webhook\n") == [
        "config.yaml:2:9: telegram.mode: webhook mode needs NUDGE_TELEGRAM_WEBHOOK_SECRET"
        " set in the environment",
        "config.yaml:2:9: telegram.mode: webhook mode needs web.public_url,"
        " the https address Telegram can reach",
    ]


def test_webhook_with_everything_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("web:\n  public_url: https://bot.example.com/\ntelegram:\n  mode: webhook\n")
    settings = load_settings(path, {"NUDGE_TELEGRAM_WEBHOOK_SECRET": "abc_DEF-123"})
    assert settings.web.public_url == "https://bot.example.com"
    assert settings.secrets.telegram_webhook_secret is not None
    assert settings.secrets.telegram_webhook_secret.get_secret_value() == "abc_DEF-123"


def test_webhook_to_telegram_needs_https(tmp_path: Path) -> None:
    text = "web:\n  public_url: http://bot.example.com\ntelegram:\n  mode: webhook\n"
    assert problems_for(tmp_path, text, {"NUDGE_TELEGRAM_WEBHOOK_SECRET": "x"}) == [
        "config.yaml:2:15: web.public_url: must start with https://"
        " because Telegram only calls https webhooks"
    ]
    local = text + "  api_server: http://localhost:8081\n"
    assert problems_for(tmp_path, local, {"NUDGE_TELEGRAM_WEBHOOK_SECRET": "x"}) == []


def test_cross_field_checks(tmp_path: Path) -> None:
    text = (
        "bot:\n  default_language: de\n"
        "delivery:\n  backoff_initial_seconds: 600\n  paid_broadcast_per_second: 1001\n"
    )
    assert problems_for(tmp_path, text) == [
        "config.yaml:2:21: bot.default_language: 'de' is not in bot.languages (en, ru, ro, ko)",
        "config.yaml:5:30: delivery.paid_broadcast_per_second: must be at most 1000",
    ]
    text = "delivery:\n  backoff_initial_seconds: 600\n"
    assert problems_for(tmp_path, text) == [
        "config.yaml:2:28: delivery.backoff_initial_seconds: must not be more than"
        " delivery.backoff_max_seconds (300)"
    ]


def test_several_problems_are_reported_together_in_line_order(tmp_path: Path) -> None:
    text = (
        "web:\n  port: 0\n  prot: 1\n"
        "telegram:\n  token: abc\n"
        "delivery:\n  global_per_second: -1\n  concurrency: lots\n"
    )
    path = tmp_path / "config.yaml"
    path.write_text(text)
    environ = {"NUDGE_WEB__HOSTT": "x", "NUDGE_INBOUND__BATCH_SIZE": "0"}
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ)
    problems = caught.value.problems
    assert [(p.file, p.line, p.path) for p in problems] == [
        (str(path), 2, "web.port"),
        (str(path), 3, "web.prot"),
        (str(path), 5, "telegram.token"),
        (str(path), 7, "delivery.global_per_second"),
        (str(path), 8, "delivery.concurrency"),
        ("environment", None, "NUDGE_WEB__HOSTT"),
        ("environment", None, "NUDGE_INBOUND__BATCH_SIZE"),
    ]
    report = str(caught.value)
    assert report.startswith("7 configuration problems:\n")
    assert all(str(p) in report for p in problems)


def test_messages_are_plain_sentences(tmp_path: Path) -> None:
    text = "web:\n  port: x\n  prot: 1\ndelivery:\n  tick_seconds: .nan\nbot:\n  languages: []\n"
    found = problems_for(tmp_path, text, {"NUDGE_BOT__LANGUAGES": "[", "NUDGE_BOT__TITLE": "x"})
    assert len(found) == 6
    for problem in found:
        for noise in (
            "Traceback",
            "pydantic",
            "input_value",
            "validation error",
            "errors.pydantic",
        ):
            assert noise not in problem
        assert "\n" not in problem
