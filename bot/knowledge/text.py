"""Text normalisation and tokenisation for the four product languages (en, ru, ro, ko).

A question becomes two bags of features:

* word features: stems (Snowball, picked per token by its script, so a Latin word in a Russian
  question is stemmed as English; Cyrillic words longer than 4 letters are truncated to 4
  instead) plus bigrams of consecutive stems; Korean runs of Hangul
  become character bigrams because particles glue onto nouns and no stemmer is shipped;
* char features: 2..5-grams of each normalised surface word padded with spaces, which is what
  survives typos ("delivry" still shares most n-grams with "delivery").

Everything is cached per surface word because queries and KB rows repeat a small vocabulary.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

MAX_CHARS = 2000
"""Only the start of a question is read: longer input is a paste, not a question, and an
unbounded input would let one message cost unbounded CPU."""

CHAR_NGRAMS = (2, 5)
STEMMERS = {"en": "english", "ru": "russian", "ro": "romanian"}
RU_PREFIX = 4
"""Cyrillic words longer than this are truncated to it instead of Snowball-stemmed."""

_WORD = re.compile(r"\w+")
# Apostrophes join ("what's" -> "whats", "don't" -> "dont"); underscores separate.
_JOIN = str.maketrans({"'": None, "’": None, "_": " "})
# Messages pasted from a web page or an e-mail bring markup; its tag names are not words.
_MARKUP = re.compile(r"<[^<>]{0,200}>")
# Romanian is typed with cedilla letters (legacy keyboards) and with comma-below letters
# (the correct ones); both must meet, and many users type no diacritics at all.
_RO_COMMA = str.maketrans("şŞţŢ", "șȘțȚ")


@dataclass(frozen=True, slots=True)
class Analysed:
    """The features of one text, with repeats (term frequency is counted later)."""

    words: tuple[str, ...]
    chars: tuple[str, ...]


def normalise(text: str) -> str:
    """NFKC, case-folded, markup dropped, ё folded to е, Romanian cedillas to comma-below."""
    text = text[:MAX_CHARS]
    # The checks skip work that most questions do not need (this runs for every KB row).
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _MARKUP.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("ё", "е").replace("Ё", "е")
        text = text.translate(_RO_COMMA)
    return text.casefold()


def _script(token: str) -> str:
    first = token[0]
    if "\uac00" <= first <= "\ud7a3" or "\u1100" <= first <= "\u11ff":
        return "hangul"
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    if first.isascii() or "\u00c0" <= first <= "\u024f":
        return "latin"
    return "other"


@lru_cache(maxsize=8)
def _stemmer(algorithm: str) -> Callable[[str], str]:
    stem: Callable[[str], str] = Stemmer.Stemmer(algorithm, 0).stemWord
    return stem


def strip_marks(token: str) -> str:
    """Latin letters without diacritics: "livrării" and "livrarii" must meet."""
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def word_terms(token: str, lang: str) -> tuple[str, ...]:
    """The word-level terms of one normalised surface token."""
    script = _script(token)
    if script == "hangul":
        if len(token) == 1:
            return (token,)
        return tuple(token[i : i + 2] for i in range(len(token) - 1))
    if script == "cyrillic":
        # Snowball Russian splits forms of one word ("удали" -> "уда", "удалить" -> "удал";
        # "покупок"/"покупки", "список"/"списка"): a word longer than RU_PREFIX letters is
        # cut to its first RU_PREFIX letters instead, the classic truncation stemmer for
        # Russian. Judged by leave-one-out on the massive_mini_ru KB phrasings (14 ranks
        # better, 2 worse); see docs/knowledge-ranking.md.
        if len(token) > RU_PREFIX:
            return (token[:RU_PREFIX],)
        return (_stemmer("russian")(token),)
    if script == "latin":
        # A Latin token in a Russian or Korean question is most likely English.
        algorithm = STEMMERS.get(lang, "english") if lang != "ru" else "english"
        return (strip_marks(_stemmer(algorithm)(token)),)
    return (token,)


@lru_cache(maxsize=65536)
def char_terms(token: str) -> tuple[str, ...]:
    """Character n-grams of one surface token, padded so word edges count."""
    base = strip_marks(token) if _script(token) == "latin" else token
    padded = f" {base} "
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for size in range(low, high + 1):
        grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return tuple(grams)


def tokens(text: str) -> list[str]:
    """Normalised surface tokens: letters and digits, apostrophes inside words dropped."""
    return _WORD.findall(normalise(text).translate(_JOIN))


_TERMS: dict[str, dict[str, tuple[str, ...]]] = {}


def word_features(surface: list[str], lang: str) -> list[str]:
    """Stems (or Korean bigrams) of the tokens, then bigrams of consecutive stems."""
    # A plain dict per language: this runs for every token of every KB row.
    cache = _TERMS.setdefault(lang, {})
    if len(cache) > 200_000:
        cache.clear()
    stems: list[str] = []
    for token in surface:
        terms = cache.get(token)
        if terms is None:
            terms = cache[token] = word_terms(token, lang)
        stems.extend(terms)
    return stems + [a + " " + b for a, b in itertools.pairwise(stems)]


def analyse(text: str, lang: str) -> Analysed:
    """Word and char features of a text in the given KB language."""
    surface = tokens(text)
    chars: list[str] = []
    for token in surface:
        chars.extend(char_terms(token))
    return Analysed(words=tuple(word_features(surface, lang)), chars=tuple(chars))
