"""A PostgreSQL instance of a test's own, to stop and start on purpose (the shared one at
127.0.0.1:5432 serves everyone else and must stay up).

`initdb` refuses to run as root, so when we are root the instance belongs to the `postgres` OS
user: its folder is made in /tmp (pytest's tmp folders are private to root) and handed over.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.scaleout.cluster import free_port

SEARCH = [Path("/usr/local/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def postgres_tool(name: str) -> str | None:
    """The path of `initdb` / `pg_ctl`, or None when this machine has none."""
    found = shutil.which(name)
    if found:
        return found
    for folder in SEARCH:
        if (folder / name).exists():
            return str(folder / name)
    return None


def missing_tools() -> str | None:
    """Why an own instance cannot be made here (for pytest.skip), or None when it can."""
    missing = [name for name in ("initdb", "pg_ctl") if postgres_tool(name) is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH or in /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root"
    return None


@dataclass
class OwnPostgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *arguments: str) -> None:
        command = list(arguments)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr}{tail}")

    def start(self) -> None:
        # fsync off: a test's data need not survive a power cut, and fsync is slow on a
        # shared disk. The socket folder is our own, so no other instance's is touched.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off"
        )
        pg_ctl = str(postgres_tool("pg_ctl"))
        log = str(self.folder / "server.log")
        self._run(pg_ctl, "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = str(postgres_tool("pg_ctl"))
        self._run(pg_ctl, "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        """Stop it whatever state it is in, and remove every file of it."""
        pid_file = self.folder / "data" / "postmaster.pid"
        if pid_file.exists():
            # Already stopping or gone: the folder goes anyway.
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def create_own_postgres() -> OwnPostgres:
    """initdb into a fresh folder, on a free port; not started yet."""
    folder = Path(tempfile.mkdtemp(prefix="nudge-own-pg-"))
    instance = OwnPostgres(folder, free_port())
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        initdb = str(postgres_tool("initdb"))
        data = str(folder / "data")
        instance._run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return instance
