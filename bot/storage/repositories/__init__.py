"""Repositories: one module per aggregate, each implementing a port of `bot.domain.ports`."""

from bot.storage.repositories.agents import SqlAgentRepository
from bot.storage.repositories.contacts import SqlContactRepository, SqlIdentityRepository
from bot.storage.repositories.conversations import SqlConversationRepository
from bot.storage.repositories.events import SqlConversationEventRepository
from bot.storage.repositories.handoffs import SqlHandoffRepository
from bot.storage.repositories.held_replies import SqlHeldReplyRepository
from bot.storage.repositories.inbound import SqlInboundRepository
from bot.storage.repositories.kb import SqlKbInteractionRepository
from bot.storage.repositories.messages import SqlMessageRepository
from bot.storage.repositories.outbox import STALE_SENDING_REASON, SqlOutboxRepository
from bot.storage.repositories.settings import SqlKeyValueRepository

__all__ = [
    "STALE_SENDING_REASON",
    "SqlAgentRepository",
    "SqlContactRepository",
    "SqlConversationEventRepository",
    "SqlConversationRepository",
    "SqlHandoffRepository",
    "SqlHeldReplyRepository",
    "SqlIdentityRepository",
    "SqlInboundRepository",
    "SqlKbInteractionRepository",
    "SqlKeyValueRepository",
    "SqlMessageRepository",
    "SqlOutboxRepository",
]
