"""Reading a reply to "shall I book you for Tuesday?": yes, no, a date, or something else, in
English, Russian, Romanian and Korean. A pressed button carries its `reply:` value as is."""

from __future__ import annotations

import re
import unicodedata

_YES = {
    "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "y", "of course", "please do", "sounds good",
    "да", "ага", "конечно", "хорошо", "ок", "давайте", "давай", "угу",
    "da", "sigur", "bine", "desigur", "ok da",
    "네", "예", "응", "좋아요", "좋아", "그래요", "네 좋아요",
}  # fmt: skip
_NO = {
    "no", "nope", "nah", "not now", "no thanks", "n", "never",
    "нет", "не", "неа", "не надо", "нет спасибо", "не сейчас",
    "nu", "nu mulțumesc", "nu acum", "nu multumesc",
    "아니요", "아니", "아뇨", "괜찮아요", "싫어요",
}  # fmt: skip
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|today|next week"
    r"|понедельник|вторник|сред[ауы]|четверг|пятниц[ауы]|суббот[ауы]|воскресень[ея]|завтра"
    r"|послезавтра|сегодня"
    r"|luni|marți|marti|miercuri|joi|vineri|sâmbătă|sambata|duminică|duminica|mâine|maine|azi"
    r"|월요일|화요일|수요일|목요일|금요일|토요일|일요일|내일|모레|오늘"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_DATE = re.compile(
    rf"\b({_DAYS})\b|\b\d{{1,2}}[./-]\d{{1,2}}([./-]\d{{2,4}})?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    r"|\d{1,2}\s*월\s*\d{1,2}\s*일|\d{1,2}\s*일",
    re.IGNORECASE,
)
BUTTON_VALUES = frozenset({"yes", "no", "date", "other"})


def classify_answer(text: str, language: str | None = None) -> str:
    """ "yes", "no", "date" or "other". `language` is a hint only: every language is checked,
    because customers answer in whatever their keyboard has."""
    del language  # kept in the signature: a future per-language model may use it
    plain = _normalise(text)
    if plain in BUTTON_VALUES:
        return plain
    if _DATE.search(unicodedata.normalize("NFKC", text).casefold()):
        return "date"
    if plain in _YES:
        return "yes"
    if plain in _NO:
        return "no"
    first = plain.split(" ", 1)[0] if plain else ""
    if first in _NO:  # "no, thanks", "нет, не надо"
        return "no"
    if first in _YES:  # "yes please", "да, давайте"
        return "yes"
    return "other"


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    words = re.findall(r"[\w-]+", folded)
    return " ".join(words)
