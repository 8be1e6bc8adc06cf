"""The consolidated workbook's writer: sheets with a title in A1 and notes, Excel tables written in
xlsxwriter's constant-memory mode and added when the file is finished (streamed_rows.splice), number
formats, A4 landscape page setup. Split from consolidated_workbook, which writes the sheets with it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..spec.constants import FIXED_TIME
from ..spec.print_text import row_points
from . import scratch
from .streamed_rows import RowWriter, TableSpec


EXCEL_MAX_ROWS = 1_048_576
TITLE_ROW, NOTE_ROW = 0, 1
GENERATOR = "kpd-returns"


def _table_name(text: str) -> str:
    return "tbl_" + re.sub(r"[^A-Za-z0-9_]", "_", text.lower()).strip("_")


class _Writer:
    def __init__(self, path: str | Path):
        # constant_memory: each sheet's rows go to a temporary file as they are written, so memory does
        # not grow with the number of returns and files (rows must then be written in order).
        # Every temporary file (ours and xlsxwriter's) goes to the output folder's scratch folder, which the
        # next run clears if this one is killed (kpd_returns.intake.scratch): none is stranded holding provider data.
        self.folder = Path(path).parent  # the output folder
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                                  "strings_to_numbers": False, "constant_memory": True,
                                                  "tmpdir": str(scratch.folder(self.folder))})
        self.wb.set_properties({"title": "Consolidated provider MI returns", "author": GENERATOR,
                                "company": "", "comments": "Written by kpd-returns consolidate",
                                "created": FIXED_TIME})
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.bold = self.wb.add_format({"bold": True})
        self.label = self.wb.add_format({"bold": True, "valign": "top"})  # beside wrapped text, at its first line
        self.wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.link = self.wb.add_format({"font_color": "#1D70B8", "underline": 1})
        # Headings wrap in their column; a number's heading sits at the right, over its figures, or the figure
        # reads as the next column's (issue 19 item 19: the Validation summary's numbers under the wrong headers).
        self.head = self.wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.head_num = self.wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "align": "right"})
        self.date = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self._num: dict[str, Any] = {}
        self.sheets: list[tuple[str, str]] = []  # (name, description) for Contents
        self.streams: dict[str, RowWriter] = {}  # sheet name -> its rows, spliced in after close()
        self.tables: dict[str, TableSpec] = {}  # sheet name -> its Excel table, added after close()

    def num(self, fmt: str):
        if fmt not in self._num:
            self._num[fmt] = self.wb.add_format({"num_format": fmt})
        return self._num[fmt]

    def sheet(self, name: str, title: str, notes: Sequence[str] = (), describe: str | None = None):
        ws = page_setup(self.wb.add_worksheet(name))
        ws.write_string(TITLE_ROW, 0, title, self.title)
        for i, note in enumerate(notes):
            ws.write_string(NOTE_ROW + i, 0, note)
        if describe is not None:
            self.sheets.append((name, describe))
        return ws

    def text(self, ws, row: int, col: int, value: Any, fmt=None) -> None:
        """Anything a provider typed goes through here: always a string, never a formula."""
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_string(row, col, str(value), fmt) if fmt else ws.write_string(row, col, str(value))

    def value(self, ws, row: int, col: int, value: Any, fmt=None) -> None:
        if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            ws.write_blank(row, col, None, fmt)  # a figure that cannot be drawn is left blank, never a crash
        elif isinstance(value, bool):
            ws.write_string(row, col, "Yes" if value else "No")
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, fmt) if fmt else ws.write_number(row, col, value)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(row, col, value, fmt or self.datetime)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt or self.date)
        else:
            self.text(ws, row, col, value, fmt)

    def table(self, ws, first_row: int, headers: Sequence[dict], rows: Iterable[Sequence[Any]], name: str,
              widths: Sequence[float] | None = None, totals: Sequence[Any] | None = None,
              freeze_cols: int = 0) -> int:
        """Write a table with its header on ``first_row``; returns the number of data rows.

        The cells are written in row order (the workbook is in constant-memory mode) and the
        Excel table itself is added when the file is finished (streamed_rows.splice)."""
        if widths and (height := row_points([(h["header"], wd) for h, wd in zip(headers, widths)])):
            ws.set_row(first_row, height)
        for c, h in enumerate(headers):
            ws.write_string(first_row, c, h["header"], self.head if h.get("text") else self.head_num)
        n = 0
        for n, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                fmt = headers[c].get("format")
                if headers[c].get("text"):
                    self.text(ws, first_row + n, c, v)
                else:
                    self.value(ws, first_row + n, c, v, fmt)
        if n == 0:  # an Excel table needs a data row
            n = 1
            ws.write_string(first_row + 1, 0, "(none)")
        total_cells: list[tuple[str, str] | None] | None = None
        if totals is not None:
            total_cells = []
            last = first_row + n + 1
            for c, t in enumerate(totals):
                if isinstance(t, str):
                    ws.write_string(last, c, t)
                    total_cells.append(("label", t))
                elif t is not None:
                    # SUBTOTAL over the column's cells by address: Excel writes [Column name] here, but
                    # LibreOffice cannot resolve a structured reference to a column named like a month
                    # (it shows #N/A), and the plain range means the same to both. The value is cached.
                    letter = xl_col_to_name(c)
                    formula = f"=SUBTOTAL(109,{letter}{first_row + 2}:{letter}{first_row + n + 1})"
                    ws.write_formula(last, c, formula, headers[c].get("format"), t)
                    total_cells.append(("formula", formula))
                else:
                    total_cells.append(None)
        self.tables[ws.get_name()] = TableSpec(name, first_row, first_row + n + (1 if totals is not None else 0),
                                               [h["header"] for h in headers], total_cells)
        ws.freeze_panes(first_row + 1, freeze_cols)
        ws.repeat_rows(first_row)  # the header row on every printed page
        for c, w in enumerate(widths or []):
            ws.set_column(c, c, w)
        return n

    def close(self) -> None:
        self.wb.close()


def page_setup(ws):
    """Every sheet prints on A4 landscape, one page wide, with the sheet name and page in the footer."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&A&RPage &P of &N")
    return ws
