"""`bot/funnel/schema.json`: a valid JSON Schema for editors that accepts every demo funnel and
refuses the mistakes it can see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.config.yaml_tree import parse_yaml
from tests.funnel.schema_check import errors

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "bot" / "funnel" / "schema.json").read_text(encoding="utf-8"))
DEMOS = sorted((REPO / "funnels").glob("*.yaml"))


def load(text: str) -> Any:
    # Editors read YAML 1.2, where `yes:` is a key named "yes"; parse_yaml keeps keys as written.
    return parse_yaml(text).data


def test_the_schema_is_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", DEMOS, ids=[p.stem for p in DEMOS])
def test_every_demo_funnel_validates(path: Path) -> None:
    assert errors(SCHEMA, load(path.read_text(encoding="utf-8"))) == []


def test_there_are_demo_funnels() -> None:
    assert {p.stem for p in DEMOS} >= {
        "welcome", "abandoned_cart", "unpaid_order", "stalled_dialog", "post_purchase",
    }  # fmt: skip


MINIMAL = "id: x\ntrigger: {event: e}\nsteps:\n  - {id: a, send: t}\n"


@pytest.mark.parametrize(
    "text",
    [
        "id: x\ntrigger: {event: e}\nsteps:\n  - {id: a, send: t, wait: 2h}\n",  # two kinds
        "id: x\ntrigger: {event: e}\nsteps:\n  - {id: a, wait: 2 hours}\n",  # bad duration
        "id: x\ntrigger: {event: e, keyword: hi}\nsteps:\n  - {id: a, send: t}\n",  # two triggers
        "id: X Y\ntrigger: {event: e}\nsteps:\n  - {id: a, send: t}\n",  # bad id
        "id: x\ntrigger: {event: e}\nsteps:\n  - {id: a, goto: b, next: c}\n",  # goto has no next
        "id: x\ntrigger: {event: e}\nsteps:\n  - {id: a, send: t, buttons: [{text: Hi}]}\n",
        "id: x\ntrigger: {event: e}\nsteps: []\n",
        MINIMAL + "reentry: sometimes\n",
        MINIMAL + "quiet_hours: {from: '9pm', to: '09:00'}\n",
    ],
)
def test_the_schema_refuses_mistakes(text: str) -> None:
    assert errors(SCHEMA, load(text))


def test_the_checker_itself_sees_the_minimal_funnel_as_valid() -> None:
    assert errors(SCHEMA, load(MINIMAL)) == []
