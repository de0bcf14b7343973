"""Keeping the garbage collector's full passes off the event loop's critical path.

A full (generation 2) collection walks every tracked object in the process. After start that
is ~115,000 of them (modules, functions, classes, SQLAlchemy's and Jinja's compiled objects),
none of which ever becomes garbage, and one pass over them took 55-130 ms on the project's
2-core machine: the longest event-loop stall while 100,000 funnel steps fell due was such a
pass, not a batch of steps (`bench/README.md`, "Funnels at scale"). Freezing them once started
moves them to the permanent generation, which collections skip; what the process creates
afterwards is collected as usual. Stopping unfreezes them, so a process that starts and stops
several apps (the tests) does not keep their objects forever.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_objects() -> int:
    """Collect what start-up left as garbage, then exempt every object alive now from later
    collections; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("froze %d start-up objects out of the garbage collector's passes", frozen)
    return frozen


def unfreeze() -> None:
    """Give the frozen objects back to the collector (they may become garbage after a stop)."""
    gc.unfreeze()
