"""What `nudge contacts forget` and `export` cost on a large database, against one full scan.

Raw inbound updates carry no contact id, so a forget finds the person's updates with one text
match over `inbound_updates.payload` per Telegram id or web chat token they have. The reference
is that one scan, run alone (`SELECT count(*) ... WHERE CAST(payload AS TEXT) LIKE ...`): the
ratio says how many such scans a whole forget (or export) is worth, on the same database.

    .venv/bin/python bench/privacy.py --users 5000 --updates-per-user 10
    .venv/bin/python bench/privacy.py --postgres postgresql+asyncpg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.clock import FakeClock
from bot.privacy import PrivacyService, parse_person_ref
from bot.storage.tables import (
    channel_identities,
    contacts,
    conversations,
    inbound_updates,
    messages,
)
from bot.storage.uow import Storage

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST_USER = 700_000_000


def _update(user: int, update_id: int) -> dict[str, Any]:
    person = {"id": user, "is_bot": False, "first_name": f"User {user}", "username": f"u{user}"}
    chat = {"id": user, "type": "private", "first_name": f"User {user}"}
    text = f"message {update_id} about order {update_id * 7}"
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 1767600000,
            "from": person, "chat": chat, "text": text}}  # fmt: skip


async def seed(storage: Storage, users: int, per_user: int) -> None:
    async with storage.engine.begin() as conn:
        await conn.execute(contacts.insert(), [
            {"id": n + 1, "display_name": f"User {n}", "opted_out": False, "blocked": False,
             "attributes": {}, "created_at": AT, "updated_at": AT} for n in range(users)
        ])  # fmt: skip
        await conn.execute(channel_identities.insert(), [
            {"contact_id": n + 1, "channel": "telegram", "external_id": str(FIRST_USER + n),
             "address": str(FIRST_USER + n), "blocked": False} for n in range(users)
        ])  # fmt: skip
        await conn.execute(conversations.insert(), [
            {"id": n + 1, "contact_id": n + 1, "status": "bot", "channel": "telegram",
             "opened_at": AT, "updated_at": AT} for n in range(users)
        ])  # fmt: skip
        for start in range(0, users * per_user, 10_000):
            rows = range(start, min(start + 10_000, users * per_user))
            await conn.execute(inbound_updates.insert(), [
                {"channel": "telegram", "external_key": str(i + 1), "status": "processed",
                 "payload": _update(FIRST_USER + i % users, i + 1), "received_at": AT}
                for i in rows
            ])  # fmt: skip
            await conn.execute(messages.insert(), [
                {"conversation_id": i % users + 1, "contact_id": i % users + 1, "direction": "in",
                 "sender": "customer", "channel": "telegram", "text": f"text {i}",
                 "created_at": AT} for i in rows
            ])  # fmt: skip


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def one_round(storage: Storage, service: PrivacyService, user: int) -> tuple[float, ...]:
    """Seconds for: one payload scan for the user's id, their export, their forget."""
    needle = f"%{user}%"
    scan = sa.select(sa.func.count()).where(
        sa.cast(inbound_updates.c.payload, sa.Text).like(needle)
    )

    async def one_scan() -> None:
        async with storage.engine.connect() as conn:
            await conn.execute(scan)

    ref = parse_person_ref(f"telegram:{user}")
    return (
        await timed(one_scan),
        await timed(lambda: service.export(ref, "bench")),
        await timed(lambda: service.forget(ref, "bench")),
    )


async def run(url: str, users: int, per_user: int, rounds: int) -> None:
    storage = Storage(url, clock=FakeClock(AT))
    try:
        await storage.upgrade()
        started = time.perf_counter()
        await seed(storage, users, per_user)
        print(f"{storage.dialect}: {users} contacts, {users * per_user} raw updates and messages"
              f" (seeded in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        service = PrivacyService(storage.uow, storage.clock)
        scans, exports, forgets = [], [], []
        for round_ in range(rounds):
            scan, export, forget = await one_round(storage, service, FIRST_USER + 17 + round_)
            scans.append(scan)
            exports.append(export)
            forgets.append(forget)
        scan_s = statistics.median(scans)
        for label, values in (("one payload scan (reference)", scans), ("export", exports),
                              ("forget", forgets)):  # fmt: skip
            median = statistics.median(values)
            print(f"  {label:<30} median {median * 1000:8.1f} ms   ratio {median / scan_s:5.2f}")
    finally:
        await storage.dispose()


async def postgres_database(server: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg  # type: ignore[import-untyped]

    base = sa.make_url(server)
    name = f"nudge_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    return base.set(database=name).render_as_string(hide_password=False), drop


async def main_async(args: argparse.Namespace) -> None:
    if args.postgres:
        url, drop = await postgres_database(args.postgres)
        try:
            await run(url, args.users, args.updates_per_user, args.rounds)
        finally:
            await drop()
        return
    with tempfile.TemporaryDirectory() as folder:
        await run(f"sqlite+aiosqlite:///{folder}/bench.db", args.users, args.updates_per_user,
                  args.rounds)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--updates-per-user", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="people forgotten, one by one")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run there instead")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
