"""What agents do in the group: write in a topic, press buttons, send commands.

Only updates from the configured group, from users who are configured (active) agents, act;
anything else is ignored with a WARNING naming the user. Each action runs in one unit of work
that also stores the polling offset, so an update's effect and "this update is done" commit
together: a crash re-reads only updates that had no effect. Telling the agent what happened
comes after the commit and never fails the update (the action is done either way).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.agent_desk import keyboards, links
from bot.channels.agent_desk.callbacks import DeskCallback, Verb, parse
from bot.channels.agent_desk.format import strip_html
from bot.channels.agent_desk.poster import DeskPoster
from bot.delivery.splitting import escape
from bot.domain.handoff import Agent, EventKind
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory
from bot.handoff.actions import ActionResult, AgentActions, Outcome
from bot.surveys.follow_ups import FollowUps

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Run = Callable[[UnitOfWork, int, Agent], Awaitable[ActionResult]]
NO_TARGET = "Use this in a chat's topic, or as a reply to one of my messages about the chat."
NOT_AN_AGENT = "Only the team's agents can use these buttons."
ANSWER_LIMIT = 200  # Telegram's limit for a callback answer


class DeskHandlers:
    def __init__(
        self,
        group_chat_id: int,
        uow_factory: UnitOfWorkFactory,
        actions: AgentActions,
        poster: DeskPoster,
        on_commit: Callable[[], None],
        teams: tuple[str, ...] = (),
        follow_ups: FollowUps | None = None,
    ) -> None:
        self._group = group_chat_id
        self._uow = uow_factory
        self._actions = actions
        self._poster = poster
        self._on_commit = on_commit
        self._teams = teams
        self._follow_ups = follow_ups
        self.failures: dict[int, BaseException] = {}  # update id -> what its handler raised

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        new = filters.UpdateType.MESSAGE  # an edited message cannot be unsent: ignored
        app.add_handler(CallbackQueryHandler(self._on_button, pattern=r"^d:"))
        commands: dict[str, Callable[[Update, Context], Coroutine[Any, Any, None]]] = {
            "take": self._take,
            "close": self._close,
            "bot": self._back_to_bot,
            "note": self._note,
            "canned": self._canned,
            "transfer": self._transfer,
            "edit": self._edit,
        }
        for name, callback in commands.items():
            app.add_handler(CommandHandler(name, callback, filters=new))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self._on_text))
        app.add_error_handler(self._on_error)

    async def _on_error(self, update: object, context: Context) -> None:
        if isinstance(update, Update) and context.error is not None:
            self.failures[update.update_id] = context.error

    # -- who and which chat ---------------------------------------------------------------------

    async def _agent(self, uow: UnitOfWork, update: Update) -> Agent | None:
        chat, user = update.effective_chat, update.effective_user
        if user is None:
            return None
        if chat is None or chat.id != self._group:
            log.warning("agent desk: ignored user %s in chat %s (not the agents' group)",
                        user.id, chat.id if chat else None)  # fmt: skip
            return None
        agent = await uow.agents.get_by_telegram_user(user.id)
        if agent is None or not agent.active:
            log.warning("agent desk: ignored user %s (%s): not an active configured agent",
                        user.id, user.full_name)  # fmt: skip
            return None
        return agent

    async def _target(self, uow: UnitOfWork, message: Message) -> int | None:
        """The hand-off a message is about: a reply to a remembered post, or its topic."""
        reply = message.reply_to_message
        if reply is not None:
            found = await links.handoff_for_post(uow, message.chat_id, reply.message_id)
            if found is not None:
                return found
        if message.is_topic_message and message.message_thread_id is not None:
            handoff = await uow.handoffs.by_desk_thread(message.chat_id, message.message_thread_id)
            return handoff.id if handoff is not None else None
        return None

    async def _done(self, uow: UnitOfWork, update: Update) -> None:
        await uow.settings.put(links.OFFSET_KEY, str(update.update_id + 1))
        await uow.commit()
        self._on_commit()

    # -- messages and commands ------------------------------------------------------------------

    async def _on_text(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.text is None:
            return
        text = message.text
        async with self._uow() as uow:
            agent = await self._agent(uow, update)
            handoff_id = await self._target(uow, message) if agent else None
            if agent is None or handoff_id is None:
                return  # agents talking among themselves outside any chat's topic
            result = await self._actions.reply(uow, handoff_id, agent, text, via="desk")
            await self._done(uow, update)
        if not result.ok or result.outcome is Outcome.HELD:
            await self._tell(message, result.message)

    async def _act(self, update: Update, run: Run, *, show: bool = True) -> None:
        """A command about the hand-off the message is in (or replies to)."""
        message = update.message
        if message is None:
            return
        async with self._uow() as uow:
            agent = await self._agent(uow, update)
            if agent is None:
                return
            handoff_id = await self._target(uow, message)
            if handoff_id is None:
                answer = NO_TARGET
            else:
                result = await run(uow, handoff_id, agent)
                answer = result.message if show or not result.ok else ""
                await self._done(uow, update)
        if answer:
            await self._tell(message, answer)

    async def _take(self, update: Update, context: Context) -> None:
        await self._act(update, lambda uow, hid, agent: self._actions.take(uow, hid, agent))

    async def _close(self, update: Update, context: Context) -> None:
        await self._act(update, lambda uow, hid, agent: self._actions.close(uow, hid, agent))

    async def _back_to_bot(self, update: Update, context: Context) -> None:
        await self._act(update, lambda uow, hid, agent: self._actions.back_to_bot(uow, hid, agent))

    async def _note(self, update: Update, context: Context) -> None:
        text = _after_command(update.message)
        if not text:
            await self._tell(update.message, "Write the note after the command: /note text")
            return

        async def run(uow: UnitOfWork, hid: int, agent: Agent) -> ActionResult:
            return await self._actions.note(uow, hid, agent, text, via="desk")

        await self._act(update, run)

    async def _canned(self, update: Update, context: Context) -> None:
        name = _after_command(update.message)
        if not name:
            names = ", ".join(self._actions.canned_names()) or "none"
            await self._tell(update.message, f"Canned responses: {names}. Send /canned NAME")
            return

        async def run(uow: UnitOfWork, hid: int, agent: Agent) -> ActionResult:
            result = await self._actions.canned(uow, hid, agent, name, via="desk")
            if result.outcome is Outcome.OK and result.handoff is not None:
                # Show the agents what the customer got: the projector does not echo desk posts.
                events = await uow.events.for_conversation(result.handoff.conversation_id, 5)
                sent = [e.text for e in events if e.kind is EventKind.AGENT_MESSAGE and e.text]
                if sent:
                    text = f"Sent: {strip_html(sent[-1])}"
                    return ActionResult(result.outcome, text, result.handoff)
            return result

        await self._act(update, run)

    async def _transfer(self, update: Update, context: Context) -> None:
        target = _after_command(update.message)
        if target:

            async def run(uow: UnitOfWork, hid: int, agent: Agent) -> ActionResult:
                return await self._actions.transfer(uow, hid, agent, target)

            await self._act(update, run)
            return
        message = update.message
        if message is None:
            return
        async with self._uow() as uow:
            agent = await self._agent(uow, update)
            handoff_id = await self._target(uow, message) if agent else None
            keyboard = await self._targets(uow, handoff_id, agent) if handoff_id and agent else None
        if agent is not None:
            await self._tell(message, "Transfer to whom?" if keyboard else NO_TARGET, keyboard)

    async def _edit(self, update: Update, context: Context) -> None:
        """/edit <held id> new text: a supervisor sends a trainee's reply as corrected."""
        message = update.message
        if message is None:
            return
        held, _, text = _after_command(message).partition(" ")
        if not held.isdigit() or not text.strip():
            await self._tell(message, "Send /edit HELD_ID new text")
            return
        async with self._uow() as uow:
            agent = await self._agent(uow, update)
            if agent is None:
                return
            result = await self._actions.approve(uow, int(held), agent, text.strip())
            await self._done(uow, update)
        await self._tell(message, result.message)

    async def _tell(
        self, message: Message | None, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """Answer the agent where they wrote; a failure here is logged, never retried."""
        if message is None:
            return
        thread = message.message_thread_id if message.is_topic_message else None
        try:
            await self._poster.send(
                message.chat_id, escape(text), thread_id=thread, keyboard=keyboard,
                reply_to=message.message_id,
            )  # fmt: skip
        except (TelegramError, RuntimeError) as exc:
            log.warning("agent desk: could not answer in chat %s: %s", message.chat_id, exc)

    # -- buttons --------------------------------------------------------------------------------

    async def _on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = parse(query.data)
        keyboard: InlineKeyboardMarkup | None = None
        async with self._uow() as uow:
            agent = await self._agent(uow, update)
            if agent is None:
                answer = NOT_AN_AGENT
            elif pressed is None:
                answer = "This button no longer works."
            else:
                answer, keyboard = await self._press(uow, agent, pressed)
                await self._done(uow, update)
        await self._answer(query, answer)
        message = query.message
        if keyboard is not None and isinstance(message, Message):
            try:
                await self._poster.edit_keyboard(message.chat_id, message.message_id, keyboard)
            except TelegramError as exc:
                log.warning("agent desk: could not change the buttons: %s", exc)

    async def _press(
        self, uow: UnitOfWork, agent: Agent, pressed: DeskCallback
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The answer to show, and the buttons to put under the message (None: unchanged)."""
        hid, actions = pressed.target_id, self._actions
        match pressed.verb:
            case Verb.TAKE:
                result = await actions.take(uow, hid, agent)
            case Verb.CLOSE:
                result = await actions.close(uow, hid, agent)
            case Verb.BOT:
                result = await actions.back_to_bot(uow, hid, agent)
            case Verb.APPROVE:
                result = await actions.approve(uow, hid, agent)
            case Verb.REJECT:
                result = await actions.reject(uow, hid, agent)
            case Verb.TRANSFER:
                return "Transfer to whom?", await self._targets(uow, hid, agent)
            case Verb.BACK:
                return "", keyboards.controls(hid)
            case Verb.TRANSFER_TO:
                result = await actions.transfer(uow, hid, agent, pressed.arg or "")
                return result.message, keyboards.controls(hid) if result.ok else None
            case Verb.REOPEN:
                if self._follow_ups is None:
                    return "Surveys are off: there is nothing to reopen.", None
                result = await self._follow_ups.reopen(uow, hid, agent)
                if result.outcome in (Outcome.OK, Outcome.ALREADY_TAKEN):
                    return result.message, InlineKeyboardMarkup([])  # done: the button goes
        return result.message, None

    async def _targets(self, uow: UnitOfWork, hid: int, agent: Agent) -> InlineKeyboardMarkup:
        others = [a for a in await uow.agents.list_all(active_only=True) if a.id != agent.id]
        teams = sorted({*self._teams, *(team for a in others for team in a.teams)})
        return keyboards.transfer_targets(hid, others, teams)

    async def _answer(self, query: CallbackQuery, text: str) -> None:
        try:
            await query.answer(text[:ANSWER_LIMIT] or None)
        except TelegramError as exc:
            log.warning("agent desk: could not answer a button press: %s", exc)


def _after_command(message: Message | None) -> str:
    """What follows "/command" (or "/command@bot"), line breaks kept: PTB's args lose them."""
    if message is None or not message.text:
        return ""
    parts = message.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""
