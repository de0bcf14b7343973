"""What a funnel's templates and conditions see, and which signals end an enrollment.

Shared by the database runner and the simulator, so a marketer's preview uses the same
variables and the same exit rules as the real thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.funnel import Enrollment
from bot.funnel.model import Button, Funnel
from bot.rendering import Renderer


@dataclass(frozen=True, slots=True)
class ContactView:
    """The contact as funnels see it (a read-only snapshot)."""

    id: int
    display_name: str
    language: str | None = None
    timezone: str | None = None
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    opted_out: bool = False
    blocked: bool = False

    def as_variable(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "language": self.language,
            "timezone": self.timezone,
            "tags": list(self.tags),
            "attributes": dict(self.attributes),
        }


def funnel_context(contact: ContactView, funnel: Funnel, enrollment: Enrollment) -> dict[str, Any]:
    """The variables of `TEMPLATE_VARIABLES`; `coupon` and `reply` only once they exist, so a
    template that uses them too early fails loudly instead of printing nothing."""
    stored = enrollment.variables
    context: dict[str, Any] = {
        "contact": contact.as_variable(),
        "name": contact.display_name,
        "event": dict(enrollment.event),
        "vars": {**funnel.variables, **stored.get("vars", {})},
        "funnel": {"id": funnel.id, "name": funnel.name or funnel.id},
    }
    for optional in ("coupon", "reply"):
        if optional in stored:
            context[optional] = stored[optional]
    return context


def button_label(button: Button, language: str | None, default_language: str) -> str:
    return button.text_for(language, default_language)


def render_button_url(renderer: Renderer, button: Button, context: Mapping[str, Any]) -> str:
    return renderer.render_string(button.url or "", context)


def exit_reason(funnel: Funnel, signal: str, value: str | None = None) -> str | None:
    """The reason to leave `funnel` on a signal ("event", "replied", "button", "handed_off",
    "opted_out"), or None when the funnel does not exit on it."""
    for rule in funnel.exit_when:
        if rule.kind != signal:
            continue
        if rule.kind in ("event", "button") and rule.value != value:
            continue
        return f"{signal} {value}" if value else signal
    return None


def timezone_for(contact: ContactView, funnel: Funnel, default: str) -> str:
    return contact.timezone or funnel.timezone or default
