"""A generated "real season": seven contracts over twelve months, as a ledger and a providers register.

The packs must be right on the season a performance manager really has, not only on a
complete one (issue 12). This builds one from validated-file records (``FileReport``)
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
from dataclasses import dataclass
from pathlib import Path

from ..spec.deadlines import deadline_for
from ..spec.findings import make
from ..packs.kpis import month_at, month_index
from ..spec.model import FileReport
from ..intake.registry import Registry, registry_from_text
from ..spec.workdays import add_working_days

REPORT_MONTH = "2026-10"
AS_OF = dt.date(2026, 11, 20)
MONTHS = tuple(month_at(month_index("2025-11") + i) for i in range(12))
KPIS = (1, 2, 3, 4, 5)
NO_CASES_KPI, NO_CASES_MONTH = 4, "2026-07"


@dataclass(frozen=True)
class SeasonContract:
    provider: str
    contract: str
    returns: str  # register "returns" column
    first: str | None  # first month with an MMIR, None for none
    last: str | None  # last month with an MMIR
    due: int
    within: int
    register_start: str = ""  # register service_start column
    register_first: str = ""  # register first_period column
    register_end: str = ""  # register service_end column


CONTRACTS = (
    SeasonContract("Northbridge Employment Ltd", "AtW-MHSS-C014", "mmir", "2025-11", "2026-10", 20, 19, "2025-11"),
    SeasonContract("Calder Valley Work Partnership", "AtW-MHSS-C022", "mmir", "2025-11", "2026-10", 10, 9, "2025-11"),
    SeasonContract("Harbourside Futures CIC", "AtW-MHSS-C031", "mmir", "2025-11", "2026-10", 10, 8, "2025-11"),
    SeasonContract("Meridian Skills and Health Ltd", "AtW-MHSS-C047", "mmir", "2026-04", "2026-10", 10, 10,
                   register_first="2026-04"),
    SeasonContract("Eastgate Pathways Ltd", "AtW-MHSS-C058", "mmir", None, None, 0, 0, "2026-10"),
    SeasonContract("Westfield Works Ltd", "AtW-MHSS-C063", "mmir", "2026-05", "2026-10", 5, 4, "2026-05"),
    SeasonContract("Southmoor Employment Ltd", "AtW-MHSS-C070", "mmir", "2025-11", "2026-07", 10, 7, "2025-11",
                   register_end="2026-07"),
)
KPD_CONTRACTS = (("Northbridge Employment Ltd", "CPA 07"), ("Pennine Pathways CIC", "CPA 21"))
LATE = ("AtW-MHSS-C022", "2026-10", 3)  # contract, month, working days late
REJECTED_THEN_RESUBMITTED = ("AtW-MHSS-C031", "2026-08")  # the resubmission comes 2 working days late
SUPERSEDED = ("AtW-MHSS-C014", "2026-09", 15)  # the first file's KPI within-target figure
RESENT_LATE = ("AtW-MHSS-C047", "2026-10")  # on time, then a copy resent after the deadline: on time
COHORT_2026 = ("AtW-MHSS-C014", "2026-09", 4, 4)  # contract, from month, due, within


def register_csv() -> str:
    lines = ["provider,contract,returns,region,service_start,first_period,service_end"]
    for c in CONTRACTS:
        lines.append(f"{c.provider},{c.contract},{c.returns},england-and-wales,{c.register_start},{c.register_first},"
                     f"{c.register_end}")
    for provider, cpa in KPD_CONTRACTS:
        lines.append(f"{provider},{cpa},kpd,england-and-wales,,2026-27 Q1,")
    return "\n".join(lines) + "\n"


def register() -> Registry:
    return registry_from_text(register_csv(), "season-providers.csv")


def _received(return_id: str, period: str, period_end: dt.date, late_days: int, again: bool) -> dt.datetime:
    """Noon on the day before the deadline (a second file: noon on the deadline day), or ``late_days``
    working days after the deadline."""
    due = deadline_for(return_id, period, period_end).due.date()
    day = add_working_days(due, late_days) if late_days else due - dt.timedelta(days=0 if again else 1)
    return dt.datetime.combine(day, dt.time(12, 0))


def _report(return_id: str, provider: str, contract: str, period: str, values: list, *, late_days: int = 0,
            tag: str = "", errors: bool = False) -> FileReport:
    label, _start, end = parse_period_label_for(return_id, period)
    received = _received(return_id, label, end, late_days, bool(tag))
    due = deadline_for(return_id, label, end)
    name = f"{contract.replace(' ', '-')}-{label.replace(' ', '-')}{tag}.xlsx"
    findings = []
    if errors:
        findings.append(make("required-missing", sheet="KPIs", cell="C5", field_label="KPI 3 cases due"))
    if late_days:  # as the validator reports a file received after its deadline
        findings.append(make("submitted-late", detail=f"late by {late_days} working days",
                             deadline=f"{due.due:%Y-%m-%d %H:%M}", found=f"late by {late_days} working days"))
    return FileReport(path=name, name=name, sha256=hashlib.sha256(name.encode()).hexdigest(), return_id=return_id,
                      version="season", provider=provider, contract=contract, period=label, period_end=end,
                      findings=findings, submitted=received, submitted_source="email", deadline=due.due,
                      late_working_days=late_days, values=values)


def parse_period_label_for(return_id: str, period: str) -> tuple[str, dt.date, dt.date]:
    from ..spec.return_spec import get_spec

    return get_spec(return_id).period.parse(period)


def mmir_values(c: SeasonContract, month: str, *, within: int | None = None) -> list[tuple]:
    within = c.within if within is None else within
    rows: list[tuple] = []
    for kpi in KPIS:
        cohorts = [("2024", c.due, within)]
        if c.contract == COHORT_2026[0] and month_index(month) >= month_index(COHORT_2026[1]):
            cohorts.append(("2026", COHORT_2026[2], COHORT_2026[3]))
        for cohort, due, inside in cohorts:
            if (kpi == NO_CASES_KPI and month == NO_CASES_MONTH) or (kpi == 5 and cohort == "2026"):
                due = inside = 0
            key = f"kpi{kpi}_{cohort}"
            rows += [("kpi_cases_due", key, month, float(due)), ("kpi_within_target", key, month, float(inside)),
                     ("kpi_outside_target", key, month, float(due - inside))]
    if month_index(month) % 3 == 2:  # June, September, December, March: the quarter-end Social Value fields
        second = 50.0 if c.contract == "AtW-MHSS-C031" else 100.0
        rows += [("sv_measure1_pct", "", month, 100.0), ("sv_measure2_pct", "", month, second),
                 ("sv_companies_over_500", "", month, 0.0), ("sv_companies", "", month, 3.0)]
    return rows


def kpd_values(quarter: str, cpa: str) -> list[tuple]:
    months = [month_at(month_index("2026-04") + i) for i in range(3 * int(quarter[-1]))]
    rows: list[tuple] = []
    for n, m in enumerate(months):
        base = 40.0 + n + (10.0 if cpa == "CPA 21" else 0.0)
        rows += [("staff_senior", "", m, 4.0), ("staff_front_line", "", m, base), ("staff_central", "", m, 10.0),
                 ("staff_employer", "", m, 6.0), ("caseload_active", "", m, 3000.0 + 10 * n),
                 ("caseload_in_work", "", m, 800.0), ("caseload_not_engaged", "", m, 400.0),
                 ("job_entries", "", m, 2.0 * base), ("days_lost", "", m, 20.0)]
    return rows


def reports() -> list[FileReport]:
    """Every file of the season, in the order received."""
    out: list[FileReport] = []
    for c in CONTRACTS:
        if c.first is None:
            continue
        for month in MONTHS[MONTHS.index(c.first) if c.first in MONTHS else 0: MONTHS.index(c.last) + 1]:
            late = LATE[2] if (c.contract, month) == LATE[:2] else 0
            if (c.contract, month) == REJECTED_THEN_RESUBMITTED:
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month), errors=True))
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month), late_days=2,
                                   tag="-resubmitted"))
            elif (c.contract, month) == RESENT_LATE:
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month)))
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month), late_days=1,
                                   tag="-resent"))
            elif (c.contract, month) == SUPERSEDED[:2]:
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month, within=SUPERSEDED[2])))
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month), tag="-corrected"))
            else:
                out.append(_report("mmir", c.provider, c.contract, month, mmir_values(c, month), late_days=late))
    for provider, cpa in KPD_CONTRACTS:
        for quarter in ("2026-27 Q1", "2026-27 Q2"):
            out.append(_report("kpd", provider, cpa, quarter, kpd_values(quarter, cpa)))
    return sorted(out, key=lambda r: (r.submitted, r.name))


def build_ledger(path: str | Path) -> Path:
    """Write the season into a new ledger at ``path`` (replacing one there) and return its path."""
    from ..intake.ledger import Ledger

    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Ledger(path) as ledger:
        for report in reports():
            ledger.add_report(report, source_path=f"season/{report.name}")
    return path
