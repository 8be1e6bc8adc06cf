"""The checks a ledger passes each time it is opened, before anything reads or writes it (issue 19
item 14): a damaged or tampered ledger is refused in one sentence naming it, never a traceback later.

* **Integrity.** ``PRAGMA quick_check``: every page and record readable (a corrupt page is found
  here, not half-way through a pack). It reads the whole file once per open; a process that opens a
  ledger it closed itself, unchanged since, does not check it again (``remember_checked``).
* **Schema.** The tables, views, triggers and indexes are exactly those the migrations of its
  schema version create (intake.ledger_schema), each with the same definition: an injected trigger,
  a replaced view or an extra table is refused. Names beginning ``sqlite_`` are SQLite's own
  (statistics, automatic indexes) and are left out.
"""

from __future__ import annotations

import os
import sqlite3
from functools import lru_cache
from pathlib import Path

from .ledger_lock import LedgerError
from .ledger_schema import MIGRATIONS, _statements

_MASTER = ("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!' "
           "ORDER BY type, name")
# Ledgers this process closed, by path: the file's state then. Unchanged at the next open: not re-read.
_CHECKED: dict[str, tuple] = {}


def check_ledger(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """LedgerError unless the ledger at ``path`` (open as ``conn``, at schema ``version``) is whole and
    has exactly the schema kpd-returns gives that version."""
    state = _state(path)
    if state is None or _CHECKED.get(str(path)) != state:
        problems = [r[0] for r in conn.execute("PRAGMA quick_check(1)")]
        if problems != ["ok"]:
            found = _norm(str(problems[0]).replace("*** in database main ***", ""))[:200]
            raise LedgerError(f"The ledger {path} is damaged (SQLite's check found: {found}). "
                              "Restore it from a backup, or start a new ledger with --db.")
    if version > MIGRATIONS[-1][0]:
        return  # made by a newer kpd-returns: the ledger says so when it migrates
    found = {(t, n): (tbl, _norm(sql)) for t, n, tbl, sql in conn.execute(_MASTER)}
    expected = expected_schema(version)
    if found == expected:
        return
    extra = sorted(set(found) - set(expected))
    missing = sorted(set(expected) - set(found))
    changed = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])
    if extra:
        what = f"it has a {extra[0][0]} '{extra[0][1]}' that kpd-returns did not make"
    elif missing:
        what = f"its {missing[0][0]} '{missing[0][1]}' is missing"
    else:
        what = f"its {changed[0][0]} '{changed[0][1]}' has been changed"
    if version == 0:
        raise LedgerError(f"The file {path} is not a kpd-returns ledger ({what}): give another file with --db.")
    raise LedgerError(f"The ledger {path} has been altered: {what}. kpd-returns will not use it; restore it from "
                      "a backup, or start a new ledger with --db.")


def remember_checked(path: Path) -> None:
    """Note the state of the ledger at ``path`` as this process closes it (checked when opened)."""
    state = _state(path)
    if state is not None:
        _CHECKED[str(path)] = state


@lru_cache(maxsize=None)
def expected_schema(version: int) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, name) -> (table, normalised SQL) of a ledger the migrations up to ``version`` created."""
    conn = sqlite3.connect(":memory:")
    try:
        for step, _description, sql in MIGRATIONS:
            if step > version:
                break
            for statement in _statements(sql):
                conn.execute(statement)
        return {(t, n): (tbl, _norm(sql)) for t, n, tbl, sql in conn.execute(_MASTER)}
    finally:
        conn.close()


def _norm(sql: str | None) -> str:
    return " ".join((sql or "").split())


def _state(path: Path) -> tuple | None:
    """The ledger file's identity, size and time, and the size of its write-ahead log (0 when absent:
    SQLite removes it when the last connection closes and makes an empty one at the next open)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    try:
        wal = os.stat(f"{path}-wal").st_size
    except OSError:
        wal = 0
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, wal
