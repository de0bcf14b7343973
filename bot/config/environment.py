"""`NUDGE_<SECTION>__<KEY>` environment overrides, e.g. `NUDGE_WEB__PORT=9000`."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, TypeGuard, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config.models import SECTIONS
from bot.config.secret_env import (
    SECRET_VARIABLES,
    is_secret_key,
    secret_message,
    secret_variable_for,
)

ENV_PREFIX = "NUDGE_"
CONFIG_VARIABLE = "NUDGE_CONFIG"
"""Names the config file to read instead of `./config.yaml`."""


def override_name(section: str, *keys: str) -> str:
    """The environment variable that overrides `section.key` (or a key further down, like
    `handoff.desk.group_chat_id`)."""
    return ENV_PREFIX + "__".join(part.upper() for part in (section, *keys))


SettingPath = tuple[str, ...]


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _setting_paths(model: type[BaseModel], prefix: SettingPath) -> Iterator[SettingPath]:
    """Every key of `model`, and the keys of its sub-sections (not of lists or mappings)."""
    for key, info in model.model_fields.items():
        path = (*prefix, key)
        yield path
        if _is_model(info.annotation):
            yield from _setting_paths(info.annotation, path)


OVERRIDE_NAMES: dict[str, SettingPath] = {
    override_name(*path): path
    for section, model in SECTIONS.items()
    for path in _setting_paths(model, (section,))
}
"""Every override variable (upper case) -> (section, key, ...)."""


def field_info(path: SettingPath) -> FieldInfo:
    """The field a setting path names (one of `OVERRIDE_NAMES`' values)."""
    model: Any = SECTIONS[path[0]]
    for key in path[1:-1]:
        model = model.model_fields[key].annotation
    info: FieldInfo = model.model_fields[path[-1]]
    return info


@dataclass(frozen=True)
class EnvOverride:
    variable: str
    """As spelled in the environment."""
    path: SettingPath
    """(section, key, ...): two parts, or more for a key inside a sub-section."""
    value: Any

    @property
    def section(self) -> str:
        return self.path[0]

    @property
    def key(self) -> str:
        return self.path[-1]


@dataclass
class EnvReading:
    overrides: list[EnvOverride] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(variable, message) for every override that cannot be used."""


def read_overrides(environ: Mapping[str, str]) -> EnvReading:
    """Every `NUDGE_<SECTION>__<KEY>` in `environ` (case-insensitive), parsed for its field."""
    reading = EnvReading()
    used: dict[str, str] = {}
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in SECRET_VARIABLES:
            continue
        if "__" not in upper[len(ENV_PREFIX) :]:
            lookalike = _lookalike(upper)
            if lookalike:
                reading.problems.append((name, lookalike))
            continue
        if upper in used:
            reading.problems.append((name, f"is set twice, also as {used[upper]}"))
            continue
        used[upper] = name
        _read_one(name, environ[name], reading)
    return reading


def _read_one(name: str, raw: str, reading: EnvReading) -> None:
    target = OVERRIDE_NAMES.get(name.upper())
    if target is None:
        reading.problems.append((name, _unknown_message(name)))
        return
    info = field_info(target)
    try:
        value = parse_env_value(raw, info)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "cannot be read"
        kind = "list" if get_origin(info.annotation) is list else "mapping"
        reading.problems.append((name, f"is not a valid YAML/JSON {kind}: {problem}"))
        return
    reading.overrides.append(EnvOverride(name, target, value))


def parse_env_value(raw: str, info: FieldInfo) -> Any:
    """Lists are YAML/JSON (`[en, ru]`) or comma-separated; mappings and sub-sections are
    YAML/JSON (`{vip: 5}`); other values stay text for pydantic to convert; blank means
    "none" for optional settings."""
    text = raw.strip()
    if get_origin(info.annotation) is list:
        parsed = yaml.safe_load(text) if text else []
        if isinstance(parsed, str):
            return [part.strip() for part in parsed.split(",") if part.strip()]
        return [] if parsed is None else parsed
    if not text and _optional(info.annotation):
        return None
    if _is_mapping(info.annotation):
        parsed = yaml.safe_load(text) if text else {}
        return {} if parsed is None else parsed
    return text


def _optional(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


def _is_mapping(annotation: Any) -> bool:
    """A mapping or a sub-section, optional or not."""
    kinds = [annotation]
    if get_origin(annotation) in (Union, UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
    return any(get_origin(kind) is dict or _is_model(kind) for kind in kinds)


def _unknown_message(name: str) -> str:
    parts = name.upper()[len(ENV_PREFIX) :].lower().split("__")
    if parts and is_secret_key(parts[-1]):
        variable = secret_variable_for(tuple(parts))
        return f"is not a setting; {secret_message(variable)}"
    close = difflib.get_close_matches(name.upper(), list(OVERRIDE_NAMES), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    dotted = ".".join(part for part in parts if part)
    return f"no such setting '{dotted}'{hint}"


def _lookalike(upper: str) -> str | None:
    """A problem for `NUDGE_WEB_PORT` (one underscore) or a misspelt secret's name."""
    if upper == CONFIG_VARIABLE:
        return None
    rest = upper[len(ENV_PREFIX) :].lower()
    for section, model in SECTIONS.items():
        key = rest.removeprefix(f"{section}_")
        if key != rest and key in model.model_fields:
            return f"overrides need a double underscore: use {override_name(section, key)}"
    for secret in SECRET_VARIABLES:
        similar = difflib.SequenceMatcher(None, upper, secret).ratio() >= 0.9
        if similar and abs(len(upper) - len(secret)) <= 2:
            return f"is not a known variable (did you mean {secret}?)"
    return None
