"""Which language a customer writes in: from the text itself, else from what we know of them.

Script decides most cases at once (Hangul: Korean; Cyrillic: Russian). Latin text is English
or Romanian here: Romanian diacritics settle it, otherwise frequent function words vote. Short
or ambiguous text ("ok", "123", an emoji) says nothing, and the contact's language stands.
"""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("en", "ru", "ro", "ko")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ROMANIAN_LETTERS = frozenset("ăâîșşțţ")
_ROMANIAN_WORDS = frozenset(
    "si și sau este sunt nu da vreau pot unde cand când cum ce care pentru mea meu mele mei "
    "comanda comandă comanda livrare livrarea plata plată bani retur returnare cat cât costa "
    "costă buna bună ziua multumesc mulțumesc va vă aveti aveți am ai are poate acum azi mâine "
    "maine coletul produsul marime mărime".split()
)
_ENGLISH_WORDS = frozenset(
    "the a an is are was do does did can could would i you my your we our it this that what "
    "when where how why which who to of in on for with and or not no yes please thanks order "
    "delivery shipping return refund payment pay price cost track parcel package".split()
)


def detect_language(text: str) -> str | None:
    """'en', 'ru', 'ro' or 'ko' when the text says so with some confidence, else None."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 2:
        return None
    counts = {"hangul": 0, "cyrillic": 0, "latin": 0}
    for ch in letters:
        script = _script(ch)
        if script in counts:
            counts[script] += 1
    script, count = max(counts.items(), key=lambda item: item[1])
    if count < len(letters) * 0.5:
        return None
    if script == "hangul":
        return "ko"
    if script == "cyrillic":
        return "ru"
    if script == "latin":
        return _latin_language(text)
    return None


def choose_language(text: str, contact_language: str | None, default: str) -> str:
    """The language to answer in: the text's, else the contact's, else the default."""
    detected = detect_language(text)
    if detected:
        return detected
    if contact_language in SUPPORTED:
        return contact_language
    return default


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith(("HANGUL", "CJK")):
        return "hangul"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("LATIN"):
        return "latin"
    return "other"


def _latin_language(text: str) -> str | None:
    lowered = text.lower()
    if any(ch in _ROMANIAN_LETTERS for ch in lowered):
        return "ro"
    words = _WORD.findall(lowered)
    romanian = sum(word in _ROMANIAN_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    if romanian > english:
        return "ro"
    if english > romanian:
        return "en"
    return None
