"""The ledger: every file received, what the validator said about it, and its figures.

One SQLite file, created and migrated by the tool (``PRAGMA user_version`` holds
the schema version; the ``schema_version`` table records when each step was
applied). ``foreign_keys`` is on and the journal is in WAL mode.

The tables and views are described in ``intake.ledger_schema``.

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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import cross_checks
from ..checks.explanations import explain
from ..spec.findings import EXPLAINED_PREFIX, QUERY_CODES, Finding
from ..spec.personal_data import mask_all
from ..spec.model import VALID_VERDICTS, RegisterRow, contract_key
from ..spec.return_spec import SpecError, get_spec
from .submissions import submissions_register
from .ledger_lock import (LOCK_WAIT_ENV, _FIRST_TRY_MS, LedgerBusy, LedgerError, _cannot_use, is_locked,
                          lock_wait_seconds)
from .ledger_rows import (_COUNTS, _ROW_COLUMNS, AddResult, ReturnRow, StoredRegister, ValueRow,
                          _finding_from_row, _iso_dt, _parse_date, _row, _value_columns, format_received)
from .ledger_schema import MIGRATIONS, SCHEMA_VERSION, _statements

if TYPE_CHECKING:
    from ..spec.model import FileReport

# What callers import from here: the ledger, its rows and its errors (defined in ledger_rows and ledger_lock).
__all__ = ["VALID_VERDICTS", "VERDICTS", "AddResult", "Ledger", "LedgerBusy", "LedgerError", "RegisterRow", "ReturnRow",
           "StoredRegister", "ValueRow", "contract_key", "format_received", "is_locked", "lock_wait_seconds"]
VERDICTS = ("valid", "valid-with-warnings", "invalid", "unreadable")


# -- the ledger ----------------------------------------------------------------------------
class Ledger:
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
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise _cannot_use(self.path, exc) from None

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
                self.conn.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                                  (version, description, _now()))
                self.conn.execute(f"PRAGMA user_version = {version}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def integrity_problems(self) -> list[str]:
        """[] when ``PRAGMA integrity_check`` and ``foreign_key_check`` both pass."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {tuple(r)}" for r in self.conn.execute("PRAGMA foreign_key_check")]
        return problems

    # -- writing -------------------------------------------------------------------------
    def find_sha256(self, sha256: str) -> ReturnRow | None:
        r = self.conn.execute(f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM files f WHERE f.sha256 = ?",
                              (sha256,)).fetchone()
        return _row(r) if r else None

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
            for fld, key, month, value in report.values:
                num, text = _value_columns(value)
                rows.append((file_id, report.return_id or "", fld, key or "", month or "", num, text))
            conn.executemany("INSERT INTO file_values (file_id, return_id, field, key, month, value_num, value_text) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
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
    def _findings(self, file_id: int, origin: str | None = None) -> list[Finding]:
        sql = "SELECT * FROM findings WHERE file_id = ?"
        args: list[Any] = [file_id]
        if origin:
            sql += " AND origin = ?"
            args.append(origin)
        rows = self.conn.execute(sql + " ORDER BY origin DESC, seq, id", args).fetchall()
        return [_finding_from_row(r) for r in rows]

    def findings(self, file_id: int) -> list[Finding]:
        """Every finding of a file: the validator's, then the cross-return checks'."""
        return self._findings(file_id)

    def queries(self, file_ids: Iterable[int]) -> dict[int, list[Finding]]:
        """The queries (the project's plausibility checks) on each of these files, open and explained,
        for the consolidated workbook and ``status``."""
        ids = sorted(set(file_ids))
        out: dict[int, list[Finding]] = {}
        for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = ids[start:start + 500]
            codes = sorted(QUERY_CODES)
            rows = self.conn.execute(
                f"SELECT * FROM findings WHERE file_id IN ({','.join('?' * len(chunk))}) AND code IN "
                f"({','.join('?' * len(codes))}) ORDER BY file_id, origin DESC, seq, id", [*chunk, *codes])
            for r in rows:
                out.setdefault(r["file_id"], []).append(_finding_from_row(r))
        return out

    def file(self, file_id: int) -> ReturnRow | None:
        r = self.conn.execute(f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM files f WHERE f.id = ?", (file_id,)).fetchone()
        return _row(r) if r else None

    def store_register(self, name: str, text: str) -> None:
        """Keep the providers register a command was given (unless it is the one stored last)."""
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        latest = self.latest_register()
        if latest is not None and (latest.name, latest.sha256) == (name, sha):
            return
        self.conn.execute("INSERT INTO registers (name, sha256, content, stored_at) VALUES (?, ?, ?, ?)",
                          (name, sha, text, _now()))

    def latest_register(self) -> "StoredRegister | None":
        r = self.conn.execute("SELECT name, sha256, content, stored_at FROM registers ORDER BY id DESC LIMIT 1"
                              ).fetchone()
        return StoredRegister(*r) if r else None

    def replaced_by_valid(self, file_id: int) -> bool:
        """Whether a valid return of the same return type, contract and period arrived after this file
        (what puts right a rejected file; an unreadable one has no period, so nothing replaces it)."""
        return bool(self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM files f JOIN files o ON o.return_id = f.return_id "
            "AND o.contract_key = f.contract_key AND o.period = f.period "
            "WHERE f.id = ? AND o.verdict IN ('valid', 'valid-with-warnings') "
            "AND (COALESCE(o.received_at, ''), o.id) > (COALESCE(f.received_at, ''), f.id))", (file_id,)).fetchone()[0])

    def file_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]

    def current_returns(self, return_id: str | None = None) -> list[ReturnRow]:
        """One row per (return_id, contract, period): the latest valid submission.

        Sorted by return, provider, contract and period, so outputs built from it are stable."""
        sql = (f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM current_files f"
               + (" WHERE f.return_id = ?" if return_id else "")
               + " ORDER BY f.return_id, f.provider, f.contract_key, f.period_end, f.period, f.id")
        return [_row(r) for r in self.conn.execute(sql, (return_id,) if return_id else ())]

    def file_values(self, file_id: int) -> list[tuple[str, str, str, float | str | None]]:
        """One file's figures as (field, key, month, value) tuples, in no particular order (index lookup)."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return [(fld, key, month, num if num is not None else text) for fld, key, month, num, text in cursor.execute(
            "SELECT field, key, month, value_num, value_text FROM file_values WHERE file_id = ?", (file_id,))]

    def current_values(self, return_id: str) -> list[ValueRow]:
        """The figures of the current returns of one return type, in a stable order."""
        return list(self.iter_current_values(return_id))

    def iter_current_values(self, return_id: str, fields: Iterable[str] | None = None) -> Iterator[ValueRow]:
        """``current_values`` streamed from the database (optionally only some fields), grouped by file."""
        sql = """SELECT f.id AS file_id, f.provider, f.contract, f.period, f.period_end, v.return_id, v.field, v.key,
                        v.month, v.value_num, v.value_text
                 FROM current_files f JOIN file_values v ON v.file_id = f.id
                 WHERE f.return_id = ?"""
        args: list[Any] = [return_id]
        if fields is not None:
            wanted = sorted(set(fields))
            sql += f" AND v.field IN ({','.join('?' * len(wanted))})"
            args += wanted
        sql += " ORDER BY f.provider, f.contract_key, f.period_end, f.period, f.id, v.field, v.key, v.month"
        cursor = self.conn.cursor()
        cursor.row_factory = None  # plain tuples: hundreds of thousands of rows, read by position
        ends: dict[str | None, dt.date | None] = {}
        for (file_id, provider, contract, period, period_end, rid, fld, key, month, num, text) in cursor.execute(
                sql, args):
            end = ends.get(period_end, ends)
            if end is ends:
                end = ends[period_end] = _parse_date(period_end)
            yield ValueRow(provider, contract, period, fld, key, month, num if num is not None else text,
                           file_id, rid, end)

    def all_files(self) -> list[ReturnRow]:
        """Every file, in a content-determined order (for outputs that must not depend on ingest order)."""
        return list(self.iter_all_files())

    def iter_all_files(self) -> Iterator[ReturnRow]:
        """``all_files`` streamed from the database (a long-lived ledger holds many thousands of files)."""
        sql = (f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM files f ORDER BY f.return_id IS NULL, f.return_id, "
               "f.provider, f.contract_key, f.period_end, f.received_at, f.name, f.sha256")
        return (_row(r) for r in self.conn.execute(sql))

    def finding_counts(self, contract: str | None = None, current_only: bool = True) -> dict[str, int]:
        """Open findings by code (sorted by code), for current returns only unless ``current_only`` is False;
        queries the provider explained are counted apart, as ``explained:<code>``."""
        table = "current_files" if current_only else "files"
        code = f"CASE WHEN g.explanation IS NULL THEN g.code ELSE '{EXPLAINED_PREFIX}' || g.code END"
        sql = f"SELECT {code} AS c, COUNT(*) FROM findings g JOIN {table} f ON f.id = g.file_id"
        args: tuple = ()
        if contract is not None:
            sql += " WHERE f.contract_key = ?"
            args = (contract_key(contract),)
        sql += " GROUP BY c ORDER BY c"
        return {c: n for c, n in self.conn.execute(sql, args)}

    def finding_summary(self, file_ids: Iterable[int] | None = None) -> list[tuple[str, str, int, int]]:
        """(code, severity, findings, files) over all files (or the given ones), by code."""
        sql = "SELECT code, severity, COUNT(*), COUNT(DISTINCT file_id) FROM findings"
        args: list[Any] = []
        if file_ids is not None:
            ids = sorted(set(file_ids))
            if not ids:
                return []
            sql += f" WHERE file_id IN ({','.join('?' * len(ids))})"
            args = ids
        sql += " GROUP BY code, severity ORDER BY code, severity"
        return [tuple(r) for r in self.conn.execute(sql, args)]

    def periods_seen(self, return_id: str) -> list[tuple[str, dt.date]]:
        rows = self.conn.execute("SELECT DISTINCT period, period_end FROM files WHERE return_id = ? AND period IS NOT "
                                 "NULL AND period_end IS NOT NULL ORDER BY period_end, period", (return_id,))
        return [(r[0], _parse_date(r[1])) for r in rows]

    def submissions_register(self, *, as_of: dt.date, register: Any, period: str | None = None,
                             region_default: str = "england-and-wales", periods: Iterable[str] | None = None,
                             calendar: Any = None) -> list[RegisterRow]:
        """Who owed what, and what came in: see kpd_returns.intake.submissions.submissions_register."""
        wanted = set(periods or ())
        if period:
            wanted.add(period)
        return submissions_register(self, as_of=as_of, register=register, periods=wanted or None,
                                    region_default=region_default, calendar=calendar)

    def contracts_seen(self) -> list[tuple[str, str, str | None, str]]:
        """(return_id, contract_key, provider, contract) of every attributable file, latest name first."""
        sql = """SELECT return_id, contract_key, provider, contract FROM files
                 WHERE return_id IS NOT NULL AND contract_key IS NOT NULL AND period IS NOT NULL
                 ORDER BY return_id, contract_key, (verdict IN ('valid', 'valid-with-warnings')) DESC,
                          received_at DESC, id DESC"""
        out, seen = [], set()
        for r in self.conn.execute(sql):
            k = (r[0], r[1])
            if k not in seen:
                seen.add(k)
                out.append((r[0], r[1], r[2], r[3]))
        return out

    def group_files(self) -> dict[tuple[str, str, str], list[ReturnRow]]:
        """(return_id, contract_key, period) -> its files, oldest first."""
        sql = (f"SELECT {_ROW_COLUMNS}, {_COUNTS}, f.contract_key AS ck FROM files f WHERE f.return_id IS NOT NULL "
               "AND f.contract_key IS NOT NULL AND f.period IS NOT NULL "
               "ORDER BY f.received_at IS NULL, f.received_at, f.id")
        out: dict[tuple[str, str, str], list[ReturnRow]] = {}
        for r in self.conn.execute(sql):
            out.setdefault((r["return_id"], r["ck"], r["period"]), []).append(_row(r))
        return out


    # -- the checks across returns (checks.cross_checks decides; the ledger reads and stores) --
    def refresh_cross_group(self, return_id: str, contract_key: str, year_start_month: int | None = None) -> None:
        """Replace one contract's cross-return findings; the caller holds the transaction."""
        conn = self.conn
        conn.execute("DELETE FROM findings WHERE origin = 'cross-check' AND file_id IN "
                     "(SELECT id FROM files WHERE return_id = ? AND contract_key = ?)", (return_id, contract_key))
        try:
            spec = get_spec(return_id)
        except SpecError:
            return
        fields = cross_checks.checked_fields(spec)
        if not fields:
            return
        current = [(r[0], r[1]) for r in conn.execute(
            "SELECT id, period FROM current_files WHERE return_id = ? AND contract_key = ? ORDER BY period_end, "
            "period", (return_id, contract_key))]
        values: dict[int, dict] = {fid: {} for fid, _ in current}
        ids = sorted(values)
        sql = (f"SELECT file_id, field, key, month, value_num, value_text FROM file_values WHERE file_id IN "
               f"({','.join('?' * len(ids))}) AND field IN ({','.join('?' * len(fields))})")
        for fid, fld, key, month, num, text in conn.execute(sql, [*ids, *fields]) if ids else ():
            values[fid][(fld, key)] = (month, num, text)
        found = cross_checks.group_findings(spec, current, values, year_start_month=year_start_month)
        for fid, items in found.items():
            # A query the provider explained on this return's Explanations sheet is stored explained.
            rows = [tuple(r) for r in conn.execute("SELECT row, code, cell, text FROM explanations WHERE file_id = ? "
                                                   "ORDER BY row", (fid,))]
            conn.executemany(  # seq from 100000: cross-check findings sort after the validator's
                """INSERT INTO findings (file_id, seq, origin, code, severity, sheet, cell, field, field_label, found,
                       expected, message, guidance, explanation)
                   VALUES (?, ?, 'cross-check', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [(fid, 100000 + i, f.code, f.severity, f.sheet, f.cell, f.field, f.field_label, f.found, f.expected,
                  f.message, f.guidance, f.explanation) for i, f in enumerate(explain(items, rows))])


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
