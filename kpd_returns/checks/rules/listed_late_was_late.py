"""``listed_late_was_late``: a case listed as returned late whose own dates say it was on time
(AtW 7.16, 7.25) is ``listed-late-on-time``, at its returned-date cell.

Working days need the contract's region (its bank holidays), which comes with the submission, not
with the workbook: so the kind's check runs in ``validate.finish_report`` through
checks.clocks.clock_findings, once the region is known; here it does nothing.
"""

from __future__ import annotations

from typing import Literal

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from . import Params, RuleKind


class ListedLateWasLate(Params):
    # [start field, end field, limit, "working_days" | "calendar_months"] for each list's clock.
    clocks: list[tuple[str, str, int, Literal["working_days", "calendar_months"]]]


def check(fc: FileCheck, r: RuleSpec) -> None:
    """Runs in checks.clocks.clock_findings once the region is known (see the module notes)."""


KIND = RuleKind(check, params=ListedLateWasLate, codes=("listed-late-on-time",),
                summary="a case listed as late was late by its own dates and clock (AtW 7.16, 7.25)",
                sheet_checks=None)  # no formula on the Checks sheet: checked when the return is validated
