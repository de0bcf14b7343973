"""Which browser tabs are connected right now, per visitor.

A visitor may have several tabs open; a reply goes to all of them. The hub knows nothing of
WebSockets: the web layer registers anything with an `async send_json(frame)`, which keeps
this module (and the gateway built on it) testable without a server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.channels.webchat.protocol import Frame

log = logging.getLogger(__name__)

# A tab that cannot take a frame within this time is treated as gone: one stuck socket must
# not hold up a reply to the visitor's other tabs, nor the dispatcher that called push().
SEND_TIMEOUT_SECONDS = 5.0


class Connection(Protocol):
    async def send_json(self, frame: Frame, /) -> None: ...


class WebchatHub:
    def __init__(self, send_timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self._live: dict[str, set[Connection]] = {}
        self._send_timeout = send_timeout

    def register(self, visitor_token: str, connection: Connection) -> None:
        self._live.setdefault(visitor_token, set()).add(connection)

    def unregister(self, visitor_token: str, connection: Connection) -> None:
        connections = self._live.get(visitor_token)
        if connections is None:
            return
        connections.discard(connection)
        if not connections:
            del self._live[visitor_token]

    def connected(self, visitor_token: str) -> int:
        """How many tabs of this visitor are connected."""
        return len(self._live.get(visitor_token, ()))

    async def push(self, visitor_token: str, frame: Frame) -> int:
        """Send `frame` to every tab of the visitor; returns how many took it. Never raises."""
        # A snapshot: connections may register or drop while the sends are in flight.
        connections = list(self._live.get(visitor_token, ()))
        if not connections:
            return 0
        results = await asyncio.gather(
            *(self._send(visitor_token, connection, frame) for connection in connections)
        )
        return sum(results)

    async def _send(self, visitor_token: str, connection: Connection, frame: Frame) -> bool:
        try:
            await asyncio.wait_for(connection.send_json(frame), self._send_timeout)
        except Exception as error:  # closed, broken or stuck socket: forget it, keep the others
            log.info("dropping a dead web chat connection: %r", error)
            self.unregister(visitor_token, connection)
            return False
        return True
