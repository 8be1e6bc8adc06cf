"""Checks across returns: things no single file can show.

Which columns the checks read is declared in the spec, never keyed on a return id or a column
key: a column set with ``role = "in_month_ytd"`` holds the in-month figure (its first key) and
the year to date (its second); one with ``role = "restated_months"`` holds calendar months an
earlier period's return may also have reported. A spec that declares neither draws no
cross-return finding.

* ``ytd-discontinuity`` (monthly returns with an ``in_month_ytd`` column set,
  the MMIR's Volumes sheet): this month's year to date should be last month's
  year to date plus this month's in-month figure. The year to date resets at the
  start of the contract year (April unless the spec's ``period.year_start_month``
  or the providers register says otherwise): in that month it should equal the
  in-month figure. A month whose previous month is not in the ledger is not checked.
* ``kpd-restatement`` (returns with a ``restated_months`` column set, the KPD): a month
  already reported in an earlier quarter's current return that now has a
  different value. Typed inputs only: totals are worked out from them, so a
  restated input would otherwise be reported twice.

Both are WARNINGS and belong to the LATER file (the later period), at the cell
of the later file. They are warnings, not errors, because the mistake may be in
the earlier return: one provider's earlier slip must not block the return in
front of us, and a warning says "look at both".

Only CURRENT returns are compared (the latest valid submission for each period),
and the findings are recomputed for the whole contract whenever one of its
returns arrives (``group_findings``, called by the ledger's ``refresh_cross_group``
inside the same transaction), so a resubmission that fixes last month clears this
month's warning. This module runs no SQL: the ledger gives it the values and stores
what it returns.
"""

from __future__ import annotations

import calendar

from ..spec import findings as F
from ..spec import layout
from ..spec.findings import Finding
from ..spec.periods import month_title, previous_month
from ..spec.return_spec import ReturnSpec
from .ytd_lists import CODE as YTD_LIST_CODE, list_fields, ytd_list_findings

YTD_CODE, RESTATEMENT_CODE = "ytd-discontinuity", "kpd-restatement"
MONTHS_SUM_CODE = "months-sum-mismatch"  # a figure against another return type's months (checks.cross_returns)
# Every finding code a check across returns can give: found when the ledger compares returns, so a
# provider's explanation of one waits for the ledger (checks.explanations).
CROSS_RETURN_CODES = frozenset({YTD_CODE, RESTATEMENT_CODE, YTD_LIST_CODE, MONTHS_SUM_CODE})

_TOLERANCE = 1e-6

Values = dict[tuple[str, str], tuple[str, float | None, str | None]]  # (field, key) -> (month, num, text)


def _role_sheets(spec: ReturnSpec, role: str) -> list:
    """The grid sheets whose column set the spec declares with ``role``."""
    return [s for s in spec.sheets if s.kind == "grid" and spec.column_sets[s.columns].role == role]


def _ytd_sheets(spec: ReturnSpec) -> list:
    # The year to date restarts in a month of the year: only a monthly return can be followed month by month.
    return _role_sheets(spec, "in_month_ytd") if spec.period.monthly else []


def _month_sheets(spec: ReturnSpec) -> list:
    return _role_sheets(spec, "restated_months")


def _ytd_keys(spec: ReturnSpec, sheet) -> tuple[str, str]:
    """(in-month key, year-to-date key) of an ``in_month_ytd`` column set: its first two keys."""
    keys = spec.column_sets[sheet.columns].keys
    return keys[0], keys[1]


def slot_index(spec: ReturnSpec) -> dict:
    """layout.slot_index (built once per spec and kept on it)."""
    return layout.slot_index(spec)


def codes_for(spec: ReturnSpec) -> list[str]:
    """The cross-return finding codes a return of ``spec`` can draw (none unless its spec declares a role)."""
    return ([YTD_CODE] * bool(_ytd_sheets(spec)) + [RESTATEMENT_CODE] * bool(_month_sheets(spec))
            + [MONTHS_SUM_CODE] * bool(spec.compare_months))


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
            month_key, ytd_key = _ytd_keys(spec, sheet)
            for field in sheet.expanded_fields:
                if not field.numeric:
                    continue
                in_month = _num(mine.get((field.id, month_key)))
                ytd = _num(mine.get((field.id, ytd_key)))
                if in_month is None or ytd is None:
                    continue
                if restart:
                    expected = in_month
                    detail = (f"the contract year starts in {calendar.month_name[ysm]}, so the year to date "
                              f"is the in-month figure alone, which")
                else:
                    prev_ytd = _num(prev.get((field.id, ytd_key)))
                    if prev_ytd is None:
                        continue
                    expected = prev_ytd + in_month
                    detail = (f"{month_title(prev_period)}'s year to date ({F._fmt(prev_ytd)}) plus this month's "
                              f"in-month figure ({F._fmt(in_month)})")
                if abs(ytd - expected) <= _TOLERANCE:
                    continue
                slot = index[(field.id, ytd_key)]
                out.setdefault(fid, []).append(F.make(
                    YTD_CODE, guidance=spec.guidance_ref(field.guidance), sheet=slot.sheet,
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
        # cells restated against each earlier return, in sheet order: one query per earlier return, not one per cell
        restated: dict[str, list[tuple]] = {}
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
                        restated.setdefault(eperiod, []).append((index[(field.id, key)], field, now, before,
                                                                 month_title(month) if month else key))
                    break
        for eperiod, cells in restated.items():
            out.setdefault(fid, []).append(_restatement(spec, eperiod, cells))
    return out


_LISTED = 10  # the other restated cells a query names before "and N more"


def _restatement(spec: ReturnSpec, eperiod: str, cells: list[tuple]) -> Finding:
    """One query for every cell restated against the ``eperiod`` return, at the first of them, saying how
    many cells differ and which: a restated quarter was 42 separate queries to explain one by one
    (issue 19 item 20). One explanation at the first cell covers them all (checks.explanations)."""
    slot, field, now, before, detail = cells[0]
    rest = [c[0].ref for c in cells[1:]]
    others = ""
    if rest:
        listed = ", ".join(rest[:_LISTED]) + (f" and {len(rest) - _LISTED} more" if len(rest) > _LISTED else "")
        others = (f"; {len(cells)} cells differ from that return in all ({listed} too), and one explanation at "
                  f"{slot.ref} covers them")
    return F.make(RESTATEMENT_CODE, guidance=spec.guidance_ref(field.guidance), sheet=slot.sheet, cell=slot.cell,
                  field=field.id, field_label=field.label, found=now, expected=before, detail=detail,
                  previous=eperiod, others=others)


def _num(entry: tuple[str, float | None, str | None] | None) -> float | None:
    return None if entry is None else entry[1]


def checked_fields(spec: ReturnSpec) -> list[str]:
    """The fields the cross-return checks read: those of the year-to-date and month-column sheets."""
    return sorted({f.id for sheet in _ytd_sheets(spec) + _month_sheets(spec) for f in sheet.expanded_fields}
                  | list_fields(spec))


def group_findings(spec: ReturnSpec, current: list[tuple[int, str]], values: dict[int, Values], *,
                   year_start_month: int | None = None) -> dict[int, list[Finding]]:
    """The cross-return findings of one contract's current returns of ``spec``, by file id, sorted.

    ``current``: (file_id, period), oldest period first; ``values``: file id -> the values of
    ``checked_fields(spec)``. The ledger supplies both and stores the result (Ledger.refresh_cross_group)."""
    found: dict[int, list[Finding]] = {}
    if _ytd_sheets(spec):
        for fid, items in ytd_findings(spec, current, values, year_start_month).items():
            found.setdefault(fid, []).extend(items)
    if _month_sheets(spec):
        for fid, items in restatement_findings(spec, current, values).items():
            found.setdefault(fid, []).extend(items)
    for fid, items in ytd_list_findings(spec, current, values, year_start_month).items():  # AtW 7.25 lists
        found.setdefault(fid, []).extend(items)
    return {fid: sorted(found[fid], key=Finding.sort_key) for fid in sorted(found)}
