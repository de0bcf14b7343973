"""Hostile input never crashes and never gets a confident answer, with or without the
optional embedding view; a huge question is read only as far as the first MAX_CHARS."""

import random

import pytest

from bot.knowledge.decision import DecisionKind, decide, default_thresholds
from bot.knowledge.embeddings import MAX_CHARS, WordLlamaEmbedder
from bot.knowledge.index import KnowledgeIndex
from tests.knowledge.kb_fixtures import ARTICLES


@pytest.fixture(scope="module", params=["words", "words + wordllama"])
def index(request: pytest.FixtureRequest) -> KnowledgeIndex:
    embedder = WordLlamaEmbedder() if request.param != "words" else None
    return KnowledgeIndex(ARTICLES, embedder=embedder)


def junk(size: int) -> str:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .,!?абвгдежзиклмн😀<>&;\u200b\x00\t\n"
    return "".join(rng.choice(alphabet) for _ in range(size))


HOSTILE = [
    "",
    "   \n\t ",
    "😀😀😀🔥🔥",
    "<script>alert(1)</script>",
    "<div><p></p></div>&nbsp;&amp;&lt;",
    "\x00\x01\x02\u200b\u200d\ufeff",
    "?!?!?!?!",
    "1234567890",
    "ʕ•ᴥ•ʔ ┬─┬ノ( º _ ºノ)",
    junk(50_000),
    "a" * 50_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("lang", ["en", "ru", "ro", "ko", None, "xx"])
def test_hostile_input_is_never_answered(index: KnowledgeIndex, text: str, lang: str) -> None:
    matches = index.search(text, lang)
    thresholds = default_thresholds(index.embedder)
    assert decide(matches, thresholds).kind is not DecisionKind.ANSWER


def test_a_huge_question_is_read_only_as_far_as_its_first_characters(
    index: KnowledgeIndex,
) -> None:
    """Bounded work without a timed assert: 50,000 characters rank exactly like their first
    MAX_CHARS (text.py and embeddings.py both stop reading there)."""
    huge = "where is my order and how much is delivery " * 2_000
    assert len(huge) > 40 * MAX_CHARS
    whole = [(m.article_id, m.score) for m in index.search(huge, "en", limit=5)]
    head = [(m.article_id, m.score) for m in index.search(huge[:MAX_CHARS], "en", limit=5)]
    assert whole == head
