"""Processes stored inbound updates: translate, handle, mark, in one transaction each.

Channels store raw updates (and commit) before they acknowledge them; this is the other half.
An update is marked processed in the same transaction as its effects, so a crash either keeps
all of them or none, and the update is handled again on restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.conversation.service import ConversationService
from bot.domain.clock import Clock
from bot.domain.inbound import InboundEvent
from bot.domain.model import Channel, InboundUpdate
from bot.domain.ports import UnitOfWorkFactory

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
        async with self._uow() as uow:
            pending = await uow.inbound.claim_pending(self._batch_size)
        replied = False
        for update in pending:
            replied = await self._process(update) or replied
        if replied:
            self._on_outbox()
        return len(pending)

    async def _process(self, update: InboundUpdate) -> bool:
        try:
            event = self._translate(update)
        except TranslationError as exc:
            log.warning("inbound update %s (%s) is malformed: %s", update.id, update.channel, exc)
            await self._mark_failed(update, f"malformed update: {exc}")
            return False
        try:
            async with self._uow() as uow:
                replies = 0
                if event is not None:
                    replies = (await self._service.handle(uow, event)).replies
                await uow.inbound.mark(update.id, True, None, self._clock.now())
                await uow.commit()
                return replies > 0
        except Exception as exc:  # one bad update must not stop the others; nothing half-stored
            log.exception("inbound update %s (%s) failed", update.id, update.channel)
            await self._mark_failed(update, f"{type(exc).__name__}: {exc}")
            return False

    def _translate(self, update: InboundUpdate) -> InboundEvent | None:
        translator = self._translators.get(update.channel)
        if translator is None:
            raise TranslationError(f"no translator for channel {update.channel}")
        return translator(update)

    async def _mark_failed(self, update: InboundUpdate, error: str) -> None:
        async with self._uow() as uow:
            await uow.inbound.mark(update.id, False, error[:2000], self._clock.now())
            await uow.commit()
