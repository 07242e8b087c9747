"""The goals a run is held to, gathered from every suite and printed last, each met or missed.

A goal names its figure as measured in this run, what it is compared with (a floor or a peer
measured in the same run) and the ratio, the only number that carries from one machine to another.
Each suite appends its goals to its results (`goals`); `bench/suite.py` prints them together once
everything has run, so a reader finds every verdict in one table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console

from bench.report import columns_table


@dataclass(frozen=True, slots=True)
class Goal:
    what: str  # the figure, e.g. "600 clients cut → all recovered (p50)"
    db: str
    figure: str  # as measured, e.g. "512 ms"
    target: str  # e.g. "≤ 1x Socket.IO"
    met: bool
    against: str = ""  # what it was compared with, and that one's figure
    ratio: float | None = None  # ours / `against`


def ratio_goal(
    what: str,
    db: str,
    ours_ms: float,
    against: str,
    theirs_ms: float,
    at_most: float,
) -> Goal:
    """A goal on the ratio of two times measured in the same run: ours ≤ `at_most` times theirs."""
    ratio = ours_ms / theirs_ms if theirs_ms > 0 else float("inf")
    return Goal(
        what,
        db,
        f"{ours_ms:,.0f} ms",
        f"≤ {at_most:g}x {against}",
        ratio <= at_most,
        f"{against}: {theirs_ms:,.0f} ms",
        ratio,
    )


def render(goals: Iterable[Goal], console: Console) -> None:
    rows = list(goals)
    if not rows:
        return
    table = columns_table(
        "goals of this run (ratios: ours / what it is compared with, measured in the same run)",
        (
            ("goal", "left"),
            ("db", "left"),
            ("ours", "right"),
            ("compared with", "left"),
            ("ratio", "right"),
            ("target", "left"),
            ("", "left"),
        ),
    )
    for goal in rows:
        table.add_row(
            goal.what,
            goal.db,
            goal.figure,
            goal.against,
            "" if goal.ratio is None else f"{goal.ratio:.2f}x",
            goal.target,
            "[green]met[/]" if goal.met else "[red]MISSED[/]",
        )
    console.print(table)
    missed = sum(not g.met for g in rows)
    console.print(
        f"{len(rows) - missed} of {len(rows)} goals met."
        + (
            " A missed goal's profile and notes are printed with its suite above." if missed else ""
        ),
        highlight=False,
    )
