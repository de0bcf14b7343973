"""`NUDGE_<SECTION>__<KEY>` overrides and secrets from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, ConfigProblem, check_settings, load_settings, override_name


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("web:\n  port: 8081\nbot:\n  languages: [en, ru, ro]\n")
    return path


def env_problems(config: Path, environ: dict[str, str]) -> list[str]:
    return [str(problem) for problem in check_settings(config, environ)]


def test_override_name() -> None:
    assert override_name("delivery", "limits_enabled") == "NUDGE_DELIVERY__LIMITS_ENABLED"


def test_overrides_of_nested_values_win_over_the_file(config: Path) -> None:
    settings = load_settings(
        config,
        {
            "NUDGE_WEB__PORT": "9000",
            "NUDGE_STORAGE__URL": "postgresql+asyncpg://nudge@db:5432/nudge",
            "NUDGE_DELIVERY__LIMITS_ENABLED": "false",
            "NUDGE_DELIVERY__GLOBAL_PER_SECOND": "12.5",
            "NUDGE_TELEGRAM__MODE": "webhook",
            "NUDGE_WEB__PUBLIC_URL": "https://bot.example.com",
            "NUDGE_TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "NUDGE_LOGGING__LEVEL": "debug",
        },
    )
    assert settings.web.port == 9000
    assert settings.storage.url == "postgresql+asyncpg://nudge@db:5432/nudge"
    assert settings.delivery.limits_enabled is False
    assert settings.delivery.global_per_second == 12.5
    assert settings.telegram.mode == "webhook"
    assert settings.logging.level == "DEBUG"


def test_names_are_case_insensitive(config: Path) -> None:
    settings = load_settings(config, {"nudge_web__port": "9001", "Nudge_Webchat__Title": "Hi"})
    assert (settings.web.port, settings.webchat.title) == (9001, "Hi")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[en, ru]", ["en", "ru"]),
        ('["en", "ko"]', ["en", "ko"]),
        ("en, ro", ["en", "ro"]),
        ("en", ["en"]),
    ],
)
def test_list_overrides(config: Path, value: str, expected: list[str]) -> None:
    assert load_settings(config, {"NUDGE_BOT__LANGUAGES": value}).bot.languages == expected


def test_empty_list_and_empty_optional(config: Path) -> None:
    settings = load_settings(
        config, {"NUDGE_WEBCHAT__ALLOWED_ORIGINS": "", "NUDGE_WEB__PUBLIC_URL": ""}
    )
    assert settings.webchat.allowed_origins == []
    assert settings.web.public_url is None


def test_override_creates_a_missing_section(config: Path) -> None:
    assert "inbound" not in config.read_text()
    settings = load_settings(config, {"NUDGE_INBOUND__BATCH_SIZE": "7"})
    assert settings.inbound.batch_size == 7


def test_bad_override_value_names_the_variable(config: Path) -> None:
    assert env_problems(config, {"NUDGE_WEB__PORT": "eighty"}) == [
        "environment: NUDGE_WEB__PORT: must be a whole number (got 'eighty')"
    ]
    assert env_problems(config, {"NUDGE_DELIVERY__GLOBAL_PER_SECOND": "0"}) == [
        "environment: NUDGE_DELIVERY__GLOBAL_PER_SECOND: must be greater than 0"
    ]
    assert env_problems(config, {"NUDGE_WEBCHAT__ENABLED": "sometimes"}) == [
        "environment: NUDGE_WEBCHAT__ENABLED: must be true or false (got 'sometimes')"
    ]


def test_bad_list_override(config: Path) -> None:
    assert env_problems(config, {"NUDGE_BOT__LANGUAGES": "[en, [ru]]"}) == [
        "environment: NUDGE_BOT__LANGUAGES: item 2: must be text (got a list)"
    ]
    [problem] = env_problems(config, {"NUDGE_BOT__LANGUAGES": "[en, ru"})
    assert problem.startswith("environment: NUDGE_BOT__LANGUAGES: is not a valid YAML/JSON list")


def test_problem_fields_for_the_environment(config: Path) -> None:
    assert check_settings(config, {"NUDGE_WEB__PORT": "0"}) == [
        ConfigProblem("environment", None, None, "NUDGE_WEB__PORT", "must be at least 1")
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NUDGE_WEB__PROT", "no such setting 'web.prot' (did you mean NUDGE_WEB__PORT?)"),
        ("NUDGE_WBE__PORT", "no such setting 'wbe.port' (did you mean NUDGE_WEB__PORT?)"),
        ("NUDGE_WEB__PORT__X", "no such setting 'web.port.x'"),
        ("NUDGE_WEB_PORT", "overrides need a double underscore: use NUDGE_WEB__PORT"),
        ("NUDGE_TELEGRAM_TOKN", "is not a known variable (did you mean NUDGE_TELEGRAM_TOKEN?)"),
        (
            "NUDGE_TELEGRAM__TOKEN",
            "is not a setting; secrets come from the environment: set NUDGE_TELEGRAM_TOKEN instead",
        ),
    ],
)
def test_unknown_override_names_the_variable(config: Path, name: str, expected: str) -> None:
    [problem] = env_problems(config, {name: "1"})
    assert problem.startswith(f"environment: {name}: {expected}")
    with pytest.raises(ConfigError):
        load_settings(config, {name: "1"})


def test_unrelated_variables_are_left_alone(config: Path) -> None:
    environ = {
        "NUDGE_TEST_POSTGRES_URL": "postgresql+asyncpg://x@y/z",
        "NUDGE_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "NUDGE_FAKE_TELEGRAM_TOKEN": "x",
        "PATH": "/bin",
    }
    assert check_settings(config, environ) == []


def test_same_override_twice_in_different_case(config: Path) -> None:
    [problem] = env_problems(config, {"NUDGE_WEB__PORT": "1", "nudge_web__port": "2"})
    assert problem == "environment: nudge_web__port: is set twice, also as NUDGE_WEB__PORT"


def test_secrets_are_read_from_the_environment(config: Path) -> None:
    settings = load_settings(
        config,
        {
            "NUDGE_TELEGRAM_TOKEN": "123456:ABC-def\n",
            "NUDGE_AGENT_DESK_TOKEN": "desk",
            "NUDGE_SECRET_KEY": "k" * 32,
            "NUDGE_TELEGRAM_WEBHOOK_SECRET": "   ",
        },
    )
    secrets = settings.secrets
    assert secrets.telegram_token is not None
    assert secrets.telegram_token.get_secret_value() == "123456:ABC-def"
    assert secrets.agent_desk_token is not None
    assert secrets.agent_desk_token.get_secret_value() == "desk"
    assert secrets.secret_key is not None
    assert secrets.telegram_webhook_secret is None  # blank means unset
    assert secrets.database_password is None
    assert "ABC-def" not in repr(settings)


def test_bad_webhook_secret_is_reported_without_its_value(config: Path) -> None:
    for bad in ("has space", "x" * 257, "naïve"):
        [problem] = check_settings(config, {"NUDGE_TELEGRAM_WEBHOOK_SECRET": bad})
        assert problem.file == "environment"
        assert problem.path == "NUDGE_TELEGRAM_WEBHOOK_SECRET"
        assert problem.message.startswith("must be 1-256 characters")
        assert bad not in str(problem)


def test_webhook_mode_from_environment_without_secret(config: Path) -> None:
    environ = {"NUDGE_TELEGRAM__MODE": "webhook", "NUDGE_WEB__PUBLIC_URL": "https://x.example"}
    assert env_problems(config, environ) == [
        "environment: NUDGE_TELEGRAM__MODE: webhook mode needs NUDGE_TELEGRAM_WEBHOOK_SECRET"
        " set in the environment"
    ]


def test_database_password_is_put_into_the_url(config: Path) -> None:
    environ = {
        "NUDGE_STORAGE__URL": "postgresql+asyncpg://nudge@db:5432/nudge",
        "NUDGE_DATABASE_PASSWORD": "p@ss/word",
    }
    settings = load_settings(config, environ)
    assert settings.storage.url == "postgresql+asyncpg://nudge:p%40ss%2Fword@db:5432/nudge"
    assert settings.storage.redacted_url() == "postgresql+asyncpg://nudge:***@db:5432/nudge"
    assert "p%40ss" not in repr(settings)


def test_database_password_leaves_urls_with_a_password_and_sqlite_alone(config: Path) -> None:
    url = "postgresql+asyncpg://nudge:own@db/nudge"
    environ = {"NUDGE_STORAGE__URL": url, "NUDGE_DATABASE_PASSWORD": "other"}
    assert load_settings(config, environ).storage.url == url
    sqlite = load_settings(config, {"NUDGE_DATABASE_PASSWORD": "other"})
    assert sqlite.storage.url == "sqlite+aiosqlite:///data/nudge.db"


def test_database_password_needs_a_user(config: Path) -> None:
    environ = {
        "NUDGE_STORAGE__URL": "postgresql+asyncpg://db/nudge",
        "NUDGE_DATABASE_PASSWORD": "pw",
    }
    [problem] = env_problems(config, environ)
    assert problem.startswith("environment: NUDGE_STORAGE__URL: NUDGE_DATABASE_PASSWORD is set")
