"""A contact's way through a funnel, as stored: where they are, what they wait for, and why it
ended. The funnel itself (steps, triggers) is read from `funnels/*.yaml` by `bot.funnel`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EnrollmentStatus(enum.StrEnum):
    RUNNING = "running"  # due at `due_at` to run its current step
    WAITING_REPLY = "waiting_reply"  # a wait_for_reply step: a reply or the timeout moves it
    COMPLETED = "completed"  # reached an `end` or ran out of steps
    EXITED = "exited"  # an exit condition (goal, reply, opt-out, hand-off, ...)
    EXPIRED = "expired"  # fell due while Nudge was down and is later than `max_delay`
    FAILED = "failed"  # a step could not run (e.g. its template broke); the reason is stored

    @property
    def is_open(self) -> bool:
        return self in (EnrollmentStatus.RUNNING, EnrollmentStatus.WAITING_REPLY)


@dataclass(slots=True)
class Enrollment:
    id: int
    funnel_id: str
    contact_id: int
    status: EnrollmentStatus
    step_id: str | None  # the step to run next (None: past the last step)
    due_at: datetime | None  # when it runs next; None while waiting for a reply without timeout
    entered_at: datetime
    updated_at: datetime
    event: dict[str, Any] = field(default_factory=dict)  # the trigger's data
    variables: dict[str, Any] = field(default_factory=dict)  # set steps, coupon, variant
    # Where `step_id` led when it was set: if an edit removes that step, the contact goes on here.
    resume_step_id: str | None = None
    variant: str | None = None  # the A/B split's sticky choice
    waiting_since: datetime | None = None  # when the current wait_for_reply began
    ended_at: datetime | None = None
    end_reason: str | None = None
    version: int = 0  # bumped on every write: a stale claim cannot overwrite a newer state
