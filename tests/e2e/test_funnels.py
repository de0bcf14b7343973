"""Funnels end to end: the shop posts a signed event to the Events API, the funnel sends its
question through Telegram (real aiogram, fake Bot API), the customer presses a reply button, the
funnel branches, and a goal event ends it. Time moves on a fake clock."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import aiohttp

from bot.events.signing import signed_headers
from bot.process import Nudge
from tests.e2e.conftest import TOKEN, Harness, let_time_pass

SECRET = "a-shared-secret-for-tests"
KIM = 3001
FUNNEL = """
id: booking
trigger: {event: visit_requested}
exit_when: [{event: order_paid}]
steps:
  - id: ask
    send: funnel_stalled_tuesday
    buttons:
      - {text: {en: "Yes"}, reply: "yes"}
      - {text: {en: "No"}, reply: "no"}
  - id: answer
    wait_for_reply: 1d
    answers: {yes: booked, no: bye}
  - id: booked
    set: {booked_day: Tuesday}
  - id: confirm
    send: funnel_stalled_booked
    next: wait_more
  - id: bye
    send: funnel_stalled_goodbye
    next: done
  - id: wait_more
    wait: 2d
  - id: follow_up
    send: funnel_stalled_goodbye
  - id: done
    end: true
"""


async def start(harness: Harness, tmp_path: Path) -> Nudge:
    folder = tmp_path / "funnels"
    folder.mkdir()
    (folder / "booking.yaml").write_text(textwrap.dedent(FUNNEL))
    return await harness.start(NUDGE_FUNNELS__FOLDER=str(folder), NUDGE_EVENTS_SECRET=SECRET)


async def post_event(harness: Harness, app: Nudge, key: str, kind: str) -> dict[str, Any]:
    body = json.dumps(
        {"id": key, "type": kind, "contact": {"telegram_user_id": KIM}, "data": {}}
    ).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(signed_headers(SECRET, body, harness.clock.now()))
    url = f"{app.base_url}/api/v1/events"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        assert response.status in (200, 202), await response.text()
        answer: dict[str, Any] = await response.json()
    await let_time_pass(app, harness.clock)
    return answer


def to_kim(harness: Harness) -> list[Any]:
    return harness.fake.sent_messages(TOKEN, chat_id=KIM)


async def test_a_shop_event_starts_a_funnel_a_button_branches_a_goal_ends_it(
    harness: Harness, tmp_path: Path
) -> None:
    app = await start(harness, tmp_path)
    kim = harness.fake.add_user(user_id=KIM, first_name="Kim", language_code="en")
    await harness.fake.send_text(TOKEN, kim, "/start")
    await harness.fake.wait_for_updates_confirmed(TOKEN, 1)
    await let_time_pass(app, harness.clock)
    before = len(to_kim(harness))

    await post_event(harness, app, "evt-1", "visit_requested")
    again = await post_event(harness, app, "evt-1", "visit_requested")  # a replayed id
    assert again.get("duplicate") is True
    [question] = to_kim(harness)[before:]
    assert question.plain_text == "Kim, shall I book you for Tuesday?"
    buttons = question.reply_markup["inline_keyboard"]
    assert [row[0]["text"] for row in buttons] == ["Yes", "No"]

    await harness.fake.press_button(TOKEN, kim, question, buttons[0][0]["callback_data"])
    await harness.fake.wait_for_updates_confirmed(TOKEN, 2)
    await let_time_pass(app, harness.clock)
    texts = [m.plain_text for m in to_kim(harness)[before + 1 :]]
    assert texts == [
        "Done, Kim: I asked the team to book you for Tuesday. They will confirm the time here."
    ]  # and the bot did not answer the button as a question

    await post_event(harness, app, "evt-2", "order_paid")  # the goal: the follow-up never goes
    harness.clock.advance(3 * 24 * 3600)
    await let_time_pass(app, harness.clock)
    assert len(to_kim(harness)) == before + 2


async def test_without_the_goal_the_follow_up_goes_out_after_the_wait(
    harness: Harness, tmp_path: Path
) -> None:
    app = await start(harness, tmp_path)
    kim = harness.fake.add_user(user_id=KIM, first_name="Kim", language_code="en")
    await harness.fake.send_text(TOKEN, kim, "hello")
    await harness.fake.wait_for_updates_confirmed(TOKEN, 1)
    await let_time_pass(app, harness.clock)
    await post_event(harness, app, "evt-1", "visit_requested")
    await harness.fake.send_text(TOKEN, kim, "yes please")  # typed, not pressed
    await harness.fake.wait_for_updates_confirmed(TOKEN, 2)
    await let_time_pass(app, harness.clock)
    assert to_kim(harness)[-1].plain_text.startswith("Done, Kim")
    harness.clock.advance(2 * 24 * 3600)
    await let_time_pass(app, harness.clock)
    assert to_kim(harness)[-1].plain_text == "No problem, Kim. Write here whenever you need us."
