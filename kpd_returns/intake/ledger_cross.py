"""The ledger's part in the checks across returns: read one contract's current figures, let
``checks.cross_checks`` decide, and store what it found (explained where the provider explained it).

``checks.cross_checks`` holds the rules and sees plain values; this module holds the SQL.
"""

from __future__ import annotations

import sqlite3

from ..checks import cross_checks
from ..checks.explanations import explain
from ..spec.return_spec import SpecError, get_spec
from .ledger_reads import usable_figure


def refresh_cross_group(conn: sqlite3.Connection, return_id: str, contract_key: str,
                        year_start_month: int | None = None) -> None:
    """Replace one contract's cross-return findings; the caller holds the transaction."""
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
        if usable_figure(num):  # a figure no return can hold (a hand-edited ledger) is left out
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
