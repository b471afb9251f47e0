"""A rich progress bar on stderr, shown only to people (a terminal, no ``--json``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from tams_cli._output import err


@contextmanager
def bar(description: str, *, enabled: bool) -> Iterator[Progress]:
    """A progress display; its task 0 is ``description``, advanced by the caller."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not (enabled and err.is_terminal),
    )
    with progress:
        progress.add_task(description, total=None)
        yield progress
