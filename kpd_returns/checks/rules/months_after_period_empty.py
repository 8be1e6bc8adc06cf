"""``months_after_period_empty``: months after the period a return covers are left empty (KPD intro 4).

A typed cell in a month after the period is ``month-after-period``; the cell is then left out of totals,
every other rule and the ledger values (a total may stay a formula there). Runs before the totals.
"""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, filled
from . import Params, RuleKind


class MonthsAfterPeriodEmpty(Params):
    sheets: list[str]


def check(fc: FileCheck, r: RuleSpec) -> None:
    if fc.data.period_end is None:
        return
    sheets = set(r.params["sheets"])
    idx = fc.idx
    for (fid, key), _loc in fc.data.cells.items():
        if idx.sheet_of[fid].name in sheets and fc.after_period(key) and fc.typed(fid, key):
            fc.add("month-after-period", fid, key, guidance=r.guidance, detail=fc.month_label(key), invalid=True)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec = ctx.spec
    if not spec.period.spans_contract_year:
        return None
    probes = []
    for name in r.params["sheets"]:
        sheet = spec.sheet(name)
        for f in sheet.expanded_fields:
            if f.computed is None:
                probes.append(Probe(sheet, f.id, ctx.keys(sheet), lambda R: f"{filled(R.me)}*{R.after()}"))
            else:  # a total may stay a formula there
                probes.append(Probe(sheet, f.id, ctx.keys(sheet), lambda R, fid=f.id: (
                    f"{filled(R.me)}*(1-{R.is_formula(fid)})*{R.after()}")))
    fills = {"detail": "{month}", "period": ctx.period_text()}
    return [Check("month-after-period", r.description, spec.guidance_ref(r.guidance), probes, fills)]


KIND = RuleKind(check, early=True, each_sheet=True, params=MonthsAfterPeriodEmpty, codes=("month-after-period",),
                summary="months after the period are left empty", sheet_checks=sheet_checks)
