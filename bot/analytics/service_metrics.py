"""The service report (CSAT, NPS, response and resolution times, hand-off and self-service
rates, first-contact resolution, SLA breaches), computed from facts (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.analytics.model import GroupBy, ScoreStats, ServiceReport, ServiceRow
from bot.analytics.period import Period
from bot.analytics.stats import Rate, Spread
from bot.domain.report_ports import (
    ChannelConversations,
    HandoffFact,
    SelfServiceCount,
    SurveyFact,
)

RESOLVED_REASONS = frozenset({"closed", "back_to_bot"})  # an agent finished the chat
NO_AGENT, NO_TEAM, NO_FUNNEL, NO_CHANNEL = "(no agent)", "(no team)", "(no funnel)", "(unknown)"


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    handoffs: Sequence[HandoffFact]
    surveys: Sequence[SurveyFact]
    conversations: Sequence[ChannelConversations]
    self_service: Sequence[SelfServiceCount]


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
    total = _row(None, None, facts)
    if by is None:
        return ServiceReport(period, None, total, [])
    rows = [_row(name, by, _only(facts, by, name)) for name in _groups(by, facts)]
    return ServiceReport(period, by, total, rows)


def _groups(by: GroupBy, facts: ServiceFacts) -> list[str]:
    survey_key, handoff_key = survey_group_key(by), _handoff_key(by)
    names = {survey_key(s) for s in facts.surveys}
    if handoff_key is not None:
        names.update(handoff_key(h) for h in facts.handoffs)
    if by is GroupBy.CHANNEL:
        names.update(c.channel for c in facts.conversations)
        names.update(a.channel for a in facts.self_service)
    return sorted(names)


def _only(facts: ServiceFacts, by: GroupBy, name: str) -> ServiceFacts:
    """The facts of one group (none of a kind whose metrics do not apply to `by`)."""
    survey_key, handoff_key = survey_group_key(by), _handoff_key(by)
    channel = by is GroupBy.CHANNEL
    return ServiceFacts(
        handoffs=[h for h in facts.handoffs if handoff_key is not None and handoff_key(h) == name],
        surveys=[s for s in facts.surveys if survey_key(s) == name],
        conversations=[c for c in facts.conversations if channel and c.channel == name],
        self_service=[a for a in facts.self_service if channel and a.channel == name],
    )


def _row(group: str | None, by: GroupBy | None, facts: ServiceFacts) -> ServiceRow:
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
        self_service=self_service(facts.self_service) if per_channel else None,
        first_contact_resolution=(first_contact_resolution(handoffs) if per_handoff else None),
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
    waits = [h.first_response_seconds for h in handoffs]
    return Spread.of([seconds for seconds in waits if seconds is not None])


def resolution(handoffs: Iterable[HandoffFact]) -> Spread:
    """Hand-offs an agent finished (closed, or gave back to the bot): request to close."""
    return Spread.of(
        [
            h.closed_seconds
            for h in handoffs
            if h.closed_seconds is not None and h.close_reason in RESOLVED_REASONS
        ]
    )


def handoff_rate(conversations: Iterable[ChannelConversations]) -> Rate:
    rows = list(conversations)
    return Rate(sum(c.handed_off for c in rows), sum(c.conversations for c in rows))


def self_service(counts: Iterable[SelfServiceCount]) -> Rate:
    """Answered by the bot, not called unhelpful, and the contact did not come back (a new
    conversation or a hand-off) within 7 days."""
    rows = list(counts)
    return Rate(sum(c.resolved for c in rows), sum(c.answered for c in rows))


def first_contact_resolution(handoffs: Iterable[HandoffFact]) -> Rate:
    """Closed by an agent, and no new hand-off of the contact within 7 days of the close."""
    closed = [h for h in handoffs if h.close_reason == "closed" and h.closed_seconds is not None]
    return Rate(sum(1 for h in closed if not h.asked_again), len(closed))


def sla_breaches(handoffs: Iterable[HandoffFact]) -> Rate:
    with_target = [h for h in handoffs if h.has_sla]
    return Rate(sum(1 for h in with_target if h.sla_breached), len(with_target))
