"""Figures that must agree with each other: to-date against in-month, parts against their
total, job entries against participants, dates in order, and plausible ranges.

Every rule compares usable values only (checks.context.FileCheck.value): a missing or
invalid figure has its own finding, so comparisons involving it are skipped.
"""

from __future__ import annotations

from ..spec.return_spec import RuleSpec
from .context import FileCheck, date_text, number_text
from .registry import rule

_EPSILON = 1e-9


@rule("column_not_below", "sheet", "greater", "lesser")
def column_not_below(fc: FileCheck, r: RuleSpec) -> None:
    """AtW 7.25: year (or programme) to date includes the month, so it is never smaller:
    ``ytd-below-in-month`` at the to-date cell."""
    p = r.params
    detail = fc.key_label(p["sheet"], p["greater"])
    for f in fc.spec.sheet(p["sheet"]).expanded_fields:
        to_date, in_month = fc.value(f.id, p["greater"]), fc.value(f.id, p["lesser"])
        if to_date is not None and in_month is not None and to_date < in_month - _EPSILON:
            fc.add("ytd-below-in-month", f.id, p["greater"], guidance=r.guidance, found=to_date,
                   expected=in_month, detail=detail)


@rule("parts_equal_total", "sheet", "parts", "total")
def parts_equal_total(fc: FileCheck, r: RuleSpec) -> None:
    """AtW 7.25: for each row, the parts (within + outside target) equal the total (cases due):
    ``parts-not-equal-total`` at the total's cell."""
    p = r.params
    for key in fc.idx.keys[p["sheet"]]:
        total = fc.value(p["total"], key)
        parts = [fc.value(fid, key) for fid in p["parts"]]
        if total is None or any(v is None for v in parts):
            continue
        if abs(sum(parts) - total) > _EPSILON:
            fc.add("parts-not-equal-total", p["total"], key, guidance=r.guidance, found=sum(parts), expected=total)


def _cells_text(fc: FileCheck, keys: list[tuple[str, str]]) -> str:
    """'Referral routes'!C5 to C6, or a list of cells when they are not one run."""
    slots = [fc.idx.slots[k] for k in keys]
    first = slots[0]
    sheet = f"'{first.sheet}'" if " " in first.sheet else first.sheet
    one_run = all(s.sheet == first.sheet and s.col == first.col and s.row == first.row + i for i, s in enumerate(slots))
    if one_run and len(slots) > 1:
        return f"The figures in {sheet}!{first.cell} to {slots[-1].cell}"
    return "The figures in " + ", ".join(s.ref for s in slots)


@rule("breakdown_equals_total", "sheet", "parts", "column", "total", "total_column")
def breakdown_equals_total(fc: FileCheck, r: RuleSpec) -> None:
    """AtW 7.25: a breakdown (referrals by route, by how the customer heard) adds up to its
    total: ``breakdown-mismatch`` at the total's cell."""
    p = r.params
    total = fc.value(p["total"], p["total_column"])
    parts = [fc.value(fid, p["column"]) for fid in p["parts"]]
    if total is None or any(v is None for v in parts):
        return
    if abs(sum(parts) - total) > _EPSILON:
        detail = _cells_text(fc, [(fid, p["column"]) for fid in p["parts"]])
        fc.add("breakdown-mismatch", p["total"], p["total_column"], guidance=r.guidance, found=sum(parts),
               expected=total, detail=detail)


@rule("field_not_above", "sheet", "lesser", "greater")
def field_not_above(fc: FileCheck, r: RuleSpec) -> None:
    """KPD 21: job entries cannot exceed participants, block by block ({n} = 1..repeat):
    ``job-entries-above-participants`` at the job entries cell."""
    p = r.params
    repeat = int(p.get("repeat", 1))
    for n in range(1, repeat + 1):
        lesser, greater = p["lesser"].replace("{n}", str(n)), p["greater"].replace("{n}", str(n))
        for key in fc.idx.keys[p["sheet"]]:
            small, big = fc.value(lesser, key), fc.value(greater, key)
            if small is not None and big is not None and small > big + _EPSILON:
                fc.add("job-entries-above-participants", lesser, key, guidance=r.guidance, found=small,
                       expected=big)


@rule("plausible_range", "sheet", "field", "max")
def plausible_range(fc: FileCheck, r: RuleSpec) -> None:
    """KPD 15: a figure above the plausible maximum (the rule's ``max``) is an
    ``implausible-value`` warning, for a second look. Computed fields use the recomputed value."""
    p = r.params
    top = float(p["max"])
    for key in fc.idx.keys[p["sheet"]]:
        v = fc.value(p["field"], key)
        if v is not None and v > top:
            fc.add("implausible-value", p["field"], key, guidance=r.guidance, found=round(v, 2),
                   expected=number_text(top))


@rule("dates_in_order", "pairs")
def dates_in_order(fc: FileCheck, r: RuleSpec) -> None:
    """AtW 7.25: a report is returned on or after the date its clock started:
    ``dates-out-of-order`` at the later field's cell (found/expected are ISO dates)."""
    for first, second in r.params["pairs"]:
        sheet = fc.idx.sheet_of[first].name
        label = fc.idx.field_of[first].label
        label = f"the {label[:1].lower()}{label[1:]}"
        keys = fc.started_rows(sheet) if fc.spec.sheet(sheet).kind == "list" else fc.idx.keys[sheet]
        for key in keys:
            start, end = fc.value(first, key), fc.value(second, key)
            if start is not None and end is not None and end < start:
                fc.add("dates-out-of-order", second, key, guidance=r.guidance, found=end.isoformat(),
                       expected=start.isoformat(), detail=label, on=date_text(end), before=date_text(start))
