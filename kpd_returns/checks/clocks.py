"""The KPI clocks (AtW 7.16, 7.25) checked case by case on the lists of late cases.

A case listed as returned late (a rework outside 1 working day, a Support Plan outside 1
calendar month, a 6 Month or Exit Report outside 10 working days after its period) whose own
dates say it was on time is ``listed-late-on-time``, at its returned-date cell: either a date
or the listing is wrong, and the late counts (which must match the lists) with it.

Working days need the contract's region (its bank holidays), which comes with the submission,
not with the workbook: so the rule kind (checks/rules/listed_late_was_late.py, its parameters checked
with the spec's) runs in ``validate.finish_report`` through ``clock_findings``.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt

from ..spec import findings as F
from ..spec.layout import slot_index
from ..spec.model import FileReport
from ..spec.return_spec import ReturnSpec
from ..spec.workdays import working_days_between

UNITS = {"working_days": "working day", "calendar_months": "calendar month"}


def add_months(d: dt.date, n: int) -> dt.date:
    """The same day ``n`` months on, or the month's last day (31 January -> 28 February)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def on_time(start: dt.date, end: dt.date, limit: int, unit: str, region: str) -> bool:
    if unit == "calendar_months":
        return end <= add_months(start, limit)
    return working_days_between(start, end, region) <= limit


def clock_findings(report: FileReport, spec: ReturnSpec, region: str) -> list[F.Finding]:
    """The listed-late cases whose dates are within their clock, one finding each."""
    rules = [r for r in spec.rules if r.kind == "listed_late_was_late"]
    if not rules:
        return []
    values = {(fid, key): v for fid, key, _month, v in report.values}
    slots = None
    out = []
    for r in rules:
        for start_fid, end_fid, limit, unit in r.params["clocks"]:
            keys = sorted({k for fid, k in values if fid == end_fid}, key=lambda k: (len(k), k))
            for key in keys:
                start, end = _date(values.get((start_fid, key))), _date(values.get((end_fid, key)))
                if start is None or end is None or end < start or not on_time(start, end, limit, unit, region):
                    continue
                slots = slots or slot_index(spec)
                s = slots[(end_fid, key)]
                field = spec.field(end_fid)
                plural = "s" if limit != 1 else ""
                code, guidance = F.decide("listed-late-on-time", r.basis, spec.guidance_ref(r.guidance))
                out.append(F.make(code, guidance=guidance, sheet=s.sheet,
                                  cell=s.cell, field=end_fid, field_label=field.label, found=end.isoformat(),
                                  expected=f"{limit} {UNITS[unit]}{plural}", detail=start.isoformat(),
                                  period=report.period or "", basis=r.basis))
    return out


def _date(v) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None
