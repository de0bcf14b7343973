"""Knowledge-base self-service end to end, through Telegram (real aiogram, fake Bot API)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.process import Nudge
from bot.storage import tables
from tests.e2e.conftest import REPO, TOKEN, Harness, let_time_pass
from tests.e2e.test_telegram import table_rows


@dataclass
class Customer:
    harness: Harness
    app: Nudge
    user: Any
    chat_id: int
    updates: int = 0

    def sent(self) -> list[Any]:
        return self.harness.fake.sent_messages(TOKEN, chat_id=self.chat_id)

    async def says(self, text: str) -> list[str]:
        before = len(self.sent())
        await self.harness.fake.send_text(TOKEN, self.user, text)
        return await self._after(before)

    async def presses(self, label: str) -> list[str]:
        before = len(self.sent())
        for message in reversed(self.sent()):
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        await self.harness.fake.press_button(
                            TOKEN, self.user, message, button["callback_data"]
                        )
                        return await self._after(before)
        raise AssertionError(f"no button {label!r} in {[m.plain_text for m in self.sent()]}")

    async def _after(self, before: int) -> list[str]:
        self.updates += 1
        await self.harness.fake.wait_for_updates_confirmed(TOKEN, self.updates)
        await let_time_pass(self.app, self.harness.clock)
        return [m.plain_text for m in self.sent()[before:]]


async def customer(harness: Harness, language: str = "en", **env: str) -> Customer:
    app = await harness.start(**env)
    user = harness.fake.add_user(user_id=3001, first_name="Kim", language_code=language)
    return Customer(harness, app, user, 3001)


async def conversation_status(app: Nudge) -> str:
    async with app.storage.engine.connect() as conn:
        row = (await conn.execute(sa.select(tables.conversations.c.status))).first()
    assert row is not None
    return str(row[0])


async def test_answer_then_yes_is_recorded(harness: Harness) -> None:
    kim = await customer(harness)
    replies = await kim.says("how much does delivery cost?")
    assert replies[0].startswith("How much does delivery cost")
    assert replies[-1] == "Did this help?"

    assert await kim.presses("Yes") == ["Glad I could help! Ask me anything else any time."]
    [interaction] = await table_rows(kim.app, tables.kb_interactions)
    assert (interaction["decision"], interaction["article_id"]) == ("answered", "delivery-cost")
    assert interaction["helpful"] is True
    assert await conversation_status(kim.app) == "bot"
    assert await kim.presses("Yes") == []  # a second press changes nothing visible


async def test_no_feedback_hands_the_conversation_to_a_person(harness: Harness) -> None:
    kim = await customer(harness, language="ru")
    replies = await kim.says("сколько стоит доставка")
    assert replies[-1] == "Это помогло?"
    sorry, queued = await kim.presses("Нет")
    assert sorry == "Жаль, что это не помогло."
    assert "сотрудник" in queued and "ответит прямо в этом чате" in queued
    assert await conversation_status(kim.app) == "waiting_for_agent"
    [interaction] = await table_rows(kim.app, tables.kb_interactions)
    assert interaction["helpful"] is False


async def test_unknown_questions_offer_a_person_then_hand_off(harness: Harness) -> None:
    kim = await customer(harness)
    [honest] = await kim.says("zxqv plorf wibble")
    assert "rather not guess" in honest and "put it another way" in honest
    assert kim.sent()[-1].reply_markup["inline_keyboard"][0][0]["text"] == "Talk to a person"
    assert await conversation_status(kim.app) == "bot"
    honest, queued = await kim.says("blorp fnord qwzx")  # the second miss in a row
    assert "rather not guess" in honest and "connecting you with a person" in queued
    assert await conversation_status(kim.app) == "waiting_for_agent"
    assert await kim.says("hello???") == []  # already told; a person will answer
    decisions = [r["decision"] for r in await table_rows(kim.app, tables.kb_interactions)]
    assert decisions == ["no_answer", "no_answer", "no_answer"]
    # A question the knowledge base can answer is still answered while the customer waits.
    assert (await kim.says("how much does delivery cost?"))[-1] == "Did this help?"


async def test_close_articles_are_offered_as_choices(harness: Harness, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    for name, title in (("gift-wrap", "Gift wrapping"), ("gift-cards", "Gift cards")):
        (folder / f"{name}.md").write_text(
            f"---\nid: {name}\ntitle: {title}\nlang: en\nquestions:\n  - gift options\n"
            f"  - do you do gifts\n---\nAll about {title.lower()}.\n"
        )
    kim = await customer(
        harness, NUDGE_KNOWLEDGE__FOLDER=str(folder), NUDGE_KNOWLEDGE__ANSWER_MARGIN="0.05"
    )
    [offer] = await kim.says("gift options")
    assert offer == "I found a few articles that might match. Which one did you mean?"
    labels = [row[0]["text"] for row in kim.sent()[-1].reply_markup["inline_keyboard"]]
    assert sorted(labels) == ["Gift cards", "Gift wrapping"]
    replies = await kim.presses("Gift cards")
    assert replies[0] == "Gift cards\n\nAll about gift cards."
    assert replies[-1] == "Did this help?"


async def test_articles_reload_without_a_restart(harness: Harness, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(REPO / "knowledge_base" / "en", folder / "en")
    kim = await customer(harness, NUDGE_KNOWLEDGE__FOLDER=str(folder))
    [honest] = await kim.says("do you sell matcha whisks")
    assert "rather not guess" in honest

    (folder / "en" / "matcha.md").write_text(
        "---\nid: matcha-whisk\ntitle: Matcha whisks\nlang: en\nquestions:\n"
        "  - do you sell matcha whisks\n  - bamboo whisk for matcha\n---\n"
        "Yes: the **bamboo chasen** is in the tea section.\n"
    )
    assert kim.app.kb_watcher is not None
    change = await kim.app.kb_watcher.scan()
    assert change.upserted_ids == ("matcha-whisk",)
    replies = await kim.says("do you sell matcha whisks?")
    assert replies[0] == "Matcha whisks\n\nYes: the bamboo chasen is in the tea section."


async def test_with_embeddings_the_bot_answers_and_still_knows_when_it_does_not(
    harness: Harness,
) -> None:
    """`knowledge.embeddings: wordllama` through the whole app: the model is loaded from its
    package at start, questions are answered from the demo KB with the embedding ranking's
    own thresholds, and nonsense still gets the honest reply."""
    kim = await customer(harness, NUDGE_KNOWLEDGE__EMBEDDINGS="wordllama")
    assert kim.app.knowledge is not None and kim.app.knowledge.ranking == "words + wordllama"
    replies = await kim.says("what does shipping cost me?")
    assert replies[0].startswith("How much does delivery cost")
    assert replies[-1] == "Did this help?"
    [honest] = await kim.says("zxqv plorf wibble")
    assert "rather not guess" in honest
    decisions = [r["decision"] for r in await table_rows(kim.app, tables.kb_interactions)]
    assert decisions == ["answered", "no_answer"]
