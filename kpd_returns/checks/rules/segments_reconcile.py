"""``segments_reconcile``: a query (the project's plausibility check; the guidance sets no reconciliation,
KPD 17-21): out-of-work segment participants add up to actively engaged plus not currently engaged
caseload, within the spec's relative tolerance, for each month within the period.

Only months where an out-of-work segment has figures are compared, and only when the caseload figures
are there. Segments with no type count as out of work. The finding is placed at the first counted
segment's participants cell of that month; found = their sum, expected = the caseload.
"""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from . import Params, RuleKind


class SegmentsReconcile(Params):
    key_sheet: str
    type_field: str
    grid_sheet: str
    part: str
    target: list[str]
    tolerance: float
    exclude_value: str | None = None
    target_sheet: str | None = None  # the targets' sheet (read by the catalogue)


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    exclude = p.get("exclude_value")
    tolerance = float(p["tolerance"])
    rows = fc.spec.sheet(p["key_sheet"]).row_keys
    parts = [p["part"].replace("{n}", str(n)) for n, row in enumerate(rows, start=1)
             if exclude is None or fc.value(p["type_field"], row.key) != exclude]
    for key in fc.idx.keys[p["grid_sheet"]]:
        if not fc.in_period(key):
            continue
        present = [(fid, fc.value(fid, key)) for fid in parts if fc.value(fid, key) is not None]
        targets = [fc.value(t, key) for t in p["target"]]
        if not present or any(t is None for t in targets):
            continue
        total, expected = sum(v for _fid, v in present), sum(targets)
        if abs(total - expected) > tolerance * abs(expected):
            fc.add("segments-not-reconciled", present[0][0], key, guidance=r.guidance, found=total,
                   expected=expected, detail=fc.month_label(key), tolerance=f"{tolerance * 100:g}%")


KIND = RuleKind(check, params=SegmentsReconcile, codes=("segments-not-reconciled",),
                summary="a query: segment participants add up to the caseload, month by month (KPD 17-21)",
                sheet_checks=None)  # no formula on the Checks sheet: checked when the return is validated
