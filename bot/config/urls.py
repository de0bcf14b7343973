"""Checks and small edits for the URLs in the settings. Never echo a password back."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


def check_database_url(url: str) -> str:
    scheme, sep, _ = url.strip().partition("://")
    if not sep or scheme.lower() not in DATABASE_SCHEMES:
        shown = f"'{scheme}'" if sep else "no scheme"
        raise ValueError(
            f"unsupported database URL ({shown}): use sqlite+aiosqlite:///path/to/file.db"
            " or postgresql+asyncpg://user@host/dbname"
        )
    return url.strip()


def url_has_password(url: str) -> bool:
    return urlsplit(url).password is not None


def url_user(url: str) -> str | None:
    return urlsplit(url).username


def with_password(url: str, password: str) -> str:
    """`url` with `password` put after the user name (the URL must name a user)."""
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo}:{quote(password, safe='')}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


def redact_password(url: str) -> str:
    """`url` with any password replaced by `***`, safe to log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def check_http_url(url: str) -> str:
    """An absolute http(s) base URL, returned without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute URL starting with https:// (or http://)")
    if parts.query or parts.fragment:
        raise ValueError("must be a base URL without ?query or #fragment")
    return url.strip().rstrip("/")


def check_origin(origin: str) -> str:
    """A browser origin: scheme, host and optional port, nothing else."""
    cleaned = origin.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise ValueError(f"'{origin}' is not an origin: write it like https://shop.example.com")
    if parts.query or parts.fragment or parts.username:
        raise ValueError(f"'{origin}' is not an origin: write it like https://shop.example.com")
    return cleaned
