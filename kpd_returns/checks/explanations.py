"""Queries a provider can explain (as DfE COLLECT does): the template's Explanations sheet.

A provider answers a query on its return by writing, on one row of the Explanations sheet,
the query's code, its cell and a sentence. The query is then reported as *explained*, with
that sentence, instead of open. The rules the issue sets:

* only a query can be explained: a row naming an error's code is an ``explanation-of-error``
  warning at the row, and the error stays as it was (a query cannot hide an error);
* a row naming no current query is itself a query (``explanation-unmatched``), so a stale
  explanation copied from last month's return does not pass unnoticed;
* the sentence is free text typed by a provider: scanned for personal data like every text
  cell, whole, before it is cut to ``MAX_TEXT`` characters for the reports and the ledger (issue 19
  item 6: an NI number across the cut went out as a fragment); a row holding any is a
  ``personal-data`` error and explains nothing.

The cross-return queries (a restatement, a year-to-date break) are found when the ledger
compares returns, not when one file is checked: a row naming one is kept with the report
(``for_ledger``) and the ledger marks the query explained when it finds it (``explain``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..spec import findings as F
from ..spec.findings import QUERY_CODES, Finding
from ..spec.personal_data import cut, scan
from ..read.workbook import WorkbookData
from .cross_checks import CROSS_RETURN_CODES

SHEET_NAME = "Explanations"
HEADER_ROW = 4
FIRST_ROW = 5
ROWS = 40  # rows for explanations in the template
CODE_COL, CELL_COL, TEXT_COL = 1, 2, 3
HEADERS = ("Query code", "Cell (for example KPIs!C7)", "Explanation")
MAX_TEXT = 500


@dataclass(frozen=True)
class Explanation:
    """One row of the Explanations sheet, as typed (the text is scanned whole before it is used)."""

    row: int
    code: str
    cell: str
    text: str

    @property
    def at(self) -> str:
        return f"C{self.row}"

    @property
    def shown(self) -> str:
        """The sentence as the reports and the ledger keep it: masked, then cut to MAX_TEXT characters."""
        return cut(self.text, MAX_TEXT)


def read_explanations(wb: WorkbookData) -> list[Explanation]:
    """Every row with a code or an explanation, in sheet order; none when the sheet is absent
    (a return written before the sheet existed)."""
    if not wb.has_sheet(SHEET_NAME):
        return []
    cells = wb.cells(SHEET_NAME)
    rows = sorted({r for (r, c) in cells if r >= FIRST_ROW and c in (CODE_COL, CELL_COL, TEXT_COL)})
    out = []
    for r in rows:
        code, cell, text = (_text(cells.get((r, c))) for c in (CODE_COL, CELL_COL, TEXT_COL))
        if code or text:
            out.append(Explanation(r, code, cell, text))  # whole: cut only after the scan (.shown)
    return out


def _text(cell) -> str:
    if cell is None or cell.value is None:
        return ""
    v = cell.value
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(str(v).split())


_CELL = re.compile(r"[$']")


def _norm_ref(text: str) -> str:
    return _CELL.sub("", text).strip().upper()


def _matches(e: Explanation, f: Finding) -> bool:
    if f.code != e.code.strip().lower():
        return False
    want = _norm_ref(e.cell)
    if not want:
        return not f.cell
    if "!" in want:
        return want == _norm_ref(f.ref)
    return want == (f.cell or "").upper()


def apply(findings: list[Finding], explanations: list[Explanation], guidance: str = "") -> list[Finding]:
    """The findings with each explained query marked, plus a finding for each row that explains
    nothing (or holds personal data). An error is never changed."""
    out = list(findings)
    added: list[Finding] = []
    for e in explanations:
        where = dict(sheet=SHEET_NAME, cell=e.at, guidance=guidance, field_label="Explanation")
        hits = scan(e.text) + scan(e.cell) + scan(e.code)
        if hits:
            for kind, masked in dict.fromkeys(hits):
                added.append(F.make("personal-data", found=masked, detail=kind, **where))
            continue
        if not e.text:
            added.append(F.make("explanation-unmatched", detail=f"row {e.row} names {e.code} but gives no "
                                "explanation", **where))
            continue
        matched = [i for i, f in enumerate(out) if _matches(e, f)]
        errors = [i for i in matched if out[i].severity == "error"]
        if errors:
            added.append(F.make("explanation-of-error", found=e.code, expected=out[errors[0]].ref or "the file",
                                **where))
            continue
        queries = [i for i in matched if out[i].code in QUERY_CODES and out[i].explanation is None]
        if queries:
            for i in queries:
                out[i] = replace(out[i], explanation=e.shown)
            continue
        if e.code.strip().lower() in CROSS_RETURN_CODES:
            continue  # judged by the ledger's cross-return checks, not from one file
        cell = e.cell or "no cell"
        added.append(F.make("explanation-unmatched", detail=f"row {e.row} names {e.code or 'no code'} at {cell}, "
                            "which is not a query on this return", **where))
    return out + added


def for_ledger(explanations: list[Explanation]) -> list[tuple[int, str, str, str]]:
    """The rows explaining cross-return queries, as (row, code, cell, text), for the ledger; a row
    with personal data in it is left out (``apply`` reports it)."""
    return [(e.row, e.code.strip().lower(), e.cell, e.shown) for e in explanations
            if e.code.strip().lower() in CROSS_RETURN_CODES and e.text
            and not (scan(e.text) or scan(e.cell) or scan(e.code))]


def explain(findings: list[Finding], rows: list[tuple[int, str, str, str]]) -> list[Finding]:
    """Cross-return findings with the queries these stored rows explain marked explained."""
    out = list(findings)
    for row, code, cell, text in rows:
        e = Explanation(row, code, cell, text)
        for i, f in enumerate(out):
            if f.code in QUERY_CODES and f.explanation is None and _matches(e, f):
                out[i] = replace(f, explanation=text)
    return out
