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


def list_fields(spec: ReturnSpec) -> set[str]:
    """The fields this check reads: each list's key and filter fields and its year-to-date total."""
    if not spec.period.monthly:
        return set()
    return {r.params[k] for r in list_totals(spec) for k in ("key_field", "filter_field", "count_field")
            if r.params.get(k)}


def _plain(values: dict[int, dict]) -> dict[int, dict]:
    """The ledger's (month, number, text) per (field, key) -> the number, else the text."""
    return {fid: {k: (v[1] if v[1] is not None else v[2]) for k, v in vals.items()} for fid, vals in values.items()}


def _listed(vals: dict, p: dict) -> int:
    """Rows of one return's list with a case reference (and the filter's value, if any)."""
    rows = {key for (field, key), v in vals.items() if field == p["key_field"] and v not in (None, "")}
    if p.get("filter_field"):
        rows = {k for k in rows if vals.get((p["filter_field"], k)) == p.get("filter_value")}
    return len(rows)


def ytd_list_findings(spec: ReturnSpec, current: list[tuple[int, str]], ledger_values: dict[int, dict],
                      year_start_month: int | None = None) -> dict[int, list[Finding]]:
    """``current``: (file_id, period 'YYYY-MM') of one contract's current returns; ``ledger_values``: file id ->
    (field, key) -> (month, number, text), as the ledger gives them (it reads ``list_fields(spec)``)."""
    rules = list_totals(spec)
    if not rules or not spec.period.monthly:
        return {}
    ysm = year_start_month or spec.period.year_start_month
    by_period = {period: fid for fid, period in current}
    values = _plain(ledger_values)
    values.update({fid: {} for fid in by_period.values() if fid not in values})
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
