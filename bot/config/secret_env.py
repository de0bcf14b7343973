"""Secrets live only in the environment: read them there, and refuse them in config.yaml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.config.models import Secrets

TELEGRAM_TOKEN = "NUDGE_TELEGRAM_TOKEN"
TELEGRAM_WEBHOOK_SECRET = "NUDGE_TELEGRAM_WEBHOOK_SECRET"
AGENT_DESK_TOKEN = "NUDGE_AGENT_DESK_TOKEN"
EVENTS_SECRET = "NUDGE_EVENTS_SECRET"
SECRET_KEY = "NUDGE_SECRET_KEY"
DATABASE_PASSWORD = "NUDGE_DATABASE_PASSWORD"

SECRET_VARIABLES: dict[str, str] = {
    TELEGRAM_TOKEN: "telegram_token",
    TELEGRAM_WEBHOOK_SECRET: "telegram_webhook_secret",
    AGENT_DESK_TOKEN: "agent_desk_token",
    EVENTS_SECRET: "events_secret",
    SECRET_KEY: "secret_key",
    DATABASE_PASSWORD: "database_password",
}
"""Environment variable -> field of `Secrets`."""

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Shorter shared secrets could be guessed offline from one signed request.
EVENTS_SECRET_MIN_LENGTH = 16
_SECRET_WORDS = {"token", "tokens", "secret", "secrets", "password", "passwd", "apikey"}


@dataclass(frozen=True)
class SecretInFile:
    """A secret-looking key found in the config file, and the variable to use instead."""

    path: tuple[str | int, ...]
    variable: str | None


def read_secrets(environ: Mapping[str, str]) -> tuple[Secrets, list[tuple[str, str]]]:
    """The secrets from `environ` (names compared case-insensitively, blank means unset),
    and (variable, message) pairs for malformed ones. Never repeats a secret's value."""
    values: dict[str, SecretStr] = {}
    for name, raw in environ.items():
        field = SECRET_VARIABLES.get(name.upper())
        if field is not None and raw.strip():
            values[field] = SecretStr(raw.strip())
    problems: list[tuple[str, str]] = []
    webhook = values.get("telegram_webhook_secret")
    if webhook is not None and not _WEBHOOK_SECRET.match(webhook.get_secret_value()):
        message = "must be 1-256 characters, each a letter A-Z or a-z, a digit, '_' or '-'"
        problems.append((TELEGRAM_WEBHOOK_SECRET, message))
    events = values.get("events_secret")
    if events is not None and len(events.get_secret_value()) < EVENTS_SECRET_MIN_LENGTH:
        message = f"must be at least {EVENTS_SECRET_MIN_LENGTH} characters (a long random string)"
        problems.append((EVENTS_SECRET, message))
    return Secrets(**values), problems


def is_secret_key(key: str) -> bool:
    """`token`, `bot_token`, `webhook-secret`, `password`, `api_key`, ..."""
    words = [word for word in re.split(r"[_\-.\s]+", key.lower()) if word]
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or "apikey" in joined


def secret_variable_for(path: tuple[str | int, ...]) -> str | None:
    """The secret variable a secret-looking setting most likely meant, if it is clear."""
    text = "_".join(str(part) for part in path).lower()
    if text.startswith(("webhooks", "events")):
        return EVENTS_SECRET
    if "webhook" in text:
        return TELEGRAM_WEBHOOK_SECRET
    if any(word in text for word in ("password", "passwd", "storage", "database")):
        return DATABASE_PASSWORD
    if "agent" in text or "desk" in text:
        return AGENT_DESK_TOKEN
    if "token" in text:
        return TELEGRAM_TOKEN
    if "secret" in text:
        return SECRET_KEY
    return None


def secret_message(variable: str | None) -> str:
    if variable is not None:
        return f"secrets come from the environment: set {variable} instead"
    names = ", ".join(SECRET_VARIABLES)
    return f"secrets come from the environment: set NUDGE_... instead (one of {names})"


def pop_secret_keys(data: dict[str, Any]) -> list[SecretInFile]:
    """Remove every secret-looking key from `data` (at any depth) and say where each was."""
    found: list[SecretInFile] = []
    _pop(data, (), found)
    return found


def _pop(node: Any, path: tuple[str | int, ...], found: list[SecretInFile]) -> None:
    if isinstance(node, dict):
        for key in list(node):
            child = (*path, key)
            if isinstance(key, str) and is_secret_key(key):
                value = node.pop(key)
                variable = None if isinstance(value, dict) else secret_variable_for(child)
                found.append(SecretInFile(child, variable))
            else:
                _pop(node[key], child, found)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _pop(item, (*path, index), found)
