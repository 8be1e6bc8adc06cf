"""``social_value_complete``: in a quarter's last month the Social Value measures are due (AtW 7.16);
``then_required`` only when ``when_positive`` is above 0 (a supply-chain company over 500 employees)."""

from __future__ import annotations

import datetime as dt

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, blank, cell_of
from . import Params, RuleKind


class SocialValueComplete(Params):
    sheet: str
    quarter_end_months: list[int]
    always: list[str]
    when_positive: str | None = None
    then_required: str | None = None


def check(fc: FileCheck, r: RuleSpec) -> None:
    end = fc.data.period_end
    p = r.params
    if end is None or end.month not in p["quarter_end_months"]:
        return
    detail = f"this return is for {dt.date(end.year, end.month, 1):%B %Y}"
    due = list(p["always"])
    when, then = p.get("when_positive"), p.get("then_required")
    if when and then and (fc.value(when, "") or 0) > 0:
        due.append(then)
    for fid in due:
        if not fc.filled(fid, ""):
            fc.add("social-value-missing", fid, "", guidance=r.guidance, detail=detail)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p = ctx.spec, r.params
    if not spec.period.monthly:
        return None
    month = ctx.header_cell(spec.period.month_field)
    ends = ",".join(str(int(m)) for m in p["quarter_end_months"])
    due = f"ISNUMBER({month})*ISNUMBER(MATCH(MONTH({month}),{{{ends}}},0))"
    sheet = spec.fields_by_id[p["always"][0]][0]
    probes = [Probe(sheet, fid, ("",), lambda R: f"{due}*{blank(R.me)}") for fid in p["always"]]
    when, then = p.get("when_positive"), p.get("then_required")
    if when and then:
        w = cell_of(ctx, when, "")
        probes.append(Probe(sheet, then, ("",), lambda R: f"{due}*{R.valid(when, '')}*({w}>0)*{blank(R.me)}"))
    return [Check("social-value-missing", r.description, spec.guidance_ref(r.guidance), probes,
                  {"detail": f'"this return is for "&TEXT({month},"mmmm yyyy")'})]


KIND = RuleKind(check, params=SocialValueComplete, codes=("social-value-missing",),
                summary="the Social Value measures are filled in in the last month of each quarter (AtW 7.16)",
                sheet_checks=sheet_checks)
