"""When to try a failed send again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0

    def backoff(self, attempts_so_far: int) -> timedelta:
        """Exponential backoff (1 s, 2 s, 4 s, ...) with a cap; deterministic for tests."""
        seconds = self.backoff_initial_seconds * (2 ** max(attempts_so_far, 0))
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))

    def gives_up_after(self, attempts_so_far: int) -> bool:
        """True when the attempt that just failed was the last one allowed."""
        return attempts_so_far + 1 >= self.max_attempts
