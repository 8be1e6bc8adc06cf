"""Checks across returns: things no single file can show.

* ``ytd-discontinuity`` (monthly returns with in-month and year-to-date columns,
  the MMIR's Volumes sheet): this month's year to date should be last month's
  year to date plus this month's in-month figure. The year to date resets at the
  start of the contract year (April unless the spec's ``period.year_start_month``
  or the providers register says otherwise): in that month it should equal the
  in-month figure. A month whose previous month is not in the ledger is not checked.
* ``kpd-restatement`` (quarterly returns with month columns, the KPD): a month
  already reported in an earlier quarter's current return that now has a
  different value. Typed inputs only: totals are worked out from them, so a
  restated input would otherwise be reported twice.

Both are WARNINGS and belong to the LATER file (the later period), at the cell
of the later file. They are warnings, not errors, because the mistake may be in
the earlier return: one provider's earlier slip must not block the return in
front of us, and a warning says "look at both".

Only CURRENT returns are compared (the latest valid submission for each period),
and the findings are recomputed for the whole contract whenever one of its
returns arrives (``refresh_group``, called by the ledger inside the same
transaction), so a resubmission that fixes last month clears this month's warning.
"""

from __future__ import annotations

import calendar
import sqlite3
from collections.abc import Iterable

from ..spec import findings as F
from ..spec import layout
from ..spec.findings import Finding
from ..spec.return_spec import ReturnSpec, SpecError, get_spec
from .explanations import explain
from .ytd_lists import ytd_list_findings

CROSS_CODES = ("ytd-discontinuity", "kpd-restatement", "ytd-list-mismatch")
_TOLERANCE = 1e-6
_SEQ_BASE = 100000  # cross-check findings sort after the validator's

Values = dict[tuple[str, str], tuple[str, float | None, str | None]]  # (field, key) -> (month, num, text)


def month_label(ym: str) -> str:
    """'2026-09' -> 'September 2026'."""
    year, month = int(ym[:4]), int(ym[5:7])
    return f"{calendar.month_name[month]} {year}"


def previous_month(ym: str) -> str:
    year, month = int(ym[:4]), int(ym[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def _ytd_sheets(spec: ReturnSpec) -> list:
    if spec.period.kind != "month":
        return []
    out = []
    for sheet in spec.sheets:
        if sheet.kind == "grid":
            keys = spec.column_sets[sheet.columns].keys
            if "in_month" in keys and "year_to_date" in keys:
                out.append(sheet)
    return out


def _month_sheets(spec: ReturnSpec) -> list:
    cs = spec.period.months_column_set
    if spec.period.kind != "contract_quarter" or not cs:
        return []
    return [s for s in spec.sheets if s.kind == "grid" and s.columns == cs]


_SLOTS: dict[tuple[str, str], dict] = {}


def slot_index(spec: ReturnSpec) -> dict:
    """layout.slot_index, built once per spec (building it is not cheap)."""
    key = (spec.id, spec.spec_hash)
    if key not in _SLOTS:
        _SLOTS[key] = layout.slot_index(spec)
    return _SLOTS[key]


def applies_to(spec: ReturnSpec) -> bool:
    return bool(_ytd_sheets(spec) or _month_sheets(spec))


def ytd_findings(spec: ReturnSpec, current: list[tuple[int, str]], values: dict[int, Values],
                 year_start_month: int | None = None) -> dict[int, list[Finding]]:
    """``current``: (file_id, period 'YYYY-MM') of one contract's current returns."""
    ysm = year_start_month or spec.period.year_start_month
    by_period = {period: fid for fid, period in current}
    index = slot_index(spec)
    out: dict[int, list[Finding]] = {}
    for fid, period in sorted(current, key=lambda x: x[1]):
        mine = values.get(fid, {})
        restart = int(period[5:7]) == ysm
        prev_period = previous_month(period)
        prev_id = by_period.get(prev_period)
        if not restart and prev_id is None:
            continue
        prev = values.get(prev_id, {}) if prev_id is not None else {}
        for sheet in _ytd_sheets(spec):
            for field in sheet.expanded_fields:
                if not field.numeric:
                    continue
                in_month = _num(mine.get((field.id, "in_month")))
                ytd = _num(mine.get((field.id, "year_to_date")))
                if in_month is None or ytd is None:
                    continue
                if restart:
                    expected = in_month
                    detail = (f"the contract year starts in {calendar.month_name[ysm]}, so the year to date "
                              f"is the in-month figure alone, which")
                else:
                    prev_ytd = _num(prev.get((field.id, "year_to_date")))
                    if prev_ytd is None:
                        continue
                    expected = prev_ytd + in_month
                    detail = (f"{month_label(prev_period)}'s year to date ({F._fmt(prev_ytd)}) plus this month's "
                              f"in-month figure ({F._fmt(in_month)})")
                if abs(ytd - expected) <= _TOLERANCE:
                    continue
                slot = index[(field.id, "year_to_date")]
                out.setdefault(fid, []).append(F.make(
                    "ytd-discontinuity", guidance=spec.guidance_ref(field.guidance), sheet=slot.sheet,
                    cell=slot.cell, field=field.id, field_label=field.label, found=ytd, expected=expected,
                    detail=detail))
    return out


def restatement_findings(spec: ReturnSpec, current: list[tuple[int, str]], values: dict[int, Values]
                         ) -> dict[int, list[Finding]]:
    """``current``: (file_id, period) of one contract's current returns, oldest period first."""
    index = slot_index(spec)
    fields = [(s, f) for s in _month_sheets(spec) for f in s.expanded_fields if f.numeric and not f.computed]
    by_month = {fid: {(f, m): num for (f, _k), (m, num, _t) in vals.items() if m and num is not None}
                for fid, vals in values.items()}
    out: dict[int, list[Finding]] = {}
    for i, (fid, period) in enumerate(current):
        mine = values.get(fid, {})
        earlier = list(reversed(current[:i]))  # latest earlier period first
        if not earlier:
            continue
        for sheet, field in fields:
            for key in layout.column_keys(spec, sheet):
                got = mine.get((field.id, key))
                now = _num(got)
                if now is None:
                    continue
                month = got[0]
                for eid, eperiod in earlier:
                    before = by_month.get(eid, {}).get((field.id, month)) if month else None
                    if before is None:
                        continue
                    if abs(before - now) > _TOLERANCE:
                        slot = index[(field.id, key)]
                        out.setdefault(fid, []).append(F.make(
                            "kpd-restatement", guidance=spec.guidance_ref(field.guidance), sheet=slot.sheet,
                            cell=slot.cell, field=field.id, field_label=field.label, found=now, expected=before,
                            detail=month_label(month) if month else key, previous=eperiod))
                    break
    return out


def _num(entry: tuple[str, float | None, str | None] | None) -> float | None:
    return None if entry is None else entry[1]


def checked_fields(spec: ReturnSpec) -> list[str]:
    """The fields the cross-return checks read: those of the year-to-date and month-column sheets."""
    return sorted({f.id for sheet in _ytd_sheets(spec) + _month_sheets(spec) for f in sheet.expanded_fields})


def _load_values(conn: sqlite3.Connection, file_ids: Iterable[int], fields: Iterable[str] | None = None
                 ) -> dict[int, Values]:
    """The stored values of ``file_ids`` (only ``fields`` when given: a return has hundreds of others,
    and a contract's returns are all reloaded each time one arrives)."""
    ids = sorted(set(file_ids))
    out: dict[int, Values] = {i: {} for i in ids}
    if not ids:
        return out
    sql = (f"SELECT file_id, field, key, month, value_num, value_text FROM file_values "
           f"WHERE file_id IN ({','.join('?' * len(ids))})")
    args: list = list(ids)
    if fields is not None:
        wanted = sorted(set(fields))
        sql += f" AND field IN ({','.join('?' * len(wanted))})"
        args += wanted
    for fid, field, key, month, num, text in conn.execute(sql, args):
        out[fid][(field, key)] = (month, num, text)
    return out


def refresh_group(conn: sqlite3.Connection, return_id: str, contract_key: str, *,
                  year_start_month: int | None = None) -> int:
    """Recompute the cross-return findings of one contract's returns; the caller holds the transaction.

    Returns the number of findings stored."""
    try:
        spec = get_spec(return_id)
    except SpecError:
        return 0
    conn.execute("DELETE FROM findings WHERE origin = 'cross-check' AND file_id IN "
                 "(SELECT id FROM files WHERE return_id = ? AND contract_key = ?)", (return_id, contract_key))
    if not applies_to(spec):
        return 0
    rows = conn.execute("SELECT id, period FROM current_files WHERE return_id = ? AND contract_key = ? "
                        "ORDER BY period_end, period", (return_id, contract_key)).fetchall()
    current = [(r[0], r[1]) for r in rows]
    values = _load_values(conn, [fid for fid, _ in current], checked_fields(spec))
    found: dict[int, list[Finding]] = {}
    if _ytd_sheets(spec):
        for fid, items in ytd_findings(spec, current, values, year_start_month).items():
            found.setdefault(fid, []).extend(items)
    if _month_sheets(spec):
        for fid, items in restatement_findings(spec, current, values).items():
            found.setdefault(fid, []).extend(items)
    for fid, items in ytd_list_findings(conn, spec, current, year_start_month).items():  # AtW 7.25 lists
        found.setdefault(fid, []).extend(items)
    n = 0
    for fid in sorted(found):
        # A query the provider explained on this return's Explanations sheet is stored explained.
        rows = [tuple(r) for r in conn.execute("SELECT row, code, cell, text FROM explanations WHERE file_id = ? "
                                               "ORDER BY row", (fid,))]
        items = explain(sorted(found[fid], key=Finding.sort_key), rows)
        conn.executemany(
            """INSERT INTO findings (file_id, seq, origin, code, severity, sheet, cell, field, field_label, found,
                   expected, message, guidance, explanation)
               VALUES (?, ?, 'cross-check', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(fid, _SEQ_BASE + i, f.code, f.severity, f.sheet, f.cell, f.field, f.field_label, f.found, f.expected,
              f.message, f.guidance, f.explanation) for i, f in enumerate(items)])
        n += len(items)
    return n
