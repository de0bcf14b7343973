"""Log output: text for people, JSON lines for collectors."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logging_setup import JsonFormatter, configure_logging


def test_json_lines_carry_level_logger_message_and_error() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "bot.app", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "bot.app"
    assert entry["message"] == "failed x"
    assert "ValueError: boom" in entry["error"]


@pytest.mark.parametrize("style", ["text", "json"])
def test_configure_sets_one_handler_and_quiets_libraries(style: str) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", style)
        assert len(root.handlers) == 1
        assert root.level == logging.DEBUG
        assert logging.getLogger("aiogram").level == logging.WARNING
        assert isinstance(root.handlers[0].formatter, JsonFormatter) == (style == "json")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
