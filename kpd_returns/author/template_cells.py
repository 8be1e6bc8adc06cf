"""The template's cell formats, data validation and page set-up: how an input, a calculated or
a pre-filled cell looks, and the limits Excel shows as a provider types (kpd_returns.author.template
writes the sheets with them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import xlsxwriter

from ..spec.constants import PLAUSIBLE_YEARS
from ..spec.basis import is_error
from ..spec.return_spec import FieldSpec

INPUT_FILL = "#FFF2CC"  # pale yellow
CALC_FILL = "#DDEBF7"  # pale blue
PREFILLED_FILL = "#E7E6E6"  # pale grey
BORDER_COLOUR = "#7F7F7F"
NUM_FORMATS = {"count": "0", "fte": "0.00", "days": "0.00", "decimal": "0.00", "percent": "0.0",
               "date": "dd/mm/yyyy", "text": "@", "choice": "@"}
MONTH_FORMAT = "mmmm yyyy"  # a reporting month shows as "September 2026"
DATE_MIN, DATE_MAX = dt.date(PLAUSIBLE_YEARS[0], 1, 1), dt.date(PLAUSIBLE_YEARS[1], 12, 31)  # spec.constants
# Protected, but a provider may still widen columns and rows to read wrapped text.
PROTECT_OPTIONS = {"select_locked_cells": True, "select_unlocked_cells": True,
                   "format_columns": True, "format_rows": True}

# -- small helpers -----------------------------------------------------------
A4 = 9  # xlsxwriter's paper code
LINE_POINTS = 15  # the height of one line of 11 pt text
TITLE_POINTS = 24  # a 16 pt title


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (a generous estimate)."""
    per_line = max(1, int(width * 0.95) - 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _fit_row(ws, row: int, cells: list[tuple[str, float]], minimum: int = 1) -> None:
    """Give a row the height its wrapped text needs: neither Excel nor LibreOffice grows a row
    written by xlsxwriter when printing, so wrapped text would print over the next row."""
    lines = max([minimum, *(_lines(text, width) for text, width in cells)])
    if lines > 1:
        ws.set_row(row, LINE_POINTS * lines)


def _print_setup(ws, *, last_row: int, last_col: int, header_row: int | None, landscape: bool) -> None:
    """A4, one page wide, header row repeated, printing only the sheet's own cells (0-based)."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    if header_row is not None:
        ws.repeat_rows(header_row)
    ws.print_area(0, 0, last_row, last_col)


def _fit(text: str, limit: int) -> str:
    """Excel rejects validation titles/messages over a limit (in UTF-16 units)."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out = text
    while len((out + "…").encode("utf-16-le")) // 2 > limit:
        out = out[:-1]
    return out.rstrip() + "…"


def number_format(field: FieldSpec) -> str:
    """The display format of a field; a spec's ``decimals`` overrides the type's default. A computed
    field shows its own ``decimals``, and a percentage (``scale = 100``) a % sign after the figure its
    formula works out (35.8%, the figure the report gives: never the 0.358 of an unscaled ratio)."""
    c = field.computed
    places = c.decimals if c is not None and c.decimals is not None else field.decimals
    if c is not None and c.scale == 100:
        return _places(1 if places is None else places) + '"%"'
    if field.numeric and places is not None:
        return _places(places)
    return NUM_FORMATS[field.type]


def _places(decimals: int) -> str:
    return "0" if decimals == 0 else "0." + "0" * decimals


def _validation(field: FieldSpec) -> dict[str, Any]:
    """Excel data validation for a field's input range, by type."""
    lo, hi = field.lower, field.upper
    if field.type == "choice":
        rule: dict[str, Any] = {"validate": "list", "source": list(field.choices or [])}
        error = f"Choose one of: {', '.join(field.choices or [])}."
    elif field.type == "date":
        rule = {"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX}
        error = f"Enter a date between {DATE_MIN:%d/%m/%Y} and {DATE_MAX:%d/%m/%Y}, for example 31/10/2026."
    elif field.type == "text":
        rule = {"validate": "length", "criteria": "<=", "value": field.max_length}
        error = f"Enter no more than {field.max_length} characters."
    else:
        kind = "integer" if field.type == "count" or field.max_decimals == 0 else "decimal"
        what = "a whole number" if kind == "integer" else "a number"
        if lo is not None and hi is not None:
            rule = {"validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
            error = f"Enter {what} from {lo:g} to {hi:g}, digits only."
        elif lo is not None:
            rule = {"validate": kind, "criteria": ">=", "value": lo}
            error = f"Enter {what} of {lo:g} or more, digits only."
        else:
            rule = {"validate": kind, "criteria": "<=", "value": hi}
            error = f"Enter {what} of {hi:g} or less, digits only."
    rule.update(input_title=_fit(field.label, 32), input_message=_fit(field.definition, 255),
                error_title=_fit(f"Check: {field.label}", 32), error_message=_fit(error, 255))
    # A limit without a basis is a query (spec.basis): the cell warns as you type but lets the figure stand.
    limits = {"text": ("max_length",), "choice": ("choices",), "date": ()}.get(field.type, ("min", "max"))
    if any(not is_error(field.limit_basis(limit)) for limit in limits
           if limit not in ("min", "max") or (lo if limit == "min" else hi) is not None):
        rule["error_type"] = "warning"
    return rule


class _Formats:
    """Creates each xlsxwriter format once (formats are per workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, Any] = {}
        self.title = wb.add_format({"bold": True, "font_size": 16})
        self.intro = wb.add_format({"italic": True})
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 2,
                                     "bg_color": "#F2F2F2"})
        self.label = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True, "valign": "top", "text_wrap": True})
        self.plain = wb.add_format({"valign": "top", "text_wrap": True})
        self.link = wb.add_format({"font_color": "#0563C1", "underline": 1, "valign": "top"})
        self.checks_count = wb.add_format({"num_format": '[=1]0" check needs attention";0" checks need attention"',
                                           "bold": True, "valign": "top", "align": "left"})
        self.status_count = wb.add_format({"num_format": "0", "valign": "top"})
        # Red with a bold font and a heavy border, so colour is not the only cue.
        self.failing = wb.add_format({"bg_color": "#F4C7C3", "font_color": "#9C0006", "bold": True,
                                      "border": 2, "border_color": "#C00000"})
        self.passing = wb.add_format({"bg_color": "#D9EAD3", "font_color": "#274E13"})

    def input(self, num_format: str):
        return self._get(("in", num_format), {"bg_color": INPUT_FILL, "border": 1, "border_color": BORDER_COLOUR,
                                              "locked": False, "num_format": num_format, "valign": "top"})

    def prefilled(self, num_format: str):
        """Filled in by the central team and locked: grey, with the input border."""
        return self._get(("pre", num_format), {"bg_color": PREFILLED_FILL, "border": 1, "border_color": BORDER_COLOUR,
                                               "locked": True, "num_format": num_format, "valign": "top"})

    def calc(self, num_format: str):
        return self._get(("calc", num_format), {"bg_color": CALC_FILL, "italic": True, "num_format": num_format})

    def _get(self, key: tuple, props: dict):
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]
