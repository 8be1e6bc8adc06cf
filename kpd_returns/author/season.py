"""A generated "real season": seven contracts over twelve months, as a ledger and a providers register.

The packs must be right on the season a performance manager really has, not only on a
complete one (issue 12). What the season holds is data, validators/season.toml: its contracts,
the files that arrive late, rejected, resent or corrected, and each return's figures as an
expression; a new return type takes part by adding its contracts and figures there. This builds one from validated-file records (``FileReport``)
written straight into a ledger, so the register, the packs, the publication rows and the
KPI engine all run as they do on real files, in well under a second and with no workbook.

Report month 2026-10, judged as at 2026-11-20; twelve months 2025-11 to 2026-10. The
figures are chosen so that every expected number can be worked by hand (each contract
returns the same counts every month, for every KPI):

=================  =========  ====================================================  =========
contract           returns    what it exercises                                     due/within
=================  =========  ====================================================  =========
AtW-MHSS-C014      MMIR, KPD  2026-09 resubmitted with corrected figures (supersedes)  20/19
  Northbridge                 (first file 15 within); cohort 2026 from 2026-09 (4/4)
AtW-MHSS-C022      MMIR       2026-10 received 3 working days late                    10/9
  Calder Valley
AtW-MHSS-C031      MMIR       2026-08 rejected, then resubmitted (valid, late)        10/8
  Harbourside
AtW-MHSS-C047      MMIR       register: first_period 2026-04, no service_start;       10/10
  Meridian                    2026-10 on time, then resent a working day late
AtW-MHSS-C058      MMIR       service starts 2026-10; nothing received yet            -
  Eastgate
AtW-MHSS-C063      MMIR       starts mid-year (service_start 2026-05)                 5/4
  Westfield
AtW-MHSS-C070      MMIR       ends: service_end 2026-07, returns to 2026-07 only      10/7
  Southmoor
CPA 21             KPD only   2026-27 Q1 and Q2                                       -
  Pennine
=================  =========  ====================================================  =========

KPI 4 has no cases due anywhere in 2026-07 (a month where one KPI has none), and no customer
referred from September 2026 has reached an Exit Report (KPI 5, cohort 2026: none due). Social Value
measures are returned in each quarter-end month (all three achieved except Harbourside,
two of three).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..intake.ledger import Ledger
from ..intake.registry import Registry, registry_from_text
from ..spec.periods import month_at, month_index
from ..spec.deadlines import deadline_for
from ..spec.findings import make
from ..spec.model import FileReport
from ..spec.resources import validators_dir
from ..spec.small_files import SmallFileError, load_toml_file
from ..spec.return_spec import get_spec
from ..spec.workdays import add_working_days
from .sample_expr import FUNCTIONS, evaluate

SEASON_FILE = "season.toml"


@dataclass(frozen=True)
class SeasonContract:
    provider: str
    contract: str
    return_id: str
    periods: tuple[str, ...]  # the periods it sends, in order
    vars: dict[str, Any] = field(default_factory=dict)  # its own figures, read by the [values] expressions
    register: dict[str, str] = field(default_factory=dict)  # service_start, first_period, service_end, profile

    def __hash__(self) -> int:
        return hash((self.return_id, self.contract))


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    path = validators_dir() / SEASON_FILE
    try:  # a small regular file only: a pipe or a device there must not hang or fill the memory
        return load_toml_file(path)
    except (OSError, SmallFileError) as exc:
        raise ValueError(f"{path.name}: {getattr(exc, 'strerror', None) or exc}") from None


_DATA = _data()
REPORT_MONTH: str = _DATA["report_month"]
AS_OF: dt.date = _DATA["as_of"]
MONTHS = tuple(month_at(i) for i in range(month_index(_DATA["first_month"]), month_index(REPORT_MONTH) + 1))


def _periods(c: dict[str, Any]) -> tuple[str, ...]:
    if "periods" in c:
        return tuple(c["periods"])
    if not c.get("first"):
        return ()  # owes returns, has sent nothing
    first = MONTHS.index(c["first"]) if c["first"] in MONTHS else 0
    return MONTHS[first: MONTHS.index(c["last"]) + 1]


CONTRACTS = tuple(SeasonContract(c["provider"], c["contract"], c["returns"], _periods(c), dict(c.get("vars", {})),
                                 dict(c.get("register", {}))) for c in _DATA["contracts"])
EVENTS = {(e["contract"], e["period"]): e for e in _DATA.get("events", [])}


def register_csv() -> str:
    lines = ["provider,contract,returns,region,service_start,first_period,service_end,profile"]
    for c in CONTRACTS:
        r = c.register
        lines.append(f"{c.provider},{c.contract},{c.return_id},england-and-wales,{r.get('service_start', '')},"
                     f"{r.get('first_period', '')},{r.get('service_end', '')},{r.get('profile', '')}")
    return "\n".join(lines) + "\n"


def register() -> Registry:
    return registry_from_text(register_csv(), "season-providers.csv")


def _bounds(c: SeasonContract, period: str) -> tuple[str, dt.date, dt.date]:
    """The period's label, first and last day: a contract year from the Service Start Date is the contract's own."""
    return get_spec(c.return_id).period.for_service_start(c.register.get("service_start")).parse(period)


def _months(start: dt.date, end: dt.date) -> list[str]:
    return [month_at(i) for i in range(month_index(f"{start:%Y-%m}"), month_index(f"{end:%Y-%m}") + 1)]


def values(c: SeasonContract, period: str, changed: dict[str, Any] | None = None) -> list[tuple]:
    """The (field, key, month, value) rows of one file, from the season's [values] expression."""
    _label, start, end = _bounds(c, period)
    year_start = get_spec(c.return_id).period.year_start_month
    first = dt.date(start.year - (start.month < year_start), year_start, 1)
    scope = dict(FUNCTIONS) | c.vars | (changed or {}) | {
        "contract": c.contract, "provider": c.provider, "period": period,
        "months": _months(start, end), "months_to_date": _months(first, end)}
    return evaluate(_DATA["values"][c.return_id], scope)


def _received(return_id: str, period: str, period_end: dt.date, late_days: int, again: bool) -> dt.datetime:
    """Noon on the day before the deadline (a second file: noon on the deadline day), or ``late_days``
    working days after the deadline."""
    due = deadline_for(return_id, period, period_end).due.date()
    day = add_working_days(due, late_days) if late_days else due - dt.timedelta(days=0 if again else 1)
    return dt.datetime.combine(day, dt.time(12, 0))


def _first_return(contract: str) -> str:
    return next(x.return_id for x in CONTRACTS if x.contract == contract)


def _file_stem(c: SeasonContract) -> str:
    """A file's name starts with its contract; a contract's second return type (an AtW MHSS contract's
    Customer Insight beside its MMIR) also says which, so the two files differ."""
    stem = c.contract.replace(" ", "-")
    return stem if _first_return(c.contract) == c.return_id else f"{c.return_id}-{stem}"


def _report(c: SeasonContract, period: str, rows: list, *, late_days: int = 0, tag: str = "",
            finding: dict[str, Any] | None = None) -> FileReport:
    label, _start, end = _bounds(c, period)
    received = _received(c.return_id, label, end, late_days, bool(tag))
    due = deadline_for(c.return_id, label, end)
    name = f"{_file_stem(c)}-{label.replace(' ', '-')}{tag}.xlsx"
    findings = []
    if finding:
        findings.append(make(finding["code"], **{k: v for k, v in finding.items() if k != "code"}))
    if late_days:  # as the validator reports a file received after its deadline
        findings.append(make("submitted-late", detail=f"late by {late_days} working days",
                             deadline=f"{due.due:%Y-%m-%d %H:%M}", found=f"late by {late_days} working days"))
    return FileReport(path=name, name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), return_id=c.return_id,
                      version="season", provider=c.provider, contract=c.contract, period=label, period_end=end,
                      findings=findings, submitted=received, submitted_source="email", deadline=due.due,
                      late_working_days=late_days, values=rows)


def reports() -> list[FileReport]:
    """Every file of the season, in the order received."""
    out: list[FileReport] = []
    for c in CONTRACTS:
        for period in c.periods:
            event = EVENTS.get((c.contract, period), {})
            if event.get("returns", _first_return(c.contract)) != c.return_id:
                event = {}  # an event is for one return of its contract: `returns`, else the first listed
            kind, late = event.get("kind"), int(event.get("late_days", 0))
            if kind == "rejected-then-resubmitted":
                out.append(_report(c, period, values(c, period), finding=event.get("finding")))
                out.append(_report(c, period, values(c, period), late_days=late, tag="-resubmitted"))
            elif kind == "resent-late":
                out.append(_report(c, period, values(c, period)))
                out.append(_report(c, period, values(c, period), late_days=1, tag="-resent"))
            elif kind == "superseded":
                out.append(_report(c, period, values(c, period, event.get("vars"))))
                out.append(_report(c, period, values(c, period), tag="-corrected"))
            else:
                out.append(_report(c, period, values(c, period), late_days=late if kind == "late" else 0))
    return sorted(out, key=lambda r: (r.submitted, r.name))


def build_ledger(path: str | Path) -> Path:
    """Write the season into a new ledger at ``path`` (replacing one there) and return its path."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Ledger(path) as ledger:
        for report in reports():
            ledger.add_report(report, source_path=f"season/{report.name}")
    return path
