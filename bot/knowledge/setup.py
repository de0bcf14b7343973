"""The knowledge base and its decision thresholds as configured (`knowledge:` in config.yaml)."""

from __future__ import annotations

from bot.config.models import KnowledgeSettings
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.decision import Thresholds, default_thresholds
from bot.knowledge.embeddings import SentenceEmbedder, load_embedder


def configured_embedder(config: KnowledgeSettings) -> SentenceEmbedder | None:
    return load_embedder(config.embeddings)


def configured_thresholds(config: KnowledgeSettings) -> Thresholds:
    """config.yaml's thresholds; those left out are the tuned defaults of the ranking in use."""
    tuned = default_thresholds(None if config.embeddings == "none" else config.embeddings)
    return Thresholds(
        answer=tuned.answer if config.answer_threshold is None else config.answer_threshold,
        choices=tuned.choices if config.choices_threshold is None else config.choices_threshold,
        margin=config.answer_margin,
    )


def configured_knowledge_base(config: KnowledgeSettings) -> KnowledgeBase:
    return KnowledgeBase(configured_embedder(config))
