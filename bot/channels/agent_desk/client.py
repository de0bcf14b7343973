"""Builds the desk's python-telegram-bot `Bot` and handler-only `Application`.

The `Application` gets no `Updater`: the desk runs its own getUpdates loop (`desk.py`) so that
the offset is stored in our database together with what each update did. PTB's Updater keeps
the offset in memory and confirms updates to Telegram before handlers have finished, so a crash
would lose an agent's reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.handoff.policy import HandoffPolicy

DeskApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """What the desk needs to run; `from_settings` reads it from Nudge's settings."""

    token: str
    group_chat_id: int
    api_server: str = "https://api.telegram.org"
    request_timeout: float = 15.0
    poll_timeout: int = 25  # long polling: seconds Telegram may hold getUpdates open
    transcript_messages: int = 10
    teams: tuple[str, ...] = ()  # offered on the Transfer keyboard, besides the agents
    wake_seconds: float = 5.0  # the projector also looks for new events this often
    max_attempts: int = 5  # tries per event / update before it is skipped and logged

    @classmethod
    def from_settings(cls, settings: Settings, policy: HandoffPolicy) -> DeskConfig | None:
        """None when the desk is off: no `NUDGE_AGENT_DESK_TOKEN` or no `handoff.desk` group."""
        token = settings.secrets.agent_desk_token
        group = policy.desk.group_chat_id
        if token is None or group is None or not policy.enabled:
            return None
        return cls(
            token=token.get_secret_value(),
            group_chat_id=group,
            api_server=settings.telegram.api_server,
            request_timeout=settings.telegram.request_timeout_seconds,
            poll_timeout=settings.telegram.polling_timeout_seconds,
            transcript_messages=policy.desk.transcript_messages,
            teams=policy.team_names,
        )


def build_bot(config: DeskConfig) -> Bot:
    base = config.api_server.rstrip("/")
    timeout = config.request_timeout
    request = HTTPXRequest(
        connection_pool_size=8, read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout
    )
    # getUpdates holds the connection open for the poll time: its read timeout must outlast it.
    polling = HTTPXRequest(
        connection_pool_size=1,
        read_timeout=config.poll_timeout + timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
    )
    return Bot(
        config.token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=polling,
    )


def build_application(bot: Bot) -> DeskApplication:
    """Handlers only: updates are fed in by the desk's own loop through `process_update`."""
    # No JobQueue either: timers are the hand-off service's, run by Nudge's scheduler.
    app: DeskApplication = ApplicationBuilder().bot(bot).updater(None).job_queue(None).build()
    return app
