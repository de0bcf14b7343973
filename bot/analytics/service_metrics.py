"""The service report (CSAT, NPS, response and resolution times, hand-off and self-service
rates, first-contact resolution, SLA breaches), computed from facts (pure: no I/O)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analytics.model import GroupBy, ScoreStats, ServiceReport, ServiceRow
from bot.analytics.period import Period
from bot.analytics.stats import Rate, Spread
from bot.domain.report_ports import (
    ChannelConversations,
    ContactTouch,
    HandoffFact,
    KbAnswerFact,
    SurveyFact,
)

COME_BACK_WINDOW = timedelta(days=7)
RESOLVED_REASONS = frozenset({"closed", "back_to_bot"})  # an agent finished the chat
NO_AGENT, NO_TEAM, NO_FUNNEL, NO_CHANNEL = "(no agent)", "(no team)", "(no funnel)", "(unknown)"


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    handoffs: Sequence[HandoffFact]
    surveys: Sequence[SurveyFact]
    conversations: Sequence[ChannelConversations]
    kb_answers: Sequence[KbAnswerFact]
    touches: Sequence[ContactTouch]  # the period and the 7 days after it


class Touches:
    """When each contact came back, to ask "again within 7 days after this moment?"."""

    def __init__(self, touches: Iterable[ContactTouch]) -> None:
        self._all: dict[int, list[datetime]] = defaultdict(list)
        self._handoffs: dict[int, list[datetime]] = defaultdict(list)
        for touch in touches:
            self._all[touch.contact_id].append(touch.at)
            if touch.handoff:
                self._handoffs[touch.contact_id].append(touch.at)
        for times in (*self._all.values(), *self._handoffs.values()):
            times.sort()

    def came_back(self, contact_id: int, after: datetime, handoffs_only: bool = False) -> bool:
        """Whether the contact was touched in `(after, after + 7 days]`."""
        times = (self._handoffs if handoffs_only else self._all).get(contact_id, [])
        index = bisect.bisect_right(times, after)
        return index < len(times) and times[index] <= after + COME_BACK_WINDOW


def _handoff_key(by: GroupBy) -> Callable[[HandoffFact], str] | None:
    if by is GroupBy.AGENT:
        return lambda h: h.agent_name or NO_AGENT
    if by is GroupBy.TEAM:
        return lambda h: h.team
    if by is GroupBy.CHANNEL:
        return lambda h: h.channel
    return None  # a hand-off belongs to no funnel


def survey_group_key(by: GroupBy) -> Callable[[SurveyFact], str]:
    if by is GroupBy.AGENT:
        return lambda s: s.agent_name or NO_AGENT
    if by is GroupBy.TEAM:
        return lambda s: s.team or NO_TEAM
    if by is GroupBy.CHANNEL:
        return lambda s: s.channel or NO_CHANNEL
    return lambda s: s.funnel_id or NO_FUNNEL


def build_service_report(period: Period, by: GroupBy | None, facts: ServiceFacts) -> ServiceReport:
    touches = Touches(facts.touches)
    total = _row(None, None, facts, touches)
    if by is None:
        return ServiceReport(period, None, total, [])
    rows = [_row(name, by, _only(facts, by, name), touches) for name in _groups(by, facts)]
    return ServiceReport(period, by, total, rows)


def _groups(by: GroupBy, facts: ServiceFacts) -> list[str]:
    survey_key, handoff_key = survey_group_key(by), _handoff_key(by)
    names = {survey_key(s) for s in facts.surveys}
    if handoff_key is not None:
        names.update(handoff_key(h) for h in facts.handoffs)
    if by is GroupBy.CHANNEL:
        names.update(c.channel for c in facts.conversations)
        names.update(a.channel for a in facts.kb_answers)
    return sorted(names)


def _only(facts: ServiceFacts, by: GroupBy, name: str) -> ServiceFacts:
    """The facts of one group (none of a kind whose metrics do not apply to `by`)."""
    survey_key, handoff_key = survey_group_key(by), _handoff_key(by)
    channel = by is GroupBy.CHANNEL
    return ServiceFacts(
        handoffs=[h for h in facts.handoffs if handoff_key is not None and handoff_key(h) == name],
        surveys=[s for s in facts.surveys if survey_key(s) == name],
        conversations=[c for c in facts.conversations if channel and c.channel == name],
        kb_answers=[a for a in facts.kb_answers if channel and a.channel == name],
        touches=facts.touches,
    )


def _row(
    group: str | None, by: GroupBy | None, facts: ServiceFacts, touches: Touches
) -> ServiceRow:
    """Hand-off metrics apply to every grouping but the funnel (a hand-off has no funnel);
    conversation and knowledge-base metrics only to the whole period and per channel."""
    per_handoff = by is not GroupBy.FUNNEL
    per_channel = by in (None, GroupBy.CHANNEL)
    handoffs = facts.handoffs
    return ServiceRow(
        group=group,
        scores=scores(facts.surveys),
        first_response=first_response(handoffs) if per_handoff else None,
        resolution=resolution(handoffs) if per_handoff else None,
        handoff_rate=handoff_rate(facts.conversations) if per_channel else None,
        self_service=self_service(facts.kb_answers, touches) if per_channel else None,
        first_contact_resolution=(
            first_contact_resolution(handoffs, touches) if per_handoff else None
        ),
        sla_breaches=sla_breaches(handoffs) if per_handoff else None,
    )


def scores(surveys: Iterable[SurveyFact]) -> ScoreStats:
    answers = list(surveys)
    csat = [s.score for s in answers if s.kind == "csat"]
    nps = [s.score for s in answers if s.kind == "nps"]
    return ScoreStats(
        csat=Rate(sum(1 for score in csat if score >= 4), len(csat)),
        promoters=sum(1 for score in nps if score >= 9),
        detractors=sum(1 for score in nps if score <= 6),
        nps_answers=len(nps),
    )


def first_response(handoffs: Iterable[HandoffFact]) -> Spread:
    return Spread.of(
        [
            (h.first_response_at - h.requested_at).total_seconds()
            for h in handoffs
            if h.first_response_at is not None
        ]
    )


def resolution(handoffs: Iterable[HandoffFact]) -> Spread:
    return Spread.of(
        [
            (h.closed_at - h.requested_at).total_seconds()
            for h in handoffs
            if h.closed_at is not None and h.close_reason in RESOLVED_REASONS
        ]
    )


def handoff_rate(conversations: Iterable[ChannelConversations]) -> Rate:
    rows = list(conversations)
    return Rate(sum(c.handed_off for c in rows), sum(c.conversations for c in rows))


def self_service(answers: Iterable[KbAnswerFact], touches: Touches) -> Rate:
    """Answered by the bot, not called unhelpful, and the contact did not come back (a new
    conversation or a hand-off) within 7 days."""
    rows = list(answers)
    resolved = sum(
        1 for a in rows if a.helpful is not False and not touches.came_back(a.contact_id, a.at)
    )
    return Rate(resolved, len(rows))


def first_contact_resolution(handoffs: Iterable[HandoffFact], touches: Touches) -> Rate:
    """Closed by an agent, and no new hand-off of the contact within 7 days of the close."""
    closed = [h for h in handoffs if h.close_reason == "closed" and h.closed_at is not None]
    resolved = sum(
        1
        for h in closed
        if h.closed_at is not None
        and not touches.came_back(h.contact_id, h.closed_at, handoffs_only=True)
    )
    return Rate(resolved, len(closed))


def sla_breaches(handoffs: Iterable[HandoffFact]) -> Rate:
    with_target = [h for h in handoffs if h.sla_due_at is not None]
    return Rate(sum(1 for h in with_target if h.sla_breached_at is not None), len(with_target))
