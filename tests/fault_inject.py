"""Run the real `kpd-returns` command with one operating-system fault injected, for faults a test
cannot cause for real (as root, no permission bit stops a read).

    python tests/fault_inject.py FAULT -- consolidate inbox --out out

FAULT is one of:
    deny-read:MARK     opening or listing any path whose name contains MARK fails with EACCES, as a
                       file or folder without read permission does for an ordinary user;
    readonly-ledger    every SQLite database is opened read-only, as a ledger file without write
                       permission is.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import sqlite3
import sys


def deny_read(mark: str) -> None:
    def denied(path) -> bool:
        try:
            return mark in os.path.basename(os.fsdecode(path))
        except TypeError:
            return False

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    real_open, real_scandir, real_listdir = io.open, os.scandir, os.listdir

    def fake_open(file, mode="r", *args, **kwargs):
        reading = not any(c in mode for c in "wax+")
        if reading and isinstance(file, (str, bytes, os.PathLike)) and denied(file):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_scandir(path="."):
        if denied(path):
            refuse(path)
        return real_scandir(path)

    def fake_listdir(path="."):
        if denied(path):
            refuse(path)
        return real_listdir(path)

    builtins.open = io.open = fake_open
    os.scandir, os.listdir = fake_scandir, fake_listdir


def readonly_ledger() -> None:
    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        kwargs.pop("uri", None)
        return real_connect(f"file:{os.fspath(database)}?mode=ro", *args, uri=True, **kwargs)

    sqlite3.connect = connect


def main() -> None:
    fault, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: fault_inject.py FAULT -- ARGS"
    if fault.startswith("deny-read:"):
        deny_read(fault.split(":", 1)[1])
    elif fault == "readonly-ledger":
        readonly_ledger()
    elif fault != "none":
        raise SystemExit(f"unknown fault {fault}")
    sys.argv = ["kpd-returns", *args]
    from kpd_returns.cli.main import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
