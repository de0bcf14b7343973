"""A fixed CPU budget per benchmark process: each process goes into a cgroup of its own with a
CFS quota (e.g. 0.4 of a core), as if it ran alone on a small machine, while the processes left
outside (PostgreSQL, the fake Bot API) keep the whole box.

cgroup v2 (`cpu.max`) is tried first, then cgroup v1 (`cpu.cfs_quota_us`). Both need root and a
mounted, writable cpu controller. Every group this module creates lives under one parent group
named after this process, and is removed again by `close()` (or leaving the `with` block).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PERIOD_US = 100_000  # the kernel's default CFS period: the quota is refilled every 0.1 s
SMALLEST_QUOTA_US = 1_000  # the kernel refuses a quota under 1 ms per period


class NoCpuController(RuntimeError):
    """No cgroup cpu controller this process may create groups in; the message says why."""


@dataclass(frozen=True)
class Throttling:
    """Counters of a group's `cpu.stat` (cumulative since the group was made)."""

    periods: int  # CFS periods in which the group wanted to run
    throttled: int  # of them, the periods in which it used up its quota and had to wait
    throttled_seconds: float

    def __sub__(self, earlier: Throttling) -> Throttling:
        return Throttling(
            self.periods - earlier.periods,
            self.throttled - earlier.throttled,
            self.throttled_seconds - earlier.throttled_seconds,
        )

    def __add__(self, other: Throttling) -> Throttling:
        return Throttling(
            self.periods + other.periods,
            self.throttled + other.throttled,
            self.throttled_seconds + other.throttled_seconds,
        )

    @property
    def share(self) -> float:
        """Of the periods the group wanted CPU, the fraction it hit its quota."""
        return self.throttled / self.periods if self.periods else 0.0


NO_THROTTLING = Throttling(0, 0, 0.0)


@dataclass(frozen=True)
class _Hierarchy:
    version: int  # 1 or 2
    mount: Path

    def describe(self) -> str:
        return f"cgroup v{self.version} at {self.mount}"

    def quota_files(self, fraction: float) -> dict[str, str]:
        quota = round(fraction * PERIOD_US)
        if self.version == 2:
            return {"cpu.max": f"{quota} {PERIOD_US}"}
        # The period first: a quota is checked against the period in force when it is written.
        return {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)}

    def own_group(self) -> Path:
        """The group this process is in (where a straggler is moved back to before removal)."""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            listed = controllers.split(",")
            if (self.version == 2 and controllers == "") or (self.version == 1 and "cpu" in listed):
                return self.mount / path.lstrip("/")
        return self.mount


def _mounts() -> list[tuple[str, Path, list[str]]]:
    """(filesystem type, mount point, options) of every cgroup mount, from /proc/self/mounts."""
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, kind, options, *_ = line.split()
        if kind in ("cgroup", "cgroup2"):
            found.append((kind, Path(point.replace("\\040", " ")), options.split(",")))
    return found


def _candidates() -> tuple[list[_Hierarchy], list[str]]:
    """Hierarchies with a cpu controller, v2 first; and why the other cgroup mounts are not."""
    v2: list[_Hierarchy] = []
    v1: list[_Hierarchy] = []
    skipped: list[str] = []
    for kind, point, options in _mounts():
        if "ro" in options:
            skipped.append(f"{point} is mounted read-only")
        elif kind == "cgroup2":
            controllers = _read(point / "cgroup.controllers").split()
            if "cpu" in controllers:
                v2.append(_Hierarchy(2, point))
            else:
                skipped.append(f"cgroup v2 at {point} has no cpu controller (it is bound to v1)")
        elif "cpu" in options:
            v1.append(_Hierarchy(1, point))
    return v2 + v1, skipped


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    # One value per write(2): cgroup files take one pid or setting per call.
    try:
        with path.open("w") as file:
            file.write(value)
    except OSError as error:  # a failed write(2) names no file: say which, and what was written
        raise OSError(error.errno, f"writing {value!r}: {error.strerror}", str(path)) from error


class CpuBudgets:
    """One parent group for this benchmark process, and a child group per confined process,
    each child with its own quota of `fraction` of a core."""

    def __init__(self, fraction: float) -> None:
        if fraction * PERIOD_US < SMALLEST_QUOTA_US:
            raise ValueError(f"a CPU budget of {fraction} core: the kernel needs at least 0.01")
        self.fraction = fraction
        self._children: list[Path] = []
        self._made = 0
        self.hierarchy, self._parent = self._make_parent()

    def describe(self) -> str:
        quota = round(self.fraction * PERIOD_US)
        return (
            f"{self.fraction:.2f} core per worker, each worker in a cgroup of its own "
            f"({self.hierarchy.describe()}, quota {quota} us per {PERIOD_US} us)"
        )

    def _make_parent(self) -> tuple[_Hierarchy, Path]:
        hierarchies, reasons = _candidates()
        for hierarchy in hierarchies:
            parent = hierarchy.mount / f"nudge-bench-{os.getpid()}"
            try:
                if hierarchy.version == 2:
                    # Children get the cpu controller only if each ancestor hands it down.
                    _write(hierarchy.mount / "cgroup.subtree_control", "+cpu")
                _remove_group(parent, hierarchy.own_group())  # a crashed run's, same pid
                parent.mkdir()
                if hierarchy.version == 2:
                    _write(parent / "cgroup.subtree_control", "+cpu")
            except OSError as error:
                with contextlib.suppress(OSError):
                    parent.rmdir()
                reasons.append(f"{hierarchy.describe()}: {error.filename}: {error.strerror}")
                continue
            return hierarchy, parent
        why = "; ".join(reasons) if reasons else "no cgroup filesystem is mounted"
        raise NoCpuController(
            "--worker-cpu needs a cgroup cpu controller this process can create groups in "
            f"(cgroup v2 with 'cpu' in cgroup.controllers, or a v1 'cpu' mount), as root: {why}"
        )

    def confine(self, pid: int) -> None:
        """Put process `pid` (and the threads and children it makes later) in a new group."""
        self._made += 1
        child = self._parent / f"process-{self._made}"
        child.mkdir()
        self._children.append(child)
        for name, value in self.hierarchy.quota_files(self.fraction).items():
            _write(child / name, value)
        _write(child / "cgroup.procs", str(pid))

    def throttling(self) -> Throttling:
        """The counters of every group made since the last `release()`, summed."""
        total = NO_THROTTLING
        for child in self._children:
            total = total + _throttling(self.hierarchy.version, child)
        return total

    def release(self) -> None:
        """Remove the groups of the processes confined so far (call after they ended)."""
        own = self.hierarchy.own_group()
        while self._children:
            _remove_group(self._children.pop(), own)

    def close(self) -> None:
        self.release()
        _remove_group(self._parent, self.hierarchy.own_group())

    def __enter__(self) -> CpuBudgets:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _throttling(version: int, group: Path) -> Throttling:
    fields: dict[str, int] = {}
    for line in _read(group / "cpu.stat").splitlines():
        name, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            fields[name] = int(value)
    if version == 2:
        waited = fields.get("throttled_usec", 0) / 1e6
    else:
        waited = fields.get("throttled_time", 0) / 1e9
    return Throttling(fields.get("nr_periods", 0), fields.get("nr_throttled", 0), waited)


def _remove_group(group: Path, back_to: Path) -> None:
    """Remove `group` and the groups under it; a process still in one (a worker that outlived
    its stop) is moved back to `back_to` first, as the kernel only removes empty groups."""
    if not group.is_dir():
        return
    for child in [entry for entry in group.iterdir() if entry.is_dir()]:
        _remove_group(child, back_to)
    for pid in _read(group / "cgroup.procs").split():
        with contextlib.suppress(OSError):  # it ended meanwhile
            _write(back_to / "cgroup.procs", pid)
    group.rmdir()
