"""The ledger: every file received, what the validator said about it, and its figures.

One SQLite file, created and migrated by the tool (``PRAGMA user_version`` holds
the schema version; the ``schema_version`` table records when each step was
applied). ``foreign_keys`` is on and the journal is in WAL mode.

The tables and views are described in ``intake.ledger_schema``; the reads are in ``intake.ledger_reads``
(``Ledger`` inherits them) and the cross-return checks' refresh in ``intake.ledger_cross``.

Times are UK local time, stored as ISO text; a submission known only by its date
(the workbook's own "Date submitted") is stored as 'YYYY-MM-DD'. ``ingested_at``
is kept for the record but never printed in any output, so outputs stay
deterministic.

Each file is added in ONE transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a
process killed part-way leaves the ledger consistent, and running the same batch
again adds only the files that are missing (identical files are recognised by
their SHA-256 and not added twice).

Another run writing to the same ledger holds its write lock for a moment. A
write that finds the ledger locked says so once ("the ledger ... is in use by
another run; waiting ...") and waits up to ``lock_wait`` seconds (the
``KPD_LEDGER_WAIT`` environment variable, default 60); if the lock is still held
then, ``LedgerBusy`` stops the run. A lock is a fault of the moment, never a
verdict on a file: the file being stored is left unrecorded, so the next run
takes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..spec.findings import Finding
from ..spec.personal_data import mask_all
from ..spec.model import VALID_VERDICTS, RegisterRow, contract_key
from .extract_store import store_frame
from ..spec.periods import value_period
from .ledger_check import check_ledger, remember_checked
from .ledger_cross import refresh_cross_group
from .ledger_reads import LedgerReads
from .submissions import submissions_register
from .ledger_lock import (LOCK_WAIT_ENV, _FIRST_TRY_MS, LedgerBusy, LedgerError, _cannot_use, is_locked,
                          lock_wait_seconds)
from .ledger_rows import (_COUNTS, _ROW_COLUMNS, AddResult, ReturnRow, StoredRegister, ValueRow, _iso_dt, _row,
                          _value_columns, format_received)
from .ledger_schema import BACKFILLS, MIGRATIONS, SCHEMA_VERSION, _statements

if TYPE_CHECKING:
    from ..spec.model import FileReport

# What callers import from here: the ledger, its rows and its errors (defined in ledger_rows and ledger_lock).
__all__ = ["VALID_VERDICTS", "VERDICTS", "AddResult", "Ledger", "LedgerBusy", "LedgerError", "RegisterRow", "ReturnRow",
           "StoredRegister", "ValueRow", "contract_key", "format_received", "is_locked", "lock_wait_seconds"]
VERDICTS = ("valid", "valid-with-warnings", "invalid", "unreadable")


# -- the ledger ----------------------------------------------------------------------------
class Ledger(LedgerReads):
    """The SQLite ledger. Open with a path (created and migrated as needed); close when done."""

    def __init__(self, path: str | Path, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None):
        self.path = Path(path)
        timeout = lock_wait_seconds() if timeout is None else timeout
        self.lock_wait = timeout
        self.on_wait = on_wait
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"The ledger {self.path} cannot be opened ({exc}).") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")  # reads; writes use _begin
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LedgerError(f"The ledger {self.path} cannot use write-ahead logging (journal mode {mode}).")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._check()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise _cannot_use(self.path, exc) from None
        except LedgerError:
            self.conn.close()
            raise

    def _check(self) -> None:
        """Whole, and exactly the schema kpd-returns made (intake.ledger_check), seen in one snapshot."""
        self.conn.execute("BEGIN")
        try:
            check_ledger(self.conn, self.path, self.schema_version)
        finally:
            if self.conn.in_transaction:  # a read that failed (a full disk) has ended it already
                self.conn.execute("COMMIT")

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting (with one message) for another run's lock; LedgerBusy if it stays."""
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {min(_FIRST_TRY_MS, int(self.lock_wait * 1000))}")
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or self.lock_wait * 1000 <= _FIRST_TRY_MS:
                    raise
            wait = self.lock_wait
            say = self.on_wait or (lambda text: print(text, file=sys.stderr, flush=True))
            say(f"The ledger {self.path} is in use by another run; waiting up to {wait:g} seconds for it…")
            conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_locked(exc):
                raise LedgerBusy(
                    f"The ledger {self.path} is still in use by another run after {self.lock_wait:g} seconds, so this "
                    "run stopped; the files it had not recorded yet will be taken by the next run. Run again when "
                    f"the other run has finished (or set {LOCK_WAIT_ENV} to wait longer).") from None
            raise _cannot_use(self.path, exc) from None
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.lock_wait * 1000)}")

    # -- housekeeping ------------------------------------------------------------------
    def close(self) -> None:
        if getattr(self, "conn", None) is not None:
            try:
                self.conn.execute("PRAGMA busy_timeout = 0")  # tidying never waits for another run
                self.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self.conn.close()
            self.conn = None  # type: ignore[assignment]
            remember_checked(self.path)  # unchanged at its next open in this process: not read again

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise LedgerError(
                f"The ledger {self.path} was made by a newer version of kpd-returns (schema {current}; this "
                f"version knows up to {SCHEMA_VERSION}). Upgrade kpd-returns to use it.")
        for version, description, sql in MIGRATIONS:
            if version <= current:
                continue
            self._begin()
            try:
                # Another process may have migrated while we waited for the lock.
                if self.conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                    self.conn.execute("ROLLBACK")
                    continue
                for statement in _statements(sql):
                    self.conn.execute(statement)
                if version in BACKFILLS:
                    BACKFILLS[version](self.conn)
                self.conn.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                                  (version, description, _now()))
                self.conn.execute(f"PRAGMA user_version = {version}")
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # SQLite has already rolled back after a full disk
                    self.conn.execute("ROLLBACK")
                raise

    def integrity_problems(self) -> list[str]:
        """[] when ``PRAGMA integrity_check`` and ``foreign_key_check`` both pass."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {tuple(r)}" for r in self.conn.execute("PRAGMA foreign_key_check")]
        return problems

    # -- writing -------------------------------------------------------------------------
    def add_report(self, report: "FileReport", *, source_path: str | Path, source_email: str | None = None,
                   sender: str | None = None, region: str | None = None, size_bytes: int | None = None,
                   year_start: Callable[[str, str | None], int] | None = None) -> AddResult:
        """Add one validated file in one transaction; a file already there (same SHA-256) is left alone.

        When the file is a usable return, the cross-return checks of its contract are
        recomputed in the same transaction; ``cross_findings`` are those now on this file.
        """
        if not report.sha256:
            raise ValueError(f"The report for {report.name} has no SHA-256: the ledger needs one.")
        verdict = report.verdict
        date_only = report.submitted_source == "workbook"
        conn = self.conn
        self._begin()
        try:
            existing = conn.execute(f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM files f WHERE f.sha256 = ?",
                                    (report.sha256,)).fetchone()
            if existing is not None:
                conn.execute("ROLLBACK")
                return AddResult(existing["id"], False, _row(existing))
            cur = conn.execute(
                """INSERT INTO files (sha256, name, source_path, source_email, sender, received_at, submitted_source,
                       return_id, template_version, provider, contract, contract_key, period, period_end, verdict,
                       late_working_days, deadline, region, size_bytes, ingested_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (report.sha256, report.name, str(source_path), source_email, sender,
                 _iso_dt(report.submitted, date_only), report.submitted_source, report.return_id,
                 report.version, report.provider, report.contract, contract_key(report.contract), report.period,
                 _iso_dt(report.period_end), verdict, report.late_working_days, _iso_dt(report.deadline), region,
                 size_bytes, _now()))
            file_id = cur.lastrowid
            conn.executemany(
                """INSERT INTO findings (file_id, seq, origin, code, severity, sheet, cell, field, field_label, found,
                       expected, message, guidance, explanation)
                   VALUES (?, ?, 'validator', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [(file_id, i, f.code, f.severity, f.sheet, f.cell, f.field, f.field_label, f.found, f.expected,
                  f.message, f.guidance, mask_all(f.explanation) if f.explanation else None)
                 for i, f in enumerate(report.findings)])
            conn.executemany("INSERT INTO explanations (file_id, row, code, cell, text) VALUES (?, ?, ?, ?, ?)",
                             [(file_id, r, c, cell, mask_all(t)) for r, c, cell, t in report.explanations])
            rows = []
            own = value_period("", report.period_kind, report.period, report.period_end)
            for fld, key, month, value in report.values:
                num, text = _value_columns(value)
                span = value_period(month, None, None, None) if month else own
                rows.append((file_id, report.return_id or "", fld, key or "", month or "", num, text, *span))
            conn.executemany("INSERT INTO file_values (file_id, return_id, field, key, month, value_num, value_text, "
                             "period_kind, period, first_month, last_month) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows)
            if report.table is not None and verdict in VALID_VERDICTS:  # an extract's rows (intake.extract_store)
                store_frame(conn, file_id, report.table)
            cross: list[Finding] = []
            if verdict in VALID_VERDICTS and report.return_id and report.contract and report.period:
                ck = contract_key(report.contract)
                ysm = year_start(report.return_id, report.contract) if year_start else None
                self.refresh_cross_group(report.return_id, ck, ysm)
                cross = self._findings(file_id, origin="cross-check")
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):  # the ledger refused the write, not the file
                raise _cannot_use(self.path, exc) from None
            raise
        return AddResult(file_id, True, None, cross)

    def refresh_cross_checks(self, year_start: Callable[[str, str | None], int] | None = None) -> int:
        """Recompute every contract's cross-return checks (one transaction); returns the findings now stored."""
        conn = self.conn
        self._begin()
        try:
            groups = conn.execute("SELECT DISTINCT return_id, contract_key, contract FROM current_files "
                                  "ORDER BY return_id, contract_key").fetchall()
            seen = set()
            for g in groups:
                if (g["return_id"], g["contract_key"]) in seen:
                    continue
                seen.add((g["return_id"], g["contract_key"]))
                ysm = year_start(g["return_id"], g["contract"]) if year_start else None
                self.refresh_cross_group(g["return_id"], g["contract_key"], ysm)
            n = conn.execute("SELECT COUNT(*) FROM findings WHERE origin = 'cross-check'").fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return n

    # -- reading -------------------------------------------------------------------------
    def store_register(self, name: str, text: str) -> None:
        """Keep the providers register a command was given (unless it is the one stored last)."""
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        latest = self.latest_register()
        if latest is not None and (latest.name, latest.sha256) == (name, sha):
            return
        self.conn.execute("INSERT INTO registers (name, sha256, content, stored_at) VALUES (?, ?, ?, ?)",
                          (name, sha, text, _now()))

    def submissions_register(self, *, as_of: dt.date, register: Any, period: str | None = None,
                             region_default: str = "england-and-wales", periods: Iterable[str] | None = None,
                             calendar: Any = None) -> list[RegisterRow]:
        """Who owed what, and what came in: see kpd_returns.intake.submissions.submissions_register."""
        wanted = set(periods or ())
        if period:
            wanted.add(period)
        return submissions_register(self, as_of=as_of, register=register, periods=wanted or None,
                                    region_default=region_default, calendar=calendar)

    def refresh_cross_group(self, return_id: str, contract_key: str, year_start_month: int | None = None) -> None:
        """Replace one contract's cross-return findings; the caller holds the transaction."""
        refresh_cross_group(self.conn, return_id, contract_key, year_start_month)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
