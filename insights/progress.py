"""Progress bars on stderr for long commands (rich), silent when stderr is not a terminal."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from insights.producer import Progress as ProgressCallback


@contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """Yield a `(phase, done, total)` callback that drives one bar per phase."""
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=None if total < 0 else total)
            bar.update(tasks[phase], completed=done, total=None if total < 0 else total)

        yield update
