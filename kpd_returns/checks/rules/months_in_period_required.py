"""``months_in_period_required``: each required field is filled in for each month within the period.

``month-missing`` at each empty cell. On the Checks sheet it is made with the field checks of those
sheets (author.checks_sheet_rules), so the kind adds no check of its own there.
"""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context
from . import Params, RuleKind


class MonthsInPeriodRequired(Params):
    sheets: list[str]


def check(fc: FileCheck, r: RuleSpec) -> None:
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


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    return []  # made with the field checks of those sheets (month-missing)


KIND = RuleKind(check, each_sheet=True, params=MonthsInPeriodRequired, codes=("month-missing",),
                summary="required fields are filled for each month of the period", sheet_checks=sheet_checks)
