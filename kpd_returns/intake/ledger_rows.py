"""The rows the ledger gives and takes: the records its queries return (a file received, its
figures, a line of the submissions register), and the conversions between them and SQLite columns.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..spec.findings import Finding
from ..spec.periods import NO_PERIOD, ValuePeriod
from ..spec.model import RegisterRow, contract_key  # noqa: F401  (re-exported: the ledger's callers import them here)
from .supersession import later_sql


# -- rows returned by the API ---------------------------------------------------------
@dataclass(frozen=True)
class ReturnRow:
    file_id: int
    return_id: str | None
    provider: str | None
    contract: str | None
    period: str | None
    period_end: dt.date | None
    verdict: str
    received_at: dt.datetime | None  # midnight when only the date is known (see received_text)
    submitted_source: str | None
    late_working_days: int | None
    deadline: dt.datetime | None
    name: str
    sender: str | None
    source_email: str | None = None
    source_path: str = ""
    sha256: str = ""
    template_version: str | None = None
    region: str | None = None
    received_text: str | None = None  # as stored: 'YYYY-MM-DDTHH:MM:SS' or 'YYYY-MM-DD'
    current: bool = False
    errors: int = 0
    warnings: int = 0

    @property
    def received_date_only(self) -> bool:
        return self.received_text is not None and len(self.received_text) == 10


@dataclass(frozen=True)
class StoredRegister:
    name: str
    sha256: str
    content: str
    stored_at: str


@dataclass(frozen=True)
class ValueRow:
    provider: str | None
    contract: str | None
    period: str
    field: str
    key: str
    month: str
    value: float | str | None
    file_id: int = 0
    return_id: str = ""
    period_end: dt.date | None = None
    span: ValuePeriod = NO_PERIOD  # the period this figure covers (its month column's, else its return's)


@dataclass(frozen=True)
class AddResult:
    """What adding one report did: ``duplicate_of`` is set when the file was already there."""

    file_id: int
    added: bool
    duplicate_of: ReturnRow | None = None
    cross_findings: list[Finding] = field(default_factory=list)

    @property
    def duplicate_message(self) -> str:
        row = self.duplicate_of
        if row is None:
            return ""
        return f"already in the ledger as {row.name}, received {format_received(row)}"


def format_received(row: ReturnRow) -> str:
    if row.received_text is None:
        return "at an unknown time"
    if row.received_date_only:
        return row.received_text
    return row.received_text.replace("T", " ")


# -- conversions -----------------------------------------------------------------------------
def _iso_dt(value: dt.datetime | dt.date | None, date_only: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None)
        if date_only:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(timespec="seconds")
    return value.isoformat()


def _parse_dt(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    return dt.datetime.fromisoformat(text)


def _parse_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


def _value_columns(value: Any) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, (dt.datetime, dt.date)):
        return None, value.isoformat()
    return None, str(value)


_ROW_COLUMNS = """f.id, f.return_id, f.provider, f.contract, f.period, f.period_end, f.verdict, f.received_at,
    f.submitted_source, f.late_working_days, f.deadline, f.name, f.sender, f.source_email, f.source_path,
    f.sha256, f.template_version, f.region"""
_COUNTS = """(SELECT COUNT(*) FROM findings g WHERE g.file_id = f.id AND g.severity = 'error') AS n_errors,
    (SELECT COUNT(*) FROM findings g WHERE g.file_id = f.id AND g.severity = 'warning') AS n_warnings,
    (f.verdict IN ('valid', 'valid-with-warnings') AND f.return_id IS NOT NULL AND f.contract_key IS NOT NULL
     AND f.period IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM files o
        WHERE o.return_id = f.return_id AND o.contract_key = f.contract_key AND o.period = f.period
          AND o.verdict IN ('valid', 'valid-with-warnings')
          AND """ + later_sql("o", "f") + """)) AS is_current"""
# is_current means "this file is in current_files" (the view: the latest valid file of its return, contract
# and period, by intake.supersession's rule). Asked per file, the view would rank every valid file
# each time (quadratic in the ledger's size); this asks the index of the file's own period instead.


def _row(r: sqlite3.Row) -> ReturnRow:
    return ReturnRow(
        file_id=r["id"], return_id=r["return_id"], provider=r["provider"], contract=r["contract"],
        period=r["period"], period_end=_parse_date(r["period_end"]), verdict=r["verdict"],
        received_at=_parse_dt(r["received_at"]), submitted_source=r["submitted_source"],
        late_working_days=r["late_working_days"], deadline=_parse_dt(r["deadline"]), name=r["name"],
        sender=r["sender"], source_email=r["source_email"], source_path=r["source_path"], sha256=r["sha256"],
        template_version=r["template_version"], region=r["region"], received_text=r["received_at"],
        current=bool(r["is_current"]), errors=r["n_errors"], warnings=r["n_warnings"],
    )


def _finding_from_row(r: sqlite3.Row) -> Finding:
    return Finding(code=r["code"], severity=r["severity"], message=r["message"], guidance=r["guidance"] or "",
                   sheet=r["sheet"], cell=r["cell"], field=r["field"], field_label=r["field_label"],
                   found=r["found"], expected=r["expected"], explanation=r["explanation"])
