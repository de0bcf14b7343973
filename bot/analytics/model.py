"""What the reports return: plain, typed dataclasses (the CLI and the console render them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.analytics.period import Period
from bot.analytics.stats import Rate, Spread, ZTest


class GroupBy(StrEnum):
    AGENT = "agent"
    TEAM = "team"
    CHANNEL = "channel"
    FUNNEL = "funnel"


# --- funnels -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepDelivery:
    """What became of a step's queued messages, in enrollments (each counted once, by its
    message's outcome; see `bot.domain.report_ports.Delivery`)."""

    delivered: int = 0  # the channel accepted it
    failed: int = 0  # refused by the channel, or given up after retries
    suppressed: int = 0  # not sent: opted out, blocked the bot, ...
    pending: int = 0  # still in the outbox
    unknown: int = 0  # sent, no answer came back
    # Why, most frequent first: the stored reasons, the rarest summed under OTHER_REASONS.
    failure_reasons: dict[str, int] = field(default_factory=dict)
    suppression_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def tracked(self) -> int:
        """Messages with an outbox record: delivered + failed + suppressed + pending + unknown."""
        return self.delivered + self.failed + self.suppressed + self.pending + self.unknown


OTHER_REASONS = "(other reasons)"
NO_REASON = "(no reason given)"


@dataclass(frozen=True, slots=True)
class StepStats:
    """One step of a funnel, counted in enrollments (a contact counts once per step)."""

    step_id: str
    reached: int  # with any log row at this step: the bar of a narrowing funnel chart
    queued: int  # the step's message went to the outbox (marketing `sent`, service `notified`)
    pressed: int  # pressed one of the step's buttons
    replied: int  # answered at this step (a text, or a button of a wait-for-reply step)
    goal: int  # reached the goal while at this step
    dropped: int  # ended here without the goal (exited, expired or failed)
    delivery: StepDelivery = field(default_factory=StepDelivery)  # what became of the queued


@dataclass(frozen=True, slots=True)
class VariantStats:
    """One A/B variant of a funnel (enrollments that passed its split step)."""

    name: str
    entered: int
    goal: Rate
    time_to_goal: Spread


@dataclass(frozen=True, slots=True)
class VariantComparison:
    """`variant` against `baseline` on the goal rate."""

    baseline: str
    variant: str
    test: ZTest | None  # None: too little data for the test to say anything


@dataclass(frozen=True, slots=True)
class FunnelReport:
    funnel_id: str
    entered: int
    goal: Rate  # reached the goal / entered
    completed: int  # ran out of steps (or hit `end`) without the goal
    still_open: int
    exits: dict[str, int]  # why the others ended: exit reason, "expired" or "failed"
    steps: list[StepStats]  # in the funnel file's order when known
    worst_step: str | None  # where most enrollments dropped out
    time_to_goal: Spread
    variants: list[VariantStats] = field(default_factory=list)
    comparisons: list[VariantComparison] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FunnelsReport:
    period: Period
    funnels: list[FunnelReport]

    @property
    def empty(self) -> bool:
        return not self.funnels


# --- service -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """CSAT and NPS of one group."""

    csat: Rate  # scores 4-5 of the CSAT answers
    promoters: int  # NPS 9-10
    detractors: int  # NPS 0-6
    nps_answers: int

    @property
    def nps(self) -> float | None:
        """Promoters % minus detractors %, from -100 to 100."""
        if not self.nps_answers:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.nps_answers


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One group (`group` is None for the whole period). A metric that does not apply to the
    grouping (a hand-off has no funnel) is None."""

    group: str | None
    scores: ScoreStats
    first_response: Spread | None
    resolution: Spread | None
    handoff_rate: Rate | None  # conversations handed off / conversations opened
    self_service: Rate | None  # resolved by the bot alone / answered by the bot
    first_contact_resolution: Rate | None  # closed, no new hand-off in 7 days / closed
    sla_breaches: Rate | None  # breached / hand-offs with a first-response target


@dataclass(frozen=True, slots=True)
class ServiceReport:
    period: Period
    by: GroupBy | None
    total: ServiceRow
    groups: list[ServiceRow]

    @property
    def empty(self) -> bool:
        total = self.total
        counted = (
            total.scores.csat.whole,
            total.scores.nps_answers,
            total.first_response.count if total.first_response else 0,
            total.handoff_rate.whole if total.handoff_rate else 0,
            total.self_service.whole if total.self_service else 0,
        )
        return not any(counted)


@dataclass(frozen=True, slots=True)
class ScoreRow:
    group: str | None
    scores: ScoreStats


@dataclass(frozen=True, slots=True)
class ScoresReport:
    """CSAT and NPS alone (`nudge report csat`)."""

    period: Period
    by: GroupBy | None
    total: ScoreStats
    groups: list[ScoreRow]

    @property
    def empty(self) -> bool:
        return not self.total.csat.whole and not self.total.nps_answers


# --- drivers, retention, trends ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleDemand:
    article_id: str
    asked: int
    helpful: int
    not_helpful: int


@dataclass(frozen=True, slots=True)
class QuestionCluster:
    """Unanswered questions that share most of their words."""

    example: str  # the most frequent wording
    count: int
    words: tuple[str, ...]  # the normalised words most of them share
    samples: tuple[str, ...]  # a few other wordings


@dataclass(frozen=True, slots=True)
class DriversReport:
    period: Period
    articles: list[ArticleDemand]
    unanswered: list[QuestionCluster]
    unanswered_total: int

    @property
    def empty(self) -> bool:
        return not self.articles and not self.unanswered


@dataclass(frozen=True, slots=True)
class RetentionRow:
    origin: str | None  # the first funnel; None: contacts never in a funnel
    quiet: Rate  # went quiet / contacts created in the period


@dataclass(frozen=True, slots=True)
class RetentionReport:
    period: Period
    quiet_for_days: int
    rows: list[RetentionRow]

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket of a trend: `value` is None when nothing fell in it (a gap in the chart)."""

    start: date  # the bucket's first local day
    value: float | None
    count: int  # answers / hand-offs the value is computed from
