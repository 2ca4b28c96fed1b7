"""The command line's progress bars (help-centre ingest, shop import): one look, on stderr, so that stdout
keeps only the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bar(
    label: str, *, remaining: bool = False, show: bool = True, transient: bool = False
) -> Progress:
    """A bar with `label`, done/total and the time elapsed (with `remaining`: the time left)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    clock = TimeRemainingColumn() if remaining else TimeElapsedColumn()
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        clock,
        console=Console(stderr=True),
        disable=not show,
        transient=transient,
    )
