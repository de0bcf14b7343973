"""Hostile input never crashes and never gets a confident answer."""

import random
import time

import pytest

from bot.knowledge.decision import DEFAULT_THRESHOLDS, DecisionKind, decide
from bot.knowledge.index import KnowledgeIndex
from tests.knowledge.kb_fixtures import ARTICLES


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex(ARTICLES)


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
    started = time.perf_counter()
    matches = index.search(text, lang)
    assert time.perf_counter() - started < 0.5
    assert decide(matches, DEFAULT_THRESHOLDS).kind is not DecisionKind.ANSWER


def test_huge_question_made_of_kb_words_costs_bounded_time(index: KnowledgeIndex) -> None:
    started = time.perf_counter()
    index.search("where is my order " * 5000, "en")
    assert time.perf_counter() - started < 0.5
