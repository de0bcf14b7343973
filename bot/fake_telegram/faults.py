"""Injected faults: scripted (per method/chat, N times) and random (for load tests)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from bot.fake_telegram.errors import (
    BLOCKED_DESCRIPTION,
    ApiError,
    bad_request,
    forbidden,
    server_error,
    too_many_requests,
)


class FaultKind(StrEnum):
    RETRY_AFTER = "retry_after"
    BLOCKED = "blocked"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    SLOW = "slow"
    DROP_AFTER_READ = "drop_after_read"


@dataclass(frozen=True, slots=True)
class Fault:
    """What goes wrong with one request. Build with the class methods."""

    kind: FaultKind
    seconds: float = 0.0
    status: int = 500
    description: str = ""

    @classmethod
    def retry_after(cls, seconds: int = 1) -> Fault:
        """429 Too Many Requests with ``parameters.retry_after`` (whole seconds, >= 1)."""
        if int(seconds) != seconds or seconds < 1:
            raise ValueError("Telegram's retry_after is a whole number of seconds >= 1")
        return cls(FaultKind.RETRY_AFTER, seconds=seconds)

    @classmethod
    def blocked(cls) -> Fault:
        """403 Forbidden: bot was blocked by the user."""
        return cls(FaultKind.BLOCKED, status=403)

    @classmethod
    def bad_request(cls, description: str = "fault injected") -> Fault:
        """400 Bad Request with the given description."""
        return cls(FaultKind.BAD_REQUEST, status=400, description=description)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx answer (500 Internal Server Error, 502 Bad Gateway...)."""
        if not 500 <= status <= 599:
            raise ValueError("server_error status must be 5xx")
        return cls(FaultKind.SERVER_ERROR, status=status)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before handling the request, then answer normally."""
        return cls(FaultKind.SLOW, seconds=seconds)

    @classmethod
    def drop_after_read(cls) -> Fault:
        """Handle the request (a message IS recorded as sent), then close without answering."""
        return cls(FaultKind.DROP_AFTER_READ)

    def error(self) -> ApiError | None:
        """The error answer of this fault, or None for slow/drop faults."""
        if self.kind is FaultKind.RETRY_AFTER:
            return too_many_requests(int(self.seconds))
        if self.kind is FaultKind.BLOCKED:
            return forbidden(BLOCKED_DESCRIPTION)
        if self.kind is FaultKind.BAD_REQUEST:
            text = self.description
            return ApiError(400, text) if text.startswith("Bad Request") else bad_request(text)
        if self.kind is FaultKind.SERVER_ERROR:
            return server_error(self.status)
        return None


@dataclass(slots=True)
class FaultRule:
    """A scripted fault: matches method (lower-case, None = any), chat and token."""

    fault: Fault
    method: str | None
    remaining: int | None
    chat_id: int | str | None = None
    token: str | None = None

    def matches(self, token: str, method: str, chat_id: object) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.token is None or self.token == token)
            and (self.chat_id is None or self.chat_id == chat_id)
        )


@dataclass(slots=True)
class RandomFaults:
    """Probabilities (0..1) of faults per matching request."""

    retry_after: float = 0.0
    server_error: float = 0.0
    drop: float = 0.0
    methods: frozenset[str] = frozenset({"sendmessage"})
    retry_after_seconds: int = 1
    server_error_status: int = 500


class FaultInjector:
    """Decides which fault, if any, hits a request. Cheap when nothing is configured."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.random: RandomFaults | None = None
        self._rng = random.Random()

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()
        self.random = None

    def set_random(self, config: RandomFaults | None, seed: int | None = None) -> None:
        self.random = config
        self._rng = random.Random(seed)

    def pick(self, token: str, method: str, chat_id: object) -> Fault | None:
        """The fault for this request (consuming one use of a scripted rule)."""
        if self.rules:
            for index, rule in enumerate(self.rules):
                if rule.matches(token, method, chat_id):
                    self._consume(index, rule)
                    return rule.fault
        if self.random is not None and method in self.random.methods:
            return self._draw(self.random)
        return None

    def _consume(self, index: int, rule: FaultRule) -> None:
        if rule.remaining is None:
            return
        rule.remaining -= 1
        if rule.remaining <= 0:
            del self.rules[index]

    def _draw(self, config: RandomFaults) -> Fault | None:
        roll = self._rng.random()
        if roll < config.retry_after:
            return Fault.retry_after(config.retry_after_seconds)
        roll -= config.retry_after
        if roll < config.server_error:
            return Fault.server_error(config.server_error_status)
        roll -= config.server_error
        if roll < config.drop:
            return Fault.drop_after_read()
        return None
