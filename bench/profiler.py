"""Where a server process spends its CPU during a benchmark: py-spy attached to it from outside.

`Profiler.attach(pid, name)` starts `py-spy record --pid … --nonblocking --gil` (it samples without
pausing the process, so the profiled run costs the server little, and only the thread that holds
the interpreter lock: where the CPU goes, not which threads wait for the lock) and `ProfileRun.stop()` ends it
with SIGINT, which makes py-spy write what it sampled: collapsed stacks (`<name>.txt`, one line per
distinct stack with its sample count, the input of flamegraph.pl, inferno or speedscope). From them
`render_svg` draws the flame graph (`<name>.svg`, open it in a browser: hover a frame for its
share), kept in the bench output folder (`bench/out/`, or `--profile-dir`). A process that dies (a
kill -9) ends its recording too.

`top_functions` lists, from the same stacks, the functions that held the most samples (each counted
once per stack, so recursion and nested imports do not inflate it): the lines the suites print
under a profiled figure, so a reader sees where the time went without opening the SVG.

py-spy needs ptrace rights over the process (root, or `kernel.yama.ptrace_scope` 0, as on these
machines). Where it cannot attach, the profile is left out and the output says why: a profile
explains a figure, it is not one.
"""

from __future__ import annotations

import html
import shutil
import signal
import subprocess
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
SAMPLE_RATE = 500  # per second: a 1 s storm gives ~500 samples of the loop's thread
STOP_TIMEOUT_S = 30.0
# Frames that only carry others (the loop, threads, middleware, the import machinery): left out of
# `top_functions`, whose point is the work.
PLUMBING = (
    "asyncio/", "<frozen ", "threading.py", "selectors.py", "contextlib.py",
    "uvicorn/server.py", "uvicorn/_compat.py", "rejoin_server/__main__.py", "rejoin_server/cli/",
    "rejoin_server/serve.py", "starlette/middleware/", "starlette/_exception_handler.py",
    "starlette/applications.py", "starlette/routing.py", "rejoin_server/api/node.py",
    "<module>", "process ",
)  # fmt: skip


def py_spy() -> str | None:
    """py-spy beside this interpreter (the bench venv's), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass(slots=True)
class ProfileRun:
    name: str
    stacks: Path
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> Path | None:
        """End the recording and draw its flame graph; the stacks' path, or None (the reason is
        in the log)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if not self.stacks.exists():
            return None
        render_svg(self.stacks, self.stacks.with_suffix(".svg"), title=self.name)
        return self.stacks


class Profiler:
    """Attaches py-spy to processes; nothing happens when `out` is None (profiling off)."""

    def __init__(self, out: Path | None) -> None:
        self.out = out

    def attach(self, pid: int | None, name: str) -> ProfileRun | None:
        exe = py_spy()
        if self.out is None or pid is None or exe is None:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        stacks = self.out / f"{name}.txt"
        stacks.unlink(missing_ok=True)
        log = self.out / f"{name}.py-spy.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen(
                [exe, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE), "--nonblocking",
                 "--gil", "--nolineno", "--format", "raw", "--output", str(stacks)],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return ProfileRun(name, stacks, popen, log)

    def unavailable(self) -> str | None:
        """Why profiling, when it is on, cannot be done here; or None."""
        if py_spy() is None:
            return "py-spy not installed (requirements/bench.txt)"
        return None


def read_stacks(path: Path) -> list[tuple[list[str], int]]:
    """Collapsed stacks: `frame;frame;… count` per line, outermost frame first."""
    out: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out.append((stack.split(";"), int(count)))
    return out


def top_functions(stacks: Path, count: int = 12) -> tuple[int, list[tuple[str, float]]]:
    """All the samples in `stacks`, and the `count` functions (past `PLUMBING`) that held the
    most of them, inclusive, as (function (file), share of all samples)."""
    samples = read_stacks(stacks)
    total = sum(n for _, n in samples)
    counts: Counter[str] = Counter()
    for frames, n in samples:
        for name in {f for f in frames if not any(part in f for part in PLUMBING)}:
            counts[name] += n
    return total, [(name, n / max(1, total)) for name, n in counts.most_common(count)]


# --- the flame graph ----------------------------------------------------------------------------

WIDTH = 1600
ROW = 16


@dataclass(slots=True)
class _Node:
    samples: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def render_svg(stacks: Path, svg: Path, *, title: str) -> None:
    """A flame graph of `stacks`: the root at the bottom, each frame as wide as its samples,
    children in name order; hover a frame for its name and share."""
    root = _Node()
    for frames, n in read_stacks(stacks):
        root.samples += n
        node = root
        for frame in frames:
            node = node.children.setdefault(frame, _Node())
            node.samples += n
    depth = _depth(root)
    height = (depth + 2) * ROW + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="monospace" font-size="11">',
        f'<text x="4" y="14">{html.escape(title)}: {root.samples} samples</text>',
    ]
    scale = WIDTH / max(1, root.samples)
    _draw(parts, "all", root, 0.0, height - ROW, scale, root.samples)
    parts.append("</svg>")
    svg.write_text("\n".join(parts))


def _depth(node: _Node) -> int:
    return 1 + max((_depth(child) for child in node.children.values()), default=0)


def _draw(
    parts: list[str], name: str, node: _Node, x: float, y: int, scale: float, total: int
) -> None:
    width = node.samples * scale
    if width < 0.5:  # too narrow to see or hover
        return
    share = node.samples / max(1, total)
    hue = 20 + zlib.crc32(name.encode()) % 40  # warm colours, the same for a name every run
    label = html.escape(name)
    # Cut the name, then escape it: a cut through an entity (`&lt;`) would break the SVG.
    text = html.escape(name[: int(width / 7)]) if width > 21 else ""
    parts.append(
        f"<g><title>{label} ({node.samples} samples, {share:.1%})</title>"
        f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 1}" '
        f'fill="hsl({hue},90%,60%)"/><text x="{x + 2:.1f}" y="{y + ROW - 4}">{text}</text></g>'
    )
    for child_name in sorted(node.children):
        child = node.children[child_name]
        _draw(parts, child_name, child, x, y - ROW, scale, total)
        x += child.samples * scale
