"""The console's pages, the fragments the page's script refreshes, and the change feed."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain.handoff import Agent, Handoff, HandoffStatus
from bot.domain.ports import UnitOfWork
from bot.web.console import views
from bot.web.console.context import (
    agent_of,
    console_of,
    error_page,
    render,
    uow_of,
)

CHANGES_BATCH = 200


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", desk, name="desk")
    app.router.add_get(r"/chats/{handoff_id:\d+}", chat_page, name="chat")
    app.router.add_get("/supervisor", supervisor_page, name="supervisor")
    app.router.add_get("/fragments/lists", lists_fragment, name="fragment_lists")
    app.router.add_get(r"/fragments/chats/{handoff_id:\d+}", chat_fragment, name="fragment_chat")
    app.router.add_get("/api/changes", changes, name="api_changes")


async def _lists(request: web.Request) -> dict[str, Any]:
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    now = console.clock.now()
    names = await views.names_of_agents(uow)
    queue = await views.queue_for(uow, agent, console.default_team)
    mine = await views.chats_for(uow, agent)
    context: dict[str, Any] = {
        "queue": await views.chat_rows(uow, queue, now, names),
        "mine": await views.chat_rows(uow, mine, now, names),
        "held_count": 0,
        "breach_count": 0,
        "last_event": await uow.events.last_id(),
    }
    if agent.is_supervisor:
        context["held_count"] = len(await uow.held_replies.pending())
        open_rows = await views.chat_rows(uow, await uow.handoffs.open(), now, names)
        context["breach_count"] = sum(1 for row in open_rows if row.sla == "breached")
    return context


async def _load_handoff(request: web.Request) -> Handoff | web.Response:
    """The hand-off in the URL, or the 404 / 403 page to answer with."""
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    handoff = await uow.handoffs.get(int(request.match_info["handoff_id"]))
    if handoff is None:
        return error_page(request, 404, "No such chat", "This chat does not exist.")
    if not views.can_view(agent, handoff, console.default_team):
        return error_page(
            request, 403, "Not your chat", "This chat belongs to another agent or team."
        )
    return handoff


async def _chat(request: web.Request, handoff: Handoff) -> dict[str, Any]:
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    now = console.clock.now()
    names = await views.names_of_agents(uow)
    (row,) = await views.chat_rows(uow, [handoff], now, names)
    return {
        "chat": row,
        "timeline": await views.timeline(uow, handoff, names, row.contact_name),
        "is_open": handoff.status.is_open,
        "is_mine": handoff.agent_id == agent.id and handoff.status is HandoffStatus.ACTIVE,
        "canned": console.actions.canned_names(),
        "targets": await _transfer_targets(uow, agent, console.default_team, console.teams),
    }


async def _transfer_targets(
    uow: UnitOfWork, agent: Agent, default_team: str, configured: tuple[str, ...]
) -> dict[str, list[tuple[str, str]]]:
    """(value, label) pairs: agents by key, teams by name."""
    agents = [a for a in await uow.agents.list_all(active_only=True) if a.id != agent.id]
    teams = {default_team, *configured} | {team for a in agents for team in a.teams}
    return {
        "agents": [(a.key, f"{a.name} ({a.key})") for a in agents],
        "teams": [(team, team) for team in sorted(teams)],
    }


async def desk(request: web.Request) -> web.Response:
    return render(request, "desk.html", **await _lists(request), selected=None)


async def chat_page(request: web.Request) -> web.Response:
    handoff = await _load_handoff(request)
    if isinstance(handoff, web.Response):
        return handoff
    context = await _lists(request) | await _chat(request, handoff)
    return render(request, "desk.html", **context, selected=handoff)


async def lists_fragment(request: web.Request) -> web.Response:
    return render(request, "_lists.html", **await _lists(request), selected=None)


async def chat_fragment(request: web.Request) -> web.Response:
    handoff = await _load_handoff(request)
    if isinstance(handoff, web.Response):
        return handoff
    return render(request, "_chat.html", **await _chat(request, handoff), selected=handoff)


async def supervisor_page(request: web.Request) -> web.Response:
    console, agent, uow = console_of(request), agent_of(request), uow_of(request)
    if not agent.is_supervisor:
        return error_page(request, 403, "Supervisors only", "This page is for supervisors.")
    now = console.clock.now()
    names = await views.names_of_agents(uow)
    open_rows = await views.chat_rows(uow, await uow.handoffs.open(), now, names)
    counts = await uow.agents.open_chat_counts()
    team = [(a, counts.get(a.id, 0)) for a in await uow.agents.list_all()]
    pending = await console.follow_ups.pending_follow_ups(uow) if console.follow_ups else []
    return render(
        request,
        "supervisor.html",
        **await _lists(request),
        selected=None,
        held=await views.held_rows(uow, names),
        breaches=[row for row in open_rows if row.sla],
        open_rows=open_rows,
        team=team,
        surveys_on=console.follow_ups is not None,
        follow_ups=await views.follow_up_rows(uow, pending, names),
    )


async def changes(request: web.Request) -> web.Response:
    """Conversations touched since event `after`; cheap enough to poll every few seconds.

    `reset` tells the page its bookmark is ahead of the database (a restored backup, a new
    database): it should reload everything and start again from `last`.
    """
    uow = uow_of(request)
    try:
        after = max(0, int(request.query.get("after", "0")))
    except ValueError:
        after = 0
    last = await uow.events.last_id()
    if after > last:
        return web.json_response({"last": last, "changed": [], "reset": True})
    events = await uow.events.after(after, limit=CHANGES_BATCH) if after < last else []
    changed = sorted({event.conversation_id for event in events})
    newest = events[-1].id if len(events) == CHANGES_BATCH else last
    return web.json_response(
        {"last": newest, "changed": changed, "reset": False, "more": newest < last}
    )
