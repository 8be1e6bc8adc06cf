"""Where temporary files go while an output is written, so that a crash cannot strand them.

The consolidated workbook's rows, a workbook being spliced, xlsxwriter's own
temporary files and any copy written atomically are held in a hidden folder of
the output folder, one sub-folder per process: ``<out>/.kpd-work/<pid>/``. They
hold provider data, so none may outlive its run:

* a run removes its own sub-folder when it ends (and the ``.kpd-work`` folder when empty);
* the first time a run writes into a folder, it removes what a run that was killed
  left there: the sub-folders of processes no longer running, and the hidden
  ``.kpd-rows-*.xml``, ``.kpd-splice-*.xlsx`` and ``.kpd-returns-*.xlsx`` files that
  versions before this one wrote beside the outputs.

Temporaries stay in the output folder (rather than the system's temporary folder)
so that a finished file is moved into place on the same file system, atomically.
"""

from __future__ import annotations

import atexit
import os
import shutil
from pathlib import Path

WORK_DIR = ".kpd-work"
LEGACY_PATTERNS = (".kpd-rows-*.xml", ".kpd-splice-*.xlsx", ".kpd-returns-*.xlsx")

_cleaned: set[str] = set()


def folder(out_dir: str | Path) -> Path:
    """This process's temporary folder for outputs written into ``out_dir`` (made, and stale ones cleared)."""
    out_dir = Path(out_dir)
    key = os.path.abspath(out_dir)
    if key not in _cleaned:
        clean(out_dir)
        _cleaned.add(key)
        atexit.register(finish, out_dir)
    mine = out_dir / WORK_DIR / str(os.getpid())
    mine.mkdir(parents=True, exist_ok=True)
    return mine


def clean(out_dir: str | Path) -> list[Path]:
    """Remove what killed runs left in ``out_dir``; return what was removed."""
    out_dir = Path(out_dir)
    removed: list[Path] = []
    for pattern in LEGACY_PATTERNS:
        for path in out_dir.glob(pattern):
            _remove(path, removed)
    work = out_dir / WORK_DIR
    if work.is_dir():
        for entry in work.iterdir():
            if not (entry.name.isdigit() and _running(int(entry.name))):
                _remove(entry, removed)
        _rmdir_if_empty(work)
    return removed


def finish(out_dir: str | Path) -> None:
    """Remove this process's temporary folder for ``out_dir`` (at the end of a run)."""
    work = Path(out_dir) / WORK_DIR
    mine = work / str(os.getpid())
    if mine.exists():
        shutil.rmtree(mine, ignore_errors=True)
    _rmdir_if_empty(work)


def tidy(out_dir: str | Path) -> None:
    """Remove this process's temporary folder for ``out_dir`` if nothing is left in it (after each output)."""
    work = Path(out_dir) / WORK_DIR
    _rmdir_if_empty(work / str(os.getpid()))
    _rmdir_if_empty(work)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    except OSError:
        return False
    return True


def _remove(path: Path, removed: list[Path]) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(path)
    except OSError:
        pass  # another run removed it first, or it cannot be removed: never a reason to stop


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
