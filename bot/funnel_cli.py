"""`nudge simulate`: print what a funnel would send to one contact, and when."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings
from bot.funnel.context import ContactView, timezone_for
from bot.funnel.durations import DurationError, parse_duration
from bot.funnel.lint import Templates, lint_funnel
from bot.funnel.loader import load_funnel_file
from bot.funnel.model import FrequencyCap
from bot.funnel.simulate import Input, SimulatedPorts, SimulationError, format_timeline, simulate
from bot.rendering import Renderer, RenderError

EXAMPLE = (
    "nudge simulate funnels/abandoned_cart.yaml --contact ann.yaml"
    ' --events "cart_abandoned@0,order_paid@26h"'
)


def add_simulate_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser(
        "simulate",
        help="print a funnel's timeline for one contact on a virtual clock (sends nothing)",
        description=f"Example: {EXAMPLE}",
    )
    sim.add_argument("funnel", type=Path, help="a funnel file, e.g. funnels/abandoned_cart.yaml")
    sim.add_argument("--contact", type=Path, help="a YAML file: name, language, timezone, tags, "
                     "attributes, opted_out, event_data: {event name: data}")  # fmt: skip
    sim.add_argument("--events", default="", help="what happens when: NAME@OFFSET, "
                     "reply:TEXT@OFFSET, button:VALUE@OFFSET, comma separated")  # fmt: skip
    sim.add_argument("--start", help="virtual start time, ISO 8601 (default: now, UTC)")
    sim.add_argument("--horizon", default="60d", help="how far to simulate (default 60d)")


def run_simulate_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_simulate(args, settings))
    except (SimulationError, DurationError, RenderError, OSError, yaml.YAMLError) as exc:
        print(f"nudge simulate: {exc}")
        return 1


async def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    renderer = Renderer(Path(settings.bot.templates_dir), settings.bot.default_language)
    loaded = load_funnel_file(args.funnel)
    problems = [*loaded.problems, *lint_funnel(loaded, Templates(renderer))]
    errors = [p for p in problems if p.severity == "error"]
    if loaded.funnel is None or errors:
        print("\n".join(str(p) for p in errors or problems))
        return 1
    funnel = loaded.funnel
    raw = _read_contact(args.contact)
    contact = ContactView(
        id=1,
        display_name=str(raw.get("name", "Ann")),
        language=raw.get("language"),
        timezone=raw.get("timezone"),
        tags=tuple(str(t) for t in raw.get("tags", [])),
        attributes=dict(raw.get("attributes", {})),
        opted_out=bool(raw.get("opted_out", False)),
    )
    config = settings.funnels
    cap = (
        FrequencyCap(config.frequency_cap_messages, config.cap_period)
        if config.frequency_cap_messages
        else None
    )
    ports = SimulatedPorts(renderer, contact, config.timezone, settings.bot.default_language, cap)
    ports.tags.update(contact.tags)
    ports.zone_override = funnel.timezone
    start = _start(args.start)
    inputs = Input.parse_list(args.events)
    horizon: timedelta = parse_duration(args.horizon)
    lines = await simulate(
        funnel, contact, inputs, ports, start, raw.get("event_data", {}), horizon
    )
    zone = timezone_for(contact, funnel, config.timezone)
    print(f"{funnel.id}: {funnel.name or funnel.id} for {contact.display_name} ({zone})")
    print(format_timeline(lines, zone, start) if lines else "nothing happens")
    return 0


def _read_contact(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SimulationError(f"{path}: a contact file is a mapping (name, language, ...)")
    return data


def _start(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SimulationError(
            f"--start {text!r}: write an ISO time like 2026-01-05T09:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
