"""``dates_in_order``: AtW 7.25: a report is returned on or after the date its clock started:
``dates-out-of-order`` at the later field's cell (list sheets: started rows only)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck, date_text
from ..probes import Check, Context, Probe, lit
from . import Params, RuleKind


class DatesInOrder(Params):
    pairs: list[tuple[str, str]]


def check(fc: FileCheck, r: RuleSpec) -> None:
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


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    probes = []
    for first, second in r.params["pairs"]:
        sheet = ctx.spec.fields_by_id[first][0]
        probes.append(Probe(sheet, second, ctx.keys(sheet), lambda R, a=first: (
            f"ISNUMBER({R.at(a)})*ISNUMBER({R.me})*({R.me}<{R.at(a)})"
            + (f"*{R.started()}" if R.probe.sheet.kind == "list" else ""))))
    return [Check("dates-out-of-order", r.description, ctx.spec.guidance_ref(r.guidance), probes,
                  {"on": 'TEXT({value},"d mmmm yyyy")', "detail": lit("the date its clock started"),
                   "before": lit("that date")})]


KIND = RuleKind(check, params=DatesInOrder, codes=("dates-out-of-order",),
                summary="each pair of dates is in order (the second on or after the first)", sheet_checks=sheet_checks)
