"""Fixtures of the console tests: `site` (the running console), `http` (a client with a cookie
jar), and the web chat tests' Chromium `page` (Debian's /usr/bin/chromium; a test fails on any
JavaScript error in it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.domain.clock import FakeClock
from bot.storage import Storage
from tests.web.console.harness import Site, start_site
from tests.web.test_webchat_routes import page  # noqa: F401  (a fixture, shared)


@pytest.fixture
async def site(sqlite_storage: Storage, clock: FakeClock) -> AsyncIterator[Site]:
    running = await start_site(sqlite_storage, clock)
    try:
        yield running
    finally:
        assert running.runner is not None
        await running.runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe: the server is 127.0.0.1, whose cookies aiohttp's jar refuses by default.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session
