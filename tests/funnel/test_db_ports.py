"""A funnel step's outbox rows name their enrollment and step (what the funnel report counts
delivered, failed, ... per step), every part of a long text included; other rows name none."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.domain.clock import FakeClock
from bot.domain.model import OutboundDraft
from bot.storage.uow import Storage
from tests.funnel.test_runner import CHAIN, Shop


async def test_each_part_of_a_steps_message_names_its_enrollment_and_step(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "chain.yaml").write_text(textwrap.dedent(CHAIN))
    shop = Shop(storage, clock, tmp_path, text_limit=60)  # the welcome text is ~190 characters
    ann = await shop.contact()
    await shop.event(ann, "signed_up")
    await shop.runner.tick()
    enrollment = await shop.enrollment(ann)
    async with storage.uow() as uow:
        rows = await uow.outbox.claim_due(clock.now(), 100)
        reply = await uow.outbox.add(OutboundDraft("reply:1", ann, rows[0].channel, "7", "hi"),
                                     clock.now())  # fmt: skip
        await uow.commit()
    # The parts of one message: funnel:<enrollment>:hello:<version>#1, #2, ...
    assert len(rows) >= 3 and len({r.key.split("#")[0] for r in rows}) == 1
    assert rows[0].key.startswith(f"funnel:{enrollment.id}:hello:")
    assert {(r.enrollment_id, r.step_id) for r in rows} == {(enrollment.id, "hello")}
    assert reply is not None and (reply.enrollment_id, reply.step_id) == (None, None)
