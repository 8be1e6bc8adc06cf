"""An annotated copy of a provider's workbook: every cell with a finding is marked, and a
"Findings" sheet (first) lists them all with links to the cells.

* A cell with a finding gets a fill (errors light red, warnings amber) and a
  comment starting with the severity word, so colour is never the only signal:
  "ERROR total-mismatch: ... [KPD 9]". A provider's own comment is kept below ours.
* The "Findings" sheet has one row per finding: severity, code, sheet, cell (a
  link to the cell), field, message, guidance. Findings about the whole file
  have no link.
* No value the provider entered is changed: only fills and comments are added,
  and one sheet is inserted. Formulas are kept as formulas (openpyxl full mode);
  the spreadsheet program recalculates them on opening.
* The same input and findings give the same bytes (see _xlsx.save_deterministic).

Known openpyxl limits, all outside the provider's values: Excel 2010 (x14) list
validations, charts and images are not carried into the copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..findings import Finding
from ..model import FileReport
from ._common import sorted_findings
from ._xlsx import CopyError, check_target, load_full, original_times, save_deterministic
from .text import verdict_line

ERROR_FILL = "FFC7CE"  # Excel's "light red fill"
WARNING_FILL = "FFEB9C"  # Excel's "yellow/amber fill"
FINDINGS_SHEET = "Findings"
FINDINGS_SHEET_ALT = "kpd-returns findings"
HEADERS = ("Severity", "Code", "Sheet", "Cell", "Field", "Message", "Guidance")
WIDTHS = (10, 26, 22, 9, 32, 100, 14)
HEADER_ROW = 3  # row 1: the verdict line; row 2: blank
AUTHOR = "kpd-returns"

__all__ = ["CopyError", "annotate", "annotated_name", "FINDINGS_SHEET", "HEADER_ROW", "HEADERS"]


def annotated_name(source: str | Path) -> str:
    """'returns/x.xlsx' -> 'x.annotated.xlsx'."""
    return f"{Path(source).stem}.annotated.xlsx"


def _clean(text: str | None) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text or "")


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


def _comment_text(items: Sequence[Finding]) -> str:
    lines = []
    for f in items:
        line = f"{f.severity.upper()} {f.code}: {f.message}"
        if f.guidance:
            line += f" [{f.guidance}]"
        lines.append(line)
    return _clean("\n\n".join(lines))


def _mark_cells(wb, findings: Sequence[Finding]) -> int:
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
        text = _comment_text(items)
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
    _put_text(ws.cell(1, 1), verdict_line(report, report.name or None))
    ws.cell(1, 1).font = Font(bold=True)
    for col, (label, width) in enumerate(zip(HEADERS, WIDTHS), start=1):
        cell = ws.cell(HEADER_ROW, col)
        _put_text(cell, label)
        cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    row = HEADER_ROW
    for f in ordered:
        row += 1
        values = (f.severity, f.code, f.sheet, f.cell, f.field_label or f.field, f.message, f.guidance)
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
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(HEADERS))}{max(row, HEADER_ROW + 1)}"
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
    return ws


def annotate(source: str | Path, report: FileReport, out: str | Path) -> int:
    """Write the annotated copy of ``source`` to ``out``; return the number of cells marked.

    Raises CopyError (one plain sentence) when no copy can be made, for example
    for a file that could not be read.
    """
    source, out = Path(source), Path(out)
    label = report.name or source.name
    if report.verdict == "unreadable":
        raise CopyError(f"No annotated copy of {label}: the file could not be read.")
    check_target(source, out, label)
    wb = load_full(source, label)
    created, modified = original_times(source, wb)
    ordered = sorted_findings(report)  # errors first, as in the JSON report
    marked = _mark_cells(wb, ordered)
    _findings_sheet(wb, report, ordered)
    try:
        save_deterministic(wb, out, created, modified)
    except OSError as exc:
        raise CopyError(f"The annotated copy of {label} could not be written to {out} ({exc.strerror or exc}).") from None
    return marked
