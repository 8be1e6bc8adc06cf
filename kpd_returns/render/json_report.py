"""The JSON report: a documented, versioned schema (docs/report-schema.json).

    {"schema": "kpd-returns/validation-report", "schema_version": "2.0", "valid": false, "exit_code": 1,
     "counts": {"files": 7, "valid": 0, ...}, "skipped": [...], "files": [...]}

One object per file, in the order the files were given, each with its findings
in report order (Finding.sort_key). Nothing depends on when the report was run,
so the same inputs give byte-identical output. (A return whose submission time
is not known is judged late or on time as of ``--as-of``, or the day of the run:
pass ``--as-of`` when the output must be reproducible.)

Versioning: ``schema_version`` is MAJOR.MINOR. A new optional key is a minor
change (1.1); removing or renaming a key, or changing its type or meaning, is a
major change (2.0). Consumers should check the major number.

2.0 (from 1.0): the top level has ``valid``, ``exit_code``, ``counts`` and
``skipped``; ``submitted`` is never null beside ``submitted_source`` "as-of": it
holds the as-of time lateness was judged at (a change of meaning, so a major
version), and ``as_of`` still gives that date.

2.1 (from 2.0): each finding has ``status`` ("open" or "explained" for a query, null for any
other finding) and ``explanation`` (the provider's sentence from the template's Explanations
sheet, masked, for an explained query; else null); each file's ``counts`` has ``explained``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TextIO

from ..spec.personal_data import mask_all
from ..read.terminal import json_dumps
from ..spec.findings import Finding
from ..spec.model import FileReport
from ._common import AS_OF, iso, sorted_findings

SCHEMA_ID = "kpd-returns/validation-report"
SCHEMA_VERSION = "2.1"

FINDING_KEYS = ("code", "severity", "sheet", "cell", "ref", "field", "field_label", "message", "guidance",
                "found", "expected", "status", "explanation")


def finding_dict(f: Finding) -> dict[str, Any]:
    d = f.to_dict()
    out = {k: d.get(k) for k in FINDING_KEYS}
    out["ref"] = out["ref"] or None
    out["guidance"] = out["guidance"] or None
    out["explanation"] = mask_all(out["explanation"]) if out["explanation"] else None
    return out


def file_dict(report: FileReport) -> dict[str, Any]:
    # With no known submission time, lateness is judged as of a date (--as-of, or the day
    # of the run): "submitted" holds that time, "submitted_source" says it is the as-of one,
    # and "as_of" gives its date.
    as_of = report.submitted_source == AS_OF and report.submitted is not None
    return {
        "file": mask_all(report.path),  # a file's name may hold personal data too
        "name": mask_all(report.name),
        "sha256": report.sha256,
        "return_type": report.return_id,
        "template_version": report.version,
        "period": report.period,
        "provider": report.provider,
        "contract": report.contract,
        "verdict": report.verdict,
        "exit_code": report.exit_code,
        "deadline": iso(report.deadline),
        "submitted": iso(report.submitted),
        "submitted_source": report.submitted_source,
        "as_of": iso(report.submitted.date() if isinstance(report.submitted, dt.datetime) else report.submitted)
        if as_of else None,
        "late_working_days": report.late_working_days,
        "counts": {"errors": len(report.errors), "warnings": len(report.warnings),
                   "explained": sum(1 for f in report.findings if f.status == "explained")},
        "findings": [finding_dict(f) for f in sorted_findings(report)],
    }


VERDICT_COUNTS = (("valid", "valid"), ("valid_with_warnings", "valid-with-warnings"), ("invalid", "invalid"),
                  ("unreadable", "unreadable"))


def counts_dict(reports: Sequence[FileReport], skipped: Sequence[str] = ()) -> dict[str, int]:
    verdicts = [r.verdict for r in reports]
    counts = {"files": len(reports)}
    counts.update({key: verdicts.count(verdict) for key, verdict in VERDICT_COUNTS})
    counts["errors"] = sum(len(r.errors) for r in reports)
    counts["warnings"] = sum(len(r.warnings) for r in reports)
    counts["skipped"] = len(skipped)
    return counts


def report_dict(reports: Sequence[FileReport], skipped: Sequence[str] = ()) -> dict[str, Any]:
    exit_code = max((r.exit_code for r in reports), default=0)
    return {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "valid": exit_code == 0,
        "exit_code": exit_code,
        "counts": counts_dict(reports, skipped),
        "skipped": list(skipped),
        "files": [file_dict(r) for r in reports],
    }


def dumps(reports: Sequence[FileReport], skipped: Sequence[str] = ()) -> str:
    return json_dumps(report_dict(reports, skipped), indent=2) + "\n"


def write_json(reports: Sequence[FileReport], out: TextIO, skipped: Sequence[str] = ()) -> None:
    out.write(dumps(reports, skipped))
