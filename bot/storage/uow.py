"""The unit of work (one transaction) and `Storage`, the object the application holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import Clock, SystemClock
from bot.domain.event_ports import ApiEventRepository, WebhookDeliveryRepository
from bot.domain.funnel_ports import CouponRepository, EnrollmentRepository, FunnelLogRepository
from bot.domain.ports import (
    AgentRepository,
    ContactRepository,
    ConversationEventRepository,
    ConversationRepository,
    HandoffRepository,
    HeldReplyRepository,
    IdentityRepository,
    InboundRepository,
    KbInteractionRepository,
    KeyValueRepository,
    LeaseRepository,
    MessageRepository,
    OutboxRepository,
    UnitOfWorkFactory,
)
from bot.domain.report_ports import ReportRepository
from bot.domain.scan_ports import FunnelScanRepository
from bot.domain.survey_ports import SurveyResponseRepository
from bot.storage.checkpoints import WalCheckpointer
from bot.storage.engine import DEFAULT_DATABASE_URL, create_engine
from bot.storage.errors import StorageUnavailableError
from bot.storage.migrate import current_revision_of, head_revision, upgrade_engine
from bot.storage.repositories import (
    SqlAgentRepository,
    SqlContactRepository,
    SqlConversationEventRepository,
    SqlConversationRepository,
    SqlHandoffRepository,
    SqlHeldReplyRepository,
    SqlIdentityRepository,
    SqlInboundRepository,
    SqlKbInteractionRepository,
    SqlKeyValueRepository,
    SqlMessageRepository,
    SqlOutboxRepository,
)
from bot.storage.repositories._base import Connection
from bot.storage.repositories.api_events import SqlApiEventRepository
from bot.storage.repositories.coupons import SqlCouponRepository
from bot.storage.repositories.enrollments import SqlEnrollmentRepository
from bot.storage.repositories.funnel_log import SqlFunnelLogRepository
from bot.storage.repositories.funnel_scans import SqlFunnelScanRepository
from bot.storage.repositories.leases import SqlLeaseRepository
from bot.storage.repositories.privacy import SqlPrivacyRepository
from bot.storage.repositories.reports import SqlReportRepository
from bot.storage.repositories.surveys import SqlSurveyResponseRepository
from bot.storage.repositories.webhooks import SqlWebhookDeliveryRepository
from bot.storage.sqlite_inline import InlineSqliteEngine


class TransactionalConnection(Connection, Protocol):
    """A connection a unit of work can own: AsyncConnection or InlineSqliteConnection."""

    def in_transaction(self) -> bool: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


Connect = Callable[[], Awaitable[TransactionalConnection]]


class SqlUnitOfWork:
    """One connection and one transaction; repositories are bound to it.

    Use as `async with storage.uow() as uow: ...; await uow.commit()`. Leaving the block without
    `commit()` (or with an exception) rolls back. After `commit()` the unit of work stays usable:
    the next statement starts a new transaction, which again needs a `commit()`.
    """

    contacts: ContactRepository
    identities: IdentityRepository
    conversations: ConversationRepository
    messages: MessageRepository
    outbox: OutboxRepository
    inbound: InboundRepository
    settings: KeyValueRepository
    kb: KbInteractionRepository
    agents: AgentRepository
    handoffs: HandoffRepository
    events: ConversationEventRepository
    held_replies: HeldReplyRepository
    api_events: ApiEventRepository
    webhooks: WebhookDeliveryRepository
    enrollments: EnrollmentRepository
    coupons: CouponRepository
    funnel_log: FunnelLogRepository
    funnel_scans: FunnelScanRepository
    surveys: SurveyResponseRepository
    leases: LeaseRepository
    reports: ReportRepository
    privacy: SqlPrivacyRepository

    def __init__(self, connect: Connect, clock: Clock) -> None:
        self._connect = connect
        self._clock = clock
        self._conn: TransactionalConnection | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already in use")
        conn = await self._connect()
        self._conn = conn
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        self.contacts = SqlContactRepository(conn, self._clock)
        self.identities = SqlIdentityRepository(conn)
        self.conversations = SqlConversationRepository(conn)
        self.messages = SqlMessageRepository(conn)
        self.outbox = SqlOutboxRepository(conn, self._clock)
        self.inbound = SqlInboundRepository(conn)
        self.settings = SqlKeyValueRepository(conn)
        self.kb = SqlKbInteractionRepository(conn)
        self.agents = SqlAgentRepository(conn, self._clock)
        self.handoffs = SqlHandoffRepository(conn)
        self.events = SqlConversationEventRepository(conn)
        self.held_replies = SqlHeldReplyRepository(conn)
        self.api_events = SqlApiEventRepository(conn)
        self.webhooks = SqlWebhookDeliveryRepository(conn)
        self.enrollments = SqlEnrollmentRepository(conn)
        self.coupons = SqlCouponRepository(conn)
        self.funnel_log = SqlFunnelLogRepository(conn)
        self.funnel_scans = SqlFunnelScanRepository(conn)
        self.surveys = SqlSurveyResponseRepository(conn)
        self.leases = SqlLeaseRepository(conn)
        self.reports = SqlReportRepository(conn)
        self.privacy = SqlPrivacyRepository(conn)

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    def _connection(self) -> TransactionalConnection:
        if self._conn is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._conn

    async def commit(self) -> None:
        await self._connection().commit()

    async def rollback(self) -> None:
        await self._connection().rollback()


class Storage:
    """The database of one Nudge process: the engine, units of work, migrations."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, *, clock: Clock | None = None) -> None:
        self.engine: AsyncEngine = create_engine(url)
        self._inline: InlineSqliteEngine | None = None
        if self.engine.dialect.name == "sqlite":
            self._inline = InlineSqliteEngine(self.engine.url)
        # Used where a port method takes no time of its own (contact timestamps, reschedule).
        self.clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"Storage({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """The database kind: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._connect, self.clock)

    async def _connect(self) -> TransactionalConnection:
        if self._inline is not None:
            return await self._inline.connect()
        conn = await self.engine.connect()
        try:
            await conn.begin()
        except BaseException:
            await conn.close()
            raise
        return conn

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """`uow` typed as the port services take."""
        return self.uow

    def defer_wal_checkpoints(self) -> WalCheckpointer | None:
        """SQLite: commits stop checkpointing the WAL on the event loop; the caller must run the
        returned checkpointer's `checkpoint()` every second or so. None on PostgreSQL."""
        if self._inline is None:
            return None
        self._inline.defer_checkpoints()
        return WalCheckpointer(self._inline.path, uri=self._inline.path_is_uri)

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head."""
        await upgrade_engine(self.engine)

    async def current_revision(self) -> str | None:
        return await current_revision_of(self.engine)

    async def is_up_to_date(self) -> bool:
        return await self.current_revision() == head_revision()

    async def check_connection(self) -> None:
        """Raise StorageUnavailableError unless a trivial query succeeds."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailableError(f"{self!r} is not available: {exc}") from exc

    async def dispose(self) -> None:
        if self._inline is not None:
            self._inline.dispose()
        await self.engine.dispose()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()
