"""Rules about the reporting period: which months must be filled in and which left empty.

The KPD return is quarterly but reports month by month from April (KPD intro 4; KPD 16): a Q2
return fills April to September and leaves October to March empty. The period comes
from the header; when it cannot be read (its own findings say why) these rules skip.
"""

from __future__ import annotations

import datetime as dt
import re

from ..spec.basis import HEADER
from ..spec import findings as F
from ..spec.constants import plausible_year, years_text
from ..spec.periods import written_contract_year
from ..spec.return_spec import RuleSpec
from .context import FileCheck
from .fields import pattern_hint
from .registry import rule


def check_period(fc: FileCheck) -> None:
    """``period-invalid`` for a contract year in the right form that is not two consecutive
    years ("2026-28"), ``date-out-of-range`` for one outside the years a return can mean ("0001-02"):
    without it no month can be placed, so say so instead of skipping."""
    p = fc.spec.period
    if fc.data.period is not None or p.monthly or not p.year_field:
        return
    field = fc.idx.field_of[p.year_field]
    year = fc.value(p.year_field, "")
    if year is None or (p.quarter_field and fc.value(p.quarter_field, "") is None):
        return
    if field.pattern and (len(str(year)) > field.max_length or not re.fullmatch(field.pattern, str(year))):
        return  # text-too-long or pattern-mismatch says what is wrong (over max_length: never tried, spec.patterns)
    first = written_contract_year(year)
    if first is not None and not (plausible_year(first) and plausible_year(first + 1)):
        fc.add("date-out-of-range", p.year_field, "", guidance=field.guidance, found=year, expected=years_text(),
               invalid=True)
        return
    fc.add("period-invalid", p.year_field, "", guidance=field.guidance, found=year, expected=pattern_hint(field),
           invalid=True, basis=HEADER)


@rule("months_after_period_empty", "sheets", early=True, each_sheet=True)
def months_after_period_empty(fc: FileCheck, r: RuleSpec) -> None:
    """``month-after-period`` for each typed cell in a month after the period (a formula is fine).

    The cell is then left out of totals and every other rule, and of the ledger values.
    """
    if fc.data.period_end is None:
        return
    sheets = set(r.params["sheets"])
    idx = fc.idx
    for (fid, key), loc in fc.data.cells.items():
        if idx.sheet_of[fid].name in sheets and fc.after_period(key) and fc.typed(fid, key):
            fc.add("month-after-period", fid, key, guidance=r.guidance, detail=fc.month_label(key), invalid=True)


@rule("months_in_period_required", "sheets", each_sheet=True)
def months_in_period_required(fc: FileCheck, r: RuleSpec) -> None:
    """``month-missing`` for each required field left empty in a month within the period."""
    if fc.data.period_end is None:
        return
    for name in r.params["sheets"]:
        sheet = fc.spec.sheet(name)
        keys = [k for k in fc.idx.keys[name] if fc.in_period(k)]
        for f in sheet.expanded_fields:
            if f.required and f.computed is None:
                for key in keys:
                    if not fc.filled(f.id, key):
                        fc.add("month-missing", f.id, key, guidance=r.guidance, detail=fc.month_label(key))


@rule("social_value_complete", "sheet", "quarter_end_months", "always")
def social_value_complete(fc: FileCheck, r: RuleSpec) -> None:
    """In a quarter's last month the Social Value measures are due (AtW 7.16); measure 3
    only when a supply-chain company has more than 500 employees."""
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


def cohort_rows(sheet_rows, cohorts: dict) -> list[tuple[str, str, str]]:
    """(row key, cohort id, first month "YYYY-MM") for each row whose key ends "_<cohort id>"."""
    out = []
    for row in sheet_rows:
        cohort = row.key.rpartition("_")[2]
        if cohort in cohorts:
            out.append((row.key, cohort, cohorts[cohort]["from"]))
    return out


@rule("cohort_not_before_start", "sheet", "cohorts", "fields")
def cohort_not_before_start(fc: FileCheck, r: RuleSpec) -> None:
    """AtW 7.16 sets KPI targets by referral cohort ("referred from Sep 2026"): no case of a
    cohort can fall due in a month before its first referrals, so a count above 0 there is
    ``cohort-before-start``, at its cell. A return with no readable month is not judged."""
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


# What a rule kind cannot judge without the period, in words ("Could not check ...").
NEEDS_PERIOD = {
    "months_after_period_empty": "months after the period",
    "months_in_period_required": "that each month of the period is filled in",
    "segments_reconcile": "the segments against the caseload month by month",
    "cohort_not_before_start": "the referral cohorts against the month of the return",
    "social_value_complete": "whether the Social Value measures are due",
}


def report_unrun(fc: FileCheck) -> None:
    """Say what could not be checked, one line each, rather than staying silent: a sheet whose
    layout is broken (``sheet-not-checked``: its cells and the rules that read it), and the
    rules that need the period when it cannot be read (``check-not-run``, at the period field)."""
    for sheet in sorted(fc.unreadable_sheets):
        n = fc.not_run.count(sheet)
        rules = f" or the {n} rule{'s' if n != 1 else ''} that read it" if n else ""
        fc.findings.append(F.make("sheet-not-checked", sheet=sheet, detail=rules, guidance=fc.spec.template_guidance))
    _report_period_unrun(fc)


def _report_period_unrun(fc: FileCheck) -> None:
    if fc.data.period_end is not None:
        return
    p = fc.spec.period
    fields = [f for f in (p.quarter_field, p.year_field, p.month_field) if f]
    if not fields:
        return
    at = next((f for f in fields if fc.value(f, "") is None), fields[0])
    unrun = [NEEDS_PERIOD[k] for k in dict.fromkeys(r.kind for r in fc.spec.rules) if k in NEEDS_PERIOD]
    if unrun:
        words = unrun[0] if len(unrun) == 1 else ", ".join(unrun[:-1]) + " or " + unrun[-1]
        fc.add("check-not-run", at, "", guidance=fc.idx.field_of[at].guidance, detail=words)
