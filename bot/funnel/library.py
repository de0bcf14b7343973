"""The funnels in use, reloaded when their files change.

A file that fails to load after an edit keeps its previous version running (its problems are
logged), so a typo in production never stops a funnel half-way. Contacts inside a funnel go on
at their step id in the new version (see the engine for removed steps).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.funnel.catalog import FunnelCatalog, funnel_files, load_funnels
from bot.reloading import FilesStamp, files_stamp, kept_on_error
from bot.rendering import Renderer

log = logging.getLogger(__name__)


class FunnelLibrary:
    def __init__(self, folder: Path, renderer: Renderer | None) -> None:
        self.folder = folder
        self._renderer = renderer
        self._catalog = FunnelCatalog((), ())
        self._stamp: FilesStamp | None = None

    def current(self) -> FunnelCatalog:
        return self._catalog

    def refresh(self) -> bool:
        """Reload when a file was added, changed or removed; True when it reloaded."""
        stamp = self._files_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        fresh = load_funnels(self.folder, self._renderer)
        for problem in fresh.errors:
            log.warning("funnel not (re)loaded: %s", problem)
        kept = kept_on_error(self._catalog.funnels, fresh.funnels, fresh.rejected)
        self._catalog = FunnelCatalog(fresh.funnels + kept, fresh.problems, fresh.rejected)
        names = ", ".join(f.id for f in self._catalog.funnels) or "none"
        log.info("funnels from %s: %s", self.folder, names)
        return True

    def _files_stamp(self) -> FilesStamp:
        return files_stamp(funnel_files(self.folder)) if self.folder.is_dir() else ()
