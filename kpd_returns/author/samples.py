"""Realistic completed returns, and one file for each typical mistake, for trying the tool.

Each return starts as the real template (``write_template``) and is filled the way a
provider's figures land in it: by defined name into the input cells, formulas left
alone. The figures are invented but internally consistent, and generated from
seeded random numbers with fixed timestamps, so the same call gives byte-identical
files (the committed files under samples/ are checked against this module).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import openpyxl

from ..spec import layout
from ..spec.return_spec import META_SHEET, ReturnSpec, load_all
from .sample_calendar import (minus_working_days, next_month, nth_working_day, nth_working_day_after,
                              working_days_after, working_days_in)
from .sample_engine import period_bounds, profile_values
from .sample_files import Values, completed_workbook, fill_workbook, named_cells, save_reproducibly
from .sample_world import Provider, world
from .template import META_KEYS

__all__ = ["fill_workbook", "named_cells", "save_reproducibly", "sample_workbook", "write_samples"]


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Split a whole number by rough weights; the parts add up to ``total`` exactly."""
    jitter = [w * rng.uniform(0.85, 1.15) for w in weights]
    parts = [int(total * w / sum(jitter)) for w in jitter]
    parts[-1] = total - sum(parts[:-1])
    return parts


# -- the invented providers (validators/samples.toml) --------------------------------------
PROVIDERS = world().providers
CONTACT = world().contact


SEGMENTS = [
    ("Engagement and assessment",
     "Participants in their first eight weeks: induction, diagnostic assessment and action planning."),
    ("Skills and confidence", "Participants working on skills, confidence and health barriers with their adviser."),
    ("Job search and brokerage", "Job-ready participants matched to vacancies by the employer engagement team."),
    ("Intensive support", "Participants with complex barriers receiving specialist support from our supply chain."),
]
IN_WORK_SEGMENT = ("In-work support",
                   "Participants in work, before and after a Job Outcome claim, receiving in-work support.")
RATINGS = [
    ("Green: job ready", "Ready to start work within a month; in active job search."),
    ("Amber: moving closer", "Expected to be ready for work within one to three months."),
    ("Red: significant barriers", "Health, housing or skills barriers to resolve before job search."),
]


# -- KPD ---------------------------------------------------------------------------------
def _kpd_months(provider: Provider, cpa: str, months: list[str]) -> dict[str, dict[str, Any]]:
    """Six months (April to September) of figures for one CPA; quarters slice this, so a
    Q2 return restates its April to June figures exactly as the Q1 return gave them."""
    rng = random.Random(f"kpd|{provider.code}|{cpa}")
    front, active = rng.uniform(38, 75), rng.randint(2600, 4800)
    in_work, not_engaged = rng.randint(500, 1400), rng.randint(300, 900)
    out: dict[str, dict[str, Any]] = {}
    for key in months[:6]:
        front *= rng.uniform(0.97, 1.04)
        active = int(active * rng.uniform(0.97, 1.04))
        in_work = int(in_work * rng.uniform(0.98, 1.06))
        not_engaged = int(not_engaged * rng.uniform(0.95, 1.05))
        m = {"staff_senior": round(rng.uniform(3, 6.5), 2), "staff_front_line": round(front, 2),
             "staff_central": round(rng.uniform(8, 16), 2), "staff_employer": round(rng.uniform(5, 12), 2),
             "caseload_active": active, "caseload_in_work": in_work, "caseload_not_engaged": not_engaged,
             "job_entries": round(front * rng.uniform(1.8, 3.6))}
        m["days_lost"] = round(front * rng.uniform(0.5, 1.1), 2)
        out_of_work = active + not_engaged
        seg_people = _split(rng, out_of_work, [3, 4, 2, 1][: provider.traits['segments']])
        seg_jobs = _split(rng, m["job_entries"], [1, 2, 6, 1][: provider.traits['segments']])
        m["segments"] = list(zip(seg_people, seg_jobs)) + [(in_work, None)]
        rag_people = _split(rng, out_of_work, [2, 3, 3])
        m["ratings"] = list(zip(rag_people, _split(rng, m["job_entries"], [7, 2.5, 0.5])))
        out[key] = m
    return out


def kpd_values(spec: ReturnSpec, provider: Provider, cpa: str, period: str) -> Values:
    """The input values of a completed KPD return (header provider/CPA/period are pre-filled)."""
    months = layout.column_keys(spec, spec.sheet("Staffing"))
    series = _kpd_months(provider, cpa, months)
    _start, end = period_bounds(spec, period)
    in_period = months[: (end.month - spec.period.year_start_month) % 12 + 1]
    submitted = nth_working_day_after(end, 2)
    v: Values = {"date_submitted": {"": submitted}, "contact": {"": CONTACT}}
    staffing = ["staff_senior", "staff_front_line", "staff_central", "staff_employer", "days_lost",
                "caseload_active", "caseload_in_work", "caseload_not_engaged", "job_entries"]
    for fid in staffing:
        v[fid] = {k: series[k][fid] for k in in_period}
    segs = SEGMENTS[: provider.traits['segments']] + [IN_WORK_SEGMENT]
    for n, (title, key) in enumerate(segs, start=1):
        row = f"seg{n}"
        v.setdefault("seg_title", {})[row] = title
        v.setdefault("seg_type", {})[row] = "In work" if (title, key) == IN_WORK_SEGMENT else "Out of work"
        v.setdefault("seg_key", {})[row] = key
        v[f"seg{n}_participants"] = {k: series[k]["segments"][n - 1][0] for k in in_period}
        if (title, key) != IN_WORK_SEGMENT:  # in-work segments record participants only (KPD 22)
            v[f"seg{n}_job_entries"] = {k: series[k]["segments"][n - 1][1] for k in in_period}
    if provider.traits['uses_rag']:
        for n, (title, key) in enumerate(RATINGS, start=1):
            v.setdefault("rag_title", {})[f"rag{n}"] = title
            v.setdefault("rag_key", {})[f"rag{n}"] = key
            v[f"rag{n}_participants"] = {k: series[k]["ratings"][n - 1][0] for k in in_period}
            v[f"rag{n}_job_entries"] = {k: series[k]["ratings"][n - 1][1] for k in in_period}
    return v



# -- MMIR --------------------------------------------------------------------------------
REPORT_TYPES = ("Support Plan", "6 Month Report", "Exit Report")
REWORK_REASONS = (
    "Workplace adjustments agreed with the customer were not recorded.",
    "Support Plan goals did not match the needs identified at assessment.",
    "Sustainment Period decision not explained.",
    "Customer evaluation section incomplete.",
    "Dates of support sessions missing from the report.",
)
LATE_REASONS = (
    "Practitioner absence; case reallocated within the team.",
    "Waiting for the customer to confirm the content of the report.",
    "Customer rescheduled the review appointment twice.",
    "Quality check found gaps that needed a further session with the customer.",
    "Clinical supervisor review delayed by team capacity.",
)
WITHDRAWAL_REASONS = (
    "Customer's mental health improved and no further support was wanted.",
    "Customer left their job.",
    "Customer chose support offered by their employer instead.",
    "Customer could not commit time to the sessions.",
    "No reason given.",
)
COMPLAINTS = (
    "Delay in arranging the first appointment.",
    "Customer unhappy with the number of sessions offered.",
    "Appointment cancelled at short notice by the provider.",
    "Customer felt the Support Plan did not reflect their needs.",
)
KPI_REASONS = (
    "Customer unavailable within the target time; contact made at the first opportunity.",
    "Higher than forecast referral volumes in the month; additional practitioners now trained.",
    "Awaiting information from the customer before the report could be completed.",
)
STAFF_ROLES = (
    ("Mental health practitioner", "Psychological support, action planning, workplace adjustments"),
    ("Senior mental health practitioner", "Complex case management, coaching, supervision of practitioners"),
    ("Vocational rehabilitation specialist", "Return-to-work planning, employer liaison, job retention"),
    ("Team leader", "Caseload management, quality assurance, performance coaching"),
    ("Clinical supervisor", "Clinical supervision, risk assessment, safeguarding"),
)
EXPERIENCE = (
    "Over five years in NHS Talking Therapies services.", "Three years in employment support.",
    "Ten years in occupational health.", "Two years as a mental health support worker.",
    "Six years in workplace wellbeing and counselling.",
)
CLEARANCES = ("BPSS", "BPSS; enhanced DBS", "BPSS; basic DBS")


def _staff(rng: random.Random, provider: Provider) -> tuple[list[dict], list[dict]]:
    staff = []
    for i in range(1, rng.randint(12, 20) + 1):
        role, skills = rng.choices(STAFF_ROLES, weights=[6, 2, 2, 1, 1])[0]
        staff.append({"staff_ref": f"STF-{i:03d}", "staff_role": role, "staff_skills": skills,
                      "staff_experience": rng.choice(EXPERIENCE), "staff_clearances": rng.choice(CLEARANCES[1:])})
    personnel, n = [], 0
    for org in provider.traits['subcontractors']:
        for _ in range(rng.randint(1, 3)):
            n += 1
            role, skills = rng.choice(STAFF_ROLES[:3])
            personnel.append({"personnel_ref": f"SUP-{n:03d}", "personnel_organisation": org, "personnel_role": role,
                              "personnel_skills": skills, "personnel_experience": rng.choice(EXPERIENCE),
                              "personnel_clearances": rng.choice(CLEARANCES)})
    return staff, personnel


def _kpi_due(month: int, v: dict[str, int], rng: random.Random) -> dict[str, int]:
    """Cases due by KPI and cohort: the cohort referred from September 2026 only
    reaches KPIs 1-2 in September and KPI 3 from October (AtW 7.16)."""
    r, sp = v["referrals"], v["support_plans_approved"]
    due = {"kpi4_2024": v["six_month_reports_approved"], "kpi4_2026": 0,
           "kpi5_2024": v["exit_reports_approved"], "kpi5_2026": 0}
    if month < 9:
        due |= {"kpi1_2024": r, "kpi1_2026": 0, "kpi2_2024": r - rng.randint(0, 8), "kpi2_2026": 0,
                "kpi3_2024": sp, "kpi3_2026": 0}
    else:
        late = rng.randint(2, 8) if month == 9 else 0
        due |= {"kpi1_2024": late, "kpi1_2026": r - late, "kpi2_2024": late + rng.randint(0, 20) * (month == 9),
                "kpi2_2026": r - late - rng.randint(0, 8), "kpi3_2024": sp if month == 9 else sp - sp // 4,
                "kpi3_2026": 0 if month == 9 else sp // 4}
    return due


def _mmir_series(provider: Provider, months: list[str]) -> dict[str, dict[str, Any]]:
    """April to October figures for one provider, generated in order so year-to-date
    and programme-to-date columns are running sums that continue month to month."""
    rng = random.Random(f"mmir|{provider.code}")
    base = rng.randint(2600, 4800)  # referrals before April 2026 (the programme began in 2024)
    routes_ptd, heard_ptd = _split(rng, base, [7, 3]), _split(rng, base, [1, 2, 1.5, 3, 2.5])
    staff, personnel = _staff(rng, provider)
    case_no, complaint_no = rng.randint(10000, 20000), 0
    ytd: dict[str, int] = {}
    series = {}
    for ym in months:
        year, month = int(ym[:4]), int(ym[5:])
        wd = working_days_in(year, month)
        r = rng.randint(90, 240)
        v = {"referrals": r, "support_plans_approved": rng.randint(int(r * 0.6), int(r * 0.9)),
             "six_month_reports_approved": rng.randint(30, 90), "exit_reports_approved": rng.randint(20, 70),
             "reworks": rng.randint(2, 10)}
        v |= {"reworks_outside_1wd": rng.randint(0, 2), "support_plans_outside_1_month": rng.randint(0, 3),
              "six_month_reports_outside_10wd": rng.randint(0, 2), "exit_reports_outside_10wd": rng.randint(0, 2),
              "withdrawals_before_support_plan": rng.randint(0, 4),
              "withdrawals_before_six_month_report": rng.randint(0, 3),
              "withdrawals_before_exit_report": rng.randint(0, 2), "sustainment_required": rng.randint(4, 20),
              "complaints": rng.randint(0, 3)}
        for k, x in v.items():
            ytd[k] = ytd.get(k, 0) if month != 4 else 0
            ytd[k] += x
        routes, heard = _split(rng, r, [7, 3]), _split(rng, r, [1, 2, 1.5, 3, 2.5])
        routes_ptd = [a + b for a, b in zip(routes_ptd, routes)]
        heard_ptd = [a + b for a, b in zip(heard_ptd, heard)]

        def case() -> str:
            nonlocal case_no
            case_no += rng.randint(1, 40)
            return f"{provider.code}-{case_no:05d}"

        lists: dict[str, list[dict]] = {}
        lists["rework"] = [{"rework_case_ref": case(), "rework_report_type": rng.choice(REPORT_TYPES),
                            "rework_reason": rng.choice(REWORK_REASONS)} for _ in range(v["reworks"])]
        rows = []
        for _ in range(v["reworks_outside_1wd"]):
            back = rng.choice(wd[5:])
            rows.append({"late_rework_case_ref": case(), "late_rework_date_returned": back,
                         # 3 or more England working days: late in every region, whose extra
                         # bank holidays (Scotland's 15 June 2026) could otherwise make it on time.
                         "late_rework_date_requested": minus_working_days(back, rng.randint(3, 5)),
                         "late_rework_reason": rng.choice(LATE_REASONS)})
        lists["late_rework"] = rows
        for prefix, count, start_field, days in (
            ("late_sp", "support_plans_outside_1_month", "late_sp_referral_date", None),
            ("late_6m", "six_month_reports_outside_10wd", "late_6m_period_end", 12),  # late in every region
            ("late_exit", "exit_reports_outside_10wd", "late_exit_period_end", 12),
        ):
            rows = []
            for _ in range(v[count]):
                back = rng.choice(wd)
                start = back - dt.timedelta(days=rng.randint(33, 50)) if days is None else \
                    minus_working_days(back, days + rng.randint(0, 6))
                rows.append({f"{prefix}_case_ref": case(), start_field: start, f"{prefix}_date_returned": back,
                             f"{prefix}_reason": rng.choice(LATE_REASONS)})
            lists[prefix] = rows
        stages = (["Before Support Plan"] * v["withdrawals_before_support_plan"]
                  + ["Before 6 Month Report"] * v["withdrawals_before_six_month_report"]
                  + ["Before Exit Report"] * v["withdrawals_before_exit_report"])
        lists["withdrawal"] = [{"withdrawal_case_ref": case(), "withdrawal_date": rng.choice(wd), "withdrawal_stage": s,
                                "withdrawal_reason": rng.choice(WITHDRAWAL_REASONS)} for s in stages]
        rows = []
        for _ in range(v["complaints"]):
            complaint_no += 1
            rows.append({"complaint_ref": f"{provider.code}-CMP-{complaint_no:03d}",
                         "complaint_date_received": rng.choice(wd),
                         "complaint_summary": rng.choice(COMPLAINTS), "complaint_working_days": rng.randint(1, 12)})
        lists["complaint"] = rows
        if month == 7:  # a new starter
            role, skills = STAFF_ROLES[0]
            staff = staff + [{"staff_ref": f"STF-{len(staff) + 1:03d}", "staff_role": role, "staff_skills": skills,
                              "staff_experience": EXPERIENCE[3], "staff_clearances": CLEARANCES[1]}]
        if month == 9:  # a leaver
            staff = staff[:2] + staff[3:]
        lists["staff"], lists["personnel"] = staff, personnel

        kpis = {}
        for key, due in _kpi_due(month, v, rng).items():
            outside = min(due, int(due * rng.uniform(0, 0.06)))
            kpis[key] = {"kpi_cases_due": due, "kpi_within_target": due - outside, "kpi_outside_target": outside}
            if outside:
                kpis[key]["kpi_outside_reasons"] = rng.choice(KPI_REASONS)
        social = None
        if month % 3 == 0:  # Social Value is due in the last month of each quarter (AtW 7.16)
            n = len(provider.traits['subcontractors']) + 1
            social = {"sv_companies": n, "sv_measure1_pct": rng.choice([100.0, round((n - 1) / n * 100, 1)]),
                      "sv_measure2_pct": rng.choice([100.0, round((n - 1) / n * 100, 1)]),
                      "sv_companies_over_500": provider.traits['large_companies']}
            if provider.traits['large_companies']:
                social["sv_measure3_pct"] = 100.0
        series[ym] = {"in_month": v, "year_to_date": dict(ytd), "routes": (routes, routes_ptd),
                      "heard": (heard, heard_ptd), "lists": lists, "kpis": kpis, "social": social}
    return series


ROUTE_FIELDS = ("route_authority_candidate", "route_supplier_generated")
HEARD_FIELDS = ("heard_supplier_marketing", "heard_gp", "heard_occupational_health", "heard_employer", "heard_other")
LIST_SHEETS = {"rework": "Rework reasons", "late_rework": "Late reworks", "late_sp": "Late Support Plans",
               "late_6m": "Late 6 Month Reports", "late_exit": "Late Exit Reports", "withdrawal": "Withdrawals",
               "complaint": "Complaints", "staff": "Staff", "personnel": "Supplier personnel"}


def mmir_values(spec: ReturnSpec, provider: Provider, month: str) -> Values:
    """The input values of a completed MMIR (header provider/contract/month are pre-filled)."""
    m = _mmir_series(provider, list(spec.samples["periods"]))[month]
    year, mon = int(month[:4]), int(month[5:])
    v: Values = {"date_submitted": {"": nth_working_day(*next_month(year, mon), 2)}, "contact": {"": CONTACT}}
    for fid, x in m["in_month"].items():
        v[fid] = {"in_month": x, "year_to_date": m["year_to_date"][fid]}
    for fields, (in_month, ptd) in ((ROUTE_FIELDS, m["routes"]), (HEARD_FIELDS, m["heard"])):
        for fid, a, b in zip(fields, in_month, ptd):
            v[fid] = {"in_month": a, "programme_to_date": b}
    for key, row in m["kpis"].items():
        for fid, x in row.items():
            v.setdefault(fid, {})[key] = x
    for name, rows in m["lists"].items():
        keys = [r.key for r in spec.sheet(LIST_SHEETS[name]).row_keys]
        for key, row in zip(keys, rows, strict=False):
            for fid, x in row.items():
                v.setdefault(fid, {})[key] = x
    for fid, x in (m["social"] or {}).items():
        v[fid] = {"": x}
    return v


# -- writing the sample set ------------------------------------------------------------------
def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


# Profiles whose figures are still drawn by Python (the KPD and MMIR generators above); a profile
# without a "generator" key is drawn by sample_engine from its own [samples] tables.
BUILT_IN_GENERATORS: dict[str, Callable[[ReturnSpec, Provider, str, str], Values]] = {
    "work-programme-kpd": kpd_values,
    "atw-mhss-mmir": lambda spec, who, _contract, period: mmir_values(spec, who, period),
}


def sample_specs() -> list[ReturnSpec]:
    """The return types with a sample profile, by return id."""
    return [spec for _rid, spec in sorted(load_all().items()) if spec.samples]


def sample_values(spec: ReturnSpec, who: Provider, contract: str, period: str) -> Values:
    generator = spec.samples.get("generator")
    if generator is None:
        return profile_values(spec, who, contract, period)
    if generator not in BUILT_IN_GENERATORS:
        raise ValueError(f"{Path(spec.source_path).name}: key 'samples.generator': no generator "
                         f"'{generator}' (known: {', '.join(sorted(BUILT_IN_GENERATORS))}).")
    values = BUILT_IN_GENERATORS[generator](spec, who, contract, period)
    return values


def sample_workbook(spec: ReturnSpec, who: Provider, contract: str, period: str,
                    edit: Callable[[Values], None] | None = None, **override) -> openpyxl.Workbook:
    """A completed sample return; ``edit`` changes the values first, ``override`` the header pre-fill."""
    values = sample_values(spec, who, contract, period)
    if CONTACT and spec.header.contact:
        values.setdefault(spec.header.contact, {"": CONTACT})
    if edit:
        edit(values)
    prefill = {"provider": who.name, "contract": contract, "period": period} | override
    return completed_workbook(spec, values, **prefill)


def sample_name(spec: ReturnSpec, who: Provider, contract: str, period: str) -> str:
    """The file name the profile's ``file_name`` pattern gives (provider, contract, period as slugs)."""
    return str(spec.samples["file_name"]).format(provider=_slug(who.name), contract=_slug(contract),
                                                 period=_slug(period))


def clean_returns(specs: list[ReturnSpec] | None = None) -> dict[str, Callable[[], openpyxl.Workbook]]:
    """File name -> a function building that clean return (built lazily, one at a time)."""
    out: dict[str, Callable[[], openpyxl.Workbook]] = {}
    specs = sample_specs() if specs is None else specs
    for p in PROVIDERS:
        for spec in specs:
            for contract in p.contracts_for(spec.id):
                for period in spec.samples["periods"]:
                    out[sample_name(spec, p, contract, period)] = \
                        lambda s=spec, p=p, c=contract, t=period: sample_workbook(s, p, c, t)
    return out


def _provider(name: str) -> Provider:
    return next(p for p in PROVIDERS if p.name == name)


def committed_returns() -> tuple[str, ...]:
    """The clean returns committed under samples/returns/ (the profiles' ``committed`` lists)."""
    return tuple(sample_name(spec, _provider(c["provider"]), c["contract"], c["period"])
                 for spec in sample_specs() for c in spec.samples.get("committed", []))


COMMITTED_RETURNS = committed_returns()


@dataclass(frozen=True)
class Mistake:
    name: str  # file name under mistakes/
    base: str  # the clean return it is made from, under returns/
    what: str  # what is wrong, in words
    build: Callable[[], openpyxl.Workbook]
    expected: list[dict[str, Any]]  # the findings the validator should give


def _expect(spec: ReturnSpec, code: str, field: str | None, key: str = "", **extra: Any) -> dict[str, Any]:
    from ..spec.findings import CATALOGUE

    out: dict[str, Any] = {"code": code, "severity": CATALOGUE[code][0], "sheet": None, "cell": None, "ref": None}
    if field:
        slot = layout.slot_index(spec)[(field, key)]
        out |= {"sheet": slot.sheet, "cell": slot.cell, "ref": slot.ref, "field": field}
    return out | extra


def mistakes(specs: dict[str, ReturnSpec]) -> list[Mistake]:
    """One typical mistake per file; everything else is identical to the clean base return."""
    kpd, mmir = specs["kpd"], specs["mmir"]  # noqa: the mistakes are not data yet (see the report of issue 11)
    nbe, cvw, hbf, msh = PROVIDERS
    out = []

    # A number typed over the FTE Total formula for May (KPD 9).
    q2 = kpd_values(kpd, nbe, "CPA 07", "2026-27 Q2")
    staff = ("staff_senior", "staff_front_line", "staff_central", "staff_employer")
    true_total = round(sum(q2[f]["may"] for f in staff), 2)
    typed = round(true_total + 10, 2)

    def typed_over():
        wb = sample_workbook(kpd, nbe, "CPA 07", "2026-27 Q2")
        slot = layout.slot_index(kpd)[("fte_total", "may")]
        wb[slot.sheet][slot.cell].value = typed
        return wb
    out.append(Mistake("mistake-typed-over-total.xlsx", sample_name(kpd, nbe, "CPA 07", "2026-27 Q2"),
                       f"KPD, {nbe.name}, CPA 07, 2026-27 Q2: the FTE Total for May (a formula) was overwritten "
                       f"with the typed number {typed}; its inputs add up to {true_total}.", typed_over,
                       [_expect(kpd, "total-mismatch", "fte_total", "may", found=typed, expected=true_total)]))

    # A minus sign typed into a count.
    neg = mmir_values(mmir, cvw, "2026-08")["sustainment_required"]["in_month"]
    out.append(Mistake("mistake-negative-count.xlsx", sample_name(mmir, cvw, cvw.contracts_for(mmir.id)[0], "2026-08"),
                       f"MMIR, {cvw.name}, August 2026: Customers who required the Sustainment Period in month "
                       f"entered as -{neg} instead of {neg}.",
                       lambda: sample_workbook(mmir, cvw, cvw.contracts_for(mmir.id)[0], "2026-08",
                                             lambda v: v["sustainment_required"].update(in_month=-neg)),
                       [_expect(mmir, "below-minimum", "sustainment_required", "in_month", found=-neg, expected=0)]))

    # Units typed into an FTE cell.
    def text_in_number():
        wb = sample_workbook(kpd, cvw, "CPA 12", "2026-27 Q1")
        named_cells(wb, kpd, "staff_central")["jun"].value = "12 FTE"
        return wb
    out.append(Mistake("mistake-text-in-number.xlsx", sample_name(kpd, cvw, "CPA 12", "2026-27 Q1"),
                       f"KPD, {cvw.name}, CPA 12, 2026-27 Q1: '12 FTE' typed in Centrally-managed functions (FTE) "
                       "for June. The FTE Total for June cannot be recomputed from an invalid input, so the total "
                       "checks skip June (no total-mismatch).", text_in_number,
                       [_expect(kpd, "not-a-number", "staff_central", "jun", found="12 FTE")]))

    # The provider name left empty (neither pre-filled nor typed).
    out.append(Mistake("mistake-missing-header.xlsx", sample_name(mmir, hbf, hbf.contracts_for(mmir.id)[0], "2026-09"),
                       f"MMIR, {hbf.name}, September 2026: the Provider cell is empty.",
                       lambda: sample_workbook(mmir, hbf, hbf.contracts_for(mmir.id)[0], "2026-09", provider=None),
                       [_expect(mmir, "required-missing", "provider")]))

    # A National Insurance number in free text (MI must be anonymised, AtW 7.25).
    leak = "Support Plan for QQ123456C did not record the agreed workplace adjustments."
    out.append(Mistake("mistake-personal-data.xlsx", sample_name(mmir, msh, msh.contracts_for(mmir.id)[0], "2026-07"),
                       f"MMIR, {msh.name}, July 2026: the first rework reason contains a National Insurance "
                       "number (QQ123456C).",
                       lambda: sample_workbook(mmir, msh, msh.contracts_for(mmir.id)[0], "2026-07", lambda v: v["rework_reason"].update(row1=leak)),
                       [_expect(mmir, "personal-data", "rework_reason", "row1", detail="a National Insurance number")]))

    # Figures copied into a superseded template.
    def wrong_version():
        wb = sample_workbook(kpd, hbf, "CPA 03", "2026-27 Q2")
        wb[META_SHEET].cell(row=META_KEYS.index("template_version") + 1, column=2).value = "0.9"
        return wb
    out.append(Mistake("mistake-wrong-version.xlsx", sample_name(kpd, hbf, "CPA 03", "2026-27 Q2"),
                       f"KPD, {hbf.name}, CPA 03, 2026-27 Q2, in template version 0.9 (superseded; current "
                       f"{kpd.version}).", wrong_version,
                       [_expect(kpd, "template-superseded", None, found="0.9", expected=kpd.version)]))

    # Sent well after the Reporting Date.
    deadline, sent = nth_working_day(2026, 11, 3), dt.date(2026, 11, 20)
    late_by = working_days_after(deadline, sent)
    out.append(Mistake("mistake-late.xlsx", sample_name(mmir, nbe, nbe.contracts_for(mmir.id)[0], "2026-10"),
                       f"MMIR, {nbe.name}, October 2026, date submitted {sent:%d/%m/%Y}: the deadline is the 3rd "
                       f"working day of November 2026 ({deadline:%d/%m/%Y}, England and Wales), so it is "
                       f"{late_by} working days late.",
                       lambda: sample_workbook(mmir, nbe, nbe.contracts_for(mmir.id)[0], "2026-10", lambda v: v["date_submitted"].update({"": sent})),
                       [_expect(mmir, "submitted-late", None, found=sent.isoformat(), expected=deadline.isoformat(),
                                late_working_days=late_by,
                                source=layout.slot_index(mmir)[("date_submitted", "")].ref)]))
    return out


def _readme(clean: list[str], wrong: list[Mistake]) -> str:
    lines = [
        "# Sample returns", "",
        "Generated by `kpd-returns samples DIR` (kpd_returns/author/samples.py); do not edit by hand. The same command",
        "gives byte-identical files, and tests/test_samples_files.py checks the files committed here still match.",
        "All providers, contracts and figures are invented.", "",
        "## Clean returns (`returns/`)", "",
        "Each clean return is internally consistent and should give **no findings** (verdict `valid`, exit code 0).",
        "Committed here: " + ", ".join(f"`returns/{n}`" for n in COMMITTED_RETURNS) + ".",
        "`kpd-returns samples DIR` also writes the rest of the set:", "",
    ]
    lines += [f"- `{n}`" for n in sorted(clean)]
    lines += [
        "", "What holds in every clean return:", "",
        "- KPD: totals are left as formulas; out-of-work segment participants add up exactly to the actively engaged "
        "plus not currently engaged caseload; job entries never exceed participants; the in-work segment has no job "
        "entries; months after the quarter are empty; Q2 returns restate April to June exactly as Q1 gave them. "
        + "".join(f"{p.name} does not use RAG ratings (those optional sheets are empty). " for p in PROVIDERS
                  if not p.traits['uses_rag']).rstrip(),
        "- MMIR: year to date is the running sum of in-month figures from April; programme to date continues month to "
        "month; KPI cases within plus outside target equal cases due, with reasons wherever any are outside; each "
        "detail sheet lists exactly as many rows as its count; referral routes and how-heard breakdowns add up to "
        "referrals in month; Social Value is filled in June and September only"
        + "".join(f" ({p.name} has no supply-chain company over 500 employees, so measure 3 is empty)"
                  for p in PROVIDERS if not p.traits['large_companies']) + ".",
        "- Date submitted is the 2nd working day of the month after the period (England and Wales).", "",
        "## Mistakes (`mistakes/`)", "",
        "Each file has exactly one mistake; every other cell is the same as in its clean base return.", "",
        "| File | Made from | What is wrong | Expected finding | Severity | Where |", "|---|---|---|---|---|---|",
    ]
    for m in wrong:
        for e in m.expected:
            where = e["ref"] or "file level (no cell)"
            lines.append(f"| `{m.name}` | `returns/{m.base}` | {m.what} | `{e['code']}` | {e['severity']} | {where} |")
    lines += ["", "The same expectations, machine-readable, are in `expected-findings.json`.", ""]
    return "\n".join(lines)


def register_csv() -> str:
    """The providers register for the sample returns: every contract they come from, owing
    returns from the first period each profile holds."""
    lines = [
        "# Providers register for the sample returns (written by kpd-returns samples DIR): who owes which returns.",
        "# One row per provider and contract; returns: the return types it owes, separated by ';'.",
        "# region: england-and-wales (default), scotland or northern-ireland (its bank holidays count for",
        "# deadlines). service_start (YYYY-MM) and first_period (the return's period, or rid=...;rid=...) say",
        "# from when returns are owed; year_start_month moves the contract year (default April) for",
        "# year-to-date checks.",
        "provider,contract,returns,region,service_start,first_period,year_start_month",
    ]
    for p in PROVIDERS:
        for spec in sample_specs():
            first = spec.samples["periods"][0]
            start = first if spec.samples.get("register_service_start") else ""
            for contract in p.contracts_for(spec.id):
                lines.append(f"{p.name},{contract},{spec.id},england-and-wales,{start},{first},")
    return "\n".join(lines) + "\n"


def sample_count() -> int:
    """How many workbooks write_samples writes (for a progress bar)."""
    return len(clean_returns()) + len(mistakes(load_all()))


def write_samples(out_dir: str | Path, on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """Write the clean returns, the mistake files, README.md, expected-findings.json and the
    providers register (providers.csv); return their paths. ``on_file`` is told of each workbook written."""
    out_dir = Path(out_dir)
    specs = load_all()
    written: list[Path] = []

    def save(path: Path, wb: openpyxl.Workbook) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(save_reproducibly(wb))
        written.append(path)
        if on_file is not None:
            on_file(path)

    clean = clean_returns()
    for name, build in clean.items():
        save(out_dir / "returns" / name, build())
    wrong = mistakes(specs)
    for m in wrong:
        save(out_dir / "mistakes" / m.name, m.build())
    register = out_dir / "providers.csv"
    register.write_text(register_csv(), encoding="utf-8")
    written.append(register)
    readme = out_dir / "README.md"
    readme.write_text(_readme(list(clean), wrong), encoding="utf-8")
    expected_json = out_dir / "expected-findings.json"
    data = {"clean": {f"returns/{n}": [] for n in sorted(clean)},
            "mistakes": {f"mistakes/{m.name}": {"base": f"returns/{m.base}", "what": m.what, "findings": m.expected}
                         for m in wrong}}
    expected_json.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return written + [readme, expected_json]


def cli_samples(out_dir: Path, *, progress: bool | None = None, progress_stream=None) -> int:
    """The `kpd-returns samples` command: 0 on success, 2 with a one-line message otherwise."""
    from ..render.progress import Progress

    try:
        with Progress("Writing sample returns", sample_count(), enabled=progress, stream=progress_stream) as bar:
            paths = write_samples(out_dir, on_file=lambda _path: bar.advance())
    except OSError as exc:
        print(f"Cannot write the samples to {out_dir}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    n = sum(p.suffix == ".xlsx" for p in paths)
    print(f"Wrote {n} sample returns to {out_dir} (clean ones in returns/, one mistake each in mistakes/; "
          "see README.md) and their providers register, providers.csv.")
    return 0
