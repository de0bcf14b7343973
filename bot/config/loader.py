"""Load settings from `config.yaml` plus the environment, collecting every problem at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.config.base import Section
from bot.config.checks import apply_database_password, cross_checks
from bot.config.environment import CONFIG_VARIABLE, read_overrides
from bot.config.messages import describe_error, model_at, unknown_key_message
from bot.config.models import SECTIONS, Settings, StorageSettings
from bot.config.origins import Origins, dotted
from bot.config.problems import ConfigError, ConfigProblem, sort_problems
from bot.config.secret_env import pop_secret_keys, read_secrets, secret_message
from bot.config.yaml_tree import YamlSyntaxError, parse_yaml

DEFAULT_CONFIG_PATH = Path("config.yaml")
PathSource = Literal["argument", "NUDGE_CONFIG", "default"]


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (default: `$NUDGE_CONFIG`, else `./config.yaml`; a missing default file
    means all defaults) and apply `NUDGE_*` variables from `environ` (default: `os.environ`).

    Raises `ConfigError` listing every problem found."""
    settings, problems = _load(path, environ)
    if settings is None:
        raise ConfigError(problems)
    return settings


def check_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[ConfigProblem]:
    """Every problem `load_settings` would raise, without raising (empty when all is well)."""
    return _load(path, environ)[1]


def resolve_config_path(path: Path | None, environ: Mapping[str, str]) -> tuple[Path, PathSource]:
    """Which config file to read, and who chose it."""
    if path is not None:
        return Path(path), "argument"
    named = environ.get(CONFIG_VARIABLE, "").strip()
    if named:
        return Path(named), "NUDGE_CONFIG"
    return DEFAULT_CONFIG_PATH, "default"


def _load(
    path: Path | None, environ: Mapping[str, str] | None
) -> tuple[Settings | None, list[ConfigProblem]]:
    env = os.environ if environ is None else environ
    config_path, source = resolve_config_path(path, env)
    origins = Origins(str(config_path))
    problems: list[ConfigProblem] = []
    text = _read_file(config_path, source, origins, problems)
    data = _parse(text, origins, problems) if text is not None else {}
    _apply_overrides(data, env, origins, problems)
    sections = _validate_sections(data, origins, problems)
    secrets, secret_problems = read_secrets(env)
    problems += [origins.env_problem(name, message) for name, message in secret_problems]
    problems += cross_checks(sections, secrets, origins)
    storage = sections.get("storage")
    if isinstance(storage, StorageSettings):
        sections["storage"], storage_problems = apply_database_password(storage, secrets, origins)
        problems += storage_problems
    if problems:
        return None, sort_problems(problems)
    fields: dict[str, Any] = {**sections, "secrets": secrets}
    fields.update(config_path=config_path.absolute(), config_found=text is not None)
    return Settings.model_validate(fields), []


def _read_file(
    path: Path, source: PathSource, origins: Origins, problems: list[ConfigProblem]
) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if source != "default":
            named_by = "" if source == "argument" else f" (named by {CONFIG_VARIABLE})"
            problems.append(origins.file_problem(f"no such file{named_by}"))
        return None
    except IsADirectoryError:
        problems.append(origins.file_problem("is a directory, not a config file"))
    except UnicodeDecodeError:
        problems.append(origins.file_problem("is not UTF-8 text"))
    except OSError as error:
        problems.append(origins.file_problem(f"cannot be read: {error.strerror}"))
    return None


def _parse(text: str, origins: Origins, problems: list[ConfigProblem]) -> dict[str, Any]:
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as error:
        problems.append(origins.file_problem(error.message, error.mark))
        return {}
    origins.marks = document.marks
    for issue in document.issues:
        problems.append(origins.file_problem(issue.message, issue.mark, dotted(issue.path)))
    for secret in pop_secret_keys(document.data):
        message = secret_message(secret.variable)
        problems.append(origins.problem(secret.path, message, at_key=True))
    return document.data


def _apply_overrides(
    data: dict[str, Any],
    environ: Mapping[str, str],
    origins: Origins,
    problems: list[ConfigProblem],
) -> None:
    reading = read_overrides(environ)
    problems += [origins.env_problem(name, message) for name, message in reading.problems]
    for override in reading.overrides:
        node: Any = data
        for part in override.path[:-1]:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):  # a malformed section is reported by validation
                break
        else:
            node[override.key] = override.value
            origins.env[override.path] = override.variable


def _validate_sections(
    data: dict[str, Any], origins: Origins, problems: list[ConfigProblem]
) -> dict[str, Section]:
    """Each section on its own, so the valid ones are still there for cross checks."""
    for name in data:
        if name not in SECTIONS:
            message = unknown_key_message(name, SECTIONS, what="section")
            problems.append(origins.problem((name,), message, at_key=True))
    sections: dict[str, Section] = {}
    for name, model in SECTIONS.items():
        raw = data.get(name)
        try:
            sections[name] = model.model_validate({} if raw is None else raw)
        except ValidationError as error:
            problems += [_problem(name, model, item, origins) for item in error.errors()]
    return sections


def _problem(
    section: str, model: type[Section], error: ErrorDetails, origins: Origins
) -> ConfigProblem:
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        known = model_at(model, loc[:-1]).model_fields
        message = unknown_key_message(str(loc[-1]), known)
        return origins.problem((section, *loc), message, at_key=True)
    if loc and loc[-1] == "[key]":  # pydantic's mark for a bad key of a mapping
        return origins.problem((section, *loc[:-1]), describe_error(error), at_key=True)
    return origins.problem((section, *loc), describe_error(error))
