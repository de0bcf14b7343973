"""Language detection from the customer's own words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.conversation.language import choose_language, detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my order?", "en"),
        ("how long does shipping take", "en"),
        ("Где мой заказ?", "ru"),
        ("сколько стоит доставка", "ru"),
        ("Când ajunge comanda mea?", "ro"),
        ("cat costa livrarea", "ro"),  # no diacritics, typed on a phone
        ("배송은 언제 되나요?", "ko"),
        ("주문 취소하고 싶어요", "ko"),
    ],
)
def test_detects_the_four_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "ok", "123456", "👍👍", "???", "<b></b>", "iPhone 15"])
def test_says_nothing_when_the_text_does_not_tell(text: str) -> None:
    assert detect_language(text) is None


def test_choose_prefers_the_text_then_the_contact_then_the_default() -> None:
    assert choose_language("Где мой заказ?", "en", "en") == "ru"
    assert choose_language("👍", "ko", "en") == "ko"
    assert choose_language("👍", "de", "en") == "en"
    assert choose_language("👍", None, "ro") == "ro"


@given(st.text(max_size=200))
def test_never_fails_and_answers_a_supported_language(text: str) -> None:
    assert detect_language(text) in (None, "en", "ru", "ro", "ko")
