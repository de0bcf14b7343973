"""Plain data the fake server keeps: users, bots, groups, topics, sent messages, calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(slots=True)
class FakeUser:
    """A Telegram user (or a bot's own user record when ``is_bot``)."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    @property
    def id(self) -> int:
        return self.user_id

    def to_dict(self) -> JsonDict:
        """The Bot API ``User`` object."""
        data: JsonDict = {"id": self.user_id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> JsonDict:
        """The Bot API ``Chat`` object of the private chat with this user."""
        data: JsonDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass(frozen=True, slots=True)
class FakeBot:
    """A registered bot token and the bot's own user."""

    token: str
    user: FakeUser

    @property
    def id(self) -> int:
        return self.user.user_id

    @property
    def username(self) -> str | None:
        return self.user.username


@dataclass(slots=True)
class ForumTopic:
    """A topic of a forum supergroup; ``thread_id`` is its ``message_thread_id``."""

    thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_dict(self) -> JsonDict:
        data: JsonDict = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass(slots=True)
class FakeGroup:
    """A group or supergroup every bot on the server is a member (and admin) of."""

    chat_id: int
    title: str
    is_forum: bool = False
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    username: str | None = None
    topics: dict[int, ForumTopic] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def id(self) -> int:
        return self.chat_id

    @property
    def chat_type(self) -> str:
        return "supergroup" if self.is_forum or str(self.chat_id).startswith("-100") else "group"

    def chat_dict(self) -> JsonDict:
        """The Bot API ``Chat`` object."""
        data: JsonDict = {"id": self.chat_id, "type": self.chat_type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


Chat = FakeUser | FakeGroup


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent. ``text``/``plain_text``/``reply_markup`` are the current content.

    ``text`` is the raw text as sent (with markup), ``plain_text`` the visible text after
    entity parsing; ``edits`` holds the raw text of every editMessageText in order and
    ``original_text`` the text first sent. ``at`` is ``time.monotonic()`` when it was accepted.
    """

    token: str
    chat_id: int
    message_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: JsonDict | None
    thread_id: int | None
    at: float
    date: int
    entities: list[JsonDict] = field(default_factory=list)
    original_text: str = ""
    edits: list[str] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    params: JsonDict = field(default_factory=dict)

    def to_json(self) -> JsonDict:
        """A JSON-friendly summary (used by the HTTP control API)."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "text": self.text,
            "plain_text": self.plain_text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "thread_id": self.thread_id,
            "at": self.at,
            "date": self.date,
            "edits": list(self.edits),
            "deleted": self.deleted,
        }


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request to ``/bot{token}/{method}``; ``status`` 0 means no answer was sent.

    ``port``: the server's port the request came in on. The server can listen on several
    (``listen_also``), which tells apart clients given different addresses (two processes of
    one bot, say)."""

    token: str
    method: str
    params: JsonDict
    status: int
    at: float
    description: str | None = None
    fault: str | None = None
    port: int | None = None

    def to_json(self) -> JsonDict:
        """A JSON-friendly summary without the parameters (used by the HTTP control API)."""
        return {
            "method": self.method,
            "status": self.status,
            "at": self.at,
            "port": self.port,
            "description": self.description,
            "fault": self.fault,
        }


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of an update to the webhook; ``status`` 0 means the connection failed."""

    update_id: int | None
    status: int
    at: float
    error: str | None = None


@dataclass(slots=True)
class CallbackAnswer:
    """A callback query issued by :meth:`press_button` and how the bot answered it."""

    query_id: str
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
