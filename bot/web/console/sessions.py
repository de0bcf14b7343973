"""Signed session cookies, CSRF tokens and flash messages for the console.

Nothing is stored server-side: the cookie carries the agent id, when it was issued, a random
nonce (the CSRF token is derived from it) and a fingerprint of the agent's password hash, all
signed with HMAC-SHA256. The agent is re-read from the database on every request, so a
deactivated agent, or one whose password was changed or removed, is logged out at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain.clock import Clock

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)
FLASH_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Session:
    agent_id: int
    issued_at: int  # seconds since the epoch
    nonce: str
    password_tag: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_key_bytes(secret_key: str | None) -> bytes:
    """The configured key, or a random one for this process (with a warning)."""
    if secret_key:
        return secret_key.encode("utf-8")
    log.warning(
        "NUDGE_SECRET_KEY is not set: the agent console signs its sessions with a random key, "
        "so every agent is logged out when Nudge restarts, and several web processes would "
        "not accept each other's sessions. Set NUDGE_SECRET_KEY to a long random string."
    )
    return secrets.token_bytes(32)


def session_epoch_key(agent_id: int) -> str:
    """The settings key of an agent's session epoch: logging out replaces it."""
    return f"console:sessions:{agent_id}"


def with_epoch(password_hash: str | None, epoch: str | None) -> str | None:
    """What a session's fingerprint covers: the password hash and the agent's session epoch.

    Cookies are not stored server-side, so a copied cookie would outlive its logout; logging
    out replaces the epoch, which ends every session of that agent issued before it.
    """
    if not password_hash or epoch is None:
        return password_hash
    return f"{password_hash}#{epoch}"


class SessionCodec:
    """Issues and checks the console's signed values; one per process."""

    def __init__(
        self, secret_key: bytes, clock: Clock, lifetime: timedelta = SESSION_LIFETIME
    ) -> None:
        # One derived key per use: a value signed for one purpose never verifies for another.
        self._session_key = self._derive(secret_key, b"session")
        self._csrf_key = self._derive(secret_key, b"csrf")
        self._flash_key = self._derive(secret_key, b"flash")
        self._password_key = self._derive(secret_key, b"password")
        self._clock = clock
        self._lifetime = lifetime

    @staticmethod
    def _derive(secret_key: bytes, purpose: bytes) -> bytes:
        return hmac.new(secret_key, b"nudge-console:" + purpose, hashlib.sha256).digest()

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def password_tag(self, password_hash: str | None) -> str:
        data = (password_hash or "").encode("utf-8")
        return _b64(hmac.new(self._password_key, data, hashlib.sha256).digest()[:12])

    def issue(self, agent_id: int, password_hash: str | None) -> str:
        payload = {
            "a": agent_id,
            "t": self._now(),
            "n": _b64(secrets.token_bytes(18)),
            "p": self.password_tag(password_hash),
        }
        return self._sign(self._session_key, payload)

    def read(self, cookie: str | None) -> Session | None:
        """The session in `cookie`, or None when it is missing, forged or expired."""
        payload = self._unsign(self._session_key, cookie)
        if payload is None:
            return None
        try:
            session = Session(
                int(payload["a"]), int(payload["t"]), str(payload["n"]), str(payload["p"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        age = self._now() - session.issued_at
        if age < -60 or age > self._lifetime.total_seconds():
            return None
        return session

    def matches_password(self, session: Session, password_hash: str | None) -> bool:
        if not password_hash:
            return False
        return hmac.compare_digest(session.password_tag, self.password_tag(password_hash))

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).digest())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(
            self.csrf_token(session).encode(), (token or "").encode()
        )

    def flash(self, message: str, ok: bool) -> str:
        return self._sign(self._flash_key, {"m": message, "ok": ok, "t": self._now()})

    def read_flash(self, cookie: str | None) -> tuple[str, bool] | None:
        payload = self._unsign(self._flash_key, cookie)
        if payload is None:
            return None
        try:
            if self._now() - int(payload["t"]) > FLASH_LIFETIME.total_seconds():
                return None
            return str(payload["m"]), bool(payload["ok"])
        except (KeyError, TypeError, ValueError):
            return None

    def _sign(self, key: bytes, payload: dict[str, object]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        signature = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
        return f"{body}.{signature}"

    def _unsign(self, key: bytes, value: str | None) -> dict[str, Any] | None:
        if not value or value.count(".") != 1:
            return None
        body, signature = value.split(".")
        expected = _b64(hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None
