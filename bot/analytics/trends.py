"""Trends: one point per day or week of the period, in the report's time zone (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from bot.analytics.model import TrendPoint
from bot.analytics.period import Bucket, Period
from bot.analytics.stats import quantile
from bot.domain.report_ports import HandoffFact, SurveyFact


def csat_trend(period: Period, answers: Iterable[SurveyFact], bucket: Bucket) -> list[TrendPoint]:
    """CSAT % (answers 4-5 of all CSAT answers) per bucket of `answered_at`."""
    scores: dict[date, list[int]] = defaultdict(list)
    for answer in answers:
        if answer.kind == "csat":
            scores[period.bucket_of(answer.answered_at, bucket)].append(answer.score)
    points = []
    for start in period.buckets(bucket):
        mine = scores.get(start, [])
        value = 100.0 * sum(1 for s in mine if s >= 4) / len(mine) if mine else None
        points.append(TrendPoint(start, value, len(mine)))
    return points


def first_response_trend(
    period: Period, handoffs: Iterable[HandoffFact], bucket: Bucket
) -> list[TrendPoint]:
    """Median first response time in seconds per bucket of `requested_at` (hand-offs that got a
    first response)."""
    waits: dict[date, list[float]] = defaultdict(list)
    for handoff in handoffs:
        if handoff.first_response_seconds is not None:
            day = period.bucket_of(handoff.requested_at, bucket)
            waits[day].append(handoff.first_response_seconds)
    return [
        TrendPoint(start, quantile(waits.get(start, []), 0.5), len(waits.get(start, [])))
        for start in period.buckets(bucket)
    ]
