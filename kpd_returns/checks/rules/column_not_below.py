"""``column_not_below``: AtW 7.25: year (or programme) to date includes the month, so it is never smaller:
``ytd-below-in-month`` at the to-date cell. Compares usable values only (FileCheck.value)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import _EPS, Check, Context, Probe, lit
from . import Params, RuleKind

_EPSILON = 1e-9


class ColumnNotBelow(Params):
    sheet: str
    greater: str
    lesser: str


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    detail = fc.key_label(p["sheet"], p["greater"])
    for f in fc.spec.sheet(p["sheet"]).expanded_fields:
        to_date, in_month = fc.value(f.id, p["greater"]), fc.value(f.id, p["lesser"])
        if to_date is not None and in_month is not None and to_date < in_month - _EPSILON:
            fc.add("ytd-below-in-month", f.id, p["greater"], guidance=r.guidance, found=to_date,
                   expected=in_month, detail=detail)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p = ctx.spec, r.params
    sheet = spec.sheet(p["sheet"])
    probes = [Probe(sheet, f.id, (p["greater"],), lambda R, f=f: (
        f"{R.valid(f.id, p['greater'])}*{R.valid(f.id, p['lesser'])}*({R.me}<{R.cell(f.id, p['lesser'])}-{_EPS})"))
        for f in sheet.expanded_fields if f.computed is None]
    label = dict(zip(spec.column_sets[sheet.columns].keys, spec.column_sets[sheet.columns].labels))
    return [Check("ytd-below-in-month", r.description, spec.guidance_ref(r.guidance), probes,
                  {"detail": lit(label[p["greater"]]), "expected": "{lesser}"})]


KIND = RuleKind(check, params=ColumnNotBelow, codes=("ytd-below-in-month",),
                summary="the year to date is not below the month", sheet_checks=sheet_checks)
