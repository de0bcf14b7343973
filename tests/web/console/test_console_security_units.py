"""Passwords, signed sessions, CSRF tokens and the login limiter, without a server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.web.console.passwords import (
    PasswordError,
    check_password_rules,
    hash_password,
    verify_password,
)
from bot.web.console.ratelimit import LoginLimiter
from bot.web.console.sessions import SessionCodec

FAST = {"n": 2**10}  # the same code path, without 50 ms per hash


def test_a_hash_carries_its_parameters_and_a_fresh_salt() -> None:
    first = hash_password("correct horse", **FAST)
    second = hash_password("correct horse", **FAST)
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    assert len(salt) >= 20 and len(digest) >= 40
    assert first != second  # a salt per password: equal passwords do not look equal
    assert verify_password("correct horse", first)
    assert verify_password("correct horse", second)
    assert not verify_password("correct horsf", first)
    assert not verify_password("", first)


def test_the_default_cost_is_real_scrypt() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse", stored)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "plain-text-password",
        "bcrypt$10$8$1$c2FsdA$aGFzaA",
        "scrypt$1000$8$1$c2FsdHNhbHQ$" + "A" * 43,  # n not a power of two
        "scrypt$2097152$8$1$c2FsdHNhbHQ$" + "A" * 43,  # n far too costly
        "scrypt$1024$8$1$$" + "A" * 43,  # no salt
        "scrypt$1024$8$1$c2FsdA$!!!",
    ],
)
def test_missing_or_malformed_hashes_never_match(stored: str | None) -> None:
    assert not verify_password("anything at all", stored)


def test_password_rules() -> None:
    check_password_rules("long enough")
    for weak in ("short", "        "):
        with pytest.raises(PasswordError):
            check_password_rules(weak)


def test_a_session_round_trips_and_expires() -> None:
    clock = FakeClock()
    codec = SessionCodec(b"k" * 32, clock, lifetime=timedelta(hours=12))
    cookie = codec.issue(7, "scrypt$hash-a")
    session = codec.read(cookie)
    assert session is not None and session.agent_id == 7
    assert codec.matches_password(session, "scrypt$hash-a")
    assert not codec.matches_password(session, "scrypt$hash-b")  # password changed
    assert not codec.matches_password(session, None)  # password removed
    clock.advance(timedelta(hours=11, minutes=59))
    assert codec.read(cookie) is not None
    clock.advance(timedelta(minutes=2))
    assert codec.read(cookie) is None


def test_forged_or_foreign_cookies_are_refused() -> None:
    clock = FakeClock()
    codec = SessionCodec(b"k" * 32, clock)
    other = SessionCodec(b"x" * 32, clock)
    cookie = codec.issue(7, "h")
    body, signature = cookie.split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for bad in (None, "", "garbage", other.issue(7, "h"), f"{forged_body}.{signature}",
                f"{body}.{signature}x", cookie + ".more"):  # fmt: skip
        assert codec.read(bad) is None
    flash = codec.flash("Sent.", True)
    assert codec.read(flash) is None  # a flash is not a session: keys differ per purpose
    assert codec.read_flash(flash) == ("Sent.", True)


def test_csrf_tokens_belong_to_one_session() -> None:
    codec = SessionCodec(b"k" * 32, FakeClock())
    one = codec.read(codec.issue(1, "h"))
    two = codec.read(codec.issue(1, "h"))
    assert one is not None and two is not None
    token = codec.csrf_token(one)
    assert codec.csrf_ok(one, token)
    assert not codec.csrf_ok(two, token)
    assert not codec.csrf_ok(one, None)
    assert not codec.csrf_ok(one, "")
    assert not codec.csrf_ok(one, token[:-1])


def test_the_login_limiter_counts_per_address_and_per_key() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(clock, window=timedelta(minutes=10), per_address=5, per_key=3)
    for _ in range(3):
        assert not limiter.blocked("10.0.0.1", "alice")
        limiter.failed("10.0.0.1", "Alice")
    assert limiter.blocked("10.0.0.9", "alice")  # the key, from anywhere
    assert not limiter.blocked("10.0.0.1", "bob")  # the address still has 2 tries
    limiter.failed("10.0.0.1", "bob")
    limiter.failed("10.0.0.1", "carol")
    assert limiter.blocked("10.0.0.1", "dave")  # 5 misses from one address
    clock.advance(timedelta(minutes=11))
    assert not limiter.blocked("10.0.0.1", "alice")
    limiter.failed("10.0.0.2", "erin")
    limiter.succeeded("erin")
    assert not limiter.blocked("10.0.0.3", "erin")
