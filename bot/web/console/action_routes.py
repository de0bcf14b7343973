"""The console's buttons and boxes: every POST that changes a chat.

Each runs one `AgentActions` call in the request's unit of work, commits, wakes the
dispatcher and shows the action's sentence to the agent.
"""

from __future__ import annotations

from aiohttp import web

from bot.handoff.actions import ActionResult, Outcome
from bot.web.console import views
from bot.web.console.context import (
    agent_of,
    console_of,
    error_page,
    respond,
    uow_of,
)

MAX_TEXT = 4000  # a Telegram message; longer replies are split by the outbox anyway
CHAT_ACTIONS = ("take", "reply", "note", "canned", "transfer", "close", "back")


def add_routes(app: web.Application) -> None:
    pattern = "|".join(CHAT_ACTIONS)
    app.router.add_post(
        rf"/chats/{{handoff_id:\d+}}/{{action:{pattern}}}", chat_action, name="chat_action"
    )
    app.router.add_post(
        r"/held/{held_id:\d+}/{action:approve|reject}", held_action, name="held_action"
    )
    app.router.add_post(
        r"/follow-ups/{response_id:\d+}/reopen", reopen_follow_up, name="reopen_follow_up"
    )


def _field(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value[: MAX_TEXT * 4] if isinstance(value, str) else ""


async def chat_action(request: web.Request) -> web.Response:
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    handoff_id = int(request.match_info["handoff_id"])
    action = request.match_info["action"]
    form = await request.post()
    text = _field(form, "text").strip()
    actions = console.actions
    if action in ("reply", "note") and not text:
        result = ActionResult(Outcome.EMPTY, "Write something first.")
    elif action == "take":
        result = await actions.take(uow, handoff_id, agent)
    elif action == "reply":
        result = await actions.reply(uow, handoff_id, agent, text, via="console")
    elif action == "note":
        result = await actions.note(uow, handoff_id, agent, text, via="console")
    elif action == "canned":
        name = _field(form, "name")
        result = await actions.canned(uow, handoff_id, agent, name, via="console")
    elif action == "transfer":
        result = await actions.transfer(uow, handoff_id, agent, _field(form, "target"))
    elif action == "close":
        result = await actions.close(uow, handoff_id, agent)
    else:
        result = await actions.back_to_bot(uow, handoff_id, agent)
    await uow.commit()
    console.on_outbox()
    leave = action == "transfer" and result.ok and not agent.is_supervisor
    location = console.url("/") if leave else console.url(f"/chats/{handoff_id}")
    return respond(request, result, location, leave=leave)


async def held_action(request: web.Request) -> web.Response:
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    if not agent.is_supervisor:
        return error_page(request, 403, "Supervisors only", "Only supervisors approve replies.")
    held_id = int(request.match_info["held_id"])
    if request.match_info["action"] == "approve":
        form = await request.post()
        edited = _field(form, "text").strip()
        held = await uow.held_replies.get(held_id)
        # The form shows the reply as plain text; only a real edit is sent as an edit.
        original = views.plain_text(held.text) if held is not None else ""
        changed = edited if edited and edited != original.strip() else None
        result = await console.actions.approve(uow, held_id, agent, changed)
    else:
        result = await console.actions.reject(uow, held_id, agent)
    await uow.commit()
    console.on_outbox()
    return respond(request, result, console.url("/supervisor"))


async def reopen_follow_up(request: web.Request) -> web.Response:
    """A supervisor puts the chat of a low survey score back in the queue."""
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    if not agent.is_supervisor:
        return error_page(request, 403, "Supervisors only", "Only supervisors reopen chats.")
    if console.follow_ups is None:
        result = ActionResult(Outcome.NOT_FOUND, "Surveys are off: there is nothing to reopen.")
    else:
        response_id = int(request.match_info["response_id"])
        result = await console.follow_ups.reopen(uow, response_id, agent)
    await uow.commit()
    console.on_outbox()
    location = console.url("/supervisor")
    if result.ok and result.handoff is not None:
        location = console.url(f"/chats/{result.handoff.id}")
    return respond(request, result, location, leave=result.ok)
