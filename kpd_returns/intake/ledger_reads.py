"""The ledger's reads: the files it holds, their findings and figures, and the groups they form.

``Ledger`` (``intake.ledger``) inherits these; they only read, so they take no lock and open no
transaction. The SQL of every read is here, beside the rows it builds (``intake.ledger_rows``).
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from ..spec.constants import FIGURE_CEILING
from ..spec.findings import EXPLAINED_PREFIX, QUERY_CODES, Finding
from ..spec.model import contract_key
from ..spec.periods import ValuePeriod
from ..spec.personal_data import mask_all
from .registry import MAX_REGISTER_BYTES
from .supersession import later_sql, order_by_sql
from .ledger_rows import (_COUNTS, _ROW_COLUMNS, ReturnRow, StoredRegister, ValueRow, _finding_from_row,
                          _parse_date, _row)


def usable_figure(num: Any) -> bool:
    """False for a stored number no return can hold (not finite, or beyond ``FIGURE_CEILING``, which
    every return's checks apply): such a value is skipped, so no sum or chart built on it overflows."""
    return not isinstance(num, float) or (math.isfinite(num) and abs(num) <= FIGURE_CEILING)


def unusable_figures_note(ledger_path: Any, names: list[str]) -> str:
    """The sentence a command prints for ``LedgerReads.unusable_figures`` (file names masked)."""
    shown = ", ".join(mask_all(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"The ledger {ledger_path} holds figures no return can hold (not a finite number, or beyond "
            f"{FIGURE_CEILING:,.0f}) from {shown}: those figures are left out of the consolidated workbook and "
            "the packs. Send the returns again once corrected.")


class LedgerReads:
    """The reading half of ``Ledger``: every method here reads ``self.conn`` and changes nothing."""

    conn: sqlite3.Connection

    def find_sha256(self, sha256: str) -> ReturnRow | None:
        r = self.conn.execute(f"SELECT {_ROW_COLUMNS}, {_COUNTS} FROM files f WHERE f.sha256 = ?",
                              (sha256,)).fetchone()
        return _row(r) if r else None


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

    def latest_register(self) -> "StoredRegister | None":
        # At most one character over the register's bound is read: a register stored by hand in a tampered
        # ledger is then "too big" in one sentence (intake.registry), never hundreds of megabytes.
        r = self.conn.execute("SELECT name, sha256, substr(content, 1, ?), stored_at FROM registers "
                              "ORDER BY id DESC LIMIT 1", (MAX_REGISTER_BYTES + 1,)).fetchone()
        return StoredRegister(*r) if r else None

    def replaced_by_valid(self, file_id: int) -> bool:
        """Whether a valid return of the same return type, contract and period supersedes this file by
        intake.supersession's rule (what puts right a rejected file, including a correction with the same
        Date submitted; an unreadable one has no period, so nothing replaces it)."""
        return bool(self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM files f JOIN files o ON o.return_id = f.return_id "
            "AND o.contract_key = f.contract_key AND o.period = f.period "
            "WHERE f.id = ? AND o.verdict IN ('valid', 'valid-with-warnings') "
            f"AND {later_sql('o', 'f')})", (file_id,)).fetchone()[0])

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
            "SELECT field, key, month, value_num, value_text FROM file_values WHERE file_id = ?", (file_id,))
            if usable_figure(num)]

    def current_values(self, return_id: str) -> list[ValueRow]:
        """The figures of the current returns of one return type, in a stable order."""
        return list(self.iter_current_values(return_id))

    def iter_current_values(self, return_id: str, fields: Iterable[str] | None = None) -> Iterator[ValueRow]:
        """``current_values`` streamed from the database (optionally only some fields), grouped by file."""
        sql = """SELECT f.id AS file_id, f.provider, f.contract, f.period, f.period_end, v.return_id, v.field, v.key,
                        v.month, v.value_num, v.value_text, v.period_kind, v.period, v.first_month, v.last_month
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
        for (file_id, provider, contract, period, period_end, rid, fld, key, month, num, text, *span) in \
                cursor.execute(sql, args):
            if not usable_figure(num):
                continue  # said once by the command (``unusable_figures``), never a crash later on
            end = ends.get(period_end, ends)
            if end is ends:
                end = ends[period_end] = _parse_date(period_end)
            yield ValueRow(provider, contract, period, fld, key, month, num if num is not None else text,
                           file_id, rid, end, ValuePeriod(*span))

    def unusable_figures(self) -> list[str]:
        """The names of the files whose stored figures include one no return can hold (infinite, or
        beyond ``FIGURE_CEILING``): a ledger written before the ceiling, or edited by hand. Every read
        of figures leaves those out; the command says so in a sentence naming these files."""
        rows = self.conn.execute(
            "SELECT DISTINCT f.name FROM file_values v JOIN files f ON f.id = v.file_id "
            "WHERE typeof(v.value_num) IN ('real', 'integer') AND abs(v.value_num) > ? ORDER BY f.name",
            (FIGURE_CEILING,))
        return [r[0] for r in rows]

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

    def contracts_seen(self) -> list[tuple[str, str, str | None, str]]:
        """(return_id, contract_key, provider, contract) of every attributable file, latest name first."""
        sql = """SELECT return_id, contract_key, provider, contract FROM files
                 WHERE return_id IS NOT NULL AND contract_key IS NOT NULL AND period IS NOT NULL
                 ORDER BY return_id, contract_key, (verdict IN ('valid', 'valid-with-warnings')) DESC, """ + \
              order_by_sql("files", descending=True)
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
               f"ORDER BY f.received_at IS NULL, {order_by_sql('f')}")
        out: dict[tuple[str, str, str], list[ReturnRow]] = {}
        for r in self.conn.execute(sql):
            out.setdefault((r["return_id"], r["ck"], r["period"]), []).append(_row(r))
        return out
