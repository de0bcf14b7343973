"""Knowledge base: rank KB articles for a customer question and decide what to do.

Service layer: no SQL, no transport. See docs/knowledge-ranking.md for the method and figures.
"""

from bot.knowledge.decision import (
    DEFAULT_THRESHOLDS,
    Decision,
    DecisionKind,
    LabelledQuery,
    Thresholds,
    decide,
    tune,
)
from bot.knowledge.index import IndexParams, KnowledgeIndex
from bot.knowledge.model import Article, Match

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Article",
    "Decision",
    "DecisionKind",
    "IndexParams",
    "KnowledgeIndex",
    "LabelledQuery",
    "Match",
    "Thresholds",
    "decide",
    "tune",
]
