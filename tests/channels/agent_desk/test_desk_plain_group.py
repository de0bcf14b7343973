"""The desk in a group without topics: posts name their hand-off, agents reply to them."""

from __future__ import annotations

from bot.domain.handoff import EventKind, HandoffStatus
from bot.domain.model import OutboundKind

from .conftest import ALICE, BOB, DESK_TOKEN, Desk


async def test_posts_name_the_hand_off_and_replies_reach_the_customer(plain: Desk) -> None:
    await plain.world.say("operator", name="Ann")
    await plain.pump()
    handoff = await plain.world.handoff_of()
    assert handoff.desk_thread_id is None and plain.fake.calls("createForumTopic") == []
    summary = plain.with_button(f"d:take:{handoff.id}")
    assert summary.plain_text.startswith(f"#{handoff.id} 🔵 Ann · telegram\n")
    await plain.world.say("are you there?", name="Ann")
    await plain.pump()
    mirrored = plain.posts()[-1]
    assert mirrored.plain_text == f"#{handoff.id} 🔵 Ann · telegram\n👤 Ann: are you there?"

    await plain.write(ALICE, "Yes, I am here", reply_to=mirrored)
    await plain.write(BOB, "lunch anyone?")  # not a reply: agents talking, nothing happens
    assert await plain.updates() == 2
    rows = [r for r in await plain.world.drain() if r.kind is OutboundKind.AGENT]
    assert [r.text for r in rows] == ["Yes, I am here"]
    assert (await plain.world.handoff_of()).status is HandoffStatus.ACTIVE
    assert plain.posts()[-1].plain_text.startswith(f"#{handoff.id} 🟢 Ann · telegram\n🟢 Alice")
    assert plain.fake.calls("editForumTopic", DESK_TOKEN) == []


async def test_commands_need_a_reply_and_notes_stay_internal(plain: Desk) -> None:
    await plain.world.say("operator", name="Ann")
    await plain.pump()
    handoff = await plain.world.handoff_of()
    summary = plain.with_button(f"d:take:{handoff.id}")
    await plain.write(ALICE, "/take")
    await plain.updates()
    assert plain.posts()[-1].plain_text.startswith("Use this in a chat's topic, or as a reply")
    await plain.write(ALICE, "/note call back at 5", reply_to=summary)
    await plain.write(ALICE, "/close", reply_to=summary)
    await plain.updates()
    assert [r for r in await plain.world.drain() if "call back" in r.text] == []
    kinds = [e.kind for e in await plain.world.events()]
    assert EventKind.NOTE in kinds and kinds[-1] is EventKind.CLOSED
    assert (await plain.world.handoff_of()).status is HandoffStatus.CLOSED
