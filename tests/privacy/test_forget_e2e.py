"""End to end: a real Telegram customer (aiogram against the fake Bot API), then
`nudge contacts export` and `nudge contacts forget` on the running app's database."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from bot.cli import build_parser
from bot.contacts_cli import contacts_command
from bot.domain.model import Channel, OutboundDraft, OutboundKind
from bot.process import Nudge
from tests.e2e.conftest import TOKEN, Harness, fake_telegram, harness, let_time_pass, settle
from tests.privacy.world import dump_database

__all__ = ["fake_telegram", "harness"]  # the e2e fixtures, used here by name

USER_ID = 880088123
SECRETS = {
    "first name": "Quentin",
    "last name": "Xylophage",
    "username": "qxylo_77",
    "telegram id": str(USER_ID),
    "start payload": "promo_qx",
    "question": "QX-5521",
    "address": "Xylostreet",
    "pending text": "come back soon, friend",
}


async def _chat(harness: Harness) -> Nudge:
    app = await harness.start()
    user = harness.fake.add_user(
        user_id=USER_ID, first_name="Quentin", last_name="Xylophage", username="qxylo_77"
    )
    await harness.fake.send_text(TOKEN, user, "/start promo_qx")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=USER_ID)
    await let_time_pass(app, harness.clock)
    await harness.fake.send_text(TOKEN, user, "Where is my parcel QX-5521 to Xylostreet?")
    await harness.fake.wait_for_messages(TOKEN, 2, chat_id=USER_ID)
    await let_time_pass(app, harness.clock)
    async with app.storage.uow() as uow:
        identity = await uow.identities.find(Channel.TELEGRAM, str(USER_ID))
        assert identity is not None
        later = app.clock.now() + timedelta(days=1)
        draft = OutboundDraft(
            key="test:later", contact_id=identity.contact_id, channel=Channel.TELEGRAM,
            address=str(USER_ID), text=SECRETS["pending text"], kind=OutboundKind.FUNNEL,
            not_before=later,
        )  # fmt: skip
        await app.outbox.enqueue(uow, draft, app.clock.now())
        await uow.commit()
    await settle(app)
    return app


async def _cli(url: str, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    args = build_parser().parse_args(["contacts", *argv, "--by", "dpo"])
    return await contacts_command(args, url, out=out), out.getvalue()


async def test_a_real_customer_is_exported_then_forgotten(harness: Harness, tmp_path: Path) -> None:
    app = await _chat(harness)
    before = await dump_database(harness.db_url)
    assert [what for what, value in SECRETS.items() if value not in before] == []
    sent_before = len(harness.fake.sent_messages(TOKEN, chat_id=USER_ID))

    target = tmp_path / "export.json"
    code, said = await _cli(harness.db_url, "export", f"telegram:{USER_ID}", "-o", str(target))
    assert code == 0 and "exported to" in said
    assert target.stat().st_mode & 0o777 == 0o600  # personal data: the owner's eyes only
    document = json.loads(target.read_text())
    assert document["contact"]["display_name"] == "Quentin Xylophage"
    assert document["contact"]["start_payload"] == "promo_qx"
    assert any("QX-5521" in m["text"] for m in document["messages"])
    assert any("QX-5521" in q["question"] for q in document["kb_interactions"])
    assert document["channel_identities"][0]["username"] == "qxylo_77"
    assert document["inbound_updates"]  # the raw updates Telegram sent us

    code, said = await _cli(harness.db_url, "forget", f"telegram:{USER_ID}", "--yes")
    assert code == 0 and "1 pending message(s) suppressed" in said

    after = await dump_database(harness.db_url)
    assert {what: value for what, value in SECRETS.items() if value in after} == {}
    harness.clock.advance(timedelta(days=2))
    await settle(app)
    assert len(harness.fake.sent_messages(TOKEN, chat_id=USER_ID)) == sent_before


async def test_someone_forgotten_who_writes_again_is_a_new_contact(harness: Harness) -> None:
    app = await _chat(harness)
    old = await _export_id(harness)
    await _cli(harness.db_url, "forget", str(old), "--yes")

    user = harness.fake.add_user(user_id=USER_ID, first_name="Quentin")
    await harness.fake.send_text(TOKEN, user, "hello again")
    await let_time_pass(app, harness.clock)

    assert await _export_id(harness) != old


async def _export_id(harness: Harness) -> int:
    code, said = await _cli(harness.db_url, "export", f"telegram:{USER_ID}")
    assert code == 0
    return int(json.loads(said)["contact"]["id"])
