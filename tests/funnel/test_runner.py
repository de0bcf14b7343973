"""The funnel runner and hooks on real storage (SQLite and PostgreSQL): enrolling, due steps in
batches, exits, re-entry, restarts and crashes in the middle, and a person holding the chat."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.funnel import EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogKind
from bot.domain.model import Channel, ConversationStatus, OutboundKind
from bot.funnel.db_ports import FunnelRules
from bot.funnel.hooks import FunnelHooks
from bot.funnel.library import FunnelLibrary
from bot.funnel.model import FrequencyCap
from bot.funnel.runner import LEASE, FunnelRunner
from bot.rendering import Renderer
from bot.storage.uow import Storage

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

CHAIN = """
id: chain
trigger: {event: signed_up}
reentry: once
exit_when: [replied, {event: order_paid}, opted_out]
steps:
  - id: hello
    send: funnel_welcome_hello
  - id: pause
    wait: 1d
  - id: guide
    send: funnel_welcome_guide
"""


class Shop:
    """A funnels folder, the runner and the hooks over one storage, on a fake clock."""

    def __init__(self, storage: Storage, clock: FakeClock, folder: Path, **rules: object) -> None:
        self.storage, self.clock, self.folder = storage, clock, folder
        renderer = Renderer(TEMPLATES, "en")
        self.library = FunnelLibrary(folder, renderer)
        self.library.refresh()
        cap = rules.get("cap")
        self.runner = FunnelRunner(
            storage.uow,
            self.library.current,
            renderer,
            Outbox({Channel.TELEGRAM: int(rules.get("text_limit", 4096))}),  # type: ignore[call-overload]
            FunnelRules("UTC", "en", cap if isinstance(cap, FrequencyCap) else None),
            clock,
            batch_size=int(rules.get("batch", 100)),  # type: ignore[call-overload]
        )
        self.hooks = FunnelHooks(self.runner, self.library.current)

    async def contact(self, user: int = 7, name: str = "Ann") -> int:
        async with self.storage.uow() as uow:
            contact = await uow.contacts.create(name, "en")
            await uow.identities.add(contact.id, Channel.TELEGRAM, str(user), str(user), None)
            await uow.commit()
        return contact.id

    async def event(self, contact_id: int, name: str, **data: object) -> int:
        async with self.storage.uow() as uow:
            started = await self.hooks.on_event(uow, contact_id, name, data, self.clock.now())
            await uow.commit()
        return started

    async def sent(self) -> list[str]:
        async with self.storage.uow() as uow:
            rows = await uow.outbox.claim_due(self.clock.now(), 10_000)
            await uow.commit()
        assert all(r.kind is OutboundKind.FUNNEL for r in rows)
        return [r.text.split(",")[0].split("!")[0] for r in rows]

    async def enrollment(self, contact_id: int, funnel: str = "chain"):  # type: ignore[no-untyped-def]
        async with self.storage.uow() as uow:
            return await uow.enrollments.last_for(contact_id, funnel)

    async def log(self, enrollment_id: int) -> list[FunnelLogKind]:
        async with self.storage.uow() as uow:
            return [e.kind for e in await uow.funnel_log.for_enrollment(enrollment_id)]


@pytest.fixture
def shop(storage: Storage, clock: FakeClock, tmp_path: Path) -> Shop:
    (tmp_path / "chain.yaml").write_text(textwrap.dedent(CHAIN))
    return Shop(storage, clock, tmp_path)


async def test_an_event_enrolls_and_steps_go_out_when_due(shop: Shop) -> None:
    ann = await shop.contact()
    assert await shop.event(ann, "signed_up") == 1
    assert (await shop.runner.tick()).saved == 1
    assert await shop.sent() == ["Welcome"]
    assert (await shop.runner.tick()).claimed == 0  # waits a day
    shop.clock.advance(timedelta(days=1))
    assert (await shop.runner.tick()).saved == 1
    assert await shop.sent() == ["Ann"]
    enrollment = await shop.enrollment(ann)
    assert enrollment.status is EnrollmentStatus.COMPLETED
    kinds = await shop.log(enrollment.id)
    assert kinds == [FunnelLogKind.ENTERED, FunnelLogKind.SENT, FunnelLogKind.SENT,
                     FunnelLogKind.COMPLETED]  # fmt: skip


async def test_reentry_once_and_a_second_trigger_while_inside(shop: Shop) -> None:
    ann = await shop.contact()
    assert await shop.event(ann, "signed_up") == 1
    assert await shop.event(ann, "signed_up") == 0  # already inside
    await shop.runner.tick()
    shop.clock.advance(timedelta(days=2))
    await shop.runner.tick()
    assert await shop.event(ann, "signed_up") == 0  # once ever


async def test_a_goal_event_and_a_reply_exit(shop: Shop) -> None:
    ann, bob = await shop.contact(1, "Ann"), await shop.contact(2, "Bob")
    await shop.event(ann, "signed_up")
    await shop.event(bob, "signed_up")
    await shop.runner.tick()
    await shop.event(ann, "order_paid")
    async with shop.storage.uow() as uow:
        assert await shop.hooks.on_message(uow, bob, "thanks!", "en", shop.clock.now()) is False
        await uow.commit()
    paid, replied = await shop.enrollment(ann), await shop.enrollment(bob)
    assert paid.status is EnrollmentStatus.EXITED and paid.end_reason == "event order_paid"
    assert FunnelLogKind.GOAL in await shop.log(paid.id)
    assert replied.status is EnrollmentStatus.EXITED and replied.end_reason == "replied"
    shop.clock.advance(timedelta(days=1))
    assert (await shop.runner.tick()).claimed == 0


async def test_opting_out_ends_marketing_funnels(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    async with shop.storage.uow() as uow:
        await shop.hooks.on_opted_out(uow, ann, shop.clock.now())
        await uow.commit()
    assert (await shop.enrollment(ann)).end_reason == "opted_out"
    assert (await shop.runner.tick()).claimed == 0
    assert await shop.sent() == []


async def test_a_restart_in_the_middle_sends_each_step_once(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    await shop.runner.tick()
    shop.clock.advance(timedelta(days=1))
    restarted = Shop(shop.storage, shop.clock, shop.folder)  # a new process, same database
    assert (await restarted.runner.tick()).saved == 1
    assert await shop.sent() == ["Welcome", "Ann"]
    assert (await restarted.runner.tick()).claimed == 0


async def test_a_worker_that_dies_after_claiming_leaves_the_rows_to_the_next(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    async with shop.storage.uow() as uow:  # a worker claims, then dies before saving
        [claimed] = await uow.enrollments.claim_due(shop.clock.now(), 10, shop.clock.now() + LEASE)
        await uow.commit()
    assert (await shop.runner.tick()).claimed == 0  # leased to the dead worker
    shop.clock.advance(LEASE + timedelta(seconds=1))
    assert (await shop.runner.tick()).saved == 1
    assert await shop.sent() == ["Welcome"]
    assert claimed.id == (await shop.enrollment(ann)).id


async def test_a_stale_worker_loses_and_sends_nothing(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    async with shop.storage.uow() as uow:
        [stale] = await uow.enrollments.claim_due(shop.clock.now(), 10, shop.clock.now())
        await uow.commit()
    shop.clock.advance(timedelta(seconds=1))  # its lease is over: the runner claims it again
    assert (await shop.runner.tick()).saved == 1
    async with shop.storage.uow() as uow:  # the stale worker tries to save its old claim
        assert await uow.enrollments.save(stale, stale.version) is False
    assert await shop.sent() == ["Welcome"]


async def test_a_person_holding_the_chat_pauses_the_funnel(shop: Shop) -> None:
    ann = await shop.contact()
    async with shop.storage.uow() as uow:
        conversation = await uow.conversations.create(ann, Channel.TELEGRAM, shop.clock.now())
        await uow.conversations.set_status(
            conversation.id, ConversationStatus.WITH_AGENT, shop.clock.now()
        )
        await uow.commit()
    await shop.event(ann, "signed_up")
    await shop.runner.tick()
    assert await shop.sent() == []
    async with shop.storage.uow() as uow:
        await uow.conversations.set_status(
            conversation.id, ConversationStatus.BOT, shop.clock.now()
        )
        await uow.commit()
    shop.clock.advance(timedelta(minutes=10))
    await shop.runner.tick()
    assert await shop.sent() == ["Welcome"]


async def test_the_frequency_cap_across_funnels(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "chain.yaml").write_text(textwrap.dedent(CHAIN))
    other = textwrap.dedent(CHAIN).replace("id: chain", "id: other").replace("signed_up", "promo")
    (tmp_path / "other.yaml").write_text(other)
    shop = Shop(storage, clock, tmp_path, cap=FrequencyCap(1, timedelta(days=1)))
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    await shop.event(ann, "promo")
    await shop.runner.tick()
    assert len(await shop.sent()) == 1
    clock.advance(timedelta(days=1))
    await shop.runner.tick()
    assert len(await shop.sent()) == 1  # the second funnel's hello; the guide waits again
    other_id = (await shop.enrollment(ann, "other")).id
    async with storage.uow() as uow:
        entries = await uow.funnel_log.for_enrollment(other_id)
    delayed = [e for e in entries if e.kind is FunnelLogKind.DELAYED]
    assert delayed and "frequency cap" in (delayed[0].detail or "")


async def test_an_edit_that_breaks_a_file_keeps_the_previous_version(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    await shop.runner.tick()
    (shop.folder / "chain.yaml").write_text("id: chain\ntrigger: {event: signed_up}\nsteps: [\n")
    assert shop.library.refresh()
    assert shop.library.current().get("chain") is not None
    shop.clock.advance(timedelta(days=1))
    await shop.runner.tick()
    assert await shop.sent() == ["Welcome", "Ann"]


async def test_many_due_at_once_in_batches_without_duplicates(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "chain.yaml").write_text(textwrap.dedent(CHAIN))
    shop = Shop(storage, clock, tmp_path, batch=40)
    contacts = [await shop.contact(1000 + i, f"C{i}") for i in range(120)]
    for contact_id in contacts:
        await shop.event(contact_id, "signed_up")
    reports = await asyncio.gather(shop.runner.tick(), shop.runner.tick())
    while (await shop.runner.tick()).claimed:
        pass
    assert sum(r.claimed for r in reports) <= 80
    async with storage.uow() as uow:
        counts = await uow.outbox.count_by_status()
    assert sum(counts.values()) == 120


TAGGED = """
id: vip_welcome
trigger: {tag_added: vip}
steps:
  - id: hello
    send: funnel_welcome_hello
"""
TAGGER = """
id: tagger
trigger: {api: true}
steps:
  - id: mark
    tag: vip
"""


async def test_the_api_enrolls_and_a_tag_added_by_a_step_starts_another_funnel(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "tagged.yaml").write_text(textwrap.dedent(TAGGED))
    (tmp_path / "tagger.yaml").write_text(textwrap.dedent(TAGGER))
    shop = Shop(storage, clock, tmp_path)
    ann = await shop.contact()
    assert await shop.event(ann, "enroll", funnel="tagger") == 1
    await shop.runner.tick()  # tagger tags vip: vip_welcome starts
    await shop.runner.tick()
    assert await shop.sent() == ["Welcome"]
    assert (await shop.enrollment(ann, "vip_welcome")).status is EnrollmentStatus.COMPLETED
    with pytest.raises(ValueError, match="enroll: no funnel 'nope'"):
        await shop.event(ann, "enroll", funnel="nope")


async def test_goals_and_exits_are_published_to_the_webhooks_once(shop: Shop) -> None:
    published: list[tuple[str, str | None, dict]] = []

    async def publish(uow, type, payload, at, *, key=None):  # type: ignore[no-untyped-def]
        published.append((type, key, payload))
        return 1

    shop.runner.publish = publish
    ann, bob = await shop.contact(1, "Ann"), await shop.contact(2, "Bob")
    await shop.event(ann, "signed_up")
    await shop.event(bob, "signed_up")
    await shop.runner.tick()
    await shop.event(ann, "order_paid")
    shop.clock.advance(timedelta(days=1))
    await shop.runner.tick()
    kinds = sorted((kind, payload["contact_id"]) for kind, _, payload in published)
    assert kinds == [("funnel.completed", bob), ("funnel.goal_reached", ann)]
    assert all(key and key.endswith(str(p["enrollment_id"])) for _, key, p in published)


async def test_a_step_later_than_max_delay_is_logged_expired_with_its_reason(shop: Shop) -> None:
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    await shop.runner.tick()
    shop.clock.advance(timedelta(days=1, hours=7))  # Nudge was down 7 hours past the due time
    await shop.runner.tick()
    assert await shop.sent() == ["Welcome"]
    enrollment_id = (await shop.enrollment(ann)).id
    async with shop.storage.uow() as uow:
        entries = await uow.funnel_log.for_enrollment(enrollment_id)
    [expired] = [e for e in entries if e.kind is FunnelLogKind.EXPIRED]
    assert expired.step_id == "guide" and "7h late, more than max_delay 6h" in (
        expired.detail or ""
    )


EXITS = """
id: exits
trigger: {event: go}
reentry: {once_per: 7d}
exit_when: [{button: stop_it}, handed_off]
steps:
  - id: ask
    send: funnel_welcome_hello
    buttons:
      - {text: {en: Stop}, reply: stop_it}
  - id: pause
    wait: 1d
  - id: again
    send: funnel_welcome_hello
"""


async def test_button_and_hand_off_exits_and_reentry_once_per_period(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "exits.yaml").write_text(textwrap.dedent(EXITS))
    shop = Shop(storage, clock, tmp_path)
    ann, bob = await shop.contact(1, "Ann"), await shop.contact(2, "Bob")
    await shop.event(ann, "go")
    await shop.event(bob, "go")
    await shop.runner.tick()
    first = await shop.enrollment(ann, "exits")
    data = f"fn:{first.id}:ask:stop_it"
    async with storage.uow() as uow:
        assert await shop.hooks.on_button(uow, ann, data, "en", clock.now()) is True
        await shop.hooks.on_handed_off(uow, bob, clock.now())
        await uow.commit()
    assert (await shop.enrollment(ann, "exits")).end_reason == "button stop_it"
    assert (await shop.enrollment(bob, "exits")).end_reason == "handed_off"
    assert await shop.event(ann, "go") == 0  # within the 7 days
    clock.advance(timedelta(days=7))
    assert await shop.event(ann, "go") == 1


async def test_hostile_contact_names_are_shown_as_typed(shop: Shop) -> None:
    mallory = await shop.contact(9, "<b>{{ 7*7 }}</b> {% raw %}")
    await shop.event(mallory, "signed_up")
    await shop.runner.tick()
    async with shop.storage.uow() as uow:
        [row] = await uow.outbox.claim_due(shop.clock.now(), 10)
    assert row.text.startswith("Welcome, &lt;b&gt;{{ 7*7 }}&lt;/b&gt; {% raw %}!")


async def test_messages_sent_before_a_handoff_step_go_out_before_its_notice(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    """The sends of a batch are stored together at its end, except that a hand-off step (which
    stores its notice at once) first stores the sends before it: the chat keeps their order."""
    from tests.handoff.scenario import World, policy_from

    (tmp_path / "h.yaml").write_text(
        "id: h\nmarketing: false\ntrigger: {event: go}\nsteps:\n"
        "  - {id: hello, send: funnel_welcome_hello}\n"
        "  - {id: person, handoff: {summary: Wants a bulk price}}\n"
    )
    shop = Shop(storage, clock, tmp_path)
    shop.runner._handoff = World(storage, clock, policy_from({})).handoff
    ann = await shop.contact()
    await shop.event(ann, "go")
    await shop.runner.tick()
    async with storage.uow() as uow:
        rows = sorted(await uow.outbox.claim_due(clock.now(), 10), key=lambda row: row.id)
    assert len(rows) == 2
    assert rows[0].step_id == "hello" and rows[0].text.startswith("Welcome")
    assert rows[1].step_id is None  # the hand-off's notice to the customer


async def test_a_handoff_step_hands_the_conversation_to_a_person(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    from bot.domain.handoff import HandoffReason
    from tests.handoff.scenario import World, policy_from

    (tmp_path / "h.yaml").write_text(
        "id: h\ntrigger: {event: go}\nsteps:\n  - id: person\n"
        "    handoff: {summary: Wants a bulk price}\n"
    )
    world = World(storage, clock, policy_from({}))
    shop = Shop(storage, clock, tmp_path)
    shop.runner._handoff = world.handoff  # the app passes its HandoffService
    ann = await shop.contact()
    await shop.event(ann, "go")
    await shop.runner.tick()
    async with storage.uow() as uow:
        [handoff] = await uow.handoffs.queued()
    assert handoff.reason is HandoffReason.FUNNEL and handoff.summary == "Wants a bulk price"


ASK = """
id: ask
trigger: {event: go}
steps:
  - id: question
    wait_for_reply: 1d
    answers: {yes: thanks}
  - id: thanks
    send: funnel_welcome_hello
"""


async def test_a_reply_whose_enrollment_changed_meanwhile_sends_nothing(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    """The reply's step is not applied (another process saved the enrollment first), so the
    message that step would send is not stored either."""
    if storage.dialect != "postgresql":
        pytest.skip("two writers at once need row locks (PostgreSQL); SQLite has one writer")
    (tmp_path / "ask.yaml").write_text(textwrap.dedent(ASK))
    shop = Shop(storage, clock, tmp_path)
    ann = await shop.contact()
    await shop.event(ann, "go")
    await shop.runner.tick()
    waiting = await shop.enrollment(ann, "ask")
    assert waiting.status is EnrollmentStatus.WAITING_REPLY

    async with storage.uow() as uow:
        real_save = uow.enrollments.save

        async def save_after_another_process(enrollment: Any, version: int) -> bool:
            async with storage.uow() as other:  # e.g. a scan timing the wait out, committed first
                current = await other.enrollments.get(enrollment.id)
                assert current is not None
                assert await other.enrollments.save(current, current.version)
                await other.commit()
            return bool(await real_save(enrollment, version))

        uow.enrollments.save = save_after_another_process  # type: ignore[method-assign,assignment]
        assert await shop.hooks.on_message(uow, ann, "yes", "en", clock.now())
        await uow.commit()
    assert await shop.sent() == []
    assert (await shop.enrollment(ann, "ask")).status is EnrollmentStatus.WAITING_REPLY
