"""The annotated copy by openpyxl: the fallback for a workbook the zip/XML path does not edit (a
sheet to be marked already has comments or other VML shapes). Slower, and it rewrites every part.

openpyxl is imported inside the functions: validate --annotate loads it only for a file that takes
this path, so the one-file validate command starts without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..spec.personal_data import mask_all
from ..spec.print_text import row_points
from ..spec.findings import Finding
from ..spec.model import FileReport
from ._zipmask import masked_copy
from ._xlsx import CopyError, load_full, mask_cells, original_times, save_deterministic
from .text import verdict_line
from .annotate_marks import (AUTHOR, ERROR_FILL, FINDINGS_SHEET, FINDINGS_SHEET_ALT, HEADER_ROW, HEADERS,
                             WARNING_FILL, WIDTHS, _clean, _comment_text, _message)


def _openpyxl_copy(source: Path, report: FileReport, ordered: Sequence[Finding], out: Path, label: str) -> int:
    wb = load_full(source, label)
    created, modified = original_times(source, wb)
    masked = mask_cells(wb)
    marked = _mark_cells(wb, ordered, masked)
    _findings_sheet(wb, report, ordered)
    try:
        save_deterministic(wb, out, created, modified, lambda data: masked_copy(data, label))
    except OSError as exc:
        raise CopyError(f"The annotated copy of {label} could not be written to {out} ({exc.strerror or exc}).") from None
    return marked


def _put_text(cell, text: str | None) -> None:
    """Write text that is never taken for a formula, whatever it starts with."""
    cell.value = _clean(text) or None
    if cell.value is not None:
        cell.data_type = "s"


def _target_cell(ws, ref: str):
    """The cell to mark: for a cell inside a merged range, its top-left cell."""
    from openpyxl.cell.cell import MergedCell

    try:
        cell = ws[ref]
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if ref in rng:
                return ws.cell(rng.min_row, rng.min_col)
        return None
    return cell


def _mark_cells(wb, findings: Sequence[Finding], masked: set[tuple[str, str]] = frozenset()) -> int:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    marked = 0
    for (sheet, ref), items in by_cell.items():
        cell = _target_cell(wb[sheet], ref)
        if cell is None:
            continue
        worst = "error" if any(f.severity == "error" for f in items) else "warning"
        colour = ERROR_FILL if worst == "error" else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        text = _comment_text(items, (sheet, cell.coordinate) in masked)
        if cell.comment is not None and cell.comment.author != AUTHOR:
            text += "\n\n--- comment already in the return ---\n" + cell.comment.text
        comment = Comment(text, AUTHOR)
        comment.width = 420
        comment.height = min(600, 60 + 18 * (text.count("\n") + len(text) // 60))
        cell.comment = comment
        marked += 1
    return marked


def _findings_sheet(wb, report: FileReport, ordered: Sequence[Finding]):
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    name = FINDINGS_SHEET if FINDINGS_SHEET not in wb.sheetnames else FINDINGS_SHEET_ALT
    ws = wb.create_sheet(name, 0)
    _put_text(ws.cell(1, 1), verdict_line(report, mask_all(report.name) or None))
    ws.cell(1, 1).font = Font(bold=True)
    for col, (label, width) in enumerate(zip(HEADERS, WIDTHS), start=1):
        cell = ws.cell(HEADER_ROW, col)
        _put_text(cell, label)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    row = HEADER_ROW
    for f in ordered:
        row += 1
        values = (f.severity, f.code, f.sheet, f.cell, f.field_label or f.field, _message(f), f.guidance)
        for col, value in enumerate(values, start=1):
            _put_text(ws.cell(row, col), value)
        colour = ERROR_FILL if f.severity == "error" else WARNING_FILL
        ws.cell(row, 1).fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        ws.cell(row, 6).alignment = Alignment(wrap_text=True, vertical="top")
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            link = ws.cell(row, 4)
            quoted = f.sheet.replace("'", "''")
            # An internal link (a location, no relationship): the same as "#'Sheet'!D12".
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{f.cell}",
                                       tooltip=f"Go to {f.ref}")
            link.style = "Hyperlink"
    if not ordered:
        _put_text(ws.cell(HEADER_ROW + 1, 1), "No findings.")
    # A4 landscape, one page wide, the header row on every page, rows as tall as their message (issue 19 item 19)
    ws.page_setup.paperSize = 9
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    for n, f in enumerate(ordered, start=HEADER_ROW + 1):
        if height := row_points([(_message(f), WIDTHS[5])]):
            ws.row_dimensions[n].height = height
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(HEADERS))}{max(row, HEADER_ROW + 1)}"
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
    return ws
