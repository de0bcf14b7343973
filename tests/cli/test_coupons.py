"""`nudge coupons`: filling a pool from a file, refusing bad codes with their line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import nudge


def test_load_and_count_a_pool(tmp_path: Path) -> None:
    env = {"NUDGE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"}
    assert nudge("db", "upgrade", **env).returncode == 0
    codes = tmp_path / "codes.txt"
    codes.write_text("# spring sale\nSPRING-001\nSPRING-002\n\nSPRING-001\n")
    loaded = nudge("coupons", "load", "spring", str(codes), **env)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert loaded.stdout.splitlines() == [
        "spring: 2 new code(s), 0 already there", "spring: 2 free code(s)"
    ]  # fmt: skip
    again = nudge("coupons", "load", "spring", str(codes), **env)
    assert "0 new code(s), 2 already there" in again.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("GOOD-1\nnot a code!\n")
    refused = nudge("coupons", "load", "spring", str(bad), **env)
    assert refused.returncode == 1
    assert f"{bad}:2: 'not a code!' is not a code" in refused.stdout
    assert nudge("coupons", "count", "spring", **env).stdout.strip() == "spring: 2 free code(s)"
