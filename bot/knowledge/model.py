"""The knowledge base's plain data: articles and ranked matches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Article:
    """One KB article. `questions` are the alternative phrasings a support lead wrote; they
    carry most of the matching signal, the title is used as one more phrasing."""

    id: str
    title: str
    lang: str
    questions: tuple[str, ...]
    body: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """An article and how well it matches a question (higher is better, about 0..1)."""

    article_id: str
    score: float
