"""Make `bot` importable when pytest is run as `.venv/bin/pytest` without installing the package."""

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[3])
if REPO not in sys.path:
    sys.path.insert(0, REPO)
