"""The records passed between the pieces: reader -> extractor -> checks -> reports -> ledger.

Kept free of heavy imports so every module (and worker processes) can use them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Literal

from .constants import DEFAULT_REGION, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_VALID
from .findings import Finding, UNREADABLE_CODES
from .personal_data import cut, mask_all
from .small_files import file_sha256

Verdict = Literal["valid", "valid-with-warnings", "invalid", "unreadable"]


# Verdicts that count as a return received (the first of them dates a submission).
VALID_VERDICTS = ("valid", "valid-with-warnings")

# Statuses of a submissions-register row. "no deadline": received, for a return whose spec
# says it has no deadline (validators/deadlines.toml `no_deadline = true`): never on time, never late.
STATUSES = ("on time", "late", "no deadline", "missing", "rejected only", "not yet due")


def contract_key(contract: str | None) -> str | None:
    """Contracts match whatever their case and spacing: 'cpa  07' is 'CPA 07'."""
    if contract is None:
        return None
    text = re.sub(r"\s+", " ", str(contract)).strip().casefold()
    return text or None


@dataclass(frozen=True)
class Located:
    """A value as stored in one cell: ``raw`` is what the file holds (str, float, bool,
    None...), ``formula`` the cell's formula text if it has one (without '=')."""

    sheet: str
    cell: str
    field: str
    key: str
    raw: Any
    formula: str | None = None


@dataclass
class ReturnData:
    """A recognised return: every field cell located, values parsed where valid."""

    return_id: str
    version: str
    cells: dict[tuple[str, str], Located]
    # Parsed values for cells that passed their field checks: float for numbers,
    # datetime.date for dates, str for text and choices. Missing/invalid -> absent.
    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    provider: str | None = None
    contract: str | None = None
    period: str | None = None  # "2026-10" (month) or "2026-27 Q2" (contract quarter)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    submitted_date: dt.date | None = None  # the workbook's own "date submitted"
    # Grid column key -> "YYYY-MM" for month columns (KPD April..March).
    month_of_key: dict[str, str] = field(default_factory=dict)


@dataclass
class FileReport:
    """Everything known about one input file after validation."""

    path: str
    name: str
    sha256: str | None = None
    return_id: str | None = None
    version: str | None = None
    provider: str | None = None
    contract: str | None = None
    period: str | None = None
    period_end: dt.date | None = None
    period_kind: str | None = None  # spec.periods' kind of the return's period ("month", "contract_quarter"...)
    findings: list[Finding] = field(default_factory=list)
    submitted: dt.datetime | None = None
    submitted_source: str | None = None  # "option", "workbook", "email", "file-modified"
    deadline: dt.datetime | None = None
    late_working_days: int | None = None  # 0 = on time; None = unknown
    # Long-form values for the ledger: (field, key, month "YYYY-MM" or "", value)
    values: list[tuple[str, str, str, Any]] = field(default_factory=list)
    # Explanations of cross-return queries (row, code, cell, text), kept for the ledger, which finds
    # those queries only when it compares returns (kpd_returns.checks.explanations).
    explanations: list[tuple[int, str, str, str]] = field(default_factory=list)
    # An accepted extract's rows (a pandas DataFrame, columns in spec order: spec/extract_spec.py), for
    # the ledger to store (intake.extract_store); None for a return workbook.
    table: Any = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def verdict(self) -> Verdict:
        if any(f.code in UNREADABLE_CODES for f in self.findings):
            return "unreadable"
        if self.errors:
            return "invalid"
        if self.warnings:
            return "valid-with-warnings"
        return "valid"

    @property
    def exit_code(self) -> int:
        return {"unreadable": EXIT_UNREADABLE, "invalid": EXIT_ERRORS}.get(self.verdict, EXIT_VALID)


@dataclass(frozen=True)
class RegisterRow:
    """One row of the submissions register: a (provider, contract, return, period) owed or received.
    Shared by the ledger (which stores what came in) and the register (which says what was owed)."""

    provider: str | None
    contract: str
    return_id: str
    period: str
    status: str  # one of STATUSES
    received_at: dt.datetime | None
    deadline: dt.datetime | None
    late_working_days: int | None
    resubmissions: int
    files: int
    period_end: dt.date | None = None
    region: str = DEFAULT_REGION
    in_register: bool = True
    current_file_id: int | None = None
    current_name: str | None = None
    sender: str | None = None
    received_date_only: bool = False  # only the date of receipt is known (the workbook's Date submitted)


def crashed_report(path: str, exc: BaseException) -> FileReport:
    """A report for a file whose check failed unexpectedly: unreadable, with one plain sentence (the
    command line and the browser page both give it, never a traceback)."""
    name = Path(path).name
    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    message = (f"The file {name} could not be checked because kpd-returns met an unexpected problem "
               f"({cut(detail, 200)}). Send the file to the kpd-returns maintainers.")
    finding = Finding(code="file-corrupt", severity="error", message=mask_all(" ".join(message.split())))
    try:
        sha = file_sha256(path)
    except OSError:
        sha = None
    return FileReport(path=path, name=name, sha256=sha, findings=[finding])
