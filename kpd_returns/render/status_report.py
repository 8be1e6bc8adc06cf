"""`kpd-returns status` output: a text table that reads at 80 columns, JSON and CSV.

The text layout: one section per return type and period (the period is in the
section's heading, not in every row), so a row is the provider, its contract, the
status, when it came in, the deadline, the working days late, the resubmissions and
the files; a late return's status says by how many working days ("late by 3").
When the table is wider than the screen (80 columns when the output is not a
terminal, unless COLUMNS says otherwise), columns go in this stated order until the
provider's name fits: Files, then Resubmitted; after that the name wraps within its
column. Received, Deadline and Status are never cut. A deadline at the end of its day (23:59) is shown as the date
alone, as that is what it means.

JSON and CSV carry every column whatever the width, one record per provider,
contract, return and period, in the text's order.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, TextIO
import os

from ..spec.personal_data import mask_all
from ..read.terminal import csv_text, json_dumps
from ..spec.periods import period_title
from ..spec.return_spec import display_name

FORMATS = ("text", "json", "csv")
SCHEMA_ID = "kpd-returns/status"
SCHEMA_VERSION = "1.1"  # 1.1: each return's queries_open and queries_explained, and the explanations
STATUS_ORDER = ("on time", "late", "no deadline", "rejected only", "missing", "not yet due")
# Columns left out, in this order, until the table fits the width.
DROP_ORDER = ("files", "resubmissions")
PROVIDER_MIN_WIDTH = 12
GAP = "  "
FIELDS = ("return_type", "period", "provider", "contract", "status", "in_register", "received", "deadline",
          "late_working_days", "resubmissions", "files", "queries_open", "queries_explained")
Queries = Mapping[int, Sequence[Any]]  # current file id -> its queries (findings), open and explained


def _printable(text: str | None) -> str:
    """Names come from providers' workbooks: no control character reaches the console."""
    return "".join(ch if ch.isprintable() else " " for ch in (text or ""))


def _received(row) -> str:
    if row.received_at is None:
        return ""
    return row.received_at.date().isoformat() if row.received_date_only else row.received_at.strftime("%Y-%m-%d %H:%M")


def _deadline(row) -> str:
    if row.deadline is None:
        return "no deadline" if row.status == "no deadline" else ""
    d = row.deadline
    end_of_day = (d.hour, d.minute) == (23, 59)
    return d.date().isoformat() if end_of_day else d.strftime("%Y-%m-%d %H:%M")


def _counts(rows) -> dict[str, int]:
    # "no deadline" is counted only when it occurs: returns with deadlines keep their documented counts.
    found = {s: 0 for s in STATUS_ORDER if s != "no deadline"}
    for r in rows:
        found[r.status] = found.get(r.status, 0) + 1
    return found


def record(row) -> dict[str, Any]:
    """One row as data: ISO dates, numbers as numbers."""
    received = None
    if row.received_at is not None:
        received = row.received_at.date().isoformat() if row.received_date_only else row.received_at.isoformat()
    return {"return_type": row.return_id, "period": row.period, "provider": row.provider, "contract": row.contract,
            "status": row.status, "in_register": row.in_register, "received": received,
            "deadline": row.deadline.isoformat() if row.deadline else None,
            "late_working_days": row.late_working_days if row.status == "late" else None,
            "resubmissions": row.resubmissions, "files": row.files}


def _with_queries(row, queries: Queries) -> dict[str, Any]:
    """The row as data with how many queries its current return has open and explained (issue 13)."""
    mine = queries.get(row.current_file_id, ()) if row.current_file_id is not None else ()
    explained = sum(1 for f in mine if f.explanation)
    return record(row) | {"queries_open": len(mine) - explained, "queries_explained": explained}


def _explanations(rows: Sequence, queries: Queries) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        for f in queries.get(r.current_file_id, ()) if r.current_file_id is not None else ():
            if f.explanation:
                out.append({"return_type": r.return_id, "period": r.period, "provider": r.provider,
                            "contract": r.contract, "code": f.code, "ref": f.ref or None,
                            "explanation": mask_all(f.explanation)})
    return out


def late_and_missing(rows: Sequence) -> list[dict[str, Any]]:
    """The late and missing returns among the register's rows, as data (summary.json lists them)."""
    return [record(r) for r in rows if r.status in ("late", "missing")]


def write_json(rows: Sequence, as_of: dt.date, out: TextIO, queries: Queries | None = None) -> None:
    queries = queries or {}
    doc = {"schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "as_of": as_of.isoformat(),
           "counts": _counts(rows), "returns": [_with_queries(r, queries) for r in rows],
           "explanations": _explanations(rows, queries)}
    out.write(json_dumps(doc, indent=2) + "\n")


def _csv_safe(value: Any) -> Any:
    """A name beginning with = + - @ would be a formula to a spreadsheet opening the CSV: keep it text."""
    if isinstance(value, str):
        return csv_text(value)
    return "" if value is None else value


def write_csv(rows: Sequence, out: TextIO, queries: Queries | None = None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in rows:
        rec = _with_queries(r, queries or {})
        writer.writerow([_csv_safe(rec[k]) for k in FIELDS])


# -- text --------------------------------------------------------------------------------------
_HEADERS = {"provider": "Provider", "contract": "Contract", "status": "Status", "received": "Received",
            "deadline": "Deadline", "resubmissions": "Resubmitted", "files": "Files"}
_RIGHT = {"resubmissions", "files"}


def _cells(row) -> dict[str, str]:
    status = row.status
    if row.status == "late" and row.late_working_days is not None:
        status = f"late by {row.late_working_days}"
    if not row.in_register:
        status += " *"
    return {"provider": _printable(row.provider), "contract": _printable(row.contract), "status": status,
            "received": _received(row), "deadline": _deadline(row),
            "resubmissions": str(row.resubmissions), "files": str(row.files)}


def _layout(cells: list[dict[str, str]], width: int) -> tuple[list[str], dict[str, int]]:
    """The columns kept and their widths: drop columns in DROP_ORDER until the provider's name fits."""
    columns = list(_HEADERS)
    natural = {c: max([len(_HEADERS[c])] + [len(r[c]) for r in cells]) for c in columns}
    for drop in (None, *DROP_ORDER):
        if drop is not None:
            columns.remove(drop)
        others = sum(natural[c] for c in columns if c != "provider") + len(GAP) * (len(columns) - 1)
        room = width - others
        if room >= natural["provider"]:
            break
    widths = {c: natural[c] for c in columns}
    widths["provider"] = max(min(natural["provider"], room), PROVIDER_MIN_WIDTH)
    return columns, widths


def _table_lines(cells: list[dict[str, str]], columns: list[str], widths: dict[str, int]) -> list[str]:
    def line(parts: dict[str, str]) -> str:
        text = GAP.join(parts[c].rjust(widths[c]) if c in _RIGHT else parts[c].ljust(widths[c]) for c in columns)
        return text.rstrip()

    lines = [line(_HEADERS), line({c: "-" * widths[c] for c in columns})]
    for r in cells:
        names = textwrap.wrap(r["provider"], widths["provider"], break_long_words=True) or [""]
        lines.append(line(r | {"provider": names[0]}))
        for more in names[1:]:
            lines.append(line({c: "" for c in columns} | {"provider": more}))
    return lines


def screen_width(out: TextIO) -> int:
    """The terminal's width; 80 when the output goes to a file or a pipe (COLUMNS overrides both)."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False

    if os.environ.get("COLUMNS", "").isdigit():
        return max(int(os.environ["COLUMNS"]), 40)
    return max(shutil.get_terminal_size((80, 24)).columns, 40) if tty else 80


def write_text(rows: Sequence, as_of: dt.date, out: TextIO, width: int | None = None,
               queries: Queries | None = None) -> None:
    width = width or screen_width(out)
    if not rows:
        out.write(f"Nothing is owed or held for these periods as at {as_of.isoformat()}.\n")
        return
    sections: dict[tuple[str, str], list] = {}
    for r in rows:
        sections.setdefault((r.return_id, r.period), []).append(r)
    all_cells = [_cells(r) for r in rows]
    columns, widths = _layout(all_cells, width)  # one layout for every section, so the columns line up
    dropped = [_HEADERS[c] for c in _HEADERS if c not in columns]
    blocks = []
    for (rid, period), items in sections.items():
        blocks.append("\n".join([f"{display_name(rid)} for {period_title(period)}, as at {as_of.isoformat()}",
                                 *_table_lines([_cells(r) for r in items], columns, widths)]))
    out.write("\n\n".join(blocks) + "\n\n")
    notes = []
    if any(not r.in_register for r in rows):
        notes.append("* not in the providers register.")
    if any(r.status == "late" for r in rows):
        notes.append("Late by counts working days after the deadline.")
    if dropped:
        notes.append(f"Left out to fit {width} columns: {', '.join(dropped)} (wider terminal, COLUMNS=N, "
                     "or --format csv for every column).")
    for note in notes:
        out.write("\n".join(textwrap.wrap(note, width)) + "\n")
    counts = _counts(rows)
    out.write(", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if counts.get(s)) + ".\n")
    _write_queries(rows, queries or {}, out, width)


def _write_queries(rows: Sequence, queries: Queries, out: TextIO, width: int) -> None:
    """How many queries the current returns have open and explained, then each explanation."""
    recs = [_with_queries(r, queries) for r in rows]
    n_open, n_explained = sum(r["queries_open"] for r in recs), sum(r["queries_explained"] for r in recs)
    if not n_open and not n_explained:
        return
    out.write(f"Queries on current returns: {n_open} open, {n_explained} explained by the provider.\n")
    for e in _explanations(rows, queries):
        line = (f"{display_name(e['return_type'])} for {period_title(e['period'])}, {_printable(e['provider'])}: "
                f"{e['code']}"
                f"{' at ' + e['ref'] if e['ref'] else ''}, explained: \"{_printable(e['explanation'])}\"")
        out.write("\n".join(textwrap.wrap(line, width, subsequent_indent="    ")) + "\n")


def write_status(rows: Sequence, as_of: dt.date, out: TextIO, fmt: str = "text", queries: Queries | None = None
                 ) -> None:
    """``queries``: the queries on each current return (ledger.queries), shown open or explained."""
    if fmt == "json":
        write_json(rows, as_of, out, queries)
    elif fmt == "csv":
        write_csv(rows, out, queries)
    else:
        write_text(rows, as_of, out, queries=queries)
