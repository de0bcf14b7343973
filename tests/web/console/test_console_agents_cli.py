"""`nudge agents list | add | passwd | deactivate` against a real SQLite database."""

from __future__ import annotations

import argparse
import io

import pytest

from bot.agents_cli import add_agents_commands, agents_command
from bot.domain.handoff import AgentRole
from bot.storage import Storage
from bot.web.console.passwords import verify_password


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nudge")
    add_agents_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["agents", *argv])


async def run(
    url: str, *argv: str, answers: tuple[str, ...] = (), stdin: str = ""
) -> tuple[int, str]:
    out = io.StringIO()
    replies = iter(answers)
    code = await agents_command(
        parse(*argv),
        url,
        read_password=lambda prompt: next(replies),
        stdin=io.StringIO(stdin),
        out=out,
    )
    return code, out.getvalue()


async def test_add_list_passwd_deactivate(
    sqlite_storage: Storage, sqlite_database_url: str
) -> None:
    url = sqlite_database_url
    code, text = await run(url, "list")
    assert (code, "no agents yet" in text) == (0, True)

    code, text = await run(
        url, "add", "alice", "--name", "Alice A", "--role", "supervisor",
        "--teams", "billing, support", "--languages", "en,ro", "--max-chats", "7",
    )  # fmt: skip
    assert code == 0 and "alice: added" in text and "nudge agents passwd alice" in text
    code, text = await run(url, "add", "bob", "--trainee")
    assert code == 0

    code, text = await run(url, "passwd", "alice", answers=("s3cret pass", "s3cret pass"))
    assert code == 0 and "password set" in text
    async with sqlite_storage.uow() as uow:
        alice = await uow.agents.get_by_key("alice")
    assert alice is not None and alice.role is AgentRole.SUPERVISOR
    assert alice.teams == ["billing", "support"] and alice.languages == ["en", "ro"]
    assert alice.max_chats == 7 and alice.name == "Alice A"
    assert verify_password("s3cret pass", alice.password_hash)

    code, text = await run(url, "list")
    lines = text.splitlines()
    assert any(line.startswith("alice") and line.rstrip().endswith("yes") for line in lines)
    assert any(line.startswith("bob") and "agent*" in line and " no" in line for line in lines)

    code, text = await run(url, "deactivate", "bob")
    assert code == 0 and "deactivated" in text
    async with sqlite_storage.uow() as uow:
        bob = await uow.agents.get_by_key("bob")
    assert bob is not None and not bob.active and bob.trainee


async def test_passwd_refuses_mismatch_short_and_unknown(
    sqlite_storage: Storage, sqlite_database_url: str
) -> None:
    url = sqlite_database_url
    await run(url, "add", "carol")
    code, text = await run(url, "passwd", "carol", answers=("first pass", "other pass"))
    assert code == 1 and "differ" in text
    code, text = await run(url, "passwd", "carol", "--stdin", stdin="short\n")
    assert code == 1 and "at least 8" in text
    code, text = await run(url, "passwd", "nobody", "--stdin", stdin="long enough\n")
    assert code == 1 and "no agent" in text
    async with sqlite_storage.uow() as uow:
        carol = await uow.agents.get_by_key("carol")
    assert carol is not None and carol.password_hash is None

    code, _ = await run(url, "passwd", "carol", "--stdin", stdin="from a script\n")
    assert code == 0
    async with sqlite_storage.uow() as uow:
        carol = await uow.agents.get_by_key("carol")
    assert carol is not None and verify_password("from a script", carol.password_hash)

    code, text = await run(url, "passwd", "carol", "--remove")
    assert code == 0 and "console access removed" in text
    async with sqlite_storage.uow() as uow:
        carol = await uow.agents.get_by_key("carol")
    assert carol is not None and carol.password_hash is None


async def test_add_again_updates_and_keeps_the_password(
    sqlite_storage: Storage, sqlite_database_url: str
) -> None:
    url = sqlite_database_url
    await run(url, "add", "dave")
    await run(url, "passwd", "dave", "--stdin", stdin="dave's password\n")
    code, text = await run(url, "add", "dave", "--name", "Dave D", "--teams", "vip")
    assert code == 0 and "dave: updated" in text and "passwd" not in text
    async with sqlite_storage.uow() as uow:
        dave = await uow.agents.get_by_key("dave")
    assert dave is not None and dave.name == "Dave D" and dave.teams == ["vip"]
    assert verify_password("dave's password", dave.password_hash)


@pytest.mark.parametrize("argv", [("add", "two words"), ("add", "eve", "--max-chats", "0")])
async def test_add_refuses_bad_input(
    sqlite_storage: Storage, sqlite_database_url: str, argv: tuple[str, ...]
) -> None:
    code, _ = await run(sqlite_database_url, *argv)
    assert code == 1
    async with sqlite_storage.uow() as uow:
        assert await uow.agents.list_all() == []
