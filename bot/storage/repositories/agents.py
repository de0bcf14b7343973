"""Agents: the people who take over chats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy.sql import Executable

from bot.domain.clock import Clock
from bot.domain.handoff import Agent, AgentRole, HandoffStatus
from bot.storage.repositories._base import (
    Connection,
    InsertFactory,
    PerDialect,
    SqlRepository,
    binds,
)
from bot.storage.tables import agents, handoffs

# What an upsert takes from the config entry; the rest of an existing agent is the database's.
_PROFILE = ("name", "role", "telegram_user_id", "languages", "teams", "max_chats", "trainee")
_PROFILE_WITH_ACTIVE = (*_PROFILE, "active")
_INSERTED = (*_PROFILE_WITH_ACTIVE, "key", "password_hash", "last_assigned_at", "created_at")
# The load the assignment balances: chats offered to the agent count, they are reserved.
_BUSY_STATUSES = [HandoffStatus.OFFERED.value, HandoffStatus.ACTIVE.value]


def _build_upsert(insert: InsertFactory) -> Executable:
    statement = insert(agents).values(binds(agents, *_INSERTED, "updated_at"))
    # The id, the password hash and the round-robin mark are kept: a restart that re-reads
    # config.yaml must not lock agents out of the console or reshuffle the rotation.
    updated = {name: statement.excluded[name] for name in (*_PROFILE_WITH_ACTIVE, "updated_at")}
    return statement.on_conflict_do_update(index_elements=[agents.c.key], set_=updated).returning(
        agents
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_GET = select(agents).where(agents.c.id == bindparam("agent_id"))
_GET_BY_KEY = select(agents).where(agents.c.key == bindparam("agent_key"))
_GET_BY_TELEGRAM_USER = select(agents).where(agents.c.telegram_user_id == bindparam("user_id"))
_LIST = {
    False: select(agents).order_by(agents.c.id),
    True: select(agents).where(agents.c.active.is_(True)).order_by(agents.c.id),
}
_UPSERT = PerDialect(_build_upsert)
_SET_PASSWORD_HASH = (
    agents.update()
    .where(agents.c.id == bindparam("agent_id"))
    .values(binds(agents, "password_hash", "updated_at"))
)
_SET_ACTIVE = (
    agents.update()
    .where(agents.c.id == bindparam("agent_id"))
    .values(binds(agents, "active", "updated_at"))
)
_MARK_ASSIGNED = (
    agents.update()
    .where(agents.c.id == bindparam("agent_id"))
    .values(binds(agents, "last_assigned_at"))
)
# One GROUP BY over every agent: an agent with no open chat is counted as 0, not left out.
_OPEN_CHAT_COUNTS = (
    select(agents.c.id, func.count(handoffs.c.id))
    .select_from(
        agents.outerjoin(
            handoffs,
            and_(handoffs.c.agent_id == agents.c.id, handoffs.c.status.in_(_BUSY_STATUSES)),
        )
    )
    .group_by(agents.c.id)
)


def _to_agent(row: Row[Any]) -> Agent:
    return Agent(
        id=row.id,
        key=row.key,
        name=row.name,
        role=AgentRole(row.role),
        telegram_user_id=row.telegram_user_id,
        languages=list(row.languages),
        teams=list(row.teams),
        max_chats=row.max_chats,
        trainee=row.trainee,
        active=row.active,
        password_hash=row.password_hash,
        last_assigned_at=row.last_assigned_at,
    )


class SqlAgentRepository(SqlRepository):
    def __init__(self, conn: Connection, clock: Clock) -> None:
        super().__init__(conn)
        self._clock = clock

    async def get(self, agent_id: int) -> Agent | None:
        row = (await self._conn.execute(_GET, {"agent_id": agent_id})).first()
        return _to_agent(row) if row is not None else None

    async def get_by_key(self, key: str) -> Agent | None:
        row = (await self._conn.execute(_GET_BY_KEY, {"agent_key": key})).first()
        return _to_agent(row) if row is not None else None

    async def get_by_telegram_user(self, telegram_user_id: int) -> Agent | None:
        params = {"user_id": telegram_user_id}
        row = (await self._conn.execute(_GET_BY_TELEGRAM_USER, params)).first()
        return _to_agent(row) if row is not None else None

    async def list_all(self, active_only: bool = False) -> list[Agent]:
        return [_to_agent(row) for row in await self._conn.execute(_LIST[active_only])]

    async def upsert(self, agent: Agent) -> Agent:
        """Insert, or update the agent with the same key: its id, password hash and
        `last_assigned_at` are kept (`set_password_hash` and `mark_assigned` change those)."""
        now = self._clock.now()
        params: dict[str, Any] = {
            "key": agent.key,
            "name": agent.name,
            "role": agent.role.value,
            "telegram_user_id": agent.telegram_user_id,
            "languages": list(agent.languages),
            "teams": list(agent.teams),
            "max_chats": agent.max_chats,
            "trainee": agent.trainee,
            "active": agent.active,
            "password_hash": agent.password_hash,
            "last_assigned_at": agent.last_assigned_at,
            "created_at": now,
            "updated_at": now,
        }
        return _to_agent((await self._conn.execute(_UPSERT.of(self._conn), params)).one())

    async def set_password_hash(self, agent_id: int, password_hash: str | None) -> None:
        params = {
            "agent_id": agent_id,
            "password_hash": password_hash,
            "updated_at": self._clock.now(),
        }
        await self._conn.execute(_SET_PASSWORD_HASH, params)

    async def set_active(self, agent_id: int, active: bool) -> None:
        params = {"agent_id": agent_id, "active": active, "updated_at": self._clock.now()}
        await self._conn.execute(_SET_ACTIVE, params)

    async def mark_assigned(self, agent_id: int, at: datetime) -> None:
        await self._conn.execute(_MARK_ASSIGNED, {"agent_id": agent_id, "last_assigned_at": at})

    async def open_chat_counts(self) -> dict[int, int]:
        """Every agent's id -> hand-offs OFFERED to or ACTIVE with them (0 for none)."""
        rows: list[Any] = list(await self._conn.execute(_OPEN_CHAT_COUNTS))
        return {int(agent_id): int(count) for agent_id, count in rows}
