"""Shared pieces of the benchmarks: processes, CPU time, the fake Bot API, waiting.

Figures are printed as ratios against a reference run in the same script on the same machine,
because absolute numbers on a shared 2-core box mean little.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine() -> str:
    cpu = "unknown cpu"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def spawn(args: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        args, env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_http(url: str, process: subprocess.Popen[bytes], limit: float = 60) -> None:
    """Poll until a freshly started server answers (a benchmark may poll; tests never do)."""
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"process exited early ({process.returncode}):\n{err[-3000:]}")
            try:
                async with http.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {limit}s")


def start_fake_server(port: int, tokens: list[str], users: int) -> subprocess.Popen[bytes]:
    """The fake Bot API in its own process, with `users` private chats known to every bot."""
    spec = json.dumps({"port": port, "tokens": tokens, "users": users})
    return spawn([sys.executable, str(ROOT / "bench" / "_fake_server.py"), spec])


async def fake_stats(base: str, token: str, window: float | None = None) -> dict[str, object]:
    url = f"{base}/_fake/stats?token={token}"
    if window is not None:
        url += f"&window={window}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        body = await resp.json()
    return dict(body["result"])


async def wait_messages(base: str, token: str, count: int, limit: float = 300) -> float:
    """Wait until the fake server has recorded `count` messages from `token`; returns when."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = await fake_stats(base, token)
        if int(str(stats["messages"])) >= count:
            return time.monotonic()
        await asyncio.sleep(0.05)
    stats = await fake_stats(base, token)
    raise TimeoutError(f"only {stats['messages']} of {count} messages arrived: {stats}")


def rss_mb() -> float:
    """Resident memory of this process now, in MB (VmRSS from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_rss_mb() -> float:
    """The largest resident memory this process has had, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StallMeter:
    """The longest time the event loop did not run a task that only sleeps `interval` seconds
    in a loop: the gap between two of its wake-ups (so at least `interval`). While the loop is
    free the gap stays near `interval`; a callback that holds the loop stretches it."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.longest = 0.0
        self._last = time.perf_counter()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # let it take its first reading before the work starts
        return self

    async def __aexit__(self, *exc: object) -> None:
        # The stall that ends with the work has not woken the ticker yet: count it here.
        self.longest = max(self.longest, time.perf_counter() - self._last)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        self._last = time.perf_counter()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            self.longest = max(self.longest, now - self._last)
            self._last = now


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A temp database on the local PostgreSQL (its SQLAlchemy URL), dropped afterwards; None
    when the server is unreachable. For synchronous code: it runs its own event loops."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"nudge_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to connect: no PostgreSQL figures
        print(f"(PostgreSQL not reachable: {exc}; its rows are left out)")
        yield None
        return
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
