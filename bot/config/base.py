"""What every config section shares: the base model and the small value checks."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


class Section(BaseModel):
    """A config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def check_language(code: str) -> str:
    if not _LANGUAGE.match(code):
        raise ValueError(f"'{code}' is not a language code like en, ru or pt-BR")
    return code
