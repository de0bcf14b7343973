"""The conversation service on real storage: commands, replies, opt-out, quiet while a human
holds the chat, and linking a web chat visitor to Telegram."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.service import ConversationService
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.inbound import InboundEvent, InboundKind, Sender
from bot.domain.model import Channel, ConversationStatus, OutboxStatus
from bot.rendering import Renderer
from bot.storage.uow import Storage

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def service(clock: FakeClock) -> ConversationService:
    outbox = Outbox({Channel.TELEGRAM: 4096, Channel.WEBCHAT: 4000})
    return ConversationService(Renderer(TEMPLATES, "en"), outbox, clock)


def tg_sender(user_id: int = 7, name: str = "Ann", lang: str | None = "en") -> Sender:
    return Sender(Channel.TELEGRAM, str(user_id), str(user_id), name, None, lang)


_counter = iter(range(1, 10_000))


def event(sender: Sender, text: str) -> InboundEvent:
    key = f"{sender.channel}:{next(_counter)}"
    if text.startswith("/"):
        head, _, args = text.partition(" ")
        return InboundEvent(key, sender, InboundKind.COMMAND, text, head[1:], args)
    return InboundEvent(key, sender, InboundKind.TEXT, text)


async def handle(storage: Storage, clock: FakeClock, ev: InboundEvent) -> list[str]:
    async with storage.uow() as uow:
        result = await service(clock).handle(uow, ev)
        await uow.commit()
    async with storage.uow() as uow:
        rows = await uow.outbox.claim_due(clock.now(), 100)
        await uow.commit()
    assert result.replies == len(rows)
    return [row.text for row in rows]


async def test_start_help_and_fallback_in_the_contact_language(storage, clock) -> None:
    ko = tg_sender(lang="ko-KR", name="민수")
    [greeting] = await handle(storage, clock, event(ko, "/start"))
    assert greeting.startswith("안녕하세요, 민수님")
    [fallback] = await handle(storage, clock, event(ko, "배송은 언제 되나요?"))
    assert "메시지 감사합니다" in fallback


async def test_unknown_language_falls_back_to_default(storage, clock) -> None:
    [reply] = await handle(storage, clock, event(tg_sender(lang="de"), "/help"))
    assert reply.startswith("<b>What I can do</b>")


async def test_stop_opts_out_suppresses_pending_marketing_and_start_opts_in(storage, clock) -> None:
    ann = tg_sender()
    await handle(storage, clock, event(ann, "hi"))
    [stopped] = await handle(storage, clock, event(ann, "/stop"))
    assert "will not receive offers" in stopped
    async with storage.uow() as uow:
        identity = await uow.identities.find(Channel.TELEGRAM, "7")
        assert identity is not None
        contact = await uow.contacts.get(identity.contact_id)
        assert contact is not None and contact.opted_out
    [back] = await handle(storage, clock, event(ann, "/start"))
    assert back.startswith("Welcome back, Ann!")


async def test_bot_stays_quiet_while_a_person_holds_the_chat(storage, clock) -> None:
    ann = tg_sender()
    await handle(storage, clock, event(ann, "hi"))
    async with storage.uow() as uow:
        identity = await uow.identities.find(Channel.TELEGRAM, "7")
        assert identity is not None
        conversation = await uow.conversations.open_for_contact(identity.contact_id)
        assert conversation is not None
        await uow.conversations.set_status(
            conversation.id, ConversationStatus.WITH_AGENT, clock.now()
        )
        await uow.commit()

    assert await handle(storage, clock, event(ann, "hello? anyone?")) == []
    assert len(await handle(storage, clock, event(ann, "/help"))) == 1  # commands still work
    async with storage.uow() as uow:
        history = await uow.messages.history(identity.contact_id)
    assert "hello? anyone?" in [m.text for m in history]


async def test_blocked_event_suppresses_everything_pending(storage, clock) -> None:
    ann = tg_sender()
    await handle(storage, clock, event(ann, "hi"))  # its reply is claimed (in flight) by handle()
    await handle(storage, clock, event(ann, "second"))
    async with storage.uow() as uow:
        assert (await uow.outbox.count_by_status())[OutboxStatus.SENDING] == 2
    async with storage.uow() as uow:
        other = await service(clock).handle(uow, event(ann, "third"))
        await uow.commit()
    assert other.replies == 1
    blocked = InboundEvent("telegram:blocked", ann, InboundKind.BLOCKED)
    async with storage.uow() as uow:
        await service(clock).handle(uow, blocked)
        await uow.commit()
    async with storage.uow() as uow:
        counts = await uow.outbox.count_by_status()
    assert counts[OutboxStatus.SUPPRESSED] == 1
    assert counts[OutboxStatus.PENDING] == 0


async def test_web_visitor_continues_in_telegram_and_history_follows(storage, clock) -> None:
    web = Sender(Channel.WEBCHAT, "visitor-token", "visitor-token", "Web visitor")
    await handle(storage, clock, event(web, "Do you ship to Chisinau?"))
    async with storage.uow() as uow:
        await uow.settings.put("link:CODE123", "visitor-token")
        await uow.commit()

    ann = tg_sender(name="Ann")
    [linked] = await handle(storage, clock, event(ann, "/start w_CODE123"))
    assert "now connected here, Ann" in linked

    async with storage.uow() as uow:
        tg = await uow.identities.find(Channel.TELEGRAM, "7")
        web_identity = await uow.identities.find(Channel.WEBCHAT, "visitor-token")
        assert tg is not None and web_identity is not None
        assert tg.contact_id == web_identity.contact_id
        history = [m.text for m in await uow.messages.history(tg.contact_id)]
        contact = await uow.contacts.get(tg.contact_id)
    assert history[0] == "Do you ship to Chisinau?"
    assert contact is not None and contact.display_name == "Ann"

    [expired] = await handle(storage, clock, event(tg_sender(8, "Bo"), "/start w_CODE123"))
    assert "expired" in expired
