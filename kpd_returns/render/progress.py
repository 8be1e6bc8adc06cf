"""A progress bar on stderr for work that takes more than a second.

Shown only when stderr is a terminal (never in a pipe, a log or a test's capture,
so outputs stay byte-identical), and only once the work has run for a second: a
quick command stays silent. It is transient: once the work is done the bar goes
and the command's own summary line stands alone.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

SHOW_AFTER_SECONDS = 1.0


class Progress:
    def __init__(self, label: str, total: int, *, enabled: bool | None = None, stream: TextIO | None = None,
                 after: float | None = None):
        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = self.stream.isatty()
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = bool(enabled and total)
        self.after = SHOW_AFTER_SECONDS if after is None else after
        self.started = time.monotonic()
        self.bar = None

    def _start(self) -> None:
        # rich is imported only when a bar is shown: the one-file validate command starts without it.
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        console = Console(file=self.stream, force_terminal=True if self.stream is not sys.stderr else None)
        self.bar = RichProgress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=console, transient=True)
        self.task = self.bar.add_task(self.label, total=self.total, completed=self.done)
        self.bar.start()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.started >= self.after:
            self._start()
        elif self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
