"""``rows_match_count``: the number of started rows on a list sheet (with ``filter_field`` equal to
``filter_value`` when given) equals a count: ``detail-rows-mismatch`` at the count cell. ``key_field``
names the column that identifies a row; a row counts once it is started, even without it
(list_row_complete reports the missing reference). With ``ytd_column``, the contract year's lists are
compared with the year-to-date count across returns (checks.ytd_lists, a cross-return query)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..cells import started_rows
from ..context import FileCheck
from ..probes import Check, Context, Probe, lit
from . import Params, RuleKind


class RowsMatchCount(Params):
    list_sheet: str
    count_sheet: str
    count_field: str
    column: str
    key_field: str | None = None
    ytd_column: str | None = None
    filter_field: str | None = None
    filter_value: str | None = None


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    count = fc.value(p["count_field"], p["column"])
    if count is None or p["list_sheet"] in fc.rows_below:  # rows below the list: rows-below-list says so
        return
    rows = started_rows(fc, p["list_sheet"])
    if p.get("filter_field"):
        rows = [k for k in rows if fc.value(p["filter_field"], k) == p.get("filter_value")]
    if len(rows) != count:
        fc.add("detail-rows-mismatch", p["count_field"], p["column"], guidance=r.guidance, found=len(rows),
               expected=count, detail=p["list_sheet"])


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p = ctx.spec, r.params
    count_sheet = spec.fields_by_id[p["count_field"]][0]
    lst = spec.sheet(p["list_sheet"])

    def flag(R):
        rows = R.started(lst)
        if p.get("filter_field"):
            rows += f"*({ctx.whole(p['filter_field'])}={lit(str(p.get('filter_value')))})"
        return f"{R.valid(p['count_field'], p['column'])}*({R.me}<>SUMPRODUCT(1*{rows}))"
    return [Check("detail-rows-mismatch", r.description, spec.guidance_ref(r.guidance),
                  [Probe(count_sheet, p["count_field"], (p["column"],), flag)],
                  {"expected": "{value}", "found": "{listed}", "detail": lit(lst.name)})]


KIND = RuleKind(check, params=RowsMatchCount, codes=("detail-rows-mismatch",),
                summary="a list's started rows (those with `filter_field` = `filter_value`) match a count; with "
                        "`ytd_column`, the contract year's lists match the year to date (a cross-return query)",
                sheet_checks=sheet_checks)
