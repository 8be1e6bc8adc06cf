"""One run at a time writes into an output folder (issue 19 item 15).

Two ``consolidate`` runs into the same ``--out`` used to write ``consolidated.xlsx`` and the packs at
the same moment, and one read the other's half-written workbook (``BadZipFile``). The ledger already
takes one writer at a time (intake.ledger); the output folder now does too, the same way: a run
holds an exclusive lock on the folder while it writes there. A second run says once
that it is waiting, waits up to ``KPD_LEDGER_WAIT`` seconds (default 60), and then stops with one
sentence (``OutputBusy``, exit 2) having written nothing.

The lock is the operating system's (``flock``), taken on the folder itself, so no file is left
behind; it goes with the process, so a run that is killed never leaves the folder locked. Where
``fcntl`` does not exist (Windows), runs are not kept apart.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .ledger_lock import LOCK_WAIT_ENV, LedgerBusy, LedgerError, lock_wait_seconds

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_POLL = 0.1  # seconds between tries while another run holds the folder


class OutputBusy(LedgerBusy):
    """Another run held the output folder for longer than this run would wait."""


@contextmanager
def output_lock(folder: str | Path, *, wait: float | None = None,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``folder`` (created if missing) for this run; OutputBusy if another run keeps it."""
    folder = Path(folder)
    if fcntl is None:
        yield
        return
    wait = lock_wait_seconds() if wait is None else wait
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileExistsError, NotADirectoryError):
        raise LedgerError(f"The output folder {folder} is not a folder: give another --out.") from None
    try:
        _acquire(fd, folder, wait, on_wait)
        yield
    except BaseException:
        if created:  # a run that stopped leaves no empty folder of its own behind
            try:
                folder.rmdir()
            except OSError:
                pass  # it holds something after all: leave it
        raise
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, folder: Path, wait: float, on_wait: Callable[[str], None] | None) -> None:
    deadline, said = time.monotonic() + wait, False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise OutputBusy(
                f"The output folder {folder} is still in use by another run after {wait:g} seconds, so this run "
                "stopped before writing anything there. Run again when the other run has finished (or set "
                f"{LOCK_WAIT_ENV} to wait longer).")
        if not said:
            say = on_wait or (lambda text: print(text, file=sys.stderr, flush=True))
            say(f"The output folder {folder} is in use by another run; waiting up to {wait:g} seconds for it…")
            said = True
        time.sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
