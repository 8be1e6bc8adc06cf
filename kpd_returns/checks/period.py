"""The reporting period: a contract year that cannot be one, and what could not be checked without it.

The KPD return is quarterly but reports month by month from April (KPD intro 4; KPD 16): a Q2
return fills April to September and leaves October to March empty (the rule kinds
months_after_period_empty and months_in_period_required, in checks/rules/). The period comes
from the header; when it cannot be read (its own findings say why) those rules skip, and
``report_unrun`` says so.
"""

from __future__ import annotations

import re

from ..spec.basis import HEADER
from ..spec import findings as F
from ..spec.constants import plausible_year, years_text
from ..spec.periods import written_contract_year
from .context import FileCheck
from .fields import pattern_hint


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
