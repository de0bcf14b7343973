"""Processes stored inbound updates: translate, handle and mark them, effects and mark together.

Channels store raw updates (and commit) before they acknowledge them; this is the other half.
A batch of pending updates is claimed and handled in one transaction, so its effects (contacts,
messages, outbox rows) and the "processed" marks commit together or not at all, and a crash
means the batch is simply handled again on restart. If anything in a batch fails, the batch is
rolled back and its updates are handled one per transaction, so one bad update is marked failed
(with the error) without holding back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.conversation.service import ConversationService
from bot.domain.clock import Clock
from bot.domain.inbound import InboundEvent
from bot.domain.model import Channel, InboundUpdate
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

Translator = Callable[[InboundUpdate], InboundEvent | None]
"""Turns a stored update into a domain event; None for kinds of update Nudge ignores."""


class TranslationError(ValueError):
    """A stored update cannot be understood; it is marked failed with this message."""


class InboxProcessor:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        service: ConversationService,
        translators: Mapping[Channel, Translator],
        clock: Clock,
        *,
        batch_size: int = 100,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._service = service
        self._translators = dict(translators)
        self._clock = clock
        self._batch_size = batch_size
        self._on_outbox = on_outbox

    async def tick(self) -> int:
        """Process one batch of pending updates; returns how many were taken."""
        try:
            async with self._uow() as uow:
                pending = await uow.inbound.claim_pending(self._batch_size)
                replies = await self._handle_all(uow, pending)
                await uow.commit()
        except Exception:
            log.exception("a batch of inbound updates failed; handling them one by one")
            return await self._one_by_one(self._batch_size)
        if replies:
            self._on_outbox()
        return len(pending)

    async def _handle_all(self, uow: UnitOfWork, pending: list[InboundUpdate]) -> int:
        replies = 0
        for update in pending:
            try:
                event = self._translate(update)
            except TranslationError as exc:
                log.warning(
                    "inbound update %s (%s) is malformed: %s", update.id, update.channel, exc
                )
                await self._mark(uow, update, f"malformed update: {exc}")
                continue
            if event is not None:
                replies += (await self._service.handle(uow, event)).replies
            await self._mark(uow, update, None)
        return replies

    async def _one_by_one(self, count: int) -> int:
        done = 0
        for _ in range(count):
            pending: list[InboundUpdate] = []
            try:
                async with self._uow() as uow:
                    pending = await uow.inbound.claim_pending(1)
                    if not pending:
                        break
                    replies = await self._handle_all(uow, pending)
                    await uow.commit()
            except Exception as exc:  # nothing of it is stored; record why, move on
                log.exception("inbound update failed")
                if not pending:
                    raise
                await self._mark_failed(pending[0], f"{type(exc).__name__}: {exc}")
                replies = 0
            done += 1
            if replies:
                self._on_outbox()
        return done

    def _translate(self, update: InboundUpdate) -> InboundEvent | None:
        translator = self._translators.get(update.channel)
        if translator is None:
            raise TranslationError(f"no translator for channel {update.channel}")
        return translator(update)

    async def _mark(self, uow: UnitOfWork, update: InboundUpdate, error: str | None) -> None:
        await uow.inbound.mark(update.id, error is None, error and error[:2000], self._clock.now())

    async def _mark_failed(self, update: InboundUpdate, error: str) -> None:
        async with self._uow() as uow:
            await self._mark(uow, update, error)
            await uow.commit()
