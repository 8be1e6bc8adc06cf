"""Detail tables and lists (AtW 7.25): rows against their counts, complete rows, and
reasons wherever cases were outside target.

A list row is *started* when any of its cells holds something (checks.cells.started_rows).
"""

from __future__ import annotations

from ..read.values import is_blank
from ..read.workbook import WorkbookData
from ..spec import findings as F
from ..spec.basis import Basis
from ..spec.layout import a1
from ..spec.return_spec import FIRST_DATA_ROW, RuleSpec
from .cells import started_rows
from .context import FileCheck
from .registry import rule


@rule("rows_match_count", "list_sheet", "count_sheet", "count_field", "column")
def rows_match_count(fc: FileCheck, r: RuleSpec) -> None:
    """The number of started rows on the list sheet (with ``filter_field`` equal to
    ``filter_value`` when given) equals the count: ``detail-rows-mismatch`` at the count cell.
    ``key_field`` names the column that identifies a row; a row counts once it is started,
    even without it (list_row_complete reports the missing reference)."""
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


@rule("list_row_complete", "sheets", each_sheet=True)
def list_row_complete(fc: FileCheck, r: RuleSpec) -> None:
    """A started row needs every cell except ``optional_fields``: ``list-row-incomplete``."""
    optional = set(r.params.get("optional_fields", []))
    for name in r.params["sheets"]:
        fields = [f for f in fc.spec.sheet(name).expanded_fields if f.id not in optional]
        for key in started_rows(fc, name):
            for f in fields:
                if not fc.filled(f.id, key):
                    fc.add("list-row-incomplete", f.id, key, guidance=r.guidance, detail=fc.key_label(name, key))


@rule("text_required_when_positive", "sheet", "count", "text")
def text_required_when_positive(fc: FileCheck, r: RuleSpec) -> None:
    """Cases outside target need their reasons: ``reasons-missing`` at the reasons cell."""
    p = r.params
    for key in fc.idx.keys[p["sheet"]]:
        count = fc.value(p["count"], key)
        if count and count > 0 and not fc.filled(p["text"], key):
            fc.add("reasons-missing", p["text"], key, guidance=r.guidance, found=count,
                   detail=fc.key_label(p["sheet"], key))


ROWS_BELOW = Basis(template="the template reads a list's own rows only: a row typed below them cannot be read")


def check_rows_below(fc: FileCheck, wb: WorkbookData) -> None:
    """``rows-below-list`` at the first cell typed below the last row of a free list (never a count
    that no longer matches: the rows cannot be read, so the count against them is not checked)."""
    for sheet in fc.spec.sheets:
        if sheet.kind != "list" or not sheet.max_rows or sheet.name in fc.unreadable_sheets:
            continue
        last = FIRST_DATA_ROW + sheet.max_rows - 1
        width = fc.idx.width[sheet.name]
        below = [(row, col) for (row, col), cell in wb.cells(sheet.name).items()
                 if row > last and col <= width and not is_blank(cell.value)]
        if not below:
            continue
        row, col = min(below)
        fc.rows_below[sheet.name] = a1(row, col)
        fc.findings.append(F.make("rows-below-list", guidance=ROWS_BELOW.cite(), sheet=sheet.name, cell=a1(row, col),
                                  expected=sheet.max_rows, return_type=fc.spec.id))
