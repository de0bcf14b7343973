"""Funnels: message sequences described in `funnels/*.yaml` by marketers.

This package holds the funnel file format (the model in `model.py`, the loader with file:line:column
problems in `loader.py`, the linter in `lint.py`, a JSON Schema for editors in `schema.json`,
the folder catalog in `catalog.py`), plus durations and the safe condition language. The
engine and the runners are built against `model.py`; `docs/funnels.md` is the reference.
"""
