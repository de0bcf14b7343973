"""Defaults, the shipped config.yaml, and choosing which file to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import (
    SECTIONS,
    ConfigError,
    Settings,
    check_settings,
    load_settings,
    override_name,
)

REPO = Path(__file__).resolve().parents[2]


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.config_found is False
    assert settings.config_path == tmp_path / "config.yaml"
    assert settings.storage.url == "sqlite+aiosqlite:///data/nudge.db"
    assert (settings.web.host, settings.web.port, settings.web.public_url) == (
        "127.0.0.1",
        8080,
        None,
    )
    assert settings.telegram.mode == "polling"
    assert settings.telegram.api_server == "https://api.telegram.org"
    assert settings.telegram.webhook_path == "/telegram/webhook"
    assert settings.telegram.polling_timeout_seconds == 25
    assert settings.webchat.enabled is True
    assert settings.webchat.allowed_origins == []
    assert settings.bot.languages == ["en", "ru", "ro", "ko"]
    assert settings.delivery.global_per_second == 25.0
    assert settings.delivery.paid_broadcast is False
    assert settings.delivery.paid_broadcast_per_second == 1000.0
    assert settings.inbound.batch_size == 100
    assert (settings.logging.level, settings.logging.format) == ("INFO", "text")
    assert settings.secrets.telegram_token is None


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# nothing here\n")
    settings = load_settings(path, environ={})
    assert settings.config_found is True
    assert settings.config_path == path
    assert settings.model_dump(exclude={"config_path", "config_found"}) == Settings().model_dump(
        exclude={"config_path", "config_found"}
    )


def test_empty_sections_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("web:\ntelegram:\n")
    assert load_settings(path, environ={}).web.port == 8080


def test_shipped_config_loads_and_holds_the_defaults() -> None:
    settings = load_settings(REPO / "config.yaml", environ={})
    assert settings.config_found is True
    defaults = Settings()
    for name in SECTIONS:
        assert getattr(settings, name) == getattr(defaults, name), name


def test_shipped_config_and_docs_mention_every_key() -> None:
    shipped = (REPO / "config.yaml").read_text()
    docs = (REPO / "docs" / "configuration.md").read_text()
    for section, model in SECTIONS.items():
        assert re.search(rf"^{section}:", shipped, re.MULTILINE), section
        for key in model.model_fields:
            assert re.search(rf"^  {key}:", shipped, re.MULTILINE), f"{section}.{key}"
            assert f"{section}.{key}" in docs, f"{section}.{key}"
            assert override_name(section, key) in docs, override_name(section, key)


def test_nudge_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "elsewhere.yaml"
    other.write_text("web:\n  port: 9001\n")
    settings = load_settings(environ={"NUDGE_CONFIG": str(other)})
    assert settings.web.port == 9001
    assert settings.config_path == other
    assert settings.config_found is True


def test_os_environ_is_the_default_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUDGE_WEB__PORT", "9002")
    assert load_settings().web.port == 9002


def test_a_named_file_that_is_missing_is_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"NUDGE_CONFIG": str(missing)})
    assert [str(p) for p in caught.value.problems] == [
        f"{missing}: no such file (named by NUDGE_CONFIG)"
    ]
    assert check_settings(missing, environ={})[0].message == "no such file"


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.web.port = 1  # type: ignore[misc]
    assert settings.model_copy(update={"web": settings.web.model_copy(update={"port": 1})})


def test_sections_match_settings_fields() -> None:
    assert set(SECTIONS) <= set(Settings.model_fields)
    for name, model in SECTIONS.items():
        assert Settings.model_fields[name].annotation is model
