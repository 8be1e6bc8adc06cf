"""Year-to-date totals of the detail lists (AtW 7.25): a check across returns.

AtW 7.25 asks for the reasons for each rework, and the details of withdrawals before each
report, "in Month and year to date". Each return lists the month's cases on its own sheet
(Rework reasons, Withdrawals), and its Volumes sheet gives the year-to-date totals. The spec
links a list to its total: a ``rows_match_count`` rule with a ``ytd_column`` (mmir.toml).

``ytd-list-mismatch`` (a query, the project's plausibility check): the year-to-date total on a
return differs from the number of rows listed on the same sheet (filtered as the rule says,
e.g. withdrawals before the Support Plan) across the contract year's current returns, from
the month the year starts to this one. Checked only where the ledger holds a current return
for every one of those months; a warning at the later return's year-to-date cell, as the
other cross-return checks are, since the mistake may be in an earlier month's list.
"""

from __future__ import annotations

import sqlite3

from ..spec import findings as F
from ..spec import layout
from ..spec.findings import Finding
from ..spec.return_spec import ReturnSpec, RuleSpec

CODE = "ytd-list-mismatch"
_TOLERANCE = 1e-6


def list_totals(spec: ReturnSpec) -> list[RuleSpec]:
    """The rules that tie a detail list to a year-to-date total."""
    return [r for r in spec.rules if r.kind == "rows_match_count" and r.params.get("ytd_column")]


def year_months(period: str, year_start_month: int) -> list[str]:
    """'YYYY-MM' of every month from the contract year's start to ``period``, in order."""
    year, month = int(period[:4]), int(period[5:7])
    y, m = (year, year_start_month) if month >= year_start_month else (year - 1, year_start_month)
    out = []
    while (y, m) <= (year, month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _values(conn: sqlite3.Connection, file_ids: list[int], fields: set[str]) -> dict[int, dict]:
    out: dict[int, dict] = {fid: {} for fid in file_ids}
    if not file_ids or not fields:
        return out
    wanted = sorted(fields)
    sql = (f"SELECT file_id, field, key, value_num, value_text FROM file_values WHERE file_id IN "
           f"({','.join('?' * len(file_ids))}) AND field IN ({','.join('?' * len(wanted))})")
    for fid, field, key, num, text in conn.execute(sql, [*file_ids, *wanted]):
        out[fid][(field, key)] = num if num is not None else text
    return out


def _listed(vals: dict, p: dict) -> int:
    """Rows of one return's list with a case reference (and the filter's value, if any)."""
    rows = {key for (field, key), v in vals.items() if field == p["key_field"] and v not in (None, "")}
    if p.get("filter_field"):
        rows = {k for k in rows if vals.get((p["filter_field"], k)) == p.get("filter_value")}
    return len(rows)


def ytd_list_findings(conn: sqlite3.Connection, spec: ReturnSpec, current: list[tuple[int, str]],
                      year_start_month: int | None = None) -> dict[int, list[Finding]]:
    """``current``: (file_id, period 'YYYY-MM') of one contract's current returns."""
    rules = list_totals(spec)
    if not rules or spec.period.kind != "month":
        return {}
    ysm = year_start_month or spec.period.year_start_month
    fields = {r.params[k] for r in rules for k in ("key_field", "filter_field", "count_field") if r.params.get(k)}
    by_period = {period: fid for fid, period in current}
    values = _values(conn, sorted(by_period.values()), fields)
    index = layout.slot_index(spec)
    out: dict[int, list[Finding]] = {}
    for fid, period in sorted(current, key=lambda x: x[1]):
        months = year_months(period, ysm)
        if any(m not in by_period for m in months):
            continue  # the ledger lacks a month of the year: the lists cannot be added up
        for r in rules:
            p = r.params
            total = values[fid].get((p["count_field"], p["ytd_column"]))
            if not isinstance(total, (int, float)):
                continue
            listed = sum(_listed(values[by_period[m]], p) for m in months)
            if abs(total - listed) <= _TOLERANCE:
                continue
            slot = index[(p["count_field"], p["ytd_column"])]
            field = spec.field(p["count_field"])
            span = F._fmt(len(months)) + (" month" if len(months) == 1 else " months")
            out.setdefault(fid, []).append(F.make(
                CODE, guidance=spec.guidance_ref(r.guidance), sheet=slot.sheet, cell=slot.cell, field=field.id,
                field_label=field.label, found=total, expected=listed, detail=p["list_sheet"], months=span))
    return out
