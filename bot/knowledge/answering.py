"""The knowledge base as the conversation sees it: documents, their index, and one question in,
one decision out (answer / offer choices / no answer) in the customer's language.

Articles are searched in the customer's language first. If nothing there fits, the other
languages are searched too (a product name or "paypal" reads the same everywhere); an article
found that way is replaced by its translation in the customer's language when one exists, or
shown as it is with a short note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge.decision import DEFAULT_THRESHOLDS, DEPTH, DecisionKind, Thresholds, decide
from bot.knowledge.documents import KbDocument
from bot.knowledge.embeddings import SentenceEmbedder
from bot.knowledge.index import KnowledgeIndex
from bot.knowledge.model import Article, Match
from bot.knowledge.watch import KbChange

SEARCH_DEPTH = DEPTH  # the decision reads the field of the next ten


@dataclass(frozen=True, slots=True)
class KbAnswer:
    kind: DecisionKind
    documents: list[KbDocument]  # the answer (one) or the choices (two or three)
    matches: list[Match]  # the ranking that led here, best first
    language: str  # the language the customer is answered in
    fallback_language: str | None = None  # set when the article is in another language

    @property
    def score(self) -> float | None:
        return self.matches[0].score if self.matches else None


def to_article(document: KbDocument) -> Article:
    return Article(
        document.id,
        document.title,
        document.lang,
        tuple(document.questions),
        document.body_markdown,
        tuple(document.tags),
    )


class KnowledgeBase:
    def __init__(self, embedder: SentenceEmbedder | None = None) -> None:
        self._documents: dict[str, KbDocument] = {}
        self._embedder = embedder
        self._index = KnowledgeIndex(embedder=embedder)

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def ranking(self) -> str:
        """What ranks the articles, for logs and `nudge kb ask`."""
        return "words" if self._embedder is None else f"words + {self._embedder.name}"

    def document(self, article_id: str) -> KbDocument | None:
        return self._documents.get(article_id)

    def load(self, documents: Iterable[KbDocument]) -> None:
        """Replace everything (start-up)."""
        self._documents = {d.id: d for d in documents}
        self._index = KnowledgeIndex(
            (to_article(d) for d in self._documents.values()), embedder=self._embedder
        )
        self._index.prepare()

    def apply(self, change: KbChange) -> None:
        """Apply a reload: only the changed articles are re-indexed."""
        for article_id in change.removed_ids:
            self._documents.pop(article_id, None)
        self._index.remove(change.removed_ids)
        for document in change.upserted:
            self._documents[document.id] = document
        self._index.upsert(to_article(d) for d in change.upserted)
        self._index.prepare()

    def rank(self, question: str, language: str | None) -> list[Match]:
        return self._index.search(question, lang=language, limit=SEARCH_DEPTH)

    def ask(
        self, question: str, language: str, thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> KbAnswer:
        """Rank, decide with the caller's thresholds, and pick the documents to show."""
        own = self._answer(self.rank(question, language), language, thresholds)
        if own.kind is not DecisionKind.NO_ANSWER or not self._has_other_languages(language):
            return own
        anywhere = self._answer(self.rank(question, None), language, thresholds)
        return anywhere if anywhere.kind is DecisionKind.ANSWER else own

    def _answer(self, matches: list[Match], language: str, thresholds: Thresholds) -> KbAnswer:
        decision = decide(matches, thresholds)
        documents = [self._in_language(m.article_id, language) for m in decision.matches]
        found = [d for d in documents if d is not None]
        if decision.kind is DecisionKind.NO_ANSWER or not found:
            return KbAnswer(DecisionKind.NO_ANSWER, [], matches, language)
        fallback = found[0].lang if found[0].lang != language else None
        return KbAnswer(decision.kind, found, matches, language, fallback)

    def _in_language(self, article_id: str, language: str) -> KbDocument | None:
        document = self._documents.get(article_id)
        if document is None or document.lang == language:
            return document
        for other_id in document.translations:
            other = self._documents.get(other_id)
            if other is not None and other.lang == language:
                return other
        return document

    def _has_other_languages(self, language: str) -> bool:
        return any(d.lang != language for d in self._documents.values())
