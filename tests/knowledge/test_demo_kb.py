"""The demo knowledge base shipped in `knowledge_base/` is clean, complete and cross-linked."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.fake_telegram.tg_html import parse_html
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.decision import DecisionKind
from bot.knowledge.documents import KbDocument
from bot.knowledge.lint import lint
from bot.knowledge.loader import article_files, load_folder

ROOT = Path(__file__).resolve().parents[2] / "knowledge_base"
COMMON_TOPICS = {
    "delivery-times",
    "delivery-cost",
    "order-tracking",
    "returns",
    "refunds",
    "payment-methods",
    "change-cancel-order",
    "contact-us",
}
SCRIPTS = {"ru": "[а-яё]", "ko": "[가-힣]", "ro": "[a-zăâîșț]", "en": "[a-z]"}


@pytest.fixture(scope="module")
def documents() -> list[KbDocument]:
    result = load_folder(ROOT)
    assert result.problems == ()
    return list(result.documents)


def topic(document: KbDocument) -> str:
    return document.path.stem


def test_the_demo_lints_clean() -> None:
    assert lint(load_folder(ROOT)) == []


def test_every_file_loads(documents: list[KbDocument]) -> None:
    assert len(documents) == len(article_files(ROOT))


def test_languages_and_counts(documents: list[KbDocument]) -> None:
    counts = Counter(document.lang for document in documents)
    assert set(counts) == {"en", "ru", "ro", "ko"}
    assert counts["en"] >= 20 and counts["ru"] == counts["en"]
    assert counts["ro"] >= 8 and counts["ko"] >= 8
    for lang in ("ro", "ko"):
        topics = {topic(document) for document in documents if document.lang == lang}
        assert topics >= COMMON_TOPICS, lang


def test_every_english_article_has_a_russian_one(documents: list[KbDocument]) -> None:
    by_lang: dict[str, set[str]] = {}
    for document in documents:
        by_lang.setdefault(document.lang, set()).add(topic(document))
    assert by_lang["en"] == by_lang["ru"]
    assert by_lang["ro"] <= by_lang["en"] and by_lang["ko"] <= by_lang["en"]


def test_files_are_organised_by_language_and_topic(documents: list[KbDocument]) -> None:
    for document in documents:
        relative = document.path.relative_to(ROOT)
        assert relative.parts[0] == document.lang and len(relative.parts) == 2
        suffix = "" if document.lang == "en" else f"-{document.lang}"
        assert document.id == f"{topic(document)}{suffix}"


def test_every_language_version_links_to_all_the_others(documents: list[KbDocument]) -> None:
    by_topic: dict[str, set[str]] = {}
    for document in documents:
        by_topic.setdefault(topic(document), set()).add(document.id)
    by_id = {document.id: document for document in documents}
    for document in documents:
        others = by_topic[topic(document)] - {document.id}
        assert set(document.translations) == others, document.id
        for other in document.translations:
            assert document.id in by_id[other].translations  # and it links back


def test_articles_are_realistic(documents: list[KbDocument]) -> None:
    for document in documents:
        assert 4 <= len(document.questions) <= 8, document.id
        pattern = r"[.!?](?:\s|$)|^(?:- |\d\. )"  # sentences and list items
        sentences = len(re.findall(pattern, document.body_markdown, re.MULTILINE))
        assert 2 <= sentences <= 10, (document.id, sentences)
        letters = SCRIPTS[document.lang]
        assert re.search(letters, document.title.lower()), document.id
        assert all(re.search(letters, question) for question in document.questions)


def test_buttons_stay_in_the_articles_language(documents: list[KbDocument]) -> None:
    by_id = {document.id: document for document in documents}
    for document in documents:
        for button in document.buttons:
            if button.article is not None:
                assert by_id[button.article].lang == document.lang
            else:
                assert button.url is not None and button.url.startswith("https://")


def test_every_body_is_valid_telegram_html(documents: list[KbDocument]) -> None:
    for document in documents:
        parsed = parse_html(document.body_html)
        assert parsed.text.strip() and "**" not in parsed.text, document.id


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("how old are you", "en", "about-the-bot"),
        ("are you a robot", "en", "about-the-bot"),
        ("i want to talk to a human", "en", "contact-us"),
        ("what are your working hours", "en", "contact-us"),
        ("сколько тебе лет", "ru", "about-the-bot-ru"),
        ("позовите оператора", "ru", "contact-us-ru"),
        ("what is the capital of peru", "en", None),
        ("tell me a joke", "en", None),
        ("какая погода завтра", "ru", None),
    ],
)
def test_the_demo_answers_questions_about_the_bot_and_not_unrelated_ones(
    documents: list[KbDocument], question: str, lang: str, expected: str | None
) -> None:
    """Questions about the bot itself once went to "How can I talk to a person?" ("how old
    are you" shares "are you" with "are you a bot"); the demo has an article for them."""
    knowledge = KnowledgeBase()
    knowledge.load(documents)
    answer = knowledge.ask(question, lang)
    if expected is None:
        assert answer.kind is DecisionKind.NO_ANSWER, answer.matches[:2]
    else:
        assert answer.kind is DecisionKind.ANSWER, answer.matches[:2]
        assert [d.id for d in answer.documents] == [expected]
