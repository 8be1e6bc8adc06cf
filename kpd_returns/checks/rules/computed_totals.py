"""``computed_totals``: computed fields agree with their inputs (KPD 9, 14, 15), recomputed by
checks.totals.recompute, never taken from the file.

* a formula: fine. Its cached value is not compared (a file saved by openpyxl has none, and
  LibreOffice's may be stale);
* a typed number that disagrees with the inputs by more than ``tolerance``: ``total-mismatch``;
* a typed number that agrees: ``total-typed-over`` (a warning: restore the formula);
* a ratio with denominator 0 and a numerator that is not 0: ``total-divide-by-zero``.
"""

from __future__ import annotations

from ...spec.formulas import aggregate_ready, computed_expression
from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, filled
from . import Params, RuleKind


class ComputedTotals(Params):
    sheets: list[str]
    tolerance: float = 0.005


def check(fc: FileCheck, r: RuleSpec) -> None:
    tolerance = float(r.params.get("tolerance", 0.005))
    for name in r.params["sheets"]:
        for f in fc.spec.sheet(name).expanded_fields:
            if f.computed is None:
                continue
            guidance = f.guidance or r.guidance
            for key in fc.idx.keys[name]:
                if fc.after_period(key):
                    continue  # months after the period have their own rule
                if (f.id, key) in fc.zero_denominator:
                    numerator = fc.value(f.computed.of[0], key)
                    if numerator:
                        fc.add("total-divide-by-zero", f.id, key, guidance=guidance, found=numerator,
                               detail=fc.place(name, key))
                    continue
                total = fc.computed.get((f.id, key))
                if total is None or not fc.typed(f.id, key) or (f.id, key) in fc.bad:
                    continue
                typed = fc.data.values.get((f.id, key))
                if typed is None:
                    continue
                if abs(typed - total) > tolerance:
                    fc.add("total-mismatch", f.id, key, guidance=guidance, found=typed, expected=total,
                           invalid=True)
                else:
                    fc.add("total-typed-over", f.id, key, guidance=guidance)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p, g, words = ctx.spec, r.params, ctx.spec.guidance_ref(r.guidance), r.description
    typed, mismatch, zero, zero_rows = [], [], [], []
    tolerance = float(p.get("tolerance", 0.005))
    for name in p["sheets"]:
        sheet = spec.sheet(name)
        for f in sheet.expanded_fields:
            if f.computed is None:
                continue
            op, of = f.computed.op, f.computed.of

            def value(R, c=f.computed):  # scale and decimals as the template's formula (spec.formulas)
                return f"({computed_expression(spec, c, R.at)})"

            def ready(R, op=op, of=of, c=f.computed):
                base = "*".join(R.valid(x) for x in of) or aggregate_ready(spec, c)  # an aggregate of a list
                return f"{base}*({R.at(of[1])}<>0)" if op == "ratio" else base

            def over(R, sign, value=value, ready=ready, fid=f.id):
                return (f"{filled(R.me)}*(1-{R.is_formula(fid)})*ISNUMBER({R.me})*{ready(R)}*(1-{R.after()})"
                        f"*(ABS({R.me}-ROUND({value(R)},9)){sign}{tolerance:g})")

            keys = ctx.keys(sheet)
            typed.append(Probe(sheet, f.id, keys, lambda R, over=over: over(R, "<=")))
            mismatch.append(Probe(sheet, f.id, keys, lambda R, over=over: over(R, ">")))
            if op == "ratio" and f.computed.zero_denominator == "finding":
                (zero_rows if sheet.kind == "list" else zero).append(Probe(sheet, f.id, keys, lambda R, of=of: (
                    f"{R.valid(of[0])}*{R.valid(of[1])}*({R.at(of[1])}=0)*({R.at(of[0])}<>0)")))
    out = [Check("total-mismatch", words, g, mismatch, {"expected": "{recomputed}"}),
           Check("total-typed-over", "A total still holds its formula (a typed number that agrees is a "
                                     "warning: restore the formula).", g, typed)]
    zero_words = "A ratio's denominator is not 0 while its numerator is more than 0."
    if zero:
        out.append(Check("total-divide-by-zero", zero_words, g, zero, {"detail": "{month}"}))
    if zero_rows:  # on a list, the row (FileCheck.place), never a month
        out.append(Check("total-divide-by-zero", zero_words, g, zero_rows, {"detail": '"row "&{rowlabel}'}))
    return out


KIND = RuleKind(check, each_sheet=True, params=ComputedTotals,
                codes=("total-mismatch", "total-typed-over", "total-divide-by-zero"),
                summary="computed fields agree with their inputs (a typed total that agrees is a warning)",
                sheet_checks=sheet_checks)
