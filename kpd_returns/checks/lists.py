"""Lists: nothing typed below a list's last row (``rows-below-list``). The rule kinds about lists
(rows_match_count, list_row_complete, text_required_when_positive, row_condition) are in checks/rules/.

A list row is *started* when any of its cells holds something (checks.cells.started_rows).
"""

from __future__ import annotations

from ..read.values import is_blank
from ..read.workbook import WorkbookData
from ..spec import findings as F
from ..spec.basis import Basis
from ..spec.layout import a1
from ..spec.return_spec import FIRST_DATA_ROW
from .context import FileCheck


ROWS_BELOW = Basis(template="the template reads a list's own rows only: a row typed below them cannot be read")


def check_rows_below(fc: FileCheck, wb: WorkbookData) -> None:
    """``rows-below-list`` at the first cell typed below the last row of a free list (never a count
    that no longer matches: the rows cannot be read, so the count against them is not checked)."""
    for sheet in fc.spec.sheets:
        if sheet.kind != "list" or not sheet.max_rows or sheet.name in fc.unreadable_sheets:
            continue
        last = FIRST_DATA_ROW + sheet.max_rows - 1
        width = max(col for (_row, col) in fc.idx.by_position[sheet.name])
        below = [(row, col) for (row, col), cell in wb.cells(sheet.name).items()
                 if row > last and col <= width and not is_blank(cell.value)]
        if not below:
            continue
        row, col = min(below)
        fc.rows_below[sheet.name] = a1(row, col)
        fc.findings.append(F.make("rows-below-list", guidance=ROWS_BELOW.cite(), sheet=sheet.name, cell=a1(row, col),
                                  expected=sheet.max_rows, return_type=fc.spec.id))
