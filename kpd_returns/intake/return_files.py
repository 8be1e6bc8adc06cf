"""Which files in a folder given to `kpd-returns validate` are returns.

A folder is searched through (subfolders too, in name order): its workbooks
(.xlsx, .xlsm, .xls, or a file whose first bytes say it is a workbook whatever
its name) are checked, and so is a .csv whose header names an extract's key column (a PRaP
extract); anything else (a README, a tracker .json, a covering
letter .pdf) is not a return, so it is skipped and listed once, and does not
change the exit code. An .xlsm or .xls is still a return: it gets its own clear
refusal. Files named on the command line are always checked, whatever they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..spec.small_files import not_ordinary
from .inbox import JUNK_DIRS, _names_an_extract, is_junk

RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # zip (.xlsx, .xlsm); OLE2 (.xls)


def looks_like_workbook(path: Path) -> bool:
    if path.suffix.lower() in RETURN_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":  # a PRaP extract (spec/extract_spec.py) is checked; another .csv is not
        return _names_an_extract(path)
    if not_ordinary(path) is not None:  # checked, so the validator says what it is; never opened here
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith(_WORKBOOK_MAGIC)


def expand(paths: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    """(files to check, files skipped as not returns), each in a stable order."""
    checked: list[str] = []
    skipped: list[str] = []
    for given in paths:
        folder = Path(given)
        if not folder.is_dir():
            checked.append(str(given))
            continue
        found: list[Path] = []
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d.lower() not in JUNK_DIRS)
            found.extend(Path(root) / f for f in files if not is_junk(Path(root) / f))
        for path in sorted(found, key=lambda p: p.relative_to(folder).parts):
            # A link that leads nowhere (often meant for a folder) is not a skipped file: it is checked, and the
            # validator says where it leads, as consolidate does (issue 19 item 20: SKIPPED named "folders").
            dangling = path.is_symlink() and not path.exists()
            (checked if dangling or looks_like_workbook(path) else skipped).append(str(path))
    return checked, skipped
