"""Hand-built ledger rows for the pack tests (no ledger needed), and a check that they hang together.

Acme Health Ltd: MMIR contract ATW-MHSS-LOT1 from the Service Start Date (2024-08) to 2026-10, the
2026-02 return missing and 2025-05 rejected; cohort 2026 from 2026-09; Social Value each quarter
end; and a KPD contract (CPA-07). A hostile provider name and contract; a KPD-only provider.
"""

from __future__ import annotations

import calendar
import datetime as dt
from types import SimpleNamespace as Row

from kpd_returns.packs.kpis import month_at, month_index

PERIOD = "2026-10"
AS_OF = dt.date(2026, 11, 20)
ACME, LOT1, CPA = "Acme Health Ltd", "ATW-MHSS-LOT1", "CPA-07"
HOSTILE, HOSTILE_CONTRACT = "<script>alert(1)</script> & Co", '=HYPERLINK("http://evil.example","x")'
NORTH, CPA2 = "Northern Works", "CPA-12"
MISSING, REJECTED = "2026-02", "2025-05"


def months(first: str, last: str) -> list[str]:
    return [month_at(i) for i in range(month_index(first), month_index(last) + 1)]


def _month_end(month: str) -> dt.date:
    y, m = int(month[:4]), int(month[5:])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _received(month: str, day: int = 2) -> dt.datetime:
    y, m = divmod(month_index(month) + 1, 12)
    return dt.datetime(y, m + 1, day, 10, 30)


def _kpi_values(provider: str, contract: str, month: str, pct_of: dict) -> list[Row]:
    rows = []
    for (kpi, cohort), (due, within) in pct_of.items():
        for field, v in (("kpi_cases_due", due), ("kpi_within_target", within), ("kpi_outside_target", due - within)):
            rows.append(Row(provider=provider, contract=contract, period=month, field=field,
                            key=f"kpi{kpi}_{cohort}", month=month, value=float(v)))
    return rows


def acme_counts(month: str) -> dict:
    i = month_index(month) - month_index("2024-08")
    out = {(1, "2024"): (40, 40 if i % 5 else 39), (2, "2024"): (40, 38 + i % 3),
           (3, "2024"): (30, 26 + i % 4), (4, "2024"): (20, 18 + i % 3), (5, "2024"): (10, 9 + i % 2)}
    if month >= "2026-09":
        out |= {(1, "2026"): (12, 12), (2, "2026"): (12, 11), (3, "2026"): (8, 8), (4, "2026"): (0, 0),
                (5, "2026"): (0, 0)}
    return out


def sv_values(provider: str, contract: str, month: str, m1=100.0, m2=100.0, over=1.0, m3=50.0) -> list[Row]:
    vals = {"sv_companies": 4.0, "sv_measure1_pct": m1, "sv_measure2_pct": m2, "sv_companies_over_500": over,
            "sv_measure3_pct": m3}
    return [Row(provider=provider, contract=contract, period=month, field=f, key="", month=month, value=v)
            for f, v in vals.items() if v is not None]


def ret(provider, contract, return_id, period, verdict="valid", late=0, name=None, received=None) -> Row:
    end = period if return_id == "mmir" else {"2026-27 Q1": "2026-06", "2026-27 Q2": "2026-09"}[period]
    return Row(file_id=abs(hash((provider, contract, period))) % 10**6, return_id=return_id, provider=provider,
               contract=contract, period=period, period_end=_month_end(end), verdict=verdict,
               received_at=received or _received(end, 10 if late else 2), submitted_source="workbook", late_working_days=late,
               deadline=dt.datetime.fromisoformat(f"{_received(end, 5):%Y-%m-%d} 23:59"),
               name=name or f"{return_id}-{contract[:12]}-{period}.xlsx", sender="mi@example.org")


def kpd_values(provider: str, contract: str, period: str, month_list: list[str], scale: float = 1.0) -> list[Row]:
    rows = []
    for j, m in enumerate(month_list):
        figures = {"staff_senior": 3, "staff_front_line": 20 + j, "staff_central": 5.5, "staff_employer": 4,
                   "days_lost": 12 + j, "caseload_active": 800 + 10 * j, "caseload_in_work": 150,
                   "caseload_not_engaged": 90, "job_entries": 60 + 2 * j, "seg1_participants": 500,
                   "seg1_job_entries": 40, "seg2_participants": 390 + 10 * j, "seg2_job_entries": 20 + 2 * j}
        rows += [Row(provider=provider, contract=contract, period=period, field=f, key=m[5:], month=m, value=v * scale)
                 for f, v in figures.items()]
    rows += [Row(provider=provider, contract=contract, period=period, field="seg_title", key=k, month="", value=t)
             for k, t in (("seg1", "Job ready"), ("seg2", "=HYPERLINK(\"http://x\") <b>needs support</b>"))]
    return rows


def build_rows(missing: str | None = MISSING) -> dict:
    returns, mmir, kpd, register = [], [], [], []
    for m in months("2024-08", PERIOD):
        if m == missing:
            register.append(Row(provider=ACME, contract=LOT1, return_id="mmir", period=m, status="missing",
                                received_at=None, deadline=None, late_working_days=None, resubmissions=0, files=0))
            continue
        verdict = "invalid" if m == REJECTED else "valid-with-warnings" if m == "2026-09" else "valid"
        late = 2 if m == "2026-10" else 0
        returns.append(ret(ACME, LOT1, "mmir", m, verdict, late))
        register.append(Row(provider=ACME, contract=LOT1, return_id="mmir", period=m,
                            status="rejected only" if verdict == "invalid" else "late" if late else "on time",
                            received_at=_received(m, 10 if late else 2), deadline=None, late_working_days=late,
                            resubmissions=0,
                            files=1))
        if verdict != "invalid":
            mmir += _kpi_values(ACME, LOT1, m, acme_counts(m))
            if m in ("2026-06", "2026-09", "2025-12", "2026-03", "2025-09"):
                mmir += sv_values(ACME, LOT1, m)
    for m in months("2026-07", PERIOD):
        returns.append(ret(HOSTILE, HOSTILE_CONTRACT, "mmir", m, name="<img src=x onerror=alert(2)>.xlsx"))
        mmir += _kpi_values(HOSTILE, HOSTILE_CONTRACT, m, {(3, "2024"): (10, 8), (1, "2024"): (5, 5)})
    mmir += sv_values(HOSTILE, HOSTILE_CONTRACT, "2026-09", 50.0, 100.0, 0.0, None)
    for q, ms in (("2026-27 Q1", months("2026-04", "2026-06")), ("2026-27 Q2", months("2026-04", "2026-09"))):
        returns.append(ret(ACME, CPA, "kpd", q))
        returns.append(ret(NORTH, CPA2, "kpd", q, late=3 if q.endswith("Q2") else 0))
        kpd += kpd_values(ACME, CPA, q, ms)
        kpd += kpd_values(NORTH, CPA2, q, ms, scale=2.0)
    register.append(Row(provider=NORTH, contract=CPA2, return_id="kpd", period="2026-27 Q2", status="late",
                        received_at=_received("2026-09"), deadline=None, late_working_days=3, resubmissions=1,
                        files=2))
    findings = {LOT1: {"total-mismatch": 2, "implausible-value": 1}, CPA2: {"kpd-restatement": 1}}
    return {"returns": returns, "values": {"mmir": mmir, "kpd": kpd}, "register": register, "findings": findings}


def test_fixture_rows_are_consistent():
    rows = build_rows()
    assert not [r for r in rows["returns"] if r.period == MISSING and r.contract == LOT1]
    assert {r.provider for r in rows["returns"]} == {ACME, HOSTILE, NORTH}
    assert all(isinstance(r.value, float) for r in rows["values"]["mmir"])


def ledger_from_rows(path, missing: str | None = MISSING):
    """A real SQLite ledger holding the hand-built returns (through Ledger.add_report, no validation)."""
    import hashlib

    from kpd_returns.spec import findings as F
    from kpd_returns.intake.ledger import Ledger
    from kpd_returns.spec.model import FileReport

    rows = build_rows(missing)
    values: dict[tuple, list] = {}
    for v in rows["values"]["mmir"] + rows["values"]["kpd"]:
        values.setdefault((v.provider, v.contract, v.period), []).append((v.field, v.key, v.month, v.value))
    with Ledger(path) as ledger:
        for r in rows["returns"]:
            found = [F.make("required-missing", sheet="KPIs", cell="B5", field="kpi_cases_due")] \
                if r.verdict == "invalid" else []
            if r.verdict == "valid-with-warnings":
                found.append(F.make("implausible-value", sheet="KPIs", cell="C7", found=99, expected=15))
            report = FileReport(path=r.name, name=r.name, sha256=hashlib.sha256(repr(r).encode()).hexdigest(),
                                return_id=r.return_id, version="1.0", provider=r.provider, contract=r.contract,
                                period=r.period, period_end=r.period_end, findings=found, submitted=r.received_at,
                                submitted_source="email", deadline=r.deadline, late_working_days=r.late_working_days,
                                values=[] if r.verdict == "invalid" else values.get((r.provider, r.contract, r.period), []))
            ledger.add_report(report, source_path=r.name)
    return path
