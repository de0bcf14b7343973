"""CPU per customer message of the hand-off triggers ("operator", complaints; all languages).

Every message a customer writes is checked for a request for a person and for a complaint
before the bot answers. Side by side on the same messages:

* reference: every phrase tried at every word of the message (`Phrase.found_in` per phrase),
  the message split into words once per list, as `Triggers` did until 2026-12-06;
* index: `Triggers.wants_person` and `is_complaint` as they are now (`PhraseIndex`: only the
  phrases that can start at a word are tried; the message's words are cached for the second
  list, so the cache is cleared before each message to count its first read).

    python bench/triggers.py [--rounds 5] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine
from bot.handoff import triggers
from bot.handoff.triggers import Phrase, Triggers, words

# Ordinary messages (no trigger: every phrase must be ruled out) and a few that trigger.
MESSAGES = (
    "how long does delivery take",
    "Hi! I ordered a blue jacket last week, order 10422, and it still has not shipped. Any news?",
    "можно оплатить картой при получении?",
    "Bună ziua, când ajunge coletul meu în Chișinău?",
    "배송은 얼마나 걸리나요?",
    "this is a scam, I want to talk to a real person",
    "позовите оператора пожалуйста",
)
DEFAULT = Triggers()


def every_phrase(phrases: tuple[Phrase, ...], text: str) -> bool:
    message = words(text)
    compact = "".join(message)
    return any(phrase.found_in(message, compact) for phrase in phrases)


def reference(text: str) -> tuple[bool, bool]:
    return every_phrase(DEFAULT.person_phrases, text), every_phrase(DEFAULT.complaint_phrases, text)


def index(text: str) -> tuple[bool, bool]:
    triggers._message.cache_clear()  # a new message each time: its words are not cached yet
    return DEFAULT.wants_person(text), DEFAULT.is_complaint(text)


def per_message_us(check: object, repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        for text in MESSAGES:
            check(text)  # type: ignore[operator]
    return (time.process_time() - started) / (repeat * len(MESSAGES)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    assert all(reference(text) == index(text) for text in MESSAGES)  # the same answers
    times: dict[str, list[float]] = {"reference": [], "index": []}
    for _ in range(args.rounds):
        times["reference"].append(per_message_us(reference, args.repeat))
        times["index"].append(per_message_us(index, args.repeat))
    ref, new = statistics.median(times["reference"]), statistics.median(times["index"])
    print(machine())
    print(f"{len(MESSAGES)} messages x {args.repeat}, {args.rounds} rounds (medians), CPU time")
    print(f"  every phrase at every word   {ref:8.1f} us a message")
    print(f"  phrase index                 {new:8.1f} us a message   {ref / new:.1f}x less")


if __name__ == "__main__":
    main()
