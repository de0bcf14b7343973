"""Console passwords: scrypt (stdlib) with a random salt per password.

The stored string carries its own parameters, `scrypt$n$r$p$salt$hash` (salt and hash in
unpadded base64url), so the cost can be raised later without breaking the old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N = 2**15  # ~50 ms and 32 MiB per check: slow for a guesser, quick for a person logging in
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# A hash string from the database must not make a login cost seconds or gigabytes.
MAX_N = 2**20
MAX_R = 32
MAX_P = 16
MIN_PASSWORD_LENGTH = 8


class PasswordError(ValueError):
    """A password that may not be set (too short, blank)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
        maxmem=256 * n * r * p,
    )  # fmt: skip


def check_password_rules(password: str) -> None:
    """Raise PasswordError when `password` is too weak to set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise PasswordError("a password may not be blank")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, HASH_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for no hash or a malformed one.

    With no usable hash a dummy one is checked anyway, so the time taken does not tell a
    guesser which agents exist or have a password.
    """
    parsed = _parse(stored) if stored else None
    if parsed is None:
        _scrypt(password, b"\0" * SALT_BYTES, N, R, P, HASH_BYTES)
        return False
    n, r, p, salt, expected = parsed
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None
    power_of_two = n > 1 and n & (n - 1) == 0
    if not (power_of_two and n <= MAX_N and 0 < r <= MAX_R and 0 < p <= MAX_P):
        return None
    if not salt or len(digest) < 16:
        return None
    return n, r, p, salt, digest
