"""The gateway: an outbox row becomes a `message` frame in the visitor's open tabs."""

from __future__ import annotations

from typing import Any

from bot.channels.webchat.gateway import WebchatGateway
from bot.channels.webchat.hub import WebchatHub
from bot.domain.clock import FakeClock
from bot.domain.model import (
    Button,
    Channel,
    OutboundKind,
    OutboundMessage,
    OutboxStatus,
)
from bot.domain.ports import ChannelGateway, SendOk, SendRejected


class Tab:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_json(self, frame: dict[str, Any], /) -> None:
        self.frames.append(frame)


def row(address: str = "visitor-token", **changes: Any) -> OutboundMessage:
    clock = FakeClock()
    values: dict[str, Any] = {
        "id": 7,
        "key": "reply:webchat:1",
        "contact_id": 3,
        "channel": Channel.WEBCHAT,
        "address": address,
        "text": "<b>Hello</b> there",
        "kind": OutboundKind.REPLY,
        "status": OutboxStatus.SENDING,
        "not_before": clock.now(),
        "created_at": clock.now(),
        "buttons": [[Button("Shipping", callback_data="kb:shipping")]],
    }
    values.update(changes)
    return OutboundMessage(**values)


def test_it_is_a_channel_gateway_for_the_web_chat() -> None:
    gateway: ChannelGateway = WebchatGateway(WebchatHub())
    assert gateway.channel is Channel.WEBCHAT
    assert gateway.max_text_length == 4000


async def test_send_pushes_a_message_frame_to_every_tab() -> None:
    hub, clock = WebchatHub(), FakeClock()
    tabs = [Tab(), Tab()]
    for tab in tabs:
        hub.register("visitor-token", tab)

    result = await WebchatGateway(hub, clock).send(row())

    assert result == SendOk(channel_message_id="web-7")
    expected = {
        "type": "message",
        "id": "web-7",
        "html": "<b>Hello</b> there",
        "buttons": [[{"text": "Shipping", "data": "kb:shipping"}]],
        "at": clock.now().isoformat(),
    }
    assert [tab.frames for tab in tabs] == [[expected], [expected]]


async def test_an_offline_visitor_still_counts_as_sent() -> None:
    # The row is in the stored history: the visitor sees it in the next welcome.
    assert await WebchatGateway(WebchatHub()).send(row()) == SendOk("web-7")


async def test_a_row_without_a_visitor_is_rejected() -> None:
    result = await WebchatGateway(WebchatHub()).send(row(address=""))
    assert isinstance(result, SendRejected)
