"""From ranked matches to what the bot does: answer, offer choices, or hand off.

A wrong confident answer costs more than a hand-off, so ANSWER needs both a high top score
and a clear lead over the runner-up (two near-equal articles mean the question is ambiguous
for this KB). Below that, articles still above `choices` are offered as buttons; below that
the conversation goes to a human.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from bot.knowledge.model import Match

MAX_CHOICES = 3


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision parameters (scores are the index's, about 0..1). Kept in config.yaml.

    The defaults are what `tune` picks on CLINC150 validation (150 articles x 10 questions);
    a KB with its own labelled questions should be tuned on them instead."""

    answer: float = 0.28
    choices: float = 0.23
    margin: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Thresholds:
        known = {k: float(str(data[k])) for k in ("answer", "choices", "margin") if k in data}
        return cls(**known)


DEFAULT_THRESHOLDS = Thresholds()


class DecisionKind(StrEnum):
    ANSWER = "answer"
    CHOICES = "choices"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    matches: list[Match]


def decide(matches: Sequence[Match], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """`matches` best first, as returned by KnowledgeIndex.search."""
    if not matches:
        return Decision(DecisionKind.NO_ANSWER, [])
    top = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if top.score >= thresholds.answer and top.score - runner_up >= thresholds.margin:
        return Decision(DecisionKind.ANSWER, [top])
    close = [m for m in matches[:MAX_CHOICES] if m.score >= thresholds.choices]
    if close:
        return Decision(DecisionKind.CHOICES, close)
    return Decision(DecisionKind.NO_ANSWER, [])


class Searchable(Protocol):
    def search(self, text: str, lang: str | None = None, limit: int = 5) -> list[Match]: ...


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A question and the article that answers it (None: nothing in the KB does)."""

    text: str
    expected_id: str | None
    lang: str | None = None
    id: str = ""


CHOICES_RATIO = 0.8
"""`choices` is not tuned (no benchmark measures button offers); it sits this far below the
tuned answer threshold."""
_MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08)


def tune(index: Searchable, val_queries: Iterable[LabelledQuery]) -> Thresholds:
    """Thresholds that maximise (in-scope top-1 + OOS recall) / 2 on validation queries.

    Only answer-versus-not matters for that metric, so `answer` and `margin` are searched on
    a grid (every distinct top score x a few margins).
    """
    tops, gaps, right, oos = [], [], [], []
    for query in val_queries:
        found = index.search(query.text, query.lang, limit=2)
        score = found[0].score if found else 0.0
        tops.append(score)
        gaps.append(score - (found[1].score if len(found) > 1 else 0.0))
        right.append(bool(found) and found[0].article_id == query.expected_id)
        oos.append(query.expected_id is None)
    return _grid(np.array(tops), np.array(gaps), np.array(right), np.array(oos, dtype=bool))


def _grid(tops: np.ndarray, gaps: np.ndarray, right: np.ndarray, oos: np.ndarray) -> Thresholds:
    if not len(tops) or oos.all() or not oos.any():
        return DEFAULT_THRESHOLDS
    candidates = np.unique(tops)
    best = (-1.0, DEFAULT_THRESHOLDS)
    for margin in _MARGINS:
        lead = gaps >= margin
        values = np.array([_balanced(tops >= t, lead, right, oos) for t in candidates])
        top = int(values.argmax())
        if values[top] > best[0] + 1e-12:
            best = (float(values[top]), Thresholds(_middle(candidates, values, top), 0.0, margin))
    answer = round(best[1].answer, 4)
    return Thresholds(answer, round(answer * CHOICES_RATIO, 4), best[1].margin)


def _balanced(above: np.ndarray, lead: np.ndarray, right: np.ndarray, oos: np.ndarray) -> float:
    answered = above & lead
    return (float((answered & right)[~oos].mean()) + float((~answered)[oos].mean())) / 2


def _middle(candidates: np.ndarray, values: np.ndarray, first: int) -> float:
    """Every threshold in (candidates[first - 1], candidates[last]] decides val the same way
    while the value stays at its best; take the middle of that interval, not its edge."""
    last = first
    while last + 1 < len(values) and values[last + 1] >= values[first] - 1e-12:
        last += 1
    low = float(candidates[first - 1]) if first > 0 else 0.0
    return (low + float(candidates[last])) / 2
