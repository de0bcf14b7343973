"""From ranked matches to what the bot does: answer, offer choices, or hand off.

A wrong confident answer costs more than a hand-off. The decision reads each article's score
against the field: the mean score of the FIELD articles after the best one. A question made of
words many articles share ("how do you know when your dog is ill" meets "how old are you" and
every "how do i ...") lifts the whole field; a question that is really about one article lifts
that article alone. So every score is lowered by FIELD_WEIGHT x the field mean before it is
compared with the thresholds: ANSWER when the best one clears `answer` (and, optionally, leads
the runner-up by `margin`); otherwise the (up to three) articles that clear `choices` are
offered as buttons; otherwise the conversation goes to a human. On CLINC150 validation this
answers more in-scope questions at the same out-of-scope recall than the raw top score does
(docs/knowledge-ranking.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from bot.knowledge.model import Match

MAX_CHOICES = 3
FIELD = 10
"""The field: this many articles after the best one (fewer when the KB, or its part in the
question's language, has fewer)."""
FIELD_WEIGHT = 0.5
"""How much of the field mean is taken off every score; chosen on CLINC150 validation halves
(0.25, 0.5, 0.75 and 1 all beat 0; 0.5 and 1 answered the most held-out questions right, 0.5
with less loss of out-of-scope recall)."""
DEPTH = 1 + FIELD
"""Matches `decide` needs to see: search with at least this limit."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision parameters, compared with scores less FIELD_WEIGHT x the field mean (the
    index's scores are about 0..1). Kept in config.yaml.

    The defaults are what `tune` picks on CLINC150 validation (150 articles x 10 questions);
    a KB with its own labelled questions should be tuned on them instead."""

    answer: float = 0.18
    choices: float = 0.14
    margin: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Thresholds:
        known = {k: float(str(data[k])) for k in ("answer", "choices", "margin") if k in data}
        return cls(**known)


DEFAULT_THRESHOLDS = Thresholds()
EMBEDDING_THRESHOLDS = Thresholds(answer=0.20, choices=0.16)
"""What `tune` picks on CLINC150 validation when the index adds the embedding view
(`knowledge.embeddings`): the fused score has its own scale."""


def default_thresholds(embedder: object | None) -> Thresholds:
    """The tuned defaults for the ranking in use: lexical only, or with embeddings."""
    return DEFAULT_THRESHOLDS if embedder is None else EMBEDDING_THRESHOLDS


class DecisionKind(StrEnum):
    ANSWER = "answer"
    CHOICES = "choices"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    matches: list[Match]


def field_offset(matches: Sequence[Match]) -> float:
    """FIELD_WEIGHT x the mean score of the FIELD matches after the best (0 without any)."""
    field = [m.score for m in matches[1:DEPTH]]
    return FIELD_WEIGHT * sum(field) / len(field) if field else 0.0


def confidence(matches: Sequence[Match]) -> float:
    """The best score less the field offset: what `answer` is compared with."""
    return matches[0].score - field_offset(matches) if matches else 0.0


def decide(matches: Sequence[Match], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """`matches` best first, as returned by KnowledgeIndex.search with a limit of at least
    DEPTH (fewer matches make the field look emptier, and the decision bolder)."""
    if not matches:
        return Decision(DecisionKind.NO_ANSWER, [])
    top = matches[0]
    offset = field_offset(matches)
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if top.score - offset >= thresholds.answer and top.score - runner_up >= thresholds.margin:
        return Decision(DecisionKind.ANSWER, [top])
    close = [m for m in matches[:MAX_CHOICES] if m.score - offset >= thresholds.choices]
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
MIN_OOS_RECALL = 0.85
"""`tune` keeps at least this share of the validation out-of-scope questions unanswered:
above the 80 % asked of a deployment, because a threshold set on a hundred validation
questions lets more unseen ones through (CLINC150 with the raw top score: 85 % on
validation became 82 % on test)."""


def tune(
    index: Searchable,
    val_queries: Iterable[LabelledQuery],
    min_oos_recall: float = MIN_OOS_RECALL,
) -> Thresholds:
    """The answer threshold that answers the most in-scope validation questions right while
    at least `min_oos_recall` of the out-of-scope ones are not answered."""
    confidences, right, oos = [], [], []
    for query in val_queries:
        found = index.search(query.text, query.lang, limit=DEPTH)
        confidences.append(confidence(found))
        right.append(bool(found) and found[0].article_id == query.expected_id)
        oos.append(query.expected_id is None)
    unknown = np.array(oos, dtype=bool)
    if not len(unknown) or unknown.all() or not unknown.any():
        return DEFAULT_THRESHOLDS
    values = np.array(confidences)
    needed = int(np.ceil(min_oos_recall * unknown.sum() - 1e-9))
    answer = _lowest_threshold(values[unknown], values[np.array(right) & ~unknown], needed)
    answer = round(answer, 4)
    return Thresholds(answer, round(answer * CHOICES_RATIO, 4), 0.0)


def _lowest_threshold(unknown: np.ndarray, known: np.ndarray, to_reject: int) -> float:
    """The middle of the lowest interval of thresholds that leaves `to_reject` of the
    `unknown` values below it: above the to_reject-th lowest of them, up to the next value
    (of either kind) above that one, so that val decides the same anywhere inside it."""
    if to_reject <= 0:
        return 0.0
    low = float(np.sort(unknown)[to_reject - 1])
    above = np.concatenate([unknown[unknown > low], known[known > low]])
    high = float(above.min()) if len(above) else low + 0.01
    return (low + high) / 2
