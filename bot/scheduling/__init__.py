"""Background loops and APScheduler wiring: triggers only, the work itself lives in rows."""
