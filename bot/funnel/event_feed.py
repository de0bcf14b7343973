"""Shop events (stored by the Events API) into the funnels: goals, exits and new enrollments.

Like the inbox, a batch is one transaction: the events are marked processed together with the
enrollments and exits they caused (the funnels a batch starts are entered together, see
`FunnelHooks.on_events`); when a batch fails, its events are handled one by one and a
broken one is marked failed with the reason, so it never blocks the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.domain.clock import Clock
from bot.funnel.hooks import FunnelHooks

log = logging.getLogger(__name__)


class EventFeed:
    def __init__(
        self,
        uow_factory: Callable[[], Any],
        hooks: FunnelHooks,
        clock: Clock,
        *,
        batch_size: int = 200,
        on_enrolled: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._hooks = hooks
        self._clock = clock
        self.batch_size = batch_size
        self._on_enrolled = on_enrolled

    async def tick(self) -> int:
        """Handle one batch of pending events; the number taken."""
        try:
            async with self._uow() as uow:
                pending = await uow.api_events.claim_pending(self.batch_size)
                now = self._clock.now()
                batch = [(event.contact_id, event.type, event.data) for event in pending]
                await self._hooks.on_events(uow, batch, now)  # the funnels they start at once
                for event in pending:
                    await uow.api_events.mark(event.id, True, None, now)
                await uow.commit()
        except Exception:
            log.exception("a batch of shop events failed; handling them one by one")
            return await self._one_by_one()
        if pending:
            self._on_enrolled()
        return len(pending)

    async def _handle(self, uow: Any, event: Any) -> None:
        now = self._clock.now()
        await self._hooks.on_event(uow, event.contact_id, event.type, event.data, now)
        await uow.api_events.mark(event.id, True, None, now)

    async def _one_by_one(self) -> int:
        done = 0
        for _ in range(self.batch_size):
            event = None
            try:
                async with self._uow() as uow:
                    [event, *_] = await uow.api_events.claim_pending(1) or [None]
                    if event is None:
                        break
                    await self._handle(uow, event)
                    await uow.commit()
            except Exception as exc:
                if event is None:
                    raise
                log.exception("shop event %s (%s) failed", event.key, event.type)
                async with self._uow() as uow:
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    await uow.api_events.mark(event.id, False, error, self._clock.now())
                    await uow.commit()
            done += 1
        if done:
            self._on_enrolled()
        return done
