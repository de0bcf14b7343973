"""Where a hand-off lives in the agents' group: its forum topic, or the group itself.

In a forum each customer gets one topic (reopened for their next hand-off). The topic is
stored on the hand-off right after it is created, before anything is posted, so a retry after
a failure never opens a second one. In a group without topics every post starts with a header
naming the hand-off and is remembered, so agents act by replying to it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.channels.agent_desk import format as fmt
from bot.channels.agent_desk import keyboards, links
from bot.channels.agent_desk.poster import DeskPoster
from bot.domain.handoff import Handoff, HandoffStatus
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Place:
    chat_id: int
    thread_id: int | None  # None: the group has no topics
    header: str  # "" in a topic; the hand-off's name line in a plain group


@dataclass(frozen=True, slots=True)
class Subject:
    """A hand-off and its customer, as read for one event."""

    handoff: Handoff
    customer: fmt.Customer


async def load_subject(uow: UnitOfWork, handoff_id: int) -> Subject | None:
    handoff = await uow.handoffs.get(handoff_id)
    if handoff is None:
        return None
    contact = await uow.contacts.get(handoff.contact_id)
    conversation = await uow.conversations.get(handoff.conversation_id)
    tags = contact.attributes.get("tags") if contact is not None else None
    customer = fmt.Customer(
        name=contact.display_name if contact is not None else f"Contact {handoff.contact_id}",
        channel=conversation.channel.value if conversation is not None else "unknown",
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )
    return Subject(handoff, customer)


async def store_desk(uow: UnitOfWork, handoff_id: int, **desk: object) -> Handoff | None:
    """Write the desk fields only, on the freshest copy, compare-and-set on its status.

    Writing back the copy read before the Telegram calls would undo what agents did meanwhile
    (a take, a first reply); the status CAS catches a change that lands between read and write.
    """
    for _ in range(5):
        current = await uow.handoffs.get(handoff_id)
        if current is None:
            return None
        changed = dataclasses.replace(current, **desk)  # type: ignore[arg-type]
        if await uow.handoffs.transition(handoff_id, (current.status,), changed):
            return changed
    log.warning("hand-off %s kept changing; its desk fields were not stored", handoff_id)
    return None


class TopicKeeper:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        poster: DeskPoster,
        group_chat_id: int,
        transcript_messages: int,
    ) -> None:
        self._uow = uow_factory
        self._poster = poster
        self._group = group_chat_id
        self._transcript = transcript_messages
        self.is_forum = True  # set from getChat when the desk starts

    def place(self, subject: Subject) -> Place | None:
        """Where the hand-off's posts go; None when it has no place in this group yet."""
        handoff = subject.handoff
        if handoff.desk_chat_id != self._group:
            return None
        if self.is_forum != (handoff.desk_thread_id is not None):
            return None  # the group was switched to or from topics since
        title = fmt.topic_title(handoff.status, subject.customer)  # the status as of now
        header = "" if self.is_forum else fmt.thread_header(handoff, title)
        return Place(self._group, handoff.desk_thread_id, header)

    async def ensure(self, subject: Subject) -> tuple[Subject, Place, bool]:
        """The hand-off's place, made now if needed; True when it was just made."""
        place = self.place(subject)
        if place is not None:
            return subject, place, False
        handoff = subject.handoff
        title = fmt.topic_title(handoff.status, subject.customer)
        thread_id = await self._open_topic(handoff.contact_id, title) if self.is_forum else None
        async with self._uow() as uow:
            stored = await store_desk(
                uow,
                handoff.id,
                desk_chat_id=self._group,
                desk_thread_id=thread_id,
                desk_title=title,
            )
            if thread_id is not None:
                await links.remember_topic(uow, handoff.contact_id, self._group, thread_id)
            await uow.commit()
        subject = Subject(stored or handoff, subject.customer)
        place = self.place(subject)
        assert place is not None
        return subject, place, True

    async def _open_topic(self, contact_id: int, title: str) -> int:
        async with self._uow() as uow:
            previous = await links.customer_topic(uow, contact_id)
        if previous is not None and previous[0] == self._group:
            try:
                await self._poster.reopen_topic(self._group, previous[1])
                await self._poster.rename_topic(self._group, previous[1], title)
                return previous[1]
            except BadRequest as exc:  # deleted by an admin: start a new one
                log.info("customer %s's old topic is gone (%s); opening a new one", contact_id, exc)
        topic = await self._poster.create_topic(self._group, title)
        return topic.message_thread_id

    async def introduce(self, subject: Subject, place: Place) -> None:
        """The summary with the buttons, then the recent transcript."""
        handoff = subject.handoff
        async with self._uow() as uow:
            history = await uow.messages.history(handoff.contact_id, limit=self._transcript)
        text = fmt.summary(handoff, subject.customer, header=place.header)
        await self.post(handoff.id, place, text, keyboards.controls(handoff.id))
        for part in fmt.transcript(history, subject.customer, header=place.header.rstrip("\n")):
            await self.post(handoff.id, place, part)

    async def post(
        self,
        handoff_id: int,
        place: Place,
        text: str,
        keyboard: InlineKeyboardMarkup | None = None,
        *,
        general: bool = False,
    ) -> Message:
        """Post in the hand-off's place (or the general chat); remember posts outside topics."""
        thread_id = None if general else place.thread_id
        sent = await self._poster.send(place.chat_id, text, thread_id=thread_id, keyboard=keyboard)
        if thread_id is None:
            async with self._uow() as uow:
                await links.remember_post(uow, place.chat_id, sent.message_id, handoff_id)
                await uow.commit()
        return sent

    async def refresh_title(self, subject: Subject, place: Place, *, close: bool = False) -> None:
        """Rename the topic when the status emoji changed; close it when the chat ended."""
        handoff = subject.handoff
        title = fmt.topic_title(handoff.status, subject.customer)
        if title != handoff.desk_title:
            if place.thread_id is not None:
                await self._poster.rename_topic(place.chat_id, place.thread_id, title)
            async with self._uow() as uow:
                await store_desk(uow, handoff.id, desk_title=title)
                await uow.commit()
        if close and handoff.status is HandoffStatus.CLOSED and place.thread_id is not None:
            await self._poster.close_topic(place.chat_id, place.thread_id)
