"""The funnel model: what a `funnels/*.yaml` file says, as frozen dataclasses.

The engine is written against this module. The rules it relies on:

- Every step has a stable `id` (unique within its funnel); enrollments store the step id, so a
  contact inside a funnel continues at the same id after the file is edited.
- Flow is by list order: after a step the contact moves to the step's `next` if it has one,
  else to the following step in the list, else the funnel is finished (`Funnel.next_id`).
- Branching steps name their targets (`IfStep.then`, `WaitForReplyStep.answers`...); a branch
  left out falls through to `Funnel.next_id` (see each step's docstring). `GotoStep`, `EndStep`
  and `SplitStep` never fall through.
- Templates and conditions see the variables in `TEMPLATE_VARIABLES` / `CONDITION_VARIABLES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from bot.funnel.conditions import Condition
from bot.funnel.steps import (
    ANSWERS,
    STEP_KINDS,
    WAITING_KINDS,
    Button,
    CouponStep,
    EndStep,
    GotoStep,
    HandoffStep,
    IfStep,
    SendStep,
    SetStep,
    SplitStep,
    SplitVariant,
    Step,
    SurveyStep,
    TagStep,
    UntagStep,
    WaitForReplyStep,
    WaitStep,
)

DEFAULT_MAX_DELAY = timedelta(hours=6)

TEMPLATE_VARIABLES: Mapping[str, str] = {
    "contact": "the contact: display_name, language, timezone, attributes (a mapping)",
    "name": "the contact's display name (same as contact.display_name)",
    "event": "the data of the event that started the funnel (a mapping; empty for keyword, "
    "tag and stalled triggers)",
    "vars": "the funnel's `variables:`, overridden by values `set` steps stored for the contact",
    "funnel": "the funnel: id and name",
    "coupon": "the last code a `coupon` step handed out: code and pool (undefined before)",
    "reply": "the contact's last reply while in the funnel: text and answer (yes, no, date, "
    "other) (undefined before a `wait_for_reply` got one)",
}
"""What a funnel's templates (and `set` expressions and button URLs) may use: the one list the
linter checks against and the engine must provide."""

CONDITION_VARIABLES: Mapping[str, str] = TEMPLATE_VARIABLES
"""What `if`, `audience` and `set` may use. A trigger's `where` also sees the event's data keys
at the top level (`cart.total` for `event.cart.total`)."""

CONVERSATION_STATUSES = ("bot", "waiting_for_agent", "with_agent", "closed")


# --- triggers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTrigger:
    """An event (`cart_abandoned`, `order_created`, any custom name) from the API or a channel;
    `where` filters on its data (the data's keys are variables, next to `event` and `contact`)."""

    kind: ClassVar[str] = "event"
    name: str
    where: Condition | None = None


@dataclass(frozen=True)
class StalledTrigger:
    """No customer reply for `after` while the conversation is in `status` (any open status
    when None), or, with `unanswered_question`, a question of ours left unanswered for `after`."""

    kind: ClassVar[str] = "stalled"
    after: timedelta
    status: str | None = None
    unanswered_question: bool = False


@dataclass(frozen=True)
class QuietTrigger:
    """Win-back: the contact sent no message (`of="message"`) or bought nothing
    (`of="purchase"`, from `order_paid` events) for `after`."""

    kind: ClassVar[str] = "quiet"
    after: timedelta
    of: Literal["message", "purchase"] = "message"


@dataclass(frozen=True)
class KeywordTrigger:
    """A message that is one of `words` (case-insensitive, surrounding spaces and final
    punctuation ignored); a word starting with `/` is a command (`/promo`, `/start promo`)."""

    kind: ClassVar[str] = "keyword"
    words: tuple[str, ...]


@dataclass(frozen=True)
class TagAddedTrigger:
    """The tag `tag` was added to the contact (by a funnel, an agent or the API)."""

    kind: ClassVar[str] = "tag_added"
    tag: str


@dataclass(frozen=True)
class ApiTrigger:
    """Only enrollment through the API (`POST /api/v1/...`) starts this funnel."""

    kind: ClassVar[str] = "api"


Trigger = (
    EventTrigger | StalledTrigger | QuietTrigger | KeywordTrigger | TagAddedTrigger | ApiTrigger
)


# --- policies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReentryPolicy:
    """Whether a contact who left the funnel may enter again: `once` (ever), `always`, or
    `once_per` (at most once per `period`, counted from the previous entry). A contact who is
    inside the funnel is never enrolled a second time, whatever the policy."""

    kind: Literal["once", "always", "once_per"] = "once"
    period: timedelta | None = None


@dataclass(frozen=True)
class ExitWhen:
    """One reason to leave the funnel at once: `event` (its `value` names the event, a goal
    like `order_paid`), `replied`, `button` (`value` is the reply button's value), `handed_off`,
    `opted_out`."""

    kind: Literal["event", "replied", "button", "handed_off", "opted_out"]
    value: str | None = None


@dataclass(frozen=True)
class QuietHours:
    """No message goes out from `start` to `end` (wrapping past midnight when `start > end`) in
    the contact's time zone, else `timezone`, else the funnel's, else config's; a step that
    falls due inside waits until `end`."""

    start: time
    end: time
    timezone: str | None = None

    def contains(self, moment: time) -> bool:
        """Whether a local time of day is inside the quiet hours (`start` in, `end` out)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class FrequencyCap:
    """At most `messages` marketing messages per contact per `per`, across all funnels. It
    lives in config.yaml (global), not in funnel files; funnels with `marketing: false` do not
    count towards it and are not held back by it."""

    messages: int
    per: timedelta


# --- the funnel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """One funnel file. `timezone` is used when the contact has none (else config's);
    `marketing` funnels count towards the frequency cap and skip opted-out contacts;
    a step that fell due more than `max_delay` ago (an outage) is not sent but expires."""

    id: str
    trigger: Trigger
    steps: tuple[Step, ...]
    name: str = ""
    description: str = ""
    audience: Condition | None = None
    reentry: ReentryPolicy = ReentryPolicy()
    exit_when: tuple[ExitWhen, ...] = ()
    quiet_hours: QuietHours | None = None
    timezone: str | None = None
    marketing: bool = True
    max_delay: timedelta = DEFAULT_MAX_DELAY
    variables: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def first_step(self) -> Step | None:
        return self.steps[0] if self.steps else None

    def step(self, step_id: str) -> Step | None:
        """The step with this id (the first one if the file repeats an id), else None: the
        engine skips a removed step with a log line."""
        return next((step for step in self.steps if step.id == step_id), None)

    def next_id(self, step_id: str) -> str | None:
        """Where to go after `step_id` when no branch applies: its `next`, else the following
        step in the list; None means the funnel is finished (or the step no longer exists)."""
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                if step.next:
                    return step.next
                return self.steps[index + 1].id if index + 1 < len(self.steps) else None
        return None

    def successors(self, step_id: str) -> tuple[str, ...]:
        """Every step id the contact may go to after `step_id` (for the linter and tools)."""
        step = self.step(step_id)
        if step is None:
            return ()
        found = list(step.branches())
        implicit = self.next_id(step_id)
        if step.falls_through and implicit:
            found.append(implicit)
        return tuple(dict.fromkeys(found))


__all__ = [
    "ANSWERS", "CONDITION_VARIABLES", "CONVERSATION_STATUSES", "DEFAULT_MAX_DELAY", "STEP_KINDS",
    "TEMPLATE_VARIABLES", "WAITING_KINDS", "ApiTrigger", "Button", "CouponStep", "EndStep",
    "EventTrigger", "ExitWhen", "FrequencyCap", "Funnel", "GotoStep", "HandoffStep", "IfStep",
    "KeywordTrigger", "QuietHours", "QuietTrigger", "ReentryPolicy", "SendStep", "SetStep",
    "SplitStep", "SplitVariant", "StalledTrigger", "Step", "SurveyStep", "TagAddedTrigger",
    "TagStep", "Trigger", "UntagStep", "WaitForReplyStep", "WaitStep",
]  # fmt: skip
