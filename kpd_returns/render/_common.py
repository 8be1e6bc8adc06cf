"""Small helpers shared by the renderers."""

from __future__ import annotations

import datetime as dt

from ..spec.findings import Finding
from ..spec.return_spec import get_spec
from ..spec.model import FileReport
from ..spec.words import plural  # noqa: F401  (the renderers' one plural, spec.words)

VERDICT_WORDS = {
    "valid": "valid",
    "valid-with-warnings": "valid with warnings",
    "invalid": "not valid",
    "unreadable": "could not be read",
}
VERDICT_ORDER = ("valid", "valid-with-warnings", "invalid", "unreadable")

AS_OF = "as-of"  # submitted_source when the submission time is not known (validate.finish_report)

SOURCE_WORDS = {
    "option": "from --submitted",
    "workbook": "from the workbook's {label}",
    "email": "from the covering e-mail",
    "file-modified": "from the file's last-modified time",
}


def spec_of(report: FileReport):
    """The return spec of a report, or None (unknown type, or specs unavailable)."""
    if not report.return_id:
        return None
    try:
        return get_spec(report.return_id)
    except Exception:  # noqa: BLE001 - a renderer must never fail on a lookup
        return None


def deadline_text(due: dt.datetime) -> str:
    """'Wed 4 November 2026 23:59' (as deadlines.Deadline.due_text)."""
    return f"{due:%a} {due.day} {due:%B %Y %H:%M}"


def when_text(value: dt.datetime | dt.date) -> str:
    """A submission time as people read it: the date, plus the time when it is known."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return f"{value:%Y-%m-%d}"
        text = f"{value:%Y-%m-%d %H:%M}"
        if value.tzinfo is not None and value.utcoffset():
            text += f" {value:%z}"
        elif value.tzinfo is not None:
            text += " UTC"
        return text
    return f"{value:%Y-%m-%d}"


def source_text(report: FileReport) -> str:
    src = report.submitted_source
    if not src:
        return ""
    template = SOURCE_WORDS.get(src, "from " + src)
    label = "date submitted"
    spec = spec_of(report)
    if spec is not None:
        try:
            label = spec.field(spec.header.submitted).label
        except Exception:  # noqa: BLE001
            pass
    return template.format(label=label)


def iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def sorted_findings(report: FileReport) -> list[Finding]:
    return sorted(report.findings, key=Finding.sort_key)


def sheet_order(report: FileReport) -> dict[str | None, tuple]:
    """Sheet -> sort key: file-level first, then the return's sheets in spec order, then others by name."""
    spec = spec_of(report)
    spec_sheets = [s.name for s in spec.sheets] if spec is not None else []
    order: dict[str | None, tuple] = {None: (0, 0, "")}
    for f in report.findings:
        if f.sheet and f.sheet not in order:
            if f.sheet in spec_sheets:
                order[f.sheet] = (1, spec_sheets.index(f.sheet), f.sheet)
            else:
                order[f.sheet] = (2, 0, f.sheet)
    return order


def grouped(report: FileReport) -> list[tuple[str | None, list[Finding]]]:
    """Findings grouped by sheet (file-level findings first), each group in Finding.sort_key order."""
    order = sheet_order(report)
    groups: dict[str | None, list[Finding]] = {}
    for f in sorted_findings(report):
        groups.setdefault(f.sheet or None, []).append(f)
    return sorted(groups.items(), key=lambda kv: order[kv[0]])
