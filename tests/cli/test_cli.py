"""The `nudge` command as a user runs it: a real subprocess, its output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def nudge(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NUDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    result = nudge("--help")
    assert result.returncode == 0
    for command in ("run", "db", "check", "fake-telegram"):
        assert command in result.stdout


def test_check_passes_on_the_shipped_files() -> None:
    result = nudge("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_check_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("web:\n  port: 99999\ndelivery:\n  global_per_secnd: 5\n")
    result = nudge("--config", str(config), "check")
    assert result.returncode == 1
    assert f"{config}:2:" in result.stdout or "config.yaml:2:" in result.stdout
    assert "config.yaml:4:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_reports_a_broken_template(tmp_path: Path) -> None:
    templates = tmp_path / "templates" / "en"
    templates.mkdir(parents=True)
    for name in ("greeting", "help", "stopped", "resubscribed", "fallback", "linked"):
        (templates / f"{name}.j2").write_text("Hello {{ name }}")
    (templates / "link_expired.j2").write_text("line one\n{{ name | nosuchfilter }}\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"bot:\n  templates_dir: {tmp_path / 'templates'}\n")
    result = nudge("--config", str(config), "check")
    assert result.returncode == 1
    assert "link_expired.j2" in result.stdout
    assert "nosuchfilter" in result.stdout


def test_run_refuses_a_bad_config_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("telegram:\n  mode: carrier-pigeon\n")
    result = nudge("--config", str(config), "run")
    assert result.returncode == 1
    assert "config.yaml:2:" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = nudge("db", "upgrade", cwd=tmp_path)  # no config.yaml there: the defaults
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "nudge.db").is_file()
    current = nudge("db", "current", cwd=tmp_path)
    assert current.stdout.strip() and "empty" not in current.stdout


async def test_run_serves_web_chat_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import asyncio
    import signal
    import socket

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NUDGE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(REPO),
            "NUDGE_WEB__PORT": str(port),
            "NUDGE_BOT__TEMPLATES_DIR": str(REPO / "templates"),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert f"http://127.0.0.1:{port}/" in line.decode()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                health = await resp.json()
                assert health["telegram"] is False
                assert health["articles"] == 0  # no knowledge_base/ in that folder
            async with http.get(f"http://127.0.0.1:{port}/") as resp:
                assert resp.status == 200
                assert "widget.js" in await resp.text()
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (tmp_path / "data" / "nudge.db").is_file()


def test_kb_check_reports_broken_articles_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "good.md").write_text("---\nid: a\ntitle: A\nlang: en\nquestions: [hi]\n---\nBody\n")
    (folder / "dup.md").write_text("---\nid: a\ntitle: B\nlang: en\nquestions: [yo]\n---\nBody\n")
    (folder / "broken.md").write_text("---\nid: [oops\n---\nBody\n")
    result = nudge("kb", "check", str(folder))
    assert result.returncode == 1
    assert "broken.md:2" in result.stdout
    assert "dup.md" in result.stdout and "good.md" in result.stdout
    clean = nudge("kb", "check", str(REPO / "knowledge_base"))
    assert clean.returncode == 0, clean.stdout


def test_kb_ask_prints_the_ranking_and_the_decision() -> None:
    result = nudge("kb", "ask", "сколько стоит доставка")
    assert result.returncode == 0, result.stderr
    assert "language: ru" in result.stdout
    assert "decision: answer -> delivery-cost-ru" in result.stdout


def test_kb_eval_json_on_a_small_benchmark(tmp_path: Path) -> None:
    import json

    (tmp_path / "kb.jsonl").write_text(
        json.dumps(
            {"id": "ship", "title": "Shipping", "examples": ["when does it ship"], "lang": "en"}
        )
        + "\n"
        + json.dumps(
            {"id": "pay", "title": "Payment", "examples": ["can i pay by card"], "lang": "en"}
        )
        + "\n"
    )
    (tmp_path / "queries.jsonl").write_text(
        json.dumps({"id": "q1", "text": "when will it ship", "expected_id": "ship", "lang": "en"})
        + "\n"
        + json.dumps({"id": "q2", "text": "tell me a joke", "expected_id": None, "lang": "en"})
        + "\n"
    )
    result = nudge("kb", "eval", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("in_scope_top1", "oos_recall", "oos_precision", "p50_ms", "p99_ms", "thresholds"):
        assert key in report
