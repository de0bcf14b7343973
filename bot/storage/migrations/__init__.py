"""Alembic migrations, shipped inside the package so `nudge` can migrate from any directory."""
