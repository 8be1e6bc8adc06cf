"""Checks across return types: a figure of one return against the same contract's returns of another
type for the months its period covers (``[[compare_months]]`` in a spec, docs/spec-format.md).

The AtW Yearly MI's reports of the year against the Support Plans, 6 Month and Exit Reports the
year's MMIRs say DWP approved (AtW 7.25, 7.27) is the case in point; nothing here names a return.
A query (``months-sum-mismatch``), at the figure's cell, compared only once every month of the
period has a return of the other type: a year with a month missing is not judged. This module runs
no SQL: the ledger (``intake.ledger_cross``) gives it the figures and stores what it returns.
"""

from __future__ import annotations

from ..spec import findings as F
from ..spec.findings import Finding
from ..spec.periods import months_title
from ..spec.return_spec import ReturnSpec, get_spec, SpecError
from .cross_checks import MONTHS_SUM_CODE as CODE, slot_index

_TOLERANCE = 1e-6

# (return id, field, key) -> month 'YYYY-MM' -> the figure that month's current return holds
Others = dict[tuple[str, str, str], dict[str, float]]


def compared_returns(spec: ReturnSpec) -> set[str]:
    """The return types ``spec``'s figures are compared with."""
    return {c.return_id for c in spec.compare_months}


def month_findings(spec: ReturnSpec, months: list[str], mine: dict[tuple[str, str], float | None],
                   others: Others) -> list[Finding]:
    """The queries of one return covering ``months`` ('YYYY-MM', in order): ``mine`` its figures by
    (field, key), ``others`` the other returns' figures by month."""
    out: list[Finding] = []
    index = slot_index(spec)
    for c in spec.compare_months:
        found = mine.get((c.field, c.key))
        by_month = others.get((c.return_id, *c.sum), {})
        if found is None or not months or any(m not in by_month for m in months):
            continue
        expected = sum(by_month[m] for m in months)
        if abs(found - expected) <= _TOLERANCE:
            continue
        slot, field = index[(c.field, c.key)], spec.field(c.field)
        out.append(F.make(CODE, guidance=c.guidance, sheet=slot.sheet, cell=slot.cell, field=c.field,
                          field_label=field.label, found=found, expected=expected,
                          detail=_their_words(c.return_id, c.sum[0], months)))
    return out


def _their_words(return_id: str, field_id: str, months: list[str]) -> str:
    """'the MMIRs' Support Plans approved by DWP for August 2025 to July 2026'."""
    try:
        other = get_spec(return_id)
        name, label = other.short_title, other.field(field_id).label
    except (SpecError, KeyError):
        name, label = return_id, field_id
    return f"the {name} returns' {label} for {months_title(months[0], months[-1])}"
