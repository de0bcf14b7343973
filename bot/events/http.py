"""The HTTP side of outbound webhooks: one signed POST, its answer read as an outcome."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot import __version__

_ERROR_TEXT_LIMIT = 300
# Worth repeating: the receiver is down, overloaded, or asked us to slow down.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """`delivered`, or not, with the reason; `retry` when trying again may help, and how long
    the receiver asked us to wait (Retry-After), if it did."""

    delivered: bool
    reason: str = ""
    retry: bool = False
    retry_after: float | None = None


class WebhookSender:
    """Holds one aiohttp client session for every delivery (connections are reused)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._timeout_seconds = timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostOutcome:
        session = self._session_now()
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as r:
                if 200 <= r.status < 300:
                    return PostOutcome(delivered=True)
                text = (await r.text(errors="replace"))[:_ERROR_TEXT_LIMIT].strip()
                reason = f"HTTP {r.status}" + (f": {text}" if text else "")
                retry = r.status >= 500 or r.status in _RETRYABLE_STATUSES
                return PostOutcome(False, reason, retry, _retry_after(r.headers.get("Retry-After")))
        except TimeoutError:
            return PostOutcome(False, f"no answer within {self._timeout_seconds:g} s", retry=True)
        except (aiohttp.ClientError, OSError) as exc:
            return PostOutcome(False, f"connection failed: {exc or type(exc).__name__}", retry=True)

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": f"Nudge/{__version__} (webhooks)"}
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is rare from webhook receivers: ignored."""
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None
