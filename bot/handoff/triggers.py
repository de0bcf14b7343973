"""What in a customer's message means "get me a person": asking for one, or complaining.

Phrases are matched on normalised text (NFKC, case-folded, ё as е, accents dropped so
"inselatorie" meets "înșelătorie") as whole words: "operator" does not fire inside
"cooperator". A word written with a trailing `*` matches any ending, which Russian and Romanian
need ("оператор*" matches "оператора", "operator*" matches "operatorul"). Korean glues particles
onto words and is often typed without spaces, so a phrase with Hangul in it is matched as a
substring of the message with its spaces removed ("사람과 통화" matches "사람과통화하고 싶어요").

Every language's list is checked whatever language the conversation is in: customers mix
languages, and a Russian speaker typing "operator" in Latin letters still wants one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

MAX_CHARS = 2000
"""Only the start of a message is read: a long paste is not a request for a person."""

DEFAULT_PERSON_PHRASES: Mapping[str, tuple[str, ...]] = {
    "en": (
        "operator*", "human", "real person", "live person", "talk to a person",
        "speak to a person", "talk to someone", "speak to someone", "live agent", "human agent",
        "real agent", "talk to an agent", "speak to an agent", "representative",
    ),
    "ru": (
        "оператор*", "жив* человек*", "позов* человек*", "с человеком", "нужен человек",
        "позов* менеджер*", "позов* сотрудник*", "консультант*",
    ),
    "ro": (
        "operator*", "operator uman", "vreau un om", "cu un om", "om real", "om adevărat",
        "persoană reală", "agent uman", "consultant*",
    ),
    "ko": (
        "상담원", "상담사", "사람과 통화", "사람이랑 통화", "사람과 대화", "사람이랑 대화",
        "사람 연결", "직원 연결", "상담 연결", "담당자", "실제 사람",
    ),
}  # fmt: skip
"""Built in; a language listed under `handoff.triggers.person_phrases` replaces its list."""

DEFAULT_COMPLAINT_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "terrible", "awful", "horrible", "disgusting", "scam*", "fraud*", "rip off", "ripoff",
        "refund now", "unacceptable", "complaint", "ridiculous", "the worst", "never again",
    ),
    "ru": (
        "ужасн*", "отвратительн*", "обман*", "мошенни*", "жалоб*", "верните деньги",
        "кошмар*", "безобрази*", "позор*",
    ),
    "ro": (
        "înșelătorie", "înșelăciune", "țeapă", "groaznic*", "oribil*", "jalnic*",
        "reclamați*", "bătaie de joc", "vreau banii înapoi", "hoți", "rușine",
    ),
    "ko": ("사기", "최악", "환불해", "불만", "짜증", "엉망", "어이없", "고소"),
}  # fmt: skip
"""Built in; a language listed under `handoff.triggers.complaint_words` replaces its list."""

# Hangul syllables, jamo and compatibility jamo: a token is either all Hangul or none of it,
# so "operator님" still yields the word "operator".
_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_TOKEN = re.compile(rf"[{_HANGUL}]+|[^\W_{_HANGUL}]+")
_HAS_HANGUL = re.compile(rf"[{_HANGUL}]")
# Apostrophes join ("don't" -> "dont"); Romanian cedilla letters become comma-below ones.
_JOIN = str.maketrans({"'": None, "’": None})
_RO_COMMA = str.maketrans("şţ", "șț")


def normalise(text: str) -> str:
    """NFKC, case-folded, ё as е, accents and other combining marks dropped."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    text = text.replace("ё", "е").translate(_RO_COMMA).translate(_JOIN)
    if text.isascii():
        return text
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)  # NFC puts decomposed Hangul back together


def words(text: str) -> list[str]:
    """The normalised words of `text`."""
    return _TOKEN.findall(normalise(text))


@dataclass(frozen=True, slots=True)
class Phrase:
    """One configured phrase, ready to match."""

    text: str  # as configured
    words: tuple[str, ...]
    open_ended: tuple[bool, ...]  # per word: written with a trailing `*`
    compact: str | None  # Hangul phrases: matched as a substring of the spaceless message

    @classmethod
    def parse(cls, text: str) -> Phrase:
        """ValueError when `text` has no letters or digits."""
        found: list[str] = []
        open_ended: list[bool] = []
        for part in text.split():
            pieces = words(part.rstrip("*"))
            found += pieces
            open_ended += [False] * len(pieces)
            if pieces and part.endswith("*"):
                open_ended[-1] = True
        if not found:
            raise ValueError(f"'{text}' has no letters or digits to match")
        compact = "".join(found) if _HAS_HANGUL.search(text) else None
        return cls(text, tuple(found), tuple(open_ended), compact)

    def found_in(self, message: Sequence[str], compact: str) -> bool:
        """Whether the phrase occurs in a message given as its `words` and their concatenation."""
        if self.compact is not None:
            return self.compact in compact
        return any(self.starts_at(message, i) for i in range(len(message)))

    def starts_at(self, message: Sequence[str], start: int) -> bool:
        """Whether the phrase's words are the message's from word `start` on."""
        if start + len(self.words) > len(message):
            return False
        for offset, (word, open_ended) in enumerate(zip(self.words, self.open_ended, strict=True)):
            got = message[start + offset]
            if not (got.startswith(word) if open_ended else got == word):
                return False
        return True


class PhraseIndex:
    """Phrases grouped by their first word, so that a message is compared only with the phrases
    that can start at each of its words: every message is checked, and a check of every phrase
    at every word was a tenth of the CPU of handling a message (bench/inbound.py)."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self._substrings: list[str] = []  # Hangul phrases
        self._by_word: dict[str, list[Phrase]] = {}  # first word written in full
        self._by_prefix: dict[str, list[Phrase]] = {}  # first word with a trailing `*`
        for phrase in phrases:
            if phrase.compact is not None:
                self._substrings.append(phrase.compact)
            else:
                group = self._by_prefix if phrase.open_ended[0] else self._by_word
                group.setdefault(phrase.words[0], []).append(phrase)
        self._prefix_lengths = sorted({len(prefix) for prefix in self._by_prefix})

    def found_in(self, message: Sequence[str], compact: str) -> bool:
        """Whether any phrase occurs in a message given as its `words` and their concatenation."""
        if any(substring in compact for substring in self._substrings):
            return True
        for start, word in enumerate(message):
            candidates = list(self._by_word.get(word, ()))
            for length in self._prefix_lengths:
                if length > len(word):
                    break
                candidates += self._by_prefix.get(word[:length], ())
            if any(phrase.starts_at(message, start) for phrase in candidates):
                return True
        return False


def parse_phrases(texts: Iterable[str]) -> tuple[Phrase, ...]:
    """Each distinct phrase once; ValueError naming the first that cannot match anything."""
    unique = dict.fromkeys(text.strip() for text in texts)
    return tuple(Phrase.parse(text) for text in unique)


def every_language(lists: Mapping[str, Iterable[str]]) -> list[str]:
    return [text for texts in lists.values() for text in texts]


@dataclass(frozen=True)
class Triggers:
    """What hands a conversation to a person. `wants_person` and `is_complaint` only read the
    text; whether a complaint hands off is `complaint` (the service may still use
    `is_complaint` for the queue priority)."""

    person_phrases: tuple[Phrase, ...] = field(
        default_factory=lambda: parse_phrases(every_language(DEFAULT_PERSON_PHRASES))
    )
    complaint_phrases: tuple[Phrase, ...] = field(
        default_factory=lambda: parse_phrases(every_language(DEFAULT_COMPLAINT_WORDS))
    )
    failed_answers: int = 2  # consecutive "no answer" replies before handing off; 0 = never
    not_helpful: bool = True  # a "No" on "Did this help?" hands off
    complaint: bool = True  # strong negative wording hands off
    tags: frozenset[str] = frozenset()  # a contact with one of these is handed off at once

    @classmethod
    def build(
        cls,
        person_phrases: Iterable[str],
        complaint_words: Iterable[str],
        *,
        failed_answers: int = 2,
        not_helpful: bool = True,
        complaint: bool = True,
        tags: Iterable[str] = (),
    ) -> Triggers:
        return cls(
            parse_phrases(person_phrases),
            parse_phrases(complaint_words),
            failed_answers,
            not_helpful,
            complaint,
            frozenset(tag.strip().casefold() for tag in tags),
        )

    @cached_property
    def _person_index(self) -> PhraseIndex:
        return PhraseIndex(self.person_phrases)

    @cached_property
    def _complaint_index(self) -> PhraseIndex:
        return PhraseIndex(self.complaint_phrases)

    def wants_person(self, text: str) -> bool:
        """The customer asks for a person ("operator", "Оператор!", "vreau un om", "상담원")."""
        return _any_in(self._person_index, text)

    def is_complaint(self, text: str) -> bool:
        """The message complains or uses strong negative wording ("scam", "обман", "최악")."""
        return _any_in(self._complaint_index, text)

    def tag_trigger(self, tags: Iterable[str]) -> str | None:
        """The first of the contact's `tags` that hands them off, if any."""
        return next((tag for tag in tags if tag.strip().casefold() in self.tags), None)

    def should_hand_off_after(self, failed_in_a_row: int) -> bool:
        """Whether this many "no answer" replies in a row call for a person."""
        return self.failed_answers > 0 and failed_in_a_row >= self.failed_answers


def _any_in(phrases: PhraseIndex, text: str) -> bool:
    if not text:
        return False
    message, compact = _message(text)
    return phrases.found_in(message, compact)


@lru_cache(maxsize=64)
def _message(text: str) -> tuple[tuple[str, ...], str]:
    """A message's words and their concatenation. Cached: both lists read the same message."""
    message = tuple(words(text))
    return message, "".join(message)
