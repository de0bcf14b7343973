"""Migration scripts, loaded by Alembic from this folder (a package, so wheels include them)."""
