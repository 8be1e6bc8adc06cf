"""Generic comparisons a spec can ask for without new code: figures that cannot exceed
another figure, and dates that belong to the period the return covers.

``sum_not_above`` gives an error when the spec cites the guidance for it and a query (the
project's plausibility check, a warning) when the spec marks it ``query = true``: the same
comparison, with the severity the spec's reading of the guidance decides.
"""

from __future__ import annotations

from ..spec.return_spec import RuleSpec
from .context import FileCheck, date_text
from .registry import rule

_EPSILON = 1e-9


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


@rule("sum_not_above", "sheet", "parts", "limit")
def sum_not_above(fc: FileCheck, r: RuleSpec) -> None:
    """The ``parts`` (one field or several, added up) cannot exceed the ``limit`` field, key by
    key on ``sheet``: ``sum-above-limit`` (or ``sum-above-limit-query``) at the first part's cell."""
    p = r.params
    parts = _as_list(p["parts"])
    code = "sum-above-limit-query" if r.query else "sum-above-limit"
    labels = [fc.idx.field_of[fid].label for fid in parts]
    what = " plus ".join([labels[0]] + [_lower_first(x) for x in labels[1:]])
    limit_label = _lower_first(fc.idx.field_of[p["limit"]].label)
    for key in fc.idx.keys[p["sheet"]]:
        values = [fc.value(fid, key) for fid in parts]
        limit = fc.value(p["limit"], key)
        if limit is None or any(v is None for v in values):
            continue
        total = sum(values)
        if total > limit + _EPSILON:
            limit_ref = fc.idx.slots[(p["limit"], key)].ref
            fc.add(code, parts[0], key, guidance=r.guidance, found=total, expected=limit, detail=what,
                   limit=f"{limit_label} in {limit_ref}")


@rule("dates_in_period", "fields")
def dates_in_period(fc: FileCheck, r: RuleSpec) -> None:
    """Each date in ``fields`` (list sheets: started rows only) falls within the period the
    return covers: ``date-outside-period`` at the date's cell. Always a query: a guidance that
    asks for something "every month" does not say an entry dated outside it is wrong."""
    start, end = fc.data.period_start, fc.data.period_end
    if start is None or end is None:
        return  # the period has its own finding
    for fid in _as_list(r.params["fields"]):
        sheet = fc.idx.sheet_of[fid]
        keys = fc.started_rows(sheet.name) if sheet.kind == "list" else fc.idx.keys[sheet.name]
        for key in keys:
            day = fc.value(fid, key)
            if day is not None and not start <= day <= end:
                fc.add("date-outside-period", fid, key, guidance=r.guidance, found=day.isoformat(),
                       on=date_text(day), detail=f"{date_text(start)} to {date_text(end)}")
