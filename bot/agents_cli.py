"""`nudge agents list | add | passwd | deactivate`: the people who answer customers.

Agents from `config.yaml` are written to the database when Nudge starts; these commands manage
the database side (and set console passwords, which never live in a file).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from bot.domain.handoff import Agent, AgentRole
from bot.domain.ports import UnitOfWork
from bot.web.console.passwords import PasswordError, check_password_rules, hash_password

if TYPE_CHECKING:
    from bot.config import Settings

PasswordReader = Callable[[str], str]


def add_agents_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = commands.add_parser("agents", help="agents: list, add, passwd, deactivate")
    sub = agents.add_subparsers(dest="agents_command", metavar="AGENTS_COMMAND", required=True)
    sub.add_parser("list", help="every agent, with role, teams and console access")
    add = sub.add_parser("add", help="add an agent (or update the one with this key)")
    add.add_argument("key", help="stable handle, e.g. alice")
    add.add_argument("--name", help="display name (default: the key)")
    add.add_argument("--role", choices=[r.value for r in AgentRole], default="agent")
    add.add_argument("--telegram-user-id", type=int, help="for the agents' group in Telegram")
    add.add_argument("--languages", default="", help="comma separated, e.g. en,ru (empty: any)")
    add.add_argument("--teams", default="", help="comma separated (empty: the default team)")
    add.add_argument("--max-chats", type=int, default=5)
    add.add_argument("--trainee", action="store_true", help="replies wait for a supervisor")
    passwd = sub.add_parser("passwd", help="set (or remove) an agent's console password")
    passwd.add_argument("key")
    passwd.add_argument("--stdin", action="store_true", help="read the password from stdin")
    passwd.add_argument("--remove", action="store_true", help="remove console access")
    deactivate = sub.add_parser("deactivate", help="stop offering chats and console access")
    deactivate.add_argument("key")


def run_agents_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(agents_command(args, settings.storage.url))


async def agents_command(
    args: argparse.Namespace,
    url: str,
    *,
    read_password: PasswordReader = getpass.getpass,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one `nudge agents` command against the database at `url`; the exit code."""
    from bot.storage import Storage

    out = out or sys.stdout
    password: str | None = None
    if args.agents_command == "passwd" and not args.remove:
        try:
            password = _new_password(read_password, stdin or sys.stdin, from_stdin=args.stdin)
        except PasswordError as exc:
            print(f"password not changed: {exc}", file=out)
            return 1
    async with Storage(url) as storage:
        if not await storage.is_up_to_date():
            print("the database is not up to date: run `nudge db upgrade` first", file=out)
            return 1
        async with storage.uow() as uow:
            code = await _dispatch(args, uow, password, out)
            await uow.commit()
    return code


def _new_password(read: PasswordReader, stdin: TextIO, *, from_stdin: bool) -> str:
    if from_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = read("New console password: ")
        if read("Repeat it: ") != password:
            raise PasswordError("the two passwords differ")
    check_password_rules(password)
    return password


async def _dispatch(
    args: argparse.Namespace, uow: UnitOfWork, password: str | None, out: TextIO
) -> int:
    command: str = args.agents_command
    if command == "list":
        return await _list(uow, out)
    if command == "add":
        return await _add(uow, args, out)
    agent = await uow.agents.get_by_key(args.key)
    if agent is None:
        print(f"no agent with the key {args.key!r} (see `nudge agents list`)", file=out)
        return 1
    if command == "passwd":
        stored = hash_password(password) if password is not None else None
        await uow.agents.set_password_hash(agent.id, stored)
        done = "password set" if stored else "console access removed"
        print(f"{agent.key}: {done}; their open console sessions have ended", file=out)
        return 0
    await uow.agents.set_active(agent.id, False)
    print(f"{agent.key}: deactivated (no new chats, no console access)", file=out)
    return 0


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


async def _add(uow: UnitOfWork, args: argparse.Namespace, out: TextIO) -> int:
    key = args.key.strip()
    if not key or any(ch.isspace() for ch in key):
        print("a key is one word, e.g. alice", file=out)
        return 1
    if args.max_chats < 1:
        print("--max-chats must be at least 1", file=out)
        return 1
    existed = await uow.agents.get_by_key(key) is not None
    agent = await uow.agents.upsert(
        Agent(
            id=0,
            key=key,
            name=args.name or key,
            role=AgentRole(args.role),
            telegram_user_id=args.telegram_user_id,
            languages=_split(args.languages),
            teams=_split(args.teams),
            max_chats=args.max_chats,
            trainee=args.trainee,
        )
    )
    hint = "" if agent.password_hash else f"; set a console password: nudge agents passwd {key}"
    print(f"{agent.key}: {'updated' if existed else 'added'} (id {agent.id}){hint}", file=out)
    return 0


async def _list(uow: UnitOfWork, out: TextIO) -> int:
    agents = await uow.agents.list_all()
    if not agents:
        print("no agents yet: add one with `nudge agents add KEY --name NAME`", file=out)
        return 0
    print(f"{'key':<16} {'name':<20} {'role':<11} {'teams':<16} {'langs':<8} console", file=out)
    for agent in agents:
        role = agent.role.value + ("*" if agent.trainee else "")
        teams = ",".join(agent.teams) or "-"
        languages = ",".join(agent.languages) or "any"
        access = "yes" if agent.password_hash else "no"
        state = "" if agent.active else "  (inactive)"
        line = f"{agent.key:<16} {agent.name:<20} {role:<11} {teams:<16} {languages:<8} {access}"
        print(line + state, file=out)
    if any(agent.trainee for agent in agents):
        print("* trainee: replies wait for a supervisor's approval", file=out)
    return 0
