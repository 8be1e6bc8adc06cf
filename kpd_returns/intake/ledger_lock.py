"""Waiting for another run's hold on the ledger, and the plain sentences for a ledger that
cannot be used (read-only, unopenable, locked too long, not a ledger at all).
"""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path


class LedgerError(Exception):
    """The ledger cannot be opened or used (a plain sentence naming the file)."""


class LedgerBusy(LedgerError):
    """Another run held the ledger's write lock for longer than this run would wait."""


DEFAULT_LOCK_WAIT = 60.0
MAX_LOCK_WAIT = 86400.0  # a day: longer is never meant, and SQLite's wait is counted in whole milliseconds
LOCK_WAIT_ENV = "KPD_LEDGER_WAIT"
_FIRST_TRY_MS = 200  # a lock held for a moment is waited for silently


def lock_wait_seconds() -> float:
    """How long a write waits for another run's lock: KPD_LEDGER_WAIT seconds, else 60."""
    text = os.environ.get(LOCK_WAIT_ENV, "").strip()
    try:
        value = float(text) if text else DEFAULT_LOCK_WAIT
    except ValueError:
        raise LedgerError(f"{LOCK_WAIT_ENV} must be a number of seconds, not '{text}'.") from None
    if not math.isfinite(value) or value > MAX_LOCK_WAIT:  # inf, nan or 1e308: SQLite cannot wait that long
        raise LedgerError(f"{LOCK_WAIT_ENV} must be a number of seconds from 0 to {MAX_LOCK_WAIT:.0f} (a day), "
                          f"not '{text}'.")
    return max(0.0, value)


def is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _cannot_use(path: Path, exc: BaseException) -> LedgerError:
    """The sentence for a ledger SQLite refused, saying what actually happened."""
    text = str(exc)
    if "readonly" in text.replace("-", "").replace(" ", "") or "read-only" in text:
        return LedgerError(f"The ledger {path} cannot be written: the file or its folder is read-only. Give "
                           "kpd-returns write permission there, or give another ledger with --db.")
    if "unable to open" in text:
        return LedgerError(f"The ledger {path} cannot be opened: its folder cannot be written or the file cannot "
                           "be read. Check the permissions, or give another ledger with --db.")
    if "disk is full" in text or "disk I/O error" in text:
        return LedgerError(f"The ledger {path} cannot be written: the disk is full or cannot be written "
                           f"({text}). Free some space, or give another ledger with --db.")
    if is_locked(exc):
        return LedgerBusy(f"The ledger {path} is in use by another run and stayed locked, so this run stopped "
                          "before recording anything more. Run again when the other run has finished.")
    return LedgerError(f"The file {path} is not a kpd-returns ledger or is damaged ({exc}).")
