"""What the suites' closing tables share: a figure's target, how it reads in a cell, and a table
with its columns laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table

Justify = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class Target:
    """A figure's goal, as the table prints it, and whether this run met it."""

    text: str
    met: bool


def target_cell(target: Target | None) -> str:
    if target is None:
        return ""
    mark = "[green]met[/]" if target.met else "[red]MISSED[/]"
    return f"{target.text} {mark}"


def columns_table(title: str, columns: Sequence[tuple[str, Justify]]) -> Table:
    """An empty table titled `title` with `(header, justify)` columns."""
    table = Table(title=title)
    for header, justify in columns:
        table.add_column(header, justify=justify)
    return table
