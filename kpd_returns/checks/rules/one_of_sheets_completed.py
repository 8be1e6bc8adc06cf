"""``one_of_sheets_completed``: KPD 19-20: complete the segmentation or the RAG rating tables, or both.
Neither sheet holding anything in any month is ``caseload-management-missing``, placed at ``at_field``
(the first segment's title: where a provider starts)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from . import Params, RuleKind


class OneOfSheetsCompleted(Params):
    sheets: list[str]
    at_field: str
    at_key: str


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    for name in p["sheets"]:
        sheet = fc.spec.sheet(name)
        keys = fc.idx.keys[name]
        if any(fc.filled(f.id, k) for f in sheet.expanded_fields for k in keys):
            return
    fc.add("caseload-management-missing", p["at_field"], p["at_key"], guidance=r.guidance,
           detail=" nor ".join(f"the {n} sheet" for n in p["sheets"]))


KIND = RuleKind(check, params=OneOfSheetsCompleted, codes=("caseload-management-missing",),
                summary="at least one of the sheets has figures (KPD 19-20)",
                sheet_checks=None)  # no formula on the Checks sheet: checked when the return is validated
