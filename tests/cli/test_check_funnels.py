"""`nudge check` lints the funnels next to the config file, with file:line:column."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli.test_cli import REPO, nudge


def project(tmp_path: Path) -> Path:
    """A copy of the shipped templates and surveys, and a config that points at them."""
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copytree(REPO / "surveys", tmp_path / "surveys")
    config = tmp_path / "config.yaml"
    config.write_text("knowledge:\n  enabled: false\n")
    return config


def test_a_broken_funnel_fails_the_check_with_its_position(tmp_path: Path) -> None:
    config = project(tmp_path)
    (tmp_path / "funnels").mkdir()
    (tmp_path / "funnels" / "cart.yaml").write_text(
        "id: cart\ntrigger: {event: cart_abandoned}\nsteps:\n"
        "  - id: remind\n    send: funnel_nope\n  - id: pause\n    wait: 2 hours\n"
    )
    (tmp_path / "funnels" / "loop.yaml").write_text(
        "id: loop\ntrigger: {api: true}\nsteps:\n  - {id: a, send: funnel_cart_last_call}\n"
        "  - {id: b, goto: a}\n"
    )
    result = nudge("--config", str(config), "check", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "funnels/cart.yaml:7:11: steps[1].wait: `2 hours` is not a duration" in result.stdout
    assert "funnels/loop.yaml:4:10: steps[0].id: the steps a → b → a form a loop" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_funnel_templates_and_funnels_pass_when_correct(tmp_path: Path) -> None:
    config = project(tmp_path)
    shutil.copytree(REPO / "funnels", tmp_path / "funnels")
    result = nudge("--config", str(config), "check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_template_in_a_funnel_is_reported(tmp_path: Path) -> None:
    config = project(tmp_path)
    (tmp_path / "funnels").mkdir()
    (tmp_path / "funnels" / "x.yaml").write_text(
        "id: x\ntrigger: {api: true}\nsteps:\n  - {id: a, send: funnel_missing}\n"
    )
    result = nudge("--config", str(config), "check", cwd=tmp_path)
    assert result.returncode == 1
    assert "funnels/x.yaml:4:19: steps[0].send: no template `funnel_missing`" in result.stdout
