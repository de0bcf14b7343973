"""Every funnel of a `funnels/` folder, loaded and linted, with lookups for the engine.

Only the folder's own `*.yaml` / `*.yml` files are funnels; subfolders (say `funnels/surveys/`)
are left to whoever owns them. A funnel with an error is left out of the catalog (it must not
run half-understood) and its problems are reported; warnings do not keep a funnel out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.funnel.lint import Templates, lint_funnel
from bot.funnel.loader import LoadedFunnel, load_funnel_file
from bot.funnel.model import EventTrigger, Funnel, KeywordTrigger, TagAddedTrigger
from bot.funnel.reader import Problem, sort_problems
from bot.rendering import Renderer

_EDGE_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")


@dataclass(frozen=True)
class FunnelCatalog:
    """The usable funnels of a folder (file order, by name) and every problem found."""

    funnels: tuple[Funnel, ...]
    problems: tuple[Problem, ...]
    rejected: tuple[str, ...] = ()
    """The files left out because of an error."""

    def __iter__(self) -> Iterator[Funnel]:
        return iter(self.funnels)

    def __len__(self) -> int:
        return len(self.funnels)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def get(self, funnel_id: str) -> Funnel | None:
        return next((f for f in self.funnels if f.id == funnel_id), None)

    def by_trigger_kind(self, kind: str) -> tuple[Funnel, ...]:
        """The funnels with a trigger of `kind`: event, stalled, quiet, keyword, tag_added, api."""
        return tuple(f for f in self.funnels if f.trigger.kind == kind)

    def by_trigger_event(self, name: str) -> tuple[Funnel, ...]:
        """The funnels started by the event `name` (their `where` is for the caller to test)."""
        return tuple(f for f in self.funnels if _event_name(f) == name)

    def by_tag_added(self, tag: str) -> tuple[Funnel, ...]:
        return tuple(f for f in self.funnels if _added_tag(f) == tag)

    def by_keyword(self, text: str) -> tuple[Funnel, ...]:
        """The funnels a customer's message starts (see `keyword_matches`)."""
        return tuple(
            f
            for f in self.funnels
            if isinstance(f.trigger, KeywordTrigger) and keyword_matches(f.trigger, text)
        )


def _event_name(funnel: Funnel) -> str | None:
    return funnel.trigger.name if isinstance(funnel.trigger, EventTrigger) else None


def _added_tag(funnel: Funnel) -> str | None:
    return funnel.trigger.tag if isinstance(funnel.trigger, TagAddedTrigger) else None


def keyword_matches(trigger: KeywordTrigger, text: str) -> bool:
    """A `/command` matches a message that starts with it (`/promo` or `/promo@bot x`); a word
    matches a message that is that word, ignoring case, spaces and punctuation at the edges."""
    message = text.strip().lower()
    first = message.split(maxsplit=1)[0].split("@", 1)[0] if message else ""
    plain = _EDGE_PUNCTUATION.sub("", message)
    for word in trigger.words:
        if word.startswith("/") and first == word:
            return True
        if not word.startswith("/") and plain == _EDGE_PUNCTUATION.sub("", word):
            return True
    return False


def funnel_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_funnels(folder: Path, renderer: Renderer | None) -> FunnelCatalog:
    """Load and lint every funnel in `folder` (templates are checked when `renderer` is given).
    A missing folder is an empty catalog: funnels are optional."""
    if not folder.is_dir():
        return FunnelCatalog((), ())
    templates = Templates(renderer) if renderer is not None else None
    loaded = [load_funnel_file(path, _shown(path)) for path in funnel_files(folder)]
    problems: list[Problem] = []
    for item in loaded:
        item.problems.extend(lint_funnel(item, templates))
    _duplicate_funnel_ids(loaded)
    usable, rejected = [], []
    for item in loaded:
        problems.extend(item.problems)
        failed = any(p.severity == "error" for p in item.problems)
        if item.funnel is not None and not failed:
            usable.append(item.funnel)
        else:
            rejected.append(item.path)
    return FunnelCatalog(tuple(usable), tuple(sort_problems(problems)), tuple(rejected))


def _duplicate_funnel_ids(loaded: list[LoadedFunnel]) -> None:
    first: dict[str, str] = {}
    for item in loaded:
        if item.funnel is None:
            continue
        funnel_id = item.funnel.id
        if funnel_id in first:
            message = f"the funnel id `{funnel_id}` is already used by {first[funnel_id]}"
            item.problems.append(item.problem(("id",), message))
        first.setdefault(funnel_id, item.path)


def _shown(path: Path) -> str:
    """The path relative to the working folder when it is inside it (`funnels/x.yaml`)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
