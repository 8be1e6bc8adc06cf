"""The ledger's part in the checks across returns: read one contract's current figures, let
``checks.cross_checks`` decide, and store what it found (explained where the provider explained it).

``checks.cross_checks`` holds the rules and sees plain values; this module holds the SQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from ..checks import cross_checks
from ..checks.cross_returns import compared_returns, month_findings
from ..checks.explanations import explain
from ..spec.findings import Finding
from ..spec.return_spec import ReturnSpec, SpecError, get_spec, load_all
from .ledger_reads import usable_figure


def refresh_cross_group(conn: sqlite3.Connection, return_id: str, contract_key: str,
                        year_start_month: int | None = None, *, _referrers: bool = False) -> None:
    """Replace one contract's cross-return findings; the caller holds the transaction."""
    conn.execute("DELETE FROM findings WHERE origin = 'cross-check' AND file_id IN "
                 "(SELECT id FROM files WHERE return_id = ? AND contract_key = ?)", (return_id, contract_key))
    try:
        spec = get_spec(return_id)
    except SpecError:
        return
    if not _referrers:  # returns compared with this type's months ([[compare_months]]) look again too
        for other in sorted(load_all().values(), key=lambda s: s.id):
            if return_id in compared_returns(other) and other.id != return_id:
                refresh_cross_group(conn, other.id, contract_key, None, _referrers=True)
    fields = cross_checks.checked_fields(spec)
    if not fields and not spec.compare_months:
        return
    current = [(r[0], r[1]) for r in conn.execute(
        "SELECT id, period FROM current_files WHERE return_id = ? AND contract_key = ? ORDER BY period_end, "
        "period", (return_id, contract_key))]
    values = _figures(conn, [fid for fid, _ in current], fields)
    found = cross_checks.group_findings(spec, current, values, year_start_month=year_start_month) if fields else {}
    for fid, items in _month_findings(conn, spec, contract_key).items():
        found[fid] = sorted([*found.get(fid, []), *items], key=Finding.sort_key)
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


def _figures(conn: sqlite3.Connection, ids: list[int], fields: list[str]) -> dict[int, dict]:
    """File id -> (field, key) -> (month, number, text), for ``fields`` of the files ``ids``."""
    values: dict[int, dict] = {fid: {} for fid in ids}
    ids = sorted(values)
    if not ids or not fields:
        return values
    sql = (f"SELECT file_id, field, key, month, value_num, value_text FROM file_values WHERE file_id IN "
           f"({','.join('?' * len(ids))}) AND field IN ({','.join('?' * len(fields))})")
    for fid, fld, key, month, num, text in conn.execute(sql, [*ids, *fields]):
        if usable_figure(num):  # a figure no return can hold (a hand-edited ledger) is left out
            values[fid][(fld, key)] = (month, num, text)
    return values


def _month_findings(conn: sqlite3.Connection, spec: ReturnSpec, contract_key: str) -> dict[int, list[Finding]]:
    """``checks.cross_returns`` for each current return of ``spec`` of one contract: its figures against the
    same contract's current returns of the types its ``[[compare_months]]`` name, month by month."""
    if not spec.compare_months:
        return {}
    others: dict[tuple[str, str, str], dict[str, float]] = {}
    for c in spec.compare_months:
        try:
            other = get_spec(c.return_id)
        except SpecError:
            continue
        by_month = others.setdefault((c.return_id, *c.sum), {})
        for end, num in conn.execute(
                "SELECT f.period_end, v.value_num FROM current_files f JOIN file_values v ON v.file_id = f.id "
                "WHERE f.return_id = ? AND f.contract_key = ? AND v.field = ? AND v.key = ?",
                (c.return_id, contract_key, *c.sum)):
            months = other.period.ending_on(dt.date.fromisoformat(end)).months if end else []
            if len(months) == 1 and num is not None and usable_figure(num):  # a monthly figure only
                by_month[months[0]] = num
    rows = conn.execute("SELECT id, period_end FROM current_files WHERE return_id = ? AND contract_key = ? "
                        "ORDER BY period_end, period", (spec.id, contract_key)).fetchall()
    fields = sorted({c.field for c in spec.compare_months})
    values = _figures(conn, [r[0] for r in rows], fields)
    out: dict[int, list[Finding]] = {}
    for fid, end in rows:
        if not end:
            continue
        months = spec.period.ending_on(dt.date.fromisoformat(end)).months
        mine = {k: v[1] for k, v in values.get(fid, {}).items()}
        items = month_findings(spec, months, mine, others)
        if items:
            out[fid] = items
    return out
