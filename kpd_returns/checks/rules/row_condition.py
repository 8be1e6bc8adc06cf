"""``row_condition``: a spec's own condition on one row (frictionless's ``row_constraint``): ``when`` is
an expression over the field ids of ``sheet`` (spec.conditions) that is true where the problem is.
Evaluated on each started row of a list, each column of a grid in the period (never a month after it),
or once on a form. Where it holds: ``row-condition`` (or its query form, for a rule that is a query) at
the row's cell of the first of ``fields``, saying the spec's ``message``.

The Checks sheet gets the same condition as a formula over the row's cells (spec.conditions.to_excel).
"""

from __future__ import annotations

from pydantic import Field

from ...spec.conditions import holds, problem, to_excel
from ...spec.return_spec import ReturnSpec, RuleSpec
from ..cells import started_rows
from ..context import FileCheck
from ..probes import Check, Context, Probe, lit
from . import Params, RuleKind


class RowCondition(Params):
    sheet: str
    when: str = Field(min_length=1)
    fields: list[str] = Field(min_length=1)
    message: str = Field(min_length=1)


def vet(spec: ReturnSpec, r: RuleSpec) -> str | None:
    """The condition reads only fields of its sheet, in the dialect; ``fields`` are on that sheet."""
    p = r.params
    names = [f.id for f in spec.sheet(p["sheet"]).expanded_fields]
    outside = [f for f in p["fields"] if f not in names]
    if outside:
        return f"'fields' names '{outside[0]}', which is not on the {p['sheet']} sheet"
    said = problem(p["when"], names)
    return f"its condition 'when' cannot be used: {said}" if said else None


def _keys(fc: FileCheck, sheet) -> list[str]:
    if sheet.kind == "list":
        return started_rows(fc, sheet.name)
    return [k for k in fc.idx.keys[sheet.name] if not fc.after_period(k)]


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    sheet = fc.spec.sheet(p["sheet"])
    names = [f.id for f in sheet.expanded_fields]
    for key in _keys(fc, sheet):
        values = {fid: fc.value(fid, key) for fid in names}
        if holds(p["when"], values, lambda fid, key=key: fc.filled(fid, key)):
            where = fc.place(sheet.name, key)
            fc.add("row-condition", p["fields"][0], key, guidance=r.guidance, detail=f", {where}" if where else "",
                   rule_message=p["message"])


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    sheet = ctx.spec.sheet(p["sheet"])
    numeric = {f.id for f in sheet.expanded_fields if f.numeric or f.type == "date"}

    def flag(R):
        cond = to_excel(p["when"], R.at, numeric.__contains__)
        if sheet.kind == "list":
            return f"{R.started()}*{cond}"
        return f"(1-{R.after()})*{cond}"
    detail = {"list": '", row "&{rowlabel}', "grid": '", "&{month}'}.get(sheet.kind, lit(""))
    return [Check("row-condition", r.description, ctx.spec.guidance_ref(r.guidance),
                  [Probe(sheet, p["fields"][0], ctx.keys(sheet), flag)],
                  {"detail": detail, "rule_message": lit(p["message"])})]


KIND = RuleKind(check, params=RowCondition, codes=("row-condition",), vet=vet, sheet_checks=sheet_checks,
                summary="the spec's own condition on the cells of one row (a list row, a grid column or a form): "
                        "`when` is true where the problem is; see below")
