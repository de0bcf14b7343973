"""`nudge contacts export | forget ID`: a person's right to see their data and to be forgotten.

ID is a Nudge contact id, or `telegram:<user id>`, `email:<address>`, `phone:<number>`,
`external:<shop id>`. Both commands write an audit line (who, when; never what).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.privacy import (
    ContactNotFoundError,
    ContactRefError,
    ForgetReport,
    PrivacyService,
    parse_person_ref,
)

if TYPE_CHECKING:
    from bot.config import Settings

Confirm = Callable[[str], str]
_ID_HELP = "a contact id, or telegram:<user id>, email:<address>, phone:<number>, external:<id>"


def add_contacts_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contacts = commands.add_parser("contacts", help="privacy: export or forget a contact")
    sub = contacts.add_subparsers(
        dest="contacts_command", metavar="CONTACTS_COMMAND", required=True
    )
    export = sub.add_parser("export", help="everything stored about a person, in one JSON file")
    export.add_argument("id", metavar="ID", help=_ID_HELP)
    export.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    forget = sub.add_parser(
        "forget", help="cancel a person's messages and erase their identity and content"
    )
    forget.add_argument("id", metavar="ID", help=_ID_HELP)
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for command in (export, forget):
        command.add_argument("--by", help="who asks, for the audit line (default: your login)")


def run_contacts_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(contacts_command(args, settings.storage.url))


async def contacts_command(
    args: argparse.Namespace,
    url: str,
    *,
    out: TextIO | None = None,
    confirm: Confirm = input,
) -> int:
    """Run one `nudge contacts` command against the database at `url`; the exit code."""
    from bot.storage import Storage

    out = out or sys.stdout
    try:
        ref = parse_person_ref(args.id)
    except ContactRefError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.contacts_command == "forget" and not args.yes and not _confirmed(confirm, str(ref)):
        print("nothing was changed", file=sys.stderr)
        return 1
    actor = args.by or _login()
    async with Storage(url) as storage:
        if not await storage.is_up_to_date():
            print("the database is not up to date: run `nudge db upgrade` first", file=sys.stderr)
            return 1
        service = PrivacyService(storage.uow, storage.clock)
        try:
            if args.contacts_command == "export":
                document = await service.export(ref, actor)
                _write_export(document, args.output, out)
            else:
                print(_describe(await service.forget(ref, actor)), file=out)
        except ContactNotFoundError as exc:
            print(exc, file=sys.stderr)
            return 1
    return 0


def _confirmed(confirm: Confirm, ref: str) -> bool:
    try:
        answer = confirm(f"Erase everything about {ref}? This cannot be undone. Type 'forget': ")
    except EOFError:  # no terminal to ask (a script): only --yes goes ahead
        print("\nno answer: add --yes to forget without being asked", file=sys.stderr)
        return False
    return answer.strip() == "forget"


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
        return f"uid {os.getuid()}"


def _write_export(document: dict[str, Any], path: Path | None, out: TextIO) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    if path is None:
        out.write(text)
        return
    # Personal data: readable by the owner only, created that way (no window with wider access).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    contact = document.get("contact") or {}
    print(f"contact {contact.get('id')} exported to {path}", file=out)


def _describe(report: ForgetReport) -> str:
    return (
        f"contact {report.contact_id} forgotten: {report.suppressed_messages} pending"
        f" message(s) suppressed, {report.ended_enrollments} enrollment(s) ended,"
        f" {report.closed_work} pending event(s)/survey(s) closed,"
        f" {report.erased_updates} raw update(s) erased,"
        f" {report.deleted_settings} link/token entr(ies) deleted"
    )
