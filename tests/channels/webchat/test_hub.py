"""The hub: frames reach every open tab of a visitor; dead tabs are dropped quietly."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.webchat.hub import Connection, WebchatHub


class Tab:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any], /) -> None:
        self.frames.append(frame)


class DeadTab:
    def __init__(self) -> None:
        self.calls = 0

    async def send_json(self, frame: dict[str, Any], /) -> None:
        self.calls += 1
        raise ConnectionResetError("Cannot write to closing transport")


class StuckTab:
    async def send_json(self, frame: dict[str, Any], /) -> None:
        await asyncio.Event().wait()  # a peer that never reads: the send never completes


def test_tabs_satisfy_the_connection_protocol() -> None:
    tabs: list[Connection] = [Tab(), DeadTab(), StuckTab()]
    assert len(tabs) == 3


async def test_push_reaches_every_tab_of_the_visitor_only() -> None:
    hub = WebchatHub()
    first, second, other = Tab(), Tab(), Tab()
    hub.register("alice", first)
    hub.register("alice", second)
    hub.register("bob", other)

    reached = await hub.push("alice", {"type": "message", "id": "web-1"})

    assert reached == 2
    assert first.frames == second.frames == [{"type": "message", "id": "web-1"}]
    assert other.frames == []


async def test_push_to_an_offline_visitor_reaches_nobody() -> None:
    assert await WebchatHub().push("nobody", {"type": "message"}) == 0


async def test_unregister_stops_delivery_and_forgets_the_visitor() -> None:
    hub = WebchatHub()
    tab = Tab()
    hub.register("alice", tab)
    hub.unregister("alice", tab)
    hub.unregister("alice", tab)  # twice is harmless
    hub.unregister("ghost", tab)

    assert await hub.push("alice", {"type": "message"}) == 0
    assert tab.frames == []
    assert hub.connected("alice") == 0


async def test_a_dead_tab_is_dropped_and_the_others_still_get_the_frame() -> None:
    hub = WebchatHub()
    dead, alive = DeadTab(), Tab()
    hub.register("alice", dead)
    hub.register("alice", alive)

    assert await hub.push("alice", {"n": 1}) == 1
    assert await hub.push("alice", {"n": 2}) == 1

    assert dead.calls == 1  # not tried again after it failed
    assert alive.frames == [{"n": 1}, {"n": 2}]
    assert hub.connected("alice") == 1


async def test_a_stuck_tab_times_out_and_is_dropped() -> None:
    hub = WebchatHub(send_timeout=0.05)
    stuck, alive = StuckTab(), Tab()
    hub.register("alice", stuck)
    hub.register("alice", alive)

    assert await asyncio.wait_for(hub.push("alice", {"n": 1}), timeout=5) == 1
    assert alive.frames == [{"n": 1}]
    assert hub.connected("alice") == 1
