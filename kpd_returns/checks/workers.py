"""Worker processes that never outlive the run that started them.

A run killed with ``kill -9`` (or stopped by SIGTERM, whose default ends it at once)
cannot shut its process pool down, and its workers would go on checking files for
no one. Each worker therefore watches its parent:

* on Linux the kernel is asked (``prctl(PR_SET_PDEATHSIG, SIGTERM)``) to end the
  worker the moment its parent dies;
* everywhere, a thread in the worker checks once a second that its parent is still
  the process that started it, and ends the worker when it is not (the fallback where
  prctl is missing, and for a parent that died before prctl was called).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 1.0


def pool(workers: int):
    """A ProcessPoolExecutor of ``workers`` processes that end when this process ends."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=watch_parent, initargs=(os.getpid(),))


def watch_parent(parent: int) -> None:
    """The pool's initializer: end this worker when ``parent`` is gone."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # only here: in a worker, on Linux, to ask for a signal when the parent dies

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watching thread below still ends the worker
    if os.getppid() != parent:  # the parent died before we could ask to be told
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="kpd-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(1)
