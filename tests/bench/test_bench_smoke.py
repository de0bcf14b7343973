"""The quick benchmarks still run and print their comparison (the figures are bench/README's;
here only that the scripts work, on a tiny size, so that they do not rot between sessions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_triggers_bench_compares_the_index_with_every_phrase() -> None:
    out = run_bench("triggers.py", "--rounds", "1", "--repeat", "3")
    assert "every phrase at every word" in out and "phrase index" in out and "x less" in out


def test_enqueue_bench_stores_every_message_three_ways() -> None:
    # SQLite only: the PostgreSQL half creates a database of its own (bench/_support.py).
    out = run_bench("enqueue.py", "--messages", "30", "--batch", "10", "--rounds", "1",
                    "--skip-postgres")  # fmt: skip
    for design in ("rows", "enqueue", "batch"):
        assert f"  {design} " in out
    assert "SQLite" in out and "PostgreSQL" not in out
