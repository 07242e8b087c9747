"""How much memory the Chromium renderers of this benchmark hold, sampled from /proc.

`RendererWatch` samples, in a thread, every Chromium renderer process descended from this process
(Playwright's driver → Chromium → its zygote → the renderers; another program's Chromium is not
counted) and keeps the peaks: renderers at once, the largest one's memory and the sum, as PSS (a
renderer's RSS counts the pages it shares with the zygote and every other renderer, ~100 MiB each,
so a sum of RSS overstates what they take), and the machine's MemAvailable at its lowest. The
browser benchmark prints them, and beside a renderer that crashed, so that a crash says whether
memory was the likely cause. Linux only (/proc); elsewhere it reads nothing and says so.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RendererPeak", "RendererWatch", "available_mib", "renderers_now"]

PROC = Path("/proc")
SAMPLE_S = 0.25


@dataclass(frozen=True, slots=True)
class RendererPeak:
    """Peaks since the watch started (PSS in MiB); `samples` 0: nothing could be read."""

    samples: int = 0
    count: int = 0
    largest_mib: float = 0.0
    total_mib: float = 0.0
    lowest_available_mib: float = math.inf

    def describe(self) -> str:
        if self.samples == 0:
            return "renderer memory not sampled (no /proc)"
        return (
            f"at most {self.count} renderer processes at once, the largest {self.largest_mib:.0f} "
            f"MiB (PSS), {self.total_mib:.0f} MiB together; the machine's MemAvailable at its "
            f"lowest {self.lowest_available_mib:.0f} MiB"
        )


def _parents() -> dict[int, int]:
    """pid → parent pid of every process readable now."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _kib_field(path: Path, name: str) -> float | None:
    """`name:   1234 kB` of a /proc file, in MiB."""
    for line in path.read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1]) / 1024
    return None


def _pss_mib(pid: int) -> float | None:
    """The PSS of `pid` if it is a Chromium renderer, else None."""
    try:
        # Chromium rewrites its argv into one string: search the whole command line.
        if b"--type=renderer" not in (PROC / str(pid) / "cmdline").read_bytes():
            return None
        return _kib_field(PROC / str(pid) / "smaps_rollup", "Pss:")
    except OSError:
        return None  # gone meanwhile, or not ours to read


def renderers_now(root: int | None = None) -> list[float]:
    """The PSS (MiB) of each renderer descended from `root` (default: this process)."""
    if not PROC.is_dir():
        return []
    pids = _descendants(os.getpid() if root is None else root, _parents())
    return [pss for pid in pids if (pss := _pss_mib(pid)) is not None]


def available_mib() -> float:
    """The machine's MemAvailable (inf where /proc/meminfo cannot be read)."""
    try:
        available = _kib_field(PROC / "meminfo", "MemAvailable:")
    except OSError:
        return math.inf
    return math.inf if available is None else available


class RendererWatch:
    """Samples `renderers_now()` every `SAMPLE_S` from `start()` to `stop()`; `peak` so far."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="renderer-watch", daemon=True)
        self._lock = threading.Lock()
        self._peak = RendererPeak()

    def __enter__(self) -> RendererWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> RendererPeak:
        with self._lock:
            return self._peak

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            if not PROC.is_dir():
                return
            sizes = renderers_now()
            available = available_mib()
            with self._lock:
                peak = self._peak
                self._peak = RendererPeak(
                    peak.samples + 1,
                    max(peak.count, len(sizes)),
                    max([peak.largest_mib, *sizes]),
                    max(peak.total_mib, sum(sizes)),
                    min(peak.lowest_available_mib, available),
                )
