"""The funnel engine on a virtual clock: every step kind, exits, quiet hours across a time-zone
boundary, the frequency cap, max_delay, edits of a running funnel, A/B splits."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.funnel import EnrollmentStatus
from bot.funnel.context import ContactView
from bot.funnel.engine import FunnelEngine, Reply, choose_variant, new_enrollment
from bot.funnel.loader import load_funnel_text
from bot.funnel.model import FrequencyCap, Funnel, SplitStep
from bot.funnel.simulate import Input, SimulatedPorts, simulate
from bot.rendering import Renderer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CART_FUNNEL = (Path(__file__).resolve().parents[2] / "funnels" / "abandoned_cart.yaml").read_text()
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # Monday 10:00 in Chisinau (UTC+2)


def funnel(body: str) -> Funnel:
    loaded = load_funnel_text(textwrap.dedent(body), "test.yaml")
    assert loaded.funnel is not None, [str(p) for p in loaded.problems]
    return loaded.funnel


def ports(**contact: object) -> SimulatedPorts:
    fields: dict = {"id": 7, "display_name": "Ann", "language": "en", "timezone": "UTC"}
    fields.update(contact)
    cap = fields.pop("cap", None)
    view = ContactView(**fields)
    return SimulatedPorts(Renderer(TEMPLATES, "en"), view, "UTC", "en", cap)  # type: ignore[arg-type]


def texts(sim: SimulatedPorts) -> list[str]:
    return [f"{line.step_id}: {line.text}" for line in sim.lines]


SENDS = """
id: t
trigger: {event: go}
steps:
  - id: hello
    send: funnel_welcome_hello
  - id: later
    wait: 2h
  - id: offer
    send: funnel_welcome_guide
"""


async def run(body: str, events: str = "go@0", **contact: object) -> SimulatedPorts:
    sim = ports(**contact)
    view = sim.contact
    await simulate(funnel(body), view, Input.parse_list(events), sim, START, {})
    return sim


async def test_sends_wait_and_complete() -> None:
    sim = await run(SENDS)
    sends = [(line.step_id, line.at - START) for line in sim.lines if line.text.startswith("send")]
    assert sends == [("hello", timedelta(0)), ("offer", timedelta(hours=2))]
    assert texts(sim)[-1] == "None: completed: finished"  # past the last step


async def test_a_goal_event_exits_before_the_next_message() -> None:
    body = SENDS + "exit_when: [{event: order_paid}]\n"
    sim = await run(body, "go@0,order_paid@1h")
    assert [line.step_id for line in sim.lines if line.text.startswith("send")] == ["hello"]
    assert "exited: event order_paid" in texts(sim)[-1]


async def test_a_reply_exits_when_the_funnel_says_so() -> None:
    sim = await run(SENDS + "exit_when: [replied]\n", "go@0,reply:thanks@30m")
    assert texts(sim)[-1].endswith("exited: replied")


async def test_an_opted_out_contact_gets_no_marketing_but_service_messages() -> None:
    sim = await run(SENDS, opted_out=True)
    assert texts(sim)[-1] == "hello: exited: opted out of marketing messages"
    sim = await run(SENDS + "marketing: false\n", opted_out=True)
    assert len([line for line in sim.lines if line.text.startswith("send")]) == 2


async def test_quiet_hours_in_the_contacts_time_zone_across_midnight() -> None:
    body = SENDS + 'quiet_hours: {from: "21:00", to: "09:00"}\n'
    # 19:30 UTC is 21:30 in Chisinau: quiet there, though not in UTC.
    start = datetime(2026, 1, 5, 19, 30, tzinfo=UTC)
    sim = ports(timezone="Europe/Chisinau")
    await simulate(funnel(body), sim.contact, Input.parse_list("go@0"), sim, start, {})
    first = next(line for line in sim.lines if line.text.startswith("send"))
    assert first.at == datetime(2026, 1, 6, 7, 0, tzinfo=UTC)  # 09:00 the next morning, local
    assert "delayed (quiet hours) until Tue 2026-01-06 09:00" in texts(sim)[1]


async def test_the_frequency_cap_holds_the_second_message() -> None:
    cap = FrequencyCap(1, timedelta(days=1))
    sim = await run(SENDS, cap=cap)
    sends = [line.at - START for line in sim.lines if line.text.startswith("send")]
    assert sends == [timedelta(0), timedelta(days=1)]
    assert any("frequency cap" in line.text for line in sim.lines)


WAIT_FOR_REPLY = """
id: booking
trigger: {event: go}
steps:
  - id: ask
    send: funnel_stalled_tuesday
  - id: answer
    wait_for_reply: 1d
    on_timeout: cold
    answers: {yes: booked, no: bye, date: other_day}
  - id: booked
    tag: booked
    next: done
  - id: other_day
    set: {day: "{{ reply.text }}"}
    next: done
  - id: bye
    tag: declined
    next: done
  - id: cold
    tag: cold
  - id: done
    end: true
"""


@pytest.mark.parametrize(
    ("reply", "tag"),
    [("Yes please", "booked"), ("да", "booked"), ("nu", "declined"), ("아니요", "declined")],
)
async def test_wait_for_reply_branches_in_every_language(reply: str, tag: str) -> None:
    sim = await run(WAIT_FOR_REPLY, f"go@0,reply:{reply}@1h")
    assert sim.tags == {tag}


async def test_a_date_answer_is_stored_and_a_timeout_takes_its_branch() -> None:
    sim = await run(WAIT_FOR_REPLY, "go@0,reply:next Thursday@1h")
    assert "other_day: set day" in texts(sim)
    sim = await run(WAIT_FOR_REPLY)
    assert sim.tags == {"cold"}
    assert any(line.text == "no reply in time" and line.at == START + timedelta(days=1)
               for line in sim.lines)  # fmt: skip


async def test_if_tag_untag_set_goto_and_coupon() -> None:
    body = """
    id: t
    trigger: {event: go}
    variables: {limit: 50}
    steps:
      - id: check
        if: event.total >= vars.limit
        then: rich
        else: poor
      - id: rich
        coupon: big
        next: show
      - id: poor
        untag: vip
        next: end
      - id: show
        set: {label: "{{ coupon.code }}"}
      - id: again
        coupon: big
      - id: mark
        tag: [has_code]
      - id: end
        end: true
    """
    sim = ports(tags=("vip",))
    sim.tags.add("vip")
    enrollment = new_enrollment(funnel(body), 7, {"total": 80}, START)
    engine = FunnelEngine(sim)
    done = await engine.run(funnel(body), enrollment, START)
    assert done.status is EnrollmentStatus.COMPLETED
    assert done.variables["vars"]["label"] == "BIG-SIM001"
    assert sim.coupons == 1  # the same code on the second pass
    assert sim.tags == {"vip", "has_code"}
    poor = await engine.run(
        funnel(body), new_enrollment(funnel(body), 7, {"total": 5}, START), START
    )
    assert poor.end_reason == "end at end" and "vip" not in sim.tags


async def test_a_loop_without_a_wait_fails_instead_of_spinning() -> None:
    body = "id: t\ntrigger: {event: go}\nsteps:\n  - id: a\n    goto: b\n  - id: b\n    goto: a\n"
    loaded = load_funnel_text(body, "loop.yaml")
    assert loaded.funnel is not None  # the linter refuses it; the engine must still be safe
    engine = FunnelEngine(ports())
    enrollment = new_enrollment(loaded.funnel, 7, {}, START)
    done = await engine.run(loaded.funnel, enrollment, START)
    assert done.status is EnrollmentStatus.FAILED and "without a wait" in (done.end_reason or "")


async def test_a_step_later_than_max_delay_expires_and_the_contact_moves_on() -> None:
    f = funnel(SENDS + "max_delay: 1h\n")
    sim = ports()
    engine = FunnelEngine(sim)
    enrollment = await engine.run(f, new_enrollment(f, 7, {}, START), START)
    assert enrollment.step_id == "offer" and enrollment.due_at == START + timedelta(hours=2)
    # Nudge was down from 1h to 5h: the offer fell due at 2h and it is now 3h late.
    after = await engine.on_due(f, enrollment, START + timedelta(hours=5))
    assert after.status is EnrollmentStatus.COMPLETED
    assert any(line.text.startswith("expired: 3h late") for line in sim.lines)
    # Within max_delay it is still sent.
    sim = ports()
    engine = FunnelEngine(sim)
    enrollment = await engine.run(f, new_enrollment(f, 7, {}, START), START)
    await engine.on_due(f, enrollment, START + timedelta(hours=2, minutes=59))
    assert [line.step_id for line in sim.lines if line.text.startswith("send")] == [
        "hello", "offer"
    ]  # fmt: skip


async def test_an_edit_that_removes_the_current_step_continues_where_it_led() -> None:
    old = funnel(SENDS + "  - id: last\n    send: funnel_welcome_hello\n")
    sim = ports()
    engine = FunnelEngine(sim)
    enrollment = await engine.run(old, new_enrollment(old, 7, {}, START), START)
    assert enrollment.step_id == "offer"
    edited = funnel(SENDS.replace("  - id: offer\n    send: funnel_welcome_guide\n", "")
                    + "  - id: last\n    send: funnel_welcome_hello\n")  # fmt: skip
    done = await engine.on_due(edited, enrollment, START + timedelta(hours=2))
    assert any("step offer was removed from the funnel: skipped" in line.text for line in sim.lines)
    assert [line.step_id for line in sim.lines if line.text.startswith("send")][-1] == "last"
    assert done.status is EnrollmentStatus.COMPLETED


def test_ab_split_is_deterministic_sticky_and_weighted() -> None:
    f = funnel("""
    id: ab
    trigger: {event: go}
    steps:
      - id: pick
        split:
          - {name: a, weight: 80, goto: x}
          - {name: b, weight: 20, goto: y}
      - id: x
        end: true
      - id: y
        end: true
    """)
    step = f.steps[0]
    assert isinstance(step, SplitStep)
    picks = [
        choose_variant(f.id, step, new_enrollment(f, cid, {}, START)).name for cid in range(2000)
    ]
    assert 0.75 < picks.count("a") / len(picks) < 0.85
    again = [
        choose_variant(f.id, step, new_enrollment(f, cid, {}, START)).name for cid in range(2000)
    ]
    assert again == picks
    sticky = new_enrollment(f, 1, {}, START)
    sticky.variant = "b"
    assert choose_variant(f.id, step, sticky).name == "b"


async def test_a_reply_button_and_snooze() -> None:
    body = SENDS.replace("  - id: later\n    wait: 2h\n", "  - id: later\n    wait: 2h\n")
    sim = await run(body, "go@0,button:not_now@1h")
    assert not any("snoozed" in line.text for line in sim.lines)  # no snooze button in SENDS
    cart = CART_FUNNEL
    sim = ports()
    data = {"cart_abandoned": {"cart": {"total": 80, "currency": "EUR", "url": "https://x/c",
                                        "items": [{"name": "Tea"}]}}}  # fmt: skip
    await simulate(funnel(cart), sim.contact, Input.parse_list(
        "cart_abandoned@0,button:not_now@2h"), sim, START, data)  # fmt: skip
    snoozed = next(line for line in sim.lines if "snoozed" in line.text)
    assert snoozed.at == START + timedelta(hours=2)
    pause_due = START + timedelta(hours=1) + timedelta(days=1)
    assert any(line.step_id == "big_cart" and line.at == pause_due + timedelta(days=1)
               for line in sim.lines)  # fmt: skip


async def test_on_reply_is_ignored_when_not_waiting() -> None:
    f = funnel(SENDS)
    engine = FunnelEngine(ports())
    enrollment = await engine.run(f, new_enrollment(f, 7, {}, START), START)
    same = await engine.on_reply(f, enrollment, Reply("hi"), START)
    assert same.status is EnrollmentStatus.RUNNING and same.step_id == "offer"
