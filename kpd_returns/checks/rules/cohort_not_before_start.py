"""``cohort_not_before_start``: AtW 7.16 sets KPI targets by referral cohort ("referred from Sep 2026"):
no case of a cohort can fall due in a month before its first referrals, so a count above 0 there is
``cohort-before-start``, at its cell. A return with no readable month is not judged."""

from __future__ import annotations

import datetime as dt

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, lit
from . import Params, RuleKind


class CohortNotBeforeStart(Params):
    sheet: str
    cohorts: dict[str, dict[str, str]]
    fields: list[str]


def cohort_rows(sheet_rows, cohorts: dict) -> list[tuple[str, str, str]]:
    """(row key, cohort id, first month "YYYY-MM") for each row whose key ends "_<cohort id>"."""
    out = []
    for row in sheet_rows:
        cohort = row.key.rpartition("_")[2]
        if cohort in cohorts:
            out.append((row.key, cohort, cohorts[cohort]["from"]))
    return out


def check(fc: FileCheck, r: RuleSpec) -> None:
    end = fc.data.period_end
    if end is None:
        return
    p = r.params
    month = f"{end:%Y-%m}"
    for key, _cohort, first in cohort_rows(fc.spec.sheet(p["sheet"]).row_keys, p["cohorts"]):
        if month >= first:
            continue
        for fid in p["fields"]:
            v = fc.value(fid, key)
            if v:
                fc.add("cohort-before-start", fid, key, guidance=r.guidance, found=v,
                       expected=f"{dt.date.fromisoformat(first + '-01'):%B %Y}",
                       detail=fc.key_label(p["sheet"], key), on=f"{end:%B %Y}")


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    """A count above 0 in a cohort's row while the return's month is before the cohort's first referrals."""
    if not ctx.spec.period.monthly:
        return None
    p, sheet = r.params, ctx.spec.sheet(r.params["sheet"])
    month = ctx.header_cell(ctx.spec.period.month_field)
    rows = cohort_rows(sheet.row_keys, p["cohorts"])
    probes = []
    for key, _cohort, first in rows:
        y, m = int(first[:4]), int(first[5:7])
        for fid in p["fields"]:
            probes.append(Probe(sheet, fid, (key,), lambda R, y=y, m=m: (
                f"ISNUMBER({month})*({month}<DATE({y},{m},1))*{R.valid(R.probe.fid)}*({R.me}>0)")))
    labels = {row.key: row.label for row in sheet.row_keys}
    expected = lit("")
    for first in sorted({f for _k, _c, f in rows}, reverse=True):
        same = ",".join(f"{{rowlabel}}={lit(labels[k])}" for k, _c, f in rows if f == first)
        words_first = f"{dt.date.fromisoformat(first + '-01'):%B %Y}"
        expected = f"IF(OR({same}),{lit(words_first)},{expected})"
    return [Check("cohort-before-start", r.description, ctx.spec.guidance_ref(r.guidance), probes,
                  {"detail": "{rowlabel}", "expected": expected, "on": f'TEXT({month},"mmmm yyyy")'})]


KIND = RuleKind(check, params=CohortNotBeforeStart, codes=("cohort-before-start",),
                summary="no case of a referral cohort falls due before its first referrals (AtW 7.16)",
                sheet_checks=sheet_checks)
