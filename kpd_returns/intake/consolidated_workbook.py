"""The consolidated workbook: every provider's current return in one place, for analysts.

Sheets, in order:

* **Cover**: what the workbook is, what it contains, the as-of date, data sources.
* **Contents**: one row per sheet, with a link to it.
* **Submissions**: the submissions register: who owed what, received when,
  deadline, on time or late by N working days, resubmissions, missing.
* Per return type (KPD, MMIR): a long-form **data** sheet (provider, contract,
  period, month, field, field label, key, value) of the current returns, and one
  sheet per key measure laid out providers x months with a totals row
  (declared in each spec's [[key_measures]]: KPD FTE total, caseload, job entries; MMIR referrals,
  Support Plans approved, reworks, and KPI 3 to 5 cases within target and due).
* **Validation summary**: files by verdict, and findings by code.
* **Queries**: each query on a current return, open or explained, with the provider's explanation.
* **Files**: every file received, superseded and rejected ones included.

Accessibility and structure follow the Government Analysis Function guidance:
a title in A1 of every sheet, one Excel table per sheet (with a name, a header
row and filters), frozen header panes, no merged cells, no colour-only meaning.

Memory and speed: memory must not grow with the number of returns, so the workbook
is written in xlsxwriter's constant-memory mode (each sheet's rows go to a temporary
file as they are written, in row order), and the Excel tables, which xlsxwriter cannot
add in that mode, are added when the file is finished (streamed_rows.splice). The two
long data sheets (every figure of every current return, about 170 rows a return) are
written straight to XML (streamed_rows.RowWriter), about ten times faster than cell by
cell; each is a titled range with a bold header row, filters, frozen panes and a
workbook-level defined name (``kpd_data``, ``mmir_data``) rather than an Excel table.

Deterministic: the same ledger contents and options give byte-identical files.
The document's created date is fixed, every list has a stable sort order and no
run time is written anywhere. Text that came from a provider is written with
``write_string`` (and the workbook has ``strings_to_formulas`` off), so text
beginning with = + - @ is never turned into a formula.

Totals: the providers x months sheets are written as values, with the table's
totals row holding Excel SUBTOTAL formulas WITH their values cached, so readers
that do not recalculate still see the right totals. Totals such as FTE total and
total caseload are recomputed from their inputs (as the packs' measures engine does), never
read from a typed cell. A month reported by more than one quarterly return (KPD)
takes its figure from the latest quarter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks.cross_checks import slot_index
from ..spec.findings import CATALOGUE
from ..spec.personal_data import mask_all
from ..spec.print_text import row_points
from ..spec.return_spec import ReturnSpec, display_name
from ..spec.sheet_model import SHEET_NAME_BAD
from .consolidated_kpis import kpi_sheet
from .consolidated_measures import measure_grids, measure_sheet
from .consolidated_writer import EXCEL_MAX_ROWS, NOTE_ROW, TITLE_ROW, _table_name, _Writer, page_setup
from .streamed_rows import RowWriter, TableSpec, splice

STATUS_WORDS = {"on time": "On time", "late": "Late", "missing": "Missing", "rejected only": "Rejected only",
                "not yet due": "Not yet due", "no deadline": "No deadline"}
COVER_WIDTHS = (18, 110)  # the Cover's label and text columns, in characters
NO_DEADLINE = "no deadline"  # a return whose deadline rule says so: never on time, never late
STATUS_COLOURS = (("Missing", "#2a0b06", "#f4cdc6"), ("Late", "#6e3619", "#fcd6c3"),
                  ("Rejected", "#3d2375", "#dbd5e9"), ("On time", "#005a30", "#cce2d8"))
VERDICT_WORDS = {"valid": "Valid", "valid-with-warnings": "Valid with warnings", "invalid": "Invalid",
                 "unreadable": "Unreadable"}


@dataclass
class ReturnData:
    """What the workbook shows for one return type.

    ``file_values(file_id)`` gives one return's figures as (field, key, month, value)
    tuples: the sheets read the current returns one at a time (the ledger looks each up
    through its index), so every figure of every return is never in memory at once."""

    spec: ReturnSpec
    current: list[Any]  # ledger.ReturnRow, current returns in scope, in sheet order
    file_values: Callable[[int], list[tuple[str, str, str, Any]]]
    periods_label: str = "all periods"
    value_count: int | None = None  # how many values (for the sheet row limit), if known


@dataclass
class WorkbookInput:
    as_of: dt.date
    returns: list[ReturnData]
    register: list[Any]  # ledger.RegisterRow
    files: Any  # ledger.ReturnRow of every file in scope: a list, or a function returning a fresh iterator
    finding_summary: list[tuple[str, str, int, int]]  # code, severity, findings, files
    sources: list[str] = field(default_factory=list)  # lines for the Cover
    # The queries on current returns: (return, provider, contract, period, Finding), for the Queries sheet.
    queries: list[tuple[str, Any, Any, Any, Any]] = field(default_factory=list)
    title: str = "Provider management information returns: consolidated"

    def iter_files(self) -> Iterable[Any]:
        return self.files() if callable(self.files) else self.files


# -- the sheets ----------------------------------------------------------------------------
def write_consolidated(path: str | Path, data: WorkbookInput) -> list[str]:
    """Write the workbook; return its sheet names in order."""
    w = _Writer(path)
    try:
        cover = page_setup(w.wb.add_worksheet("Cover"))
        contents = page_setup(w.wb.add_worksheet("Contents"))
        _submissions(w, data)
        for rd in data.returns:
            _data_sheet(w, rd)
            grids = measure_grids(rd, rd.spec.key_measures)  # declared in the return's spec ([[key_measures]])
            for m in rd.spec.key_measures:
                measure_sheet(w, rd, m, grids[m.slug])
            kpis = rd.spec.pack.kpis if rd.spec.pack else None
            if kpis is not None:  # the KPI counts' percentages, beside them (consolidated_kpis)
                kpi_sheet(w, rd, kpis, _table_name(kpis.consolidated_sheet))
        _validation_summary(w, data)
        _queries(w, data)
        _files(w, data)
        _cover(w, cover, data)
        _contents(w, contents)
        names = ["Cover", "Contents"] + [n for n, _ in w.sheets]
        cover.activate()
        w.close()
        splice(path, w.streams, w.tables)
    finally:
        for stream in w.streams.values():
            stream.discard()
    return names


def _cover(w: _Writer, ws, data: WorkbookInput) -> None:
    ws.write_string(0, 0, data.title, w.title)
    lines = [
        ("This workbook", "brings together the management information returns providers have sent to DWP: for each "
                          "provider, contract and period, the CURRENT return (the latest valid submission; earlier "
                          "ones are kept in the ledger and listed on the Files sheet)."),
        ("As at", f"{data.as_of.day} {data.as_of:%B %Y} ({data.as_of.isoformat()}): returns whose deadline had passed "
                  "by this date and that were not received are shown as missing."),
    ]
    for rd in data.returns:
        lines.append((rd.spec.short_title, f"{rd.spec.title}, template version {rd.spec.version}: "
                                           f"{len(rd.current)} current returns ({rd.periods_label})."))
    lines.append(("Contents", "The Contents sheet links to every sheet. Each sheet has one table with filters; "
                              "the providers x months sheets have a totals row. The two data sheets are filtered "
                              "ranges with a defined name rather than Excel tables, so that any number of returns "
                              "fits in memory when the workbook is written."))
    lines.append(("Warnings", "Cross-return warnings (ytd-discontinuity, kpd-restatement) compare each return with "
                              "the provider's earlier returns; they are warnings because the earlier return may be "
                              "the one that is wrong."))
    for i, s in enumerate(data.sources):
        lines.append(("Data sources" if i == 0 else "", s))
    for r, (label, text) in enumerate(lines, start=2):
        # a row as tall as its wrapped text, or the text prints over the next line (issue 19 item 19)
        if height := row_points([(label, COVER_WIDTHS[0]), (text, COVER_WIDTHS[1])]):
            ws.set_row(r, height)
        if label:
            ws.write_string(r, 0, label, w.label)
        ws.write_string(r, 1, text, w.wrap)
    ws.set_column(0, 0, COVER_WIDTHS[0])
    ws.set_column(1, 1, COVER_WIDTHS[1])


def _contents(w: _Writer, ws) -> None:
    ws.write_string(TITLE_ROW, 0, "Contents", w.title)
    ws.write_string(NOTE_ROW, 0, "Select a sheet name to go to it.")
    first = 2
    rows = [("Cover", "Title, what this workbook contains, the as-of date and data sources.")] + w.sheets
    ws.write_string(first, 0, "Sheet")
    ws.write_string(first, 1, "What it contains")
    for i, (name, describe) in enumerate(rows, start=1):
        quoted = "'" + name.replace("'", "''") + "'"
        ws.write_url(first + i, 0, f"internal:{quoted}!A1", w.link, string=name)
        ws.write_string(first + i, 1, describe)
    w.tables[ws.get_name()] = TableSpec("tbl_contents", first, first + len(rows), ["Sheet", "What it contains"])
    ws.freeze_panes(first + 1, 0)
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 100)


def _submissions(w: _Writer, data: WorkbookInput) -> None:
    counts: dict[str, int] = {}
    for r in data.register:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{STATUS_WORDS[s].lower()} {counts[s]}" for s in STATUS_WORDS if s in counts) or "none"
    ws = w.sheet("Submissions", "Submissions register: returns owed and received",
                 [f"One row per provider, contract, return and period up to {data.as_of.isoformat()}: {summary}. "
                  "On time or late is judged by the first valid submission; late by N counts working days in the "
                  "provider's UK division."],
                 "Who owed which return, when it was received, its deadline, on time or late, resubmissions, missing.")
    headers = [{"header": "Provider", "text": True}, {"header": "Contract", "text": True},
               {"header": "Return", "text": True}, {"header": "Period", "text": True},
               {"header": "Status", "text": True}, {"header": "Received"},
               {"header": "Deadline", "format": w.datetime}, {"header": "Late by (working days)"},
               {"header": "Resubmissions"}, {"header": "Files received"}, {"header": "In register", "text": True},
               {"header": "UK division", "text": True}, {"header": "Current file", "text": True},
               {"header": "Sender", "text": True}]

    def rows():
        for r in data.register:
            received = r.received_at
            if received is not None and getattr(r, "received_date_only", False):
                received = received.date()
            yield (r.provider, r.contract, display_name(r.return_id), r.period, STATUS_WORDS.get(r.status, r.status),
                   received, r.deadline or NO_DEADLINE if r.status == "no deadline" else r.deadline,
                   r.late_working_days, r.resubmissions, r.files,
                   "Yes" if r.in_register else "No", r.region, mask_all(r.current_name), mask_all(r.sender))
    n = w.table(ws, 3, headers, rows(), "tbl_submissions",
                [34, 18, 16, 12, 14, 17, 17, 12, 14, 10, 11, 18, 44, 30], freeze_cols=2)
    for word, fg, bg in STATUS_COLOURS:  # GOV.UK tag colours beside the words (never colour alone)
        ws.conditional_format(4, 4, 3 + n, 4, {"type": "text", "criteria": "begins with", "value": word,
                                               "format": w.wb.add_format({"bold": True, "font_color": fg,
                                                                          "bg_color": bg})})


def _slot_order(spec: ReturnSpec) -> dict[tuple[str, str], int]:
    return {k: i for i, k in enumerate(slot_index(spec))}


def _data_sheet(w: _Writer, rd: ReturnData) -> None:
    spec = rd.spec
    order = _slot_order(spec)
    labels = {f.id: f.label for s in spec.sheets for f in s.expanded_fields}
    monthly = spec.period.monthly
    # the return type by its display name, as everywhere a person reads it (issue 19 item 20: "INSIGHT data")
    # (a sheet name may not hold []:*?/\ nor begin or end with an apostrophe)
    name = SHEET_NAME_BAD.sub(" ", spec.short_title)[:26].strip(" '") + " data"
    limit = EXCEL_MAX_ROWS - 5  # rows left below the title, up to two notes, a blank row and the header
    total = rd.value_count if rd.value_count is not None else None
    notes = [f"{spec.title}. One row per figure; {rd.periods_label}. Month is the calendar month a figure "
             "is for; Key is the column or row it was entered in. The figures are a filtered range named "
             f"{spec.id}_data (not an Excel table, so that any number of returns can be written)."]
    if total is not None and total > limit:
        notes.append(f"This sheet holds the first {limit:,} of {total:,} figures (the most a sheet can hold); "
                     "every figure is in the ledger.")
    headers = ["Provider", "Contract", "Period", "Month", "Field", "Field label", "Key", "Value"]

    def rows():
        n = 0
        unknown = 10**9
        for ret in rd.current:
            items = rd.file_values(ret.file_id)
            items.sort(key=lambda v: (order.get((v[0], v[1]), unknown), v[0], v[1], v[2]))
            head = (ret.provider, ret.contract, ret.period)
            own_month = ret.period if monthly else ""
            for fld, key, month, value in items:
                if n >= limit:
                    return
                n += 1
                yield (*head, month or own_month, fld, labels.get(fld, fld), key, value)
    first_row = NOTE_ROW + len(notes) + 1
    stream = RowWriter(first_row, len(headers), folder=w.folder)
    w.streams[name] = stream
    if stream.write_all(rows()) == 0:
        stream.write(["(none)"])
    ws = w.sheet(name, f"{spec.short_title}: every figure of the current returns, in long form", notes,
                 f"{spec.short_title}: every figure of each current return, one row per figure.")
    for c, h in enumerate(headers):
        ws.write_string(first_row, c, h, w.bold)
    ws.autofilter(first_row, 0, stream.last_row, len(headers) - 1)
    ws.freeze_panes(first_row + 1, 2)
    for c, width in enumerate([34, 18, 12, 9, 30, 50, 16, 16]):
        ws.set_column(c, c, width)
    quoted = "'" + name.replace("'", "''") + "'"
    w.wb.define_name(f"{spec.id}_data", f"={quoted}!$A${first_row + 1}:$H${stream.last_row + 1}")


def _validation_summary(w: _Writer, data: WorkbookInput) -> None:
    verdicts: dict[str, int] = {}
    current = received = 0
    for f in data.iter_files():
        verdicts[f.verdict] = verdicts.get(f.verdict, 0) + 1
        current += bool(f.current)
        received += 1
    text = ", ".join(f"{VERDICT_WORDS[v].lower()} {verdicts[v]}" for v in VERDICT_WORDS if v in verdicts) or "none"
    ws = w.sheet("Validation summary", "Validation summary: files, verdicts and findings by code",
                 [f"Files received: {received} ({text}); current returns: {current}.",
                  "Findings by code over every file received (current, superseded and rejected)."],
                 "Files by verdict, and how many findings of each code were found, in how many files.")
    headers = [{"header": "Code", "text": True}, {"header": "Severity", "text": True},
               {"header": "Level", "text": True}, {"header": "Findings"}, {"header": "Files"}]
    rows = [(code, sev, CATALOGUE.get(code, ("", "", ""))[1], n, files) for code, sev, n, files in
            data.finding_summary]
    w.table(ws, 4, headers, rows, "tbl_validation_summary", [30, 10, 10, 10, 10])


def _queries(w: _Writer, data: WorkbookInput) -> None:
    """Each query on a current return, open or explained by the provider on the template's
    Explanations sheet, with the explanation (issue 13)."""
    ws = w.sheet("Queries", "Queries on current returns: open, or explained by the provider",
                 ["A query is unusual but may be right: the provider may explain it on the return's "
                  "Explanations sheet. An open query has no explanation yet."],
                 "Each query on a current return, whether it is open or explained, and the provider's explanation.")
    headers = [{"header": "Return", "text": True}, {"header": "Provider", "text": True},
               {"header": "Contract", "text": True}, {"header": "Period", "text": True},
               {"header": "Code", "text": True}, {"header": "Cell", "text": True},
               {"header": "Status", "text": True}, {"header": "Explanation", "text": True}]
    rows = [(display_name(rid) or None, provider, contract, period, f.code, f.ref or None, f.status,
             mask_all(f.explanation) if f.explanation else None)
            for rid, provider, contract, period, f in data.queries]
    w.table(ws, 4, headers, rows, "tbl_queries", [16, 34, 18, 12, 26, 18, 10, 80])


def _files(w: _Writer, data: WorkbookInput) -> None:
    ws = w.sheet("Files", "Files received: every submission, superseded and rejected ones included",
                 ["Current is Yes for the return in use for its provider, contract and period (the latest valid one)."],
                 "Every file received: who sent it, when, its verdict and whether it is the current return.")
    headers = [{"header": "File", "text": True}, {"header": "E-mail", "text": True},
               {"header": "Sender", "text": True}, {"header": "Return", "text": True},
               {"header": "Provider", "text": True}, {"header": "Contract", "text": True},
               {"header": "Period", "text": True}, {"header": "Received"},
               {"header": "Submission time from", "text": True}, {"header": "Verdict", "text": True},
               {"header": "Current", "text": True}, {"header": "Errors"}, {"header": "Warnings"},
               {"header": "Late by (working days)"}, {"header": "SHA-256", "text": True}]

    def rows():
        for f in data.iter_files():
            received = f.received_at.date() if f.received_at and f.received_date_only else f.received_at
            # The sender's address stays in the ledger's audit trail; here it is masked like all personal data
            # (names too, which a ledger written before names were masked may hold raw).
            yield (mask_all(f.name), mask_all(f.source_email), mask_all(f.sender), display_name(f.return_id) or None, f.provider,
                   f.contract,
                   f.period, received, f.submitted_source, VERDICT_WORDS.get(f.verdict, f.verdict),
                   "Yes" if f.current else "No", f.errors, f.warnings,
                   NO_DEADLINE if f.period and f.deadline is None else f.late_working_days, f.sha256[:16])
    w.table(ws, 3, headers, rows(), "tbl_files", [44, 30, 30, 16, 34, 18, 12, 17, 18, 20, 9, 8, 9, 12, 18])
