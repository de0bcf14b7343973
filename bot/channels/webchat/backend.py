"""What the web chat socket does with storage: sessions, stored messages, Telegram links.

Transport-free: the aiohttp route calls these methods, tests call them directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from bot.channels.webchat.protocol import ButtonPress, ChatText, Stored
from bot.domain.clock import Clock
from bot.domain.model import Channel, Message
from bot.domain.ports import UnitOfWorkFactory

DISPLAY_NAME = "Web visitor"
# Settings keys. An issued token is remembered so that only tokens this server handed out are
# accepted: a token made up by a client (or guessed) never opens somebody's conversation.
ISSUED_TOKEN_KEY = "webchat:visitor:{token}"
LINK_CODE_KEY = "link:{code}"
LINK_START_PREFIX = "w_"


class WebchatBackend:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        on_inbound: Callable[[], None],
        telegram_username: Callable[[], str | None],
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._on_inbound = on_inbound
        self._telegram_username = telegram_username

    async def open_session(
        self, visitor_token: str | None, language: str | None
    ) -> tuple[str, list[Message]]:
        """The visitor's token (a fresh one when absent or unknown) and their history.

        `language` is not stored here: it travels with every stored message (see `accept`),
        where the conversation service can act on it.
        """
        del language
        if visitor_token is not None:
            async with self._uow_factory() as uow:
                identity = await uow.identities.find(Channel.WEBCHAT, visitor_token)
                if identity is not None:
                    return visitor_token, await uow.messages.history(identity.contact_id)
                issued = await uow.settings.get(ISSUED_TOKEN_KEY.format(token=visitor_token))
                if issued is not None:
                    return visitor_token, []  # issued earlier; the visitor has not written yet
        return await self._issue_token(), []

    async def accept(
        self, visitor_token: str, frame: Stored, *, language: str | None = None
    ) -> bool:
        """Store a visitor's message or button press; False when this client id came before.

        The row is committed before this returns, so the caller may acknowledge the frame:
        from then on the message survives a crash and is processed exactly once.
        """
        client_id = frame.client_id
        async with self._uow_factory() as uow:
            stored = await uow.inbound.add(
                Channel.WEBCHAT,
                external_key=f"{visitor_token}:{client_id}",
                payload=_payload(visitor_token, frame, language),
                at=self._clock.now(),
                conversation_key=f"webchat:{visitor_token}",  # one visitor's messages in order
            )
            if stored is None:
                return False
            await uow.commit()
        self._on_inbound()
        return True

    @property
    def telegram_available(self) -> bool:
        return self._telegram_username() is not None

    async def telegram_link(self, visitor_token: str) -> str | None:
        """A t.me deep link carrying a one-time code for this visitor; None without Telegram."""
        username = self._telegram_username()
        if not username:
            return None
        code = secrets.token_urlsafe(12)
        async with self._uow_factory() as uow:
            await uow.settings.put(LINK_CODE_KEY.format(code=code), visitor_token)
            await uow.commit()
        return f"https://t.me/{username}?start={LINK_START_PREFIX}{code}"

    async def _issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        async with self._uow_factory() as uow:
            await uow.settings.put(
                ISSUED_TOKEN_KEY.format(token=token), self._clock.now().isoformat()
            )
            await uow.commit()
        return token


def _payload(visitor_token: str, frame: Stored, language: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"visitor_token": visitor_token, "client_id": frame.client_id}
    if isinstance(frame, ChatText):
        payload.update(type="message", text=frame.text)
    else:
        assert isinstance(frame, ButtonPress)
        payload.update(type="button", data=frame.data)
    payload.update(language=language, display_name=DISPLAY_NAME)
    return payload
