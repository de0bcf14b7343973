"""The request signature both directions use: HMAC-SHA256 over "<timestamp>." + raw body.

The timestamp is signed with the body, so a captured request cannot be replayed outside the
window; an event's id makes a replay inside it harmless (stored once).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-Nudge-Timestamp"
SIGNATURE_HEADER = "X-Nudge-Signature"
SCHEME = "sha256="
MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` for `body` sent at `timestamp` (unix seconds)."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """The two headers that sign `body` at `now`."""
    timestamp = int(now.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    now: datetime,
    max_skew_seconds: int = MAX_SKEW_SECONDS,
) -> str | None:
    """None when the headers sign `body` within the replay window, else what is wrong."""
    if not timestamp:
        return f"missing {TIMESTAMP_HEADER} header (unix seconds)"
    if not given:
        return f"missing {SIGNATURE_HEADER} header (sha256=<hex>)"
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        return f"{TIMESTAMP_HEADER} must be unix seconds, like 1767603600"
    skew = abs(int(now.timestamp()) - sent_at)
    if skew > max_skew_seconds:
        return (
            f"{TIMESTAMP_HEADER} is {skew} s away from the server's clock"
            f" (at most {max_skew_seconds} s): check the sender's clock, do not replay requests"
        )
    if not given.strip().startswith(SCHEME):
        return f"{SIGNATURE_HEADER} must look like sha256=<hex>"
    expected = signature(secret, sent_at, body)
    # compare_digest: the time taken does not tell an attacker how many characters matched.
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        return f"{SIGNATURE_HEADER} does not match: sign '<timestamp>.' + the raw body"
    return None
