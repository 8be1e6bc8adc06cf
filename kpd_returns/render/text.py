"""The text report: grouped by file, then by sheet, errors before warnings.

Readable without colour: the severity is always a word (error / warning), and
colour is only added by rich when the output is a terminal and NO_COLOR is not
set. Without colour the lines are written directly (rich is not even imported:
a provider's one-file check piped to a file or a log starts faster). Lines are never wrapped by the renderer (the terminal wraps them), so each
finding is one line that can be searched for or piped.

    samples/x.xlsx: MMIR 2026-10, Northbridge Employment Ltd: 2 errors, 1 warning — not valid; late by 12 working days (deadline Wed 4 November 2026 23:59), submitted 2026-11-20 (from the workbook's Date submitted)
      Whole file
        warning  submitted-late  This return was submitted ...  [AtW 7.24]
      Staffing
        error    total-mismatch  Staffing!D12  Staffing!D12 (FTE total) holds ...  [KPD 9]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TextIO

from ..spec.personal_data import mask_all
from ..spec.findings import Finding
from ..spec.model import FileReport
from ..spec.periods import period_title
from ..spec.return_spec import display_name
from ..read.terminal import safe_text
from ._common import (
    AS_OF, VERDICT_ORDER, VERDICT_WORDS, deadline_text, grouped, plural, source_text, spec_of, when_text,
)

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow"}
VERDICT_STYLE = {"valid": "green", "valid-with-warnings": "yellow", "invalid": "red", "unreadable": "red"}
FILE_LEVEL_HEADING = "Whole file"


def identity(report: FileReport) -> str:
    """'MMIR for October 2026, Northbridge Employment Ltd', or '' when nothing is known."""
    spec = spec_of(report)
    name = spec.short_title if spec else display_name(report.return_id)  # an extract's too (spec.extract_spec)
    first = " for ".join(x for x in (name, period_title(report.period)) if x)
    return ", ".join(x for x in (first, report.provider or (report.contract if spec is None else None))
                     if x)


def lateness_text(report: FileReport) -> str:
    """'on time (deadline ...), submitted 2026-11-20 (from ...)', or '' when there is no deadline."""
    parts = []
    if report.deadline is not None:
        due = deadline_text(report.deadline)
        if report.late_working_days is None:
            parts.append(f"deadline {due}")
        elif report.late_working_days == 0:
            parts.append(f"on time (deadline {due})")
        else:
            days = plural(report.late_working_days, "working day")
            parts.append(f"late by {days} (deadline {due})")
    if report.submitted_source == AS_OF:
        # Not a submission time: the date lateness was judged at (--as-of, or the day of the run).
        if report.deadline is not None and report.submitted is not None:
            parts.append(f"as of {when_text(report.submitted)} (submission date not known)")
    elif report.submitted is not None:
        src = source_text(report)
        parts.append(f"submitted {when_text(report.submitted)}" + (f" ({src})" if src else ""))
    elif report.deadline is not None:
        parts.append("submission date not known")
    return ", ".join(parts)


def verdict_line(report: FileReport, label: str | None = None) -> str:
    """The one-line verdict of a file, without colour. ``label`` replaces the path shown."""
    ident = identity(report)
    counts = f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"
    explained = sum(1 for f in report.findings if f.status == "explained")
    if explained:
        counts += f" ({explained} {'query' if explained == 1 else 'queries'} explained)"
    line = f"{mask_all(label or report.path)}: " + (f"{ident}: " if ident else "") + f"{counts} — {VERDICT_WORDS[report.verdict]}"
    late = lateness_text(report)
    return line + (f"; {late}" if late else "")


Segments = list[tuple[str, "str | None"]]  # (text, rich style or None)


def finding_line(f: Finding) -> Segments:
    parts: Segments = [("    ", None), (f"{f.severity:<7}", SEVERITY_STYLE.get(f.severity)), (f"  {f.code}", None)]
    if f.ref:
        parts.append((f"  {f.ref}", "bold"))
    parts.append((f"  {f.message}", None))
    if f.guidance:
        parts.append((f"  [{f.guidance}]", "dim"))
    if f.explanation:  # a query the provider explained on the template's Explanations sheet (else it is open)
        parts.append((f"  Explained by the provider: \"{mask_all(f.explanation)}\"", None))
    return parts


def summary_line(reports: Sequence[FileReport]) -> str:
    counts = Counter(r.verdict for r in reports)
    parts = ", ".join(f"{counts.get(v, 0)} {VERDICT_WORDS[v]}" for v in VERDICT_ORDER)
    return f"Checked {plural(len(reports), 'file')}: {parts}."


def report_lines(reports: Sequence[FileReport], notes: Mapping[str, Sequence[str]] | None = None
                 ) -> Iterator[Segments]:
    """The report as lines of styled segments (an empty list is a blank line)."""
    notes = notes or {}
    for i, report in enumerate(reports):
        if i:
            yield []
        yield [(verdict_line(report), VERDICT_STYLE.get(report.verdict))]
        for sheet, items in grouped(report):
            yield [(f"  {sheet if sheet else FILE_LEVEL_HEADING}", "bold")]
            for f in items:
                yield finding_line(f)
        for note in notes.get(report.path, ()):
            yield [(f"  {note}", None)]
    if reports:
        yield []
    yield [(summary_line(reports), "bold")]


def wants_colour(out: TextIO, color: bool | None) -> bool:
    """Whether colour could be used: asked for, or a terminal without NO_COLOR (rich's own rule decides then)."""
    if color is not None:
        return color
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):
        return False


def render_text(reports: Sequence[FileReport], out: TextIO, *, notes: Mapping[str, Sequence[str]] | None = None,
                color: bool | None = None) -> None:
    """Write the report for ``reports`` to ``out``.

    ``notes``: extra lines per report path (for example where its annotated copy
    went, or why there is none), printed at the end of that file's section.
    ``color``: None lets rich decide (terminal and no NO_COLOR), False never colours.
    """
    # Names and cell text come from providers: escape control characters before they reach a terminal.
    lines = ([(safe_text(text), style) for text, style in segments] for segments in report_lines(reports, notes))
    if not wants_colour(out, color):
        for segments in lines:
            out.write("".join(text for text, _style in segments) + "\n")
        return
    # rich only for colour on a terminal: the one-file validate command writing to a pipe starts without it.
    from rich.console import Console
    from rich.text import Text

    options: dict = dict(file=out, soft_wrap=True, highlight=False, emoji=False, markup=False)
    if color:
        options.update(force_terminal=True, color_system="standard")
    console = Console(**options)
    for segments in lines:
        console.print(Text.assemble(*segments))
