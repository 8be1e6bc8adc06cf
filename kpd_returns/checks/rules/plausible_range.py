"""``plausible_range``: KPD 15: a figure above the plausible maximum (``max``) is ``implausible-value``,
a query for a second look. Computed fields use the recomputed value."""

from __future__ import annotations

from ...spec.formulas import computed_expression
from ...spec.return_spec import RuleSpec
from ..context import FileCheck, number_text
from ..probes import Check, Context, Probe, lit
from . import Params, RuleKind


class PlausibleRange(Params):
    sheet: str
    field: str
    max: float


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    top = float(p["max"])
    for key in fc.idx.keys[p["sheet"]]:
        v = fc.value(p["field"], key)
        if v is not None and v > top:
            fc.add("implausible-value", p["field"], key, guidance=r.guidance, found=round(v, 2),
                   expected=number_text(top))


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    sheet = ctx.spec.sheet(p["sheet"])
    f = ctx.spec.field(p["field"])
    top = float(p["max"])

    def flag(R):
        if f.computed is None:
            return f"{R.valid(f.id)}*({R.me}>{top:g})"
        refs = [R.at(x) for x in f.computed.of]
        ready = "*".join(R.valid(x) for x in f.computed.of) or "1"
        value = computed_expression(ctx.spec, f.computed, R.at)  # with its scale (spec.formulas)
        if f.computed.op != "ratio":
            return f"{ready}*(ROUND({value},9)>{top:g})"
        return f"{ready}*({refs[1]}<>0)*(ROUND({value},9)>{top:g})"
    return [Check("implausible-value", r.description, ctx.spec.guidance_ref(r.guidance),
                  [Probe(sheet, f.id, ctx.keys(sheet), flag)], {"expected": lit(f"{top:g}"), "found": "{recomputed}"})]


KIND = RuleKind(check, params=PlausibleRange, codes=("implausible-value",),
                summary="a query above a plausible maximum", sheet_checks=sheet_checks)
