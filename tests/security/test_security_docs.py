"""docs/security.md names real tests: a renamed or deleted test breaks this one."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
DOC = TESTS.parent / "docs" / "security.md"
REFERENCE = re.compile(r"`((?:[\w/]+\.py)?)(?:::(\w+))?`")


def test_every_test_named_in_docs_security_exists() -> None:
    missing, checked, current = [], 0, ""
    for path, name in REFERENCE.findall(DOC.read_text()):
        if path:
            current = path
            if not (TESTS / path).is_file():
                missing.append(path)
                continue
        if name and current:
            checked += 1
            source = (TESTS / current).read_text()
            if not re.search(rf"^(async )?def {name}\(", source, re.MULTILINE):
                missing.append(f"{current}::{name}")
    assert missing == []
    assert checked >= 50
