"""The template's Explanations sheet: where a provider answers a query (issue 13).

One row per explanation: the query's code (chosen from the queries this return can draw),
the cell the report gives for it, and a sentence. The validator reads the sheet
(kpd_returns.checks.explanations, which owns its layout) and reports the query as explained.
The sheet is not part of the spec's layout, so a return written before it existed still validates.
"""

from __future__ import annotations

from typing import Any

from ..checks import explanations as X
from ..spec.findings import QUERY_CODES
from ..spec.return_spec import ReturnSpec
from .rule_catalogue import entries

TITLE = "Explanations of queries"
INTRO = ("A query is a figure that is unusual but may be right. If this return's validation report lists a query "
         "and the figure is right, explain it here: its query code, its cell as the report gives it (for example "
         "KPIs!C7) and one sentence. An error cannot be explained: correct it. Never enter names or other "
         "personal data.")
WIDTHS = (28, 30, 100)
A4 = 9


def explainable_codes(spec: ReturnSpec) -> list[str]:
    """The queries this return can draw, in catalogue order (never the explanation query itself)."""
    codes = [e.code for e in entries(spec) if e.code in QUERY_CODES and e.code != "explanation-unmatched"]
    return list(dict.fromkeys(codes))


def write_explanations(wb: Any, fm: Any, spec: ReturnSpec, protect_options: dict) -> None:
    ws = wb.add_worksheet(X.SHEET_NAME)
    for c, width in enumerate(WIDTHS):
        ws.set_column(c, c, width)
    ws.write_string(0, 0, TITLE, fm.title)
    ws.set_row(0, 24)
    ws.write_string(1, 0, INTRO, fm.intro)
    for c, text in enumerate(X.HEADERS):
        ws.write_string(X.HEADER_ROW - 1, c, text, fm.header)
    first, last = X.FIRST_ROW - 1, X.FIRST_ROW - 2 + X.ROWS
    for r in range(first, last + 1):
        for c in range(3):
            ws.write_blank(r, c, None, fm.input("@"))
    codes = explainable_codes(spec)
    ws.data_validation(first, 0, last, 0, {
        "validate": "list", "source": codes, "error_type": "stop", "input_title": "Query code",
        "input_message": "Choose the code of the query you are explaining.",
        "error_title": "Not a query", "error_message": "Choose a query code from the list: an error cannot be "
                                                       "explained, it must be corrected."})
    ws.data_validation(first, 1, last, 1, {
        "validate": "length", "criteria": "<=", "value": 40, "input_title": "Cell",
        "input_message": "The cell the validation report gives, for example KPIs!C7."})
    ws.data_validation(first, 2, last, 2, {
        "validate": "length", "criteria": "<=", "value": X.MAX_TEXT, "input_title": "Explanation",
        "input_message": "One sentence saying why the figure is right. No personal data.",
        "error_title": "Too long", "error_message": f"Keep the explanation to {X.MAX_TEXT} characters or fewer."})
    ws.freeze_panes(X.HEADER_ROW, 0)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(X.HEADER_ROW - 1)
    ws.print_area(0, 0, last, 2)
    ws.protect("", protect_options)
