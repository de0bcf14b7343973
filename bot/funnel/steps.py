"""The steps of a funnel, one frozen dataclass per kind (see `model.py` for the flow rules).

Every step has a stable `id` and may name a `next`; `branches()` lists the step ids it names and
`falls_through` says whether the contact may also continue at `Funnel.next_id` afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any, ClassVar, Literal

from bot.funnel.conditions import Condition, Expression

ANSWERS = ("yes", "no", "date", "other")
"""The answer branches of `wait_for_reply`: yes / no / a date are recognised in the contact's
language; `other` is any other reply."""


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    """What every step has: a stable `id` and an optional `next` (a step id) that replaces
    "the following step in the list"."""

    kind: ClassVar[str] = ""
    id: str
    next: str | None = None

    def branches(self) -> tuple[str, ...]:
        """The step ids this step names, `next` included (in the order written)."""
        return (self.next,) if self.next else ()

    @property
    def falls_through(self) -> bool:
        """Whether the contact may continue at `Funnel.next_id` after this step."""
        return True


@dataclass(frozen=True)
class Button:
    """An inline button under a `send`: exactly one of `url` (opens a link; may use template
    variables), `reply` (sends `reply` back as the contact's answer: `yes`/`no`/`other` choose
    a `wait_for_reply` branch, any value can trigger `exit_when: {button: value}`) or
    `snooze` ("not now": the funnel's next step is pushed back by that long).
    `text` maps a language to the label; the key `*` is the label for every other language."""

    text: Mapping[str, str]
    url: str | None = None
    reply: str | None = None
    snooze: timedelta | None = None

    @property
    def kind(self) -> Literal["url", "reply", "snooze"]:
        return "url" if self.url is not None else "reply" if self.reply is not None else "snooze"

    def text_for(self, language: str | None, default_language: str) -> str:
        """The label in the contact's language, else `*`, else the default language, else any."""
        for key in ((language or "").split("-")[0].lower(), "*", default_language):
            if key in self.text:
                return self.text[key]
        return next(iter(self.text.values()))


@dataclass(frozen=True, kw_only=True)
class SendStep(Step):
    """Send `template` (`templates/<lang>/<template>.j2`) with optional `buttons`."""

    kind: ClassVar[str] = "send"
    template: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WaitStep(Step):
    """Wait `duration`, or until the time of day `until` (in the contact's time zone), on one of
    `weekdays` (0 = Monday) when given; exactly one of `duration` / `until` is set."""

    kind: ClassVar[str] = "wait"
    duration: timedelta | None = None
    until: time | None = None
    weekdays: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WaitForReplyStep(Step):
    """Wait up to `timeout` for the contact's reply. A reply goes to `answers[<answer>]` (see
    ANSWERS), an answer with no branch to `answers["other"]`, else to `Funnel.next_id`; no reply
    in time goes to `on_timeout`, else to `Funnel.next_id`."""

    kind: ClassVar[str] = "wait_for_reply"
    timeout: timedelta
    on_timeout: str | None = None
    answers: Mapping[str, str] = field(default_factory=dict)

    def branches(self) -> tuple[str, ...]:
        named = [self.answers[a] for a in ANSWERS if a in self.answers]
        return tuple(t for t in (*named, self.on_timeout, self.next) if t)

    @property
    def falls_through(self) -> bool:
        return self.on_timeout is None or "other" not in self.answers


@dataclass(frozen=True, kw_only=True)
class IfStep(Step):
    """Go to `then` when `condition` holds, else to `else_` (written `else:`), else on."""

    kind: ClassVar[str] = "if"
    condition: Condition
    then: str
    else_: str | None = None

    def branches(self) -> tuple[str, ...]:
        return tuple(t for t in (self.then, self.else_, self.next) if t)

    @property
    def falls_through(self) -> bool:
        return self.else_ is None


@dataclass(frozen=True, kw_only=True)
class TagStep(Step):
    """Add `tags` to the contact."""

    kind: ClassVar[str] = "tag"
    tags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UntagStep(Step):
    """Remove `tags` from the contact."""

    kind: ClassVar[str] = "untag"
    tags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SetStep(Step):
    """Store `values` for this contact in this funnel (seen as `vars.<name>` afterwards): each
    is a literal, or an `Expression` (written `"{{ expression }}"`)."""

    kind: ClassVar[str] = "set"
    values: Mapping[str, Any | Expression]


@dataclass(frozen=True, kw_only=True)
class HandoffStep(Step):
    """Hand the conversation to a person (of `team` when given), with `summary` for the agent."""

    kind: ClassVar[str] = "handoff"
    team: str | None = None
    summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class SurveyStep(Step):
    """Start the survey `survey` (an id from the surveys' files)."""

    kind: ClassVar[str] = "survey"
    survey: str


@dataclass(frozen=True, kw_only=True)
class CouponStep(Step):
    """Hand out a unique code from `pool`, once per contact (the same code again on a second
    pass); later templates see it as `coupon.code`. An empty pool goes to `on_empty` when given,
    else ends the enrollment with the reason `coupon pool empty`."""

    kind: ClassVar[str] = "coupon"
    pool: str
    on_empty: str | None = None

    def branches(self) -> tuple[str, ...]:
        return tuple(t for t in (self.next, self.on_empty) if t)


@dataclass(frozen=True, kw_only=True)
class GotoStep(Step):
    """Continue at `target`."""

    kind: ClassVar[str] = "goto"
    target: str

    def branches(self) -> tuple[str, ...]:
        return (self.target,)

    @property
    def falls_through(self) -> bool:
        return False


@dataclass(frozen=True, kw_only=True)
class EndStep(Step):
    """Finish the funnel here."""

    kind: ClassVar[str] = "end"

    def branches(self) -> tuple[str, ...]:
        return ()

    @property
    def falls_through(self) -> bool:
        return False


@dataclass(frozen=True)
class SplitVariant:
    name: str
    weight: int
    goto: str


@dataclass(frozen=True, kw_only=True)
class SplitStep(Step):
    """A/B test: each contact goes to one variant's `goto`, chosen by weight from a hash of the
    funnel id, step id and contact id, so the choice is deterministic and sticky."""

    kind: ClassVar[str] = "split"
    variants: tuple[SplitVariant, ...]

    def branches(self) -> tuple[str, ...]:
        return tuple(variant.goto for variant in self.variants)

    @property
    def falls_through(self) -> bool:
        return False


STEP_KINDS: Mapping[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        SendStep, WaitStep, WaitForReplyStep, IfStep, TagStep, UntagStep, SetStep,
        HandoffStep, SurveyStep, CouponStep, GotoStep, EndStep, SplitStep,
    )
}  # fmt: skip
WAITING_KINDS = frozenset({"wait", "wait_for_reply"})
