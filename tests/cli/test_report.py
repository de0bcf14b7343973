"""`nudge report`: the seeded world (tests/analytics/seed.py) as CSV, JSON and tables."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest

from bot.cli import main
from bot.domain.clock import FakeClock
from bot.storage import Storage
from tests.analytics.seed import FIRST_DAY, LAST_DAY, ZONE, seed_world
from tests.cli.test_cli import nudge

WEEK = ("--from", FIRST_DAY, "--to", LAST_DAY)


@pytest.fixture
async def env(sqlite_storage: Storage, clock: FakeClock) -> dict[str, str]:
    await seed_world(sqlite_storage, clock)
    url = sqlite_storage.engine.url.render_as_string(hide_password=False)
    # The days are Chisinau's through the config's default zone.
    return {"NUDGE_STORAGE__URL": url, "NUDGE_FUNNELS__TIMEZONE": ZONE}


def report(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return nudge("report", *args, **env)  # type: ignore[arg-type]  # env never holds "cwd"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_csat_by_agent_as_csv(env: dict[str, str]) -> None:
    out = ok(report(env, "csat", "--by", "agent", *WEEK, "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(out)))
    shown = {r["group"]: (r["CSAT %"], r["CSAT answers"], r["NPS"], r["NPS answers"]) for r in rows}
    # Alice 5, 4; Bob 2, 5 (the 23:40 UTC answer is on the 2nd in Chisinau); NPS 10, 8, 3, 9.
    assert shown == {
        "Alice": ("100.0", "2", "", "0"),
        "Bob": ("50.0", "2", "", "0"),
        "(no agent)": ("", "0", "25.0", "4"),
        "(all)": ("75.0", "4", "25.0", "4"),
    }


def test_funnels_as_json(env: dict[str, str]) -> None:
    data = json.loads(ok(report(env, "funnels", *WEEK, "--format", "json")))
    assert data["period"]["label"] == "2026-11-02 .. 2026-11-08 (Europe/Chisinau)"
    welcome = next(f for f in data["funnels"] if f["funnel_id"] == "welcome")
    assert (welcome["entered"], welcome["goal"]["part"], welcome["worst_step"]) == (6, 2, "offer")
    assert [(s["step_id"], s["reached"]) for s in welcome["steps"]] == [
        ("hello", 6), ("offer", 4), ("reminder", 1),
    ]  # fmt: skip
    (comparison,) = welcome["comparisons"]
    assert comparison["test"]["p_value"] == pytest.approx(0.5403, abs=1e-4)
    assert comparison["test"]["significant"] is False
    # What became of the queued messages (tests/analytics/test_funnel_report.py works it out).
    hello = welcome["steps"][0]
    assert "sent" not in hello and hello["queued"] == 6
    assert hello["delivery"] == {
        "delivered": 2, "failed": 1, "suppressed": 1, "pending": 1, "unknown": 1,
        "failure_reasons": {"400: Bad Request: chat not found": 1},
        "suppression_reasons": {"contact opted out of marketing messages": 1},
    }  # fmt: skip


def test_funnels_as_csv_with_what_became_of_the_messages(env: dict[str, str]) -> None:
    out = ok(report(env, "funnels", *WEEK, "--format", "csv"))
    rows = {(r["funnel"], r["step"]): r for r in csv.DictReader(io.StringIO(out))}
    assert list(rows) == [("cart", "nudge"), ("welcome", "hello"), ("welcome", "offer"),
                          ("welcome", "reminder")]  # fmt: skip
    counts = ("reached", "queued", "delivered", "failed", "suppressed", "pending", "unknown")
    offer = rows["welcome", "offer"]
    assert [offer[name] for name in counts] == ["4", "4", "1", "2", "1", "0", "0"]
    assert offer["failure reasons"] == (
        "400: Bad Request: chat not found (1); 403: Forbidden: bot was blocked by the user (1)"
    )
    assert offer["suppression reasons"] == "contact blocked the bot (1)"
    reminder = rows["welcome", "reminder"]
    assert (reminder["failure reasons"], reminder["suppressed"]) == ("", "1")  # none: empty
    assert "sent" not in offer


def test_funnels_table_in_the_terminal(env: dict[str, str]) -> None:
    out = ok(report(env, "funnels", *WEEK))
    assert "queued" in out and "sent" not in out
    assert "What became of the steps' queued messages" in out and "delivered" in out
    assert "Why messages were not delivered" in out
    assert "contact opted out of marketing messages" in out


def test_service_table_in_the_terminal(env: dict[str, str]) -> None:
    out = ok(report(env, "service", "--by", "agent", *WEEK, "--zone", ZONE))
    assert "Service by agent" in out and "2026-11-02 .. 2026-11-08" in out
    assert "Alice" in out and "(all)" in out
    assert "2m 30s" in out  # the median first response of all: 150 s


def test_every_report_renders(env: dict[str, str]) -> None:
    for kind in ("drivers", "retention", "funnels", "csat"):
        out = ok(report(env, kind, *WEEK))
        assert "Nothing happened" not in out, kind
    assert "Where is my parcel?" in ok(report(env, "drivers", *WEEK))


def test_an_empty_period_says_so(env: dict[str, str]) -> None:
    out = ok(report(env, "service", "--from", "2020-01-01", "--to", "2020-01-07"))
    assert "Nothing happened in this period" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("funnels", "--by", "agent"), "--by applies to service and csat, not to funnels"),
        (("service", "--since", "30"), "--since: `30` is not a duration"),
        (("service", "--since", "7d", "--from", "2026-11-01"), "not both"),
        (("csat", "--from", "2026-02-30"), "--from: '2026-02-30' is not a date"),
        (("csat", "--zone", "Mars/Base"), "'Mars/Base' is not a time zone"),
        (("retention", "--quiet-for", "soon"), "--quiet-for: `soon` is not a duration"),
    ],
)
def test_bad_options_are_refused_plainly(
    env: dict[str, str],
    args: tuple[str, ...],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():  # in-process through main(): no interpreter per case
        monkeypatch.setenv(name, value)
    assert main(["report", *args]) == 2
    assert message in capsys.readouterr().err
