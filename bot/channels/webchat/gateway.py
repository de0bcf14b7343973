"""Sends outbox rows to web chat visitors."""

from __future__ import annotations

from bot.channels.webchat.hub import WebchatHub
from bot.channels.webchat.protocol import MAX_TEXT_LENGTH, message_frame
from bot.domain.clock import Clock, SystemClock
from bot.domain.model import Channel, OutboundMessage
from bot.domain.ports import SendOk, SendRejected, SendResult


class WebchatGateway:
    """The `ChannelGateway` of the web chat.

    A send pushes a `message` frame to every open tab of the visitor and succeeds whether or
    not a tab is open: the outbox already stored the message in the contact's history (with
    its outbox id), so a visitor who is offline now sees it in the `welcome` history on the
    next visit. The frame id `web-<outbox id>` matches the id the history gives the same
    message, so a tab that got it live does not show it twice after a reload.
    """

    channel: Channel = Channel.WEBCHAT
    max_text_length: int = MAX_TEXT_LENGTH

    def __init__(self, hub: WebchatHub, clock: Clock | None = None) -> None:
        self._hub = hub
        self._clock = clock or SystemClock()

    async def send(self, message: OutboundMessage) -> SendResult:
        if not message.address:
            return SendRejected(reason="web chat message without a visitor token")
        message_id = f"web-{message.id}"
        frame = message_frame(message_id, message.text, message.buttons, self._clock.now())
        await self._hub.push(message.address, frame)  # never raises; dead tabs are dropped
        return SendOk(channel_message_id=message_id)
