"""Top contact drivers: the articles asked most, and the unanswered questions grouped by
similarity, so the support lead knows which article to write next (pure: no I/O).

Questions are compared as sets of word stems, normalised by the knowledge base's own text
functions (`bot.knowledge.text`), without the little words every question has. A question
joins the biggest group whose first question shares at least half of their words together
(Jaccard similarity >= 0.5); otherwise it starts a group. Groups are formed biggest wording
first, so the group's first question is its most common one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.analytics.model import ArticleDemand, QuestionCluster
from bot.domain.report_ports import ArticleCount, UnansweredQuestion
from bot.knowledge.documents import normalize_question
from bot.knowledge.text import tokens, word_terms

SIMILARITY = 0.5
SAMPLES = 3
# Words that say nothing about the topic, before stemming (en, ro, ru).
STOPWORDS = frozenset(
    """a an the i me my we our you your it is are was be do does did can could would will
    to of in on at for with and or not no how what when where why which who please hi hello
    there this that have has get any
    și sa să nu cum ce la de pe in în cu eu am ai este un o mea meu
    я мне мой моя как что где когда почему не на в во с и или это у вас есть можно""".split()
)


def stems_of(question: str, language: str) -> frozenset[str]:
    """The normalised stems that carry the question's meaning."""
    words = [t for t in tokens(question) if t not in STOPWORDS]
    return frozenset(stem for word in words for stem in word_terms(word, language))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    union = len(first | second)
    return len(first & second) / union if union else 1.0


@dataclass(slots=True)
class _Group:
    leader: frozenset[str]
    wordings: Counter[str] = field(default_factory=Counter)
    stems: Counter[str] = field(default_factory=Counter)
    count: int = 0


def cluster_questions(
    questions: Iterable[UnansweredQuestion], limit: int = 10
) -> list[QuestionCluster]:
    """The `limit` biggest groups of similar questions, biggest first."""
    same: dict[frozenset[str], Counter[str]] = defaultdict(Counter)
    for q in questions:
        same[stems_of(q.question, q.language)][" ".join(q.question.split())] += 1
    groups: list[_Group] = []
    by_stem: dict[str, list[int]] = defaultdict(list)  # stem -> groups whose leader has it
    for stems, wordings in sorted(same.items(), key=lambda item: -item[1].total()):
        group = _closest(stems, groups, by_stem)
        if group is None:
            group = _Group(leader=stems)
            for stem in stems:
                by_stem[stem].append(len(groups))
            groups.append(group)
        group.wordings.update(wordings)
        group.count += wordings.total()
        for stem in stems:
            group.stems[stem] += wordings.total()
    groups.sort(key=lambda g: -g.count)  # stable: equal groups stay in the order formed
    return [_cluster(g) for g in groups[:limit]]


def _closest(
    stems: frozenset[str], groups: Sequence[_Group], by_stem: dict[str, list[int]]
) -> _Group | None:
    candidates = sorted({index for stem in stems for index in by_stem.get(stem, ())})
    best: tuple[float, int] | None = None
    for index in candidates:
        score = jaccard(stems, groups[index].leader)
        if score >= SIMILARITY and (best is None or (score, -index) > (best[0], -best[1])):
            best = (score, index)
    return groups[best[1]] if best is not None else None


def _cluster(group: _Group) -> QuestionCluster:
    # The most frequent wording; equal counts: the first seen (Counter keeps insertion order).
    ranked = [text for text, _ in group.wordings.most_common()]
    shared = tuple(sorted(s for s, n in group.stems.items() if 2 * n >= group.count))
    return QuestionCluster(
        example=ranked[0],
        count=group.count,
        words=shared,
        samples=tuple(ranked[1 : 1 + SAMPLES]),
    )


def article_demand(counts: Iterable[ArticleCount], limit: int = 10) -> list[ArticleDemand]:
    ranked = sorted(counts, key=lambda c: (-c.asked, c.article_id))[:limit]
    return [ArticleDemand(c.article_id, c.asked, c.helpful, c.not_helpful) for c in ranked]


def distinct_wordings(questions: Iterable[UnansweredQuestion]) -> int:
    return len({normalize_question(q.question) for q in questions})
