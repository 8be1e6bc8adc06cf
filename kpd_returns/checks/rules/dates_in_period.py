"""``dates_in_period``: each date in ``fields`` (list sheets: started rows only) falls within the
period the return covers: ``date-outside-period`` at the date's cell. Always a query: a guidance that
asks for something "every month" does not say an entry dated outside it is wrong."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck, date_text
from . import Params, RuleKind


class DatesInPeriod(Params):
    fields: str | list[str]


def check(fc: FileCheck, r: RuleSpec) -> None:
    start, end = fc.data.period_start, fc.data.period_end
    if start is None or end is None:
        return  # the period has its own finding
    fields = r.params["fields"]
    for fid in [fields] if isinstance(fields, str) else fields:
        sheet = fc.idx.sheet_of[fid]
        keys = fc.started_rows(sheet.name) if sheet.kind == "list" else fc.idx.keys[sheet.name]
        for key in keys:
            day = fc.value(fid, key)
            if day is not None and not start <= day <= end:
                fc.add("date-outside-period", fid, key, guidance=r.guidance, found=day.isoformat(),
                       on=date_text(day), detail=f"{date_text(start)} to {date_text(end)}")


KIND = RuleKind(check, params=DatesInPeriod, codes=("date-outside-period",),
                summary="dates fall within the period the return covers (always a query)",
                sheet_checks=None)  # no formula on the Checks sheet: checked when the return is validated
