"""The console in headless Chromium (Debian's /usr/bin/chromium through Playwright).

No sleeping: every wait is one of Playwright's auto-retrying `expect` assertions.
"""

from __future__ import annotations

from typing import Any

from bot.domain.handoff import AgentRole, HandoffStatus
from bot.domain.model import ConversationStatus
from tests.web.console.harness import PASSWORD, Site, needs_browser

try:
    from playwright.async_api import expect
except ImportError:  # skipped by needs_browser
    expect = None  # type: ignore[assignment]

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

pytestmark = needs_browser


async def log_in(page: Any, site: Site, key: str, password: str = PASSWORD) -> None:
    await page.goto(site.console + "/")
    await page.get_by_label("Agent name").fill(key)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def test_take_reply_note_close(site: Site, page: Any) -> None:
    handoff = await site.customer_asks(EVIL, text="My parcel <b>never</b> came")
    await site.agent("alice", name="Alice")  # after the request: the chat waits in the queue
    await log_in(page, site, "alice")

    queue = page.get_by_role("list", name="Queue")
    row = queue.locator(".chat-row")
    await expect(row).to_have_count(1)
    await expect(row.locator(".name")).to_have_text(EVIL)  # shown as text, never run
    await row.locator(".chat-link").click()
    await expect(page.get_by_role("heading", name=EVIL)).to_be_visible()
    history = page.get_by_role("log", name="History")
    await expect(history.locator(".item-in .text")).to_have_text(["My parcel <b>never</b> came"])

    await page.locator("#chat-head").get_by_role("button", name="Take").click()
    await expect(page.locator("#flash")).to_have_text("You took this chat.")
    mine = page.get_by_role("list", name="My chats")
    await expect(mine.locator(".chat-row")).to_have_count(1)
    await expect(queue.locator(".chat-row")).to_have_count(0)

    reply = page.get_by_role("textbox", name="Reply to the customer")
    await reply.fill("Hello! Let me check")
    await reply.press("Shift+Enter")  # a new line, not a send
    await reply.type("your parcel <now>.")
    await expect(reply).to_have_value("Hello! Let me check\nyour parcel <now>.")
    await reply.press("Enter")
    await expect(page.locator("#flash")).to_have_text("Sent.")
    await expect(reply).to_have_value("")
    await expect(history.locator(".item-out .text").last).to_have_text(
        "Hello! Let me check\nyour parcel <now>."
    )
    await expect(history.locator(".item-out .who").last).to_have_text("Alice")
    texts = await site.outbox_texts()
    assert "Hello! Let me check\nyour parcel &lt;now&gt;." in texts

    note = page.get_by_role("textbox", name="Internal note")
    await note.fill("VIP, be nice")
    await note.press("Enter")
    await expect(page.locator("#flash")).to_have_text("Note saved (the customer does not see it).")
    await expect(history.locator(".item-note .text")).to_have_text(["VIP, be nice"])
    assert await site.outbox_texts() == texts  # nothing went to the customer

    await page.locator("#chat-head").get_by_role("button", name="Close").click()
    await expect(page.locator("#chat-head .status")).to_have_text("closed")
    await expect(reply).to_have_count(0)
    await expect(mine.locator(".chat-row")).to_have_count(0)
    assert (await site.handoff(handoff.id)).status is HandoffStatus.CLOSED
    conversation = await site.conversation(handoff.conversation_id)
    assert conversation.status is ConversationStatus.CLOSED
    assert await page.evaluate("window.__pwned") is None


async def test_new_chats_and_messages_arrive_without_reloading(site: Site, page: Any) -> None:
    await site.agent("alice", max_chats=1)
    first = await site.customer_asks("Fiona")  # offered to alice: she is free
    await log_in(page, site, "alice")
    mine = page.get_by_role("list", name="My chats")
    queue = page.get_by_role("list", name="Queue")
    await expect(mine.locator(".name")).to_have_text(["Fiona"])
    await expect(mine.locator(".chat-row")).to_contain_text("offered")
    await mine.get_by_role("button", name="Take").click()
    await expect(page.locator("#flash")).to_have_text("You took this chat.")
    await mine.locator(".chat-link").click()
    history = page.get_by_role("log", name="History")
    await expect(history.locator(".item-in")).to_have_count(1)
    await page.evaluate("window.__stillHere = 'same page'")

    await site.customer_writes(first, "Are you there?")
    await expect(history.locator(".item-in .text").last).to_have_text("Are you there?")
    await site.customer_asks("Gus")  # alice is full: Gus waits in the queue
    await expect(queue.locator(".name")).to_have_text(["Gus"])
    await expect(page.locator("#queue .count")).to_have_text("1")
    assert await page.evaluate("window.__stillHere") == "same page"  # never reloaded


async def test_a_wrong_password_is_refused(site: Site, page: Any) -> None:
    await site.agent("alice")
    await log_in(page, site, "alice", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong agent name or password.")
    await expect(page.get_by_label("Agent name")).to_have_value("alice")
    await page.goto(site.console + "/")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


async def test_a_supervisor_approves_a_trainees_edited_reply(site: Site, page: Any) -> None:
    await site.agent("tina", trainee=True, name="Tina")
    await site.agent("boss", role=AgentRole.SUPERVISOR, name="Boss")
    handoff = await site.customer_asks("Hugo")
    await log_in(page, site, "tina")
    await page.goto(f"{site.console}/chats/{handoff.id}")
    reply = page.get_by_role("textbox", name="Reply to the customer")
    await reply.fill("We refund you tomorow")
    await reply.press("Enter")
    await expect(page.locator("#flash")).to_have_text(
        "Your reply waits for a supervisor's approval."
    )
    assert "We refund you tomorow" not in await site.outbox_texts()

    boss = await page.context.browser.new_page()  # a second context: its own cookies
    errors: list[str] = []
    boss.on("pageerror", lambda error: errors.append(str(error)))
    await log_in(boss, site, "boss")
    await expect(boss.locator(".alerts")).to_contain_text("1 reply to approve")
    await boss.locator(".alerts a").click()
    held = boss.get_by_role("textbox", name="Reply by Tina")
    await expect(held).to_have_value("We refund you tomorow")
    await held.fill("We refund you tomorrow")
    await boss.get_by_role("button", name="Approve").click()
    await expect(boss.get_by_text("Nothing to approve.")).to_be_visible()
    assert "We refund you tomorrow" in await site.outbox_texts()
    assert "We refund you tomorow" not in await site.outbox_texts()
    # The trainee sees it go out in the conversation, live.
    history = page.get_by_role("log", name="History")
    await expect(history.locator(".item-out .text").last).to_have_text("We refund you tomorrow")
    assert errors == []
