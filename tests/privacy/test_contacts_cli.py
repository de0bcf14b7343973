"""`nudge contacts export | forget`: exit codes and what the operator reads."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.contacts_cli import contacts_command
from bot.domain.clock import FakeClock
from bot.storage.uow import Storage
from tests.privacy.world import person, store_agent, store_person


async def _run(url: str, *argv: str, answer: str = "") -> tuple[int, str]:
    out = io.StringIO()
    args = build_parser().parse_args(["contacts", *argv])
    code = await contacts_command(args, url, out=out, confirm=lambda _: answer)
    return code, out.getvalue()


async def test_an_unknown_person_is_exit_1_with_a_sentence(
    sqlite_storage: Storage, sqlite_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = await _run(sqlite_database_url, "export", "email:nobody@example.org")
    assert code == 1
    assert "no contact is known as email:nobody@example.org" in capsys.readouterr().err


async def test_a_malformed_id_is_exit_2_before_the_database_is_opened(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-created.db'}"
    code, _ = await _run(url, "forget", "telegram:abc", "--yes")
    assert code == 2
    assert "is not a Telegram user id" in capsys.readouterr().err
    assert not (tmp_path / "never-created.db").exists()


async def test_forget_asks_first_and_changes_nothing_without_the_word(
    sqlite_storage: Storage, sqlite_database_url: str, clock: FakeClock
) -> None:
    who = person("Cli", 5500551234)
    await store_person(
        sqlite_storage, who, clock.now(), await store_agent(sqlite_storage, clock.now())
    )

    code, _ = await _run(sqlite_database_url, "forget", str(who.contact_id), answer="yes")
    assert code == 1
    _, exported = await _run(sqlite_database_url, "export", str(who.contact_id))
    assert json.loads(exported)["contact"]["display_name"] == who.secrets["name"]

    code, said = await _run(sqlite_database_url, "forget", str(who.contact_id), answer="forget")
    assert code == 0 and f"contact {who.contact_id} forgotten" in said
    _, exported = await _run(sqlite_database_url, "export", str(who.contact_id))
    assert json.loads(exported)["contact"]["display_name"] == "Forgotten contact"


async def test_an_old_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    code, _ = await _run(url, "export", "1")
    assert code == 1
    assert "nudge db upgrade" in capsys.readouterr().err


def test_the_commands_are_listed_in_nudge_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["contacts", "--help"])
    help_text = capsys.readouterr().out
    assert "export" in help_text and "forget" in help_text


async def test_forget_without_a_terminal_needs_yes(
    sqlite_storage: Storage, sqlite_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_terminal(_: str) -> str:
        raise EOFError

    args = build_parser().parse_args(["contacts", "forget", "1"])
    code = await contacts_command(args, sqlite_database_url, confirm=no_terminal)
    assert code == 1 and "add --yes" in capsys.readouterr().err
