"""Asking for a person and complaining, in en, ru, ro and ko, without false alarms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.handoff.triggers import (
    DEFAULT_COMPLAINT_WORDS,
    DEFAULT_PERSON_PHRASES,
    Phrase,
    PhraseIndex,
    Triggers,
    normalise,
    words,
)

DEFAULT = Triggers()


@pytest.mark.parametrize(
    "text",
    [
        "operator",
        "Operator please",
        "OPERATOR!!!",
        "Can I talk to a person?",
        "I want a real person",
        "human",
        "get me a live agent now",
        "Оператор!",
        "позовите оператора",
        "Соедините с оператором, пожалуйста",
        "хочу поговорить с живым человеком",
        "ЖИВОЙ ЧЕЛОВЕК",
        "Живой человек есть?",
        "позови человека",
        "operator uman",
        "Vreau un om, nu un robot",
        "Vreau să vorbesc cu operatorul",
        "vreau sa vorbesc cu un om",
        "un om adevarat va rog",
        "상담원",
        "상담원 연결해주세요",
        "사람과 통화하고 싶어요",
        "사람과통화",
        "operator님 연결",
        "please,operator",
    ],
)
def test_asking_for_a_person(text: str) -> None:
    assert DEFAULT.wants_person(text), text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cooperator",
        "the operation failed",
        "humanity is great",
        "is this humane?",
        "Where is my order?",
        "кооператив",
        "операция не прошла",
        "Cât costă livrarea?",
        "omul din poză",
        "배송 언제 와요?",
        "사람들이 많아요",
    ],
)
def test_ordinary_messages_do_not_ask_for_a_person(text: str) -> None:
    assert not DEFAULT.wants_person(text), text


@pytest.mark.parametrize(
    "text",
    [
        "This is terrible",
        "SCAM!",
        "you scammers",
        "I want a refund now",
        "I'd like to file a complaint",
        "Это обман",
        "вы меня обманули",
        "Ужасно!",
        "ужасный сервис",
        "Я напишу жалобу",
        "Верните деньги",
        "E o înșelătorie",
        "e o inselatorie",
        "Înşelătorie (cedilla)",
        "serviciu groaznic",
        "E o bătaie de joc",
        "사기",
        "이거 사기잖아요",
        "최악이에요",
    ],
)
def test_complaints(text: str) -> None:
    assert DEFAULT.is_complaint(text), text


@pytest.mark.parametrize(
    "text",
    ["terribly good", "обмен валюты", "Где мой заказ?", "Mulțumesc frumos", "감사합니다", ""],
)
def test_ordinary_messages_are_not_complaints(text: str) -> None:
    assert not DEFAULT.is_complaint(text), text


def test_person_phrases_are_not_complaints_and_back() -> None:
    assert not DEFAULT.is_complaint("operator please")
    assert not DEFAULT.wants_person("this is a scam")


def test_normalise() -> None:
    assert normalise("ЁЛКА") == "елка"
    assert normalise("Înşelătorie") == normalise("inselatorie") == "inselatorie"
    assert normalise("ＯＰＥＲＡＴＯＲ") == "operator"  # full-width letters (NFKC)
    assert normalise("don't") == "dont"
    assert normalise("상담원") == "상담원"  # Hangul survives decomposition
    assert words("operator님, 빨리!") == ["operator", "님", "빨리"]


def test_phrase_parsing() -> None:
    phrase = Phrase.parse("позов* человек*")
    assert phrase.words == ("позов", "человек")
    assert phrase.open_ended == (True, True)
    assert phrase.compact is None
    korean = Phrase.parse("사람과 통화")
    assert korean.compact == "사람과통화"
    with pytest.raises(ValueError, match=r"^'\?!' has no letters or digits to match$"):
        Phrase.parse("?!")
    with pytest.raises(ValueError):
        Phrase.parse("*")


def test_configured_phrases_replace_the_built_in_ones() -> None:
    triggers = Triggers.build(["talk to sales", "менеджер*"], ["lawsuit"])
    assert triggers.wants_person("I'd like to TALK TO SALES")
    assert triggers.wants_person("позовите менеджера")
    assert not triggers.wants_person("operator")
    assert triggers.is_complaint("a lawsuit is coming")
    assert not triggers.is_complaint("scam")


def test_no_phrases_never_match() -> None:
    triggers = Triggers.build([], [])
    assert not triggers.wants_person("operator")
    assert not triggers.is_complaint("scam")


def test_every_built_in_phrase_matches_itself() -> None:
    for lists, check in (
        (DEFAULT_PERSON_PHRASES, DEFAULT.wants_person),
        (DEFAULT_COMPLAINT_WORDS, DEFAULT.is_complaint),
    ):
        for language, phrases in lists.items():
            for phrase in phrases:
                assert check(phrase.replace("*", "")), (language, phrase)


def test_flags_and_tags() -> None:
    assert (DEFAULT.failed_answers, DEFAULT.not_helpful, DEFAULT.complaint) == (2, True, True)
    assert DEFAULT.tags == frozenset()
    triggers = Triggers.build([], [], failed_answers=0, not_helpful=False, tags=["VIP", " gold "])
    assert triggers.tags == frozenset({"vip", "gold"})
    assert triggers.tag_trigger(["new", "Vip"]) == "Vip"
    assert triggers.tag_trigger(["new"]) is None
    assert not triggers.should_hand_off_after(5)
    assert DEFAULT.should_hand_off_after(2)
    assert not DEFAULT.should_hand_off_after(1)


def test_long_messages_are_read_only_at_the_start() -> None:
    assert not DEFAULT.wants_person("x " * 5000 + "operator")
    assert DEFAULT.wants_person("operator " + "x " * 5000)


# Words the default phrases are made of, their endings cut and extended, and other words.
_PIECES = sorted(
    {w for p in (*DEFAULT.person_phrases, *DEFAULT.complaint_phrases) for w in p.words}
    | {w[:-1] for p in DEFAULT.person_phrases for w in p.words if len(w) > 2}
    | {w + "ul" for p in DEFAULT.complaint_phrases for w in p.words}
    | {"the", "a", "please", "cooperator", "позовите", "operatorul", "사람과통화", "ok"}
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8), st.sampled_from([" ", "", ", "]))
def test_the_index_finds_exactly_what_checking_every_phrase_finds(
    pieces: list[str], glue: str
) -> None:
    text = glue.join(pieces)
    message = words(text)
    compact = "".join(message)
    for phrases in (DEFAULT.person_phrases, DEFAULT.complaint_phrases):
        expected = any(phrase.found_in(message, compact) for phrase in phrases)
        assert PhraseIndex(phrases).found_in(message, compact) is expected, text
    assert DEFAULT.wants_person(text) is any(
        p.found_in(message, compact) for p in DEFAULT.person_phrases
    )
