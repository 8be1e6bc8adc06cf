"""AtW MHSS Yearly MI (validators/atw_yearly.toml, AtW 7.26-7.27), a return that is a spec file only:
its template from the CLI validates clean once filled; a component left out and personal data (a full
postcode where a district belongs) are errors, everything else a query; the contract year runs from
each contract's Service Start Date in the providers register (not from April); lateness is a warning,
7 calendar days after the year (7.26 says "should"); the year's reports are queried against the
approvals on the same contract's MMIRs once every month of the year has one; consolidate includes it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from cli_return_helpers import fill, findings, ref_of, run, validate, with_changes, write_template

from kpd_returns.intake.registry import registry_from_text
from kpd_returns.intake.submissions import owed_span
from kpd_returns.spec.return_spec import get_spec

D = dt.date
RID = "atw_yearly"
AGES = ["age_under_25", "age_25_34", "age_35_44", "age_45_54", "age_55_64", "age_65_over", "age_not_known"]
REPORTS = [("Support Plan", 3), ("6 Month Report", 2), ("Exit Report", 1)]


def yearly_cells(start: D = D(2025, 8, 1), submitted: D = D(2026, 8, 5), **changes) -> dict:
    """A clean return for the contract year from ``start``: 6 reports, 2 conditions, 2 districts, 2 CPD rows."""
    cells = {("provider", ""): "Test Provider 01 Ltd", ("contract", ""): "ATW-MHSS-001",
             ("contract_year_start", ""): start, ("date_submitted", ""): submitted, ("contact", ""): "MI team"}
    row = 0
    for kind, n in REPORTS:
        for _ in range(n):
            row += 1
            cells |= {("report_ref", f"row{row}"): f"Y-{row:04d}", ("report_type", f"row{row}"): kind,
                      ("disclosure", f"row{row}"): "Disclosed", ("employer_size", f"row{row}"): "Small (10 to 49)",
                      ("employer_sector", f"row{row}"): "Education", ("other_support", f"row{row}"): "None",
                      ("consent", f"row{row}"): "Yes" if row % 2 else "No"}
    for i, (name, n) in enumerate([("Anxiety", 3), ("Depression", 2)], 1):
        cells |= {("condition", f"row{i}"): name, ("condition_customers", f"row{i}"): n}
    for i, (district, n) in enumerate([("LS1", 3), ("HX1", 2)], 1):
        cells |= {("location_district", f"row{i}"): district, ("location_customers", f"row{i}"): n}
    for i, when in enumerate(["Last 12 months", "Next 12 months"], 1):
        cells |= {("cpd_when", f"row{i}"): when, ("cpd_activity", f"row{i}"): "Mental Health First Aid",
                  ("cpd_roles", f"row{i}"): "Practitioners", ("cpd_staff", f"row{i}"): 4,
                  ("cpd_why", f"row{i}"): "Annual refresher.", ("cpd_benefit", f"row{i}"): "Safer practice."}
    for fid, n in (("customers", 5), ("support_plans", 3), ("six_month_reports", 2), ("exit_reports", 1),
                   ("consenting_customers", 2), ("conditions_listed", 2), ("districts_listed", 2),
                   ("cpd_past", 1), ("cpd_planned", 1)):
        cells[(fid, "in_year")] = n
    for fid, n in zip(AGES, [1, 2, 1, 1, 0, 0, 0]):
        cells[(fid, "in_year")] = n
    return with_changes(cells, changes)


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return write_template(RID, tmp_path_factory.mktemp("yearly"))


def test_a_filled_template_validates_clean_for_the_year_from_its_first_month(blank, tmp_path):
    code, report = validate(fill(RID, blank, yearly_cells(), tmp_path / "clean.xlsx"))
    assert (code, findings(report)) == (0, [])
    assert (report["return_type"], report["period"]) == (RID, "2025-26")
    # Twelve months from August 2025 (the Service Start Date's month), not April: due 7 August 2026.
    assert report["deadline"].startswith("2026-08-07")


MISTAKES = [
    # (changes, code, field, key, severity, guidance start)
    # Components left out: errors quoting AtW 7.27.
    ({"cpd_planned__in_year": None}, "required-missing", "cpd_planned", "in_year", "error", "AtW 7.27"),
    ({"age_35_44__in_year": None}, "required-missing", "age_35_44", "in_year", "error", "AtW 7.27"),
    ({"conditions_listed__in_year": 0}, "below-minimum", "conditions_listed", "in_year", "error", "AtW 7.27"),
    ({"exit_reports__in_year": 2}, "detail-rows-mismatch", "exit_reports", "in_year", "error", "AtW 7.27"),
    ({"cpd_when__row2": "Last 12 months"}, "detail-rows-mismatch", "cpd_planned", "in_year", "error", "AtW 7.27"),
    # Personal data: a full postcode where a district belongs.
    ({"location_district__row1": "LS1 4AP"}, "personal-data", "location_district", "row1", "error", "AtW 7.27"),
    # Everything else is a query.
    ({"employer_sector__row2": None}, "list-row-incomplete-query", "employer_sector", "row2", "warning",
     "plausibility check"),
    ({"consenting_customers__in_year": 9}, "sum-above-limit-query", "consenting_customers", "in_year", "warning",
     "plausibility check"),
    ({"contact__": None}, "required-missing-query", "contact", "", "warning", "plausibility check"),
    ({"age_65_over__in_year": 4}, "sum-above-limit-query", "age_under_25", "in_year", "warning",
     "plausibility check"),
    # The lists' totals, computed from their rows, against the customers supported (queries both ways).
    ({"condition_customers__row1": 9}, "sum-above-limit-query", "condition_customers_total", "in_year", "warning",
     "plausibility check"),
    ({"location_customers__row2": 1}, "sum-above-limit-query", "customers", "in_year", "warning",
     "plausibility check"),
]


@pytest.mark.parametrize("changes, code, fid, key, severity, guidance", MISTAKES,
                         ids=[f"{m[1]}-{m[2]}" for m in MISTAKES])
def test_each_mistake_through_the_cli(blank, tmp_path, changes, code, fid, key, severity, guidance):
    code_, report = validate(fill(RID, blank, yearly_cells(**changes), tmp_path / "bad.xlsx"))
    got = [f for f in findings(report) if f[:3] == (code, ref_of(RID, fid, key), severity)]
    assert got and got[0][3].startswith(guidance), findings(report)
    assert code_ == (1 if severity == "error" else 0)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert all(f["guidance"] == "AtW 7.27" for f in errors), errors  # every error quotes 7.27


def test_a_full_postcode_is_refused_and_never_shown(blank, tmp_path):
    path = fill(RID, blank, yearly_cells(location_district__row2="HX1 2AB"), tmp_path / "postcode.xlsx")
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "personal-data" in result.output and "postcode" in result.output
    assert "HX1 2AB" not in result.output  # masked in the report too


def test_lateness_is_a_warning_seven_calendar_days_after_the_year(blank, tmp_path):
    code, report = validate(fill(RID, blank, yearly_cells(submitted=D(2026, 8, 7)), tmp_path / "on-time.xlsx"))
    assert (code, findings(report)) == (0, [])
    code, report = validate(fill(RID, blank, yearly_cells(submitted=D(2026, 8, 10)), tmp_path / "late.xlsx"))
    assert code == 0  # 7.26 says "should": valid with a warning, never refused
    assert [(f["code"], f["severity"], f["guidance"]) for f in report["findings"]] == \
        [("submitted-late", "warning", "AtW 7.26")]


REGISTER = """provider,contract,returns,region,service_start,first_period,year_start_month,profile
Test Provider 01 Ltd,ATW-MHSS-001,atw_yearly,england-and-wales,2024-11,,,
Test Provider 02 Ltd,ATW-MHSS-002,atw_yearly,england-and-wales,2025-04,,,
"""


def test_the_contract_year_starts_at_each_contract_s_service_start(tmp_path):
    register = registry_from_text(REGISTER, "providers.csv")
    spec = get_spec(RID)
    first, second = (owed_span(e, spec) for e in register.entries)
    assert (first.first_period, first.first_month) == ("2024-25", "2024-11")
    assert (second.first_period, second.first_month) == ("2025-26", "2025-04")
    (tmp_path / "providers.csv").write_text(REGISTER, encoding="utf-8")
    result = run("template", RID, "--providers", str(tmp_path / "providers.csv"), "--period", "2025-26",
                 "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    starts = {}
    for path in sorted((tmp_path / "out").glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        (sheet, cell), (csheet, ccell) = (ref_of(RID, f).split("!") for f in ("contract_year_start", "contract"))
        starts[wb[csheet][ccell].value] = wb[sheet][cell].value.date()
    assert starts == {"ATW-MHSS-001": D(2025, 11, 1), "ATW-MHSS-002": D(2025, 4, 1)}


# -- against the year's MMIRs, and consolidated -------------------------------------------------
MMIR_SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"


def _mmir_months(folder: Path, months: list[str], approved: tuple[int, int, int]) -> None:
    """One MMIR per month for ATW-MHSS-001, from the committed sample, with ``approved`` Support Plans,
    6 Month and Exit Reports approved in the month."""
    from test_checks_helpers import named_cell
    for ym in months:
        wb = openpyxl.load_workbook(MMIR_SAMPLE)
        named_cell(wb, "mmir", "contract").value = "ATW-MHSS-001"
        named_cell(wb, "mmir", "provider").value = "Test Provider 01 Ltd"
        named_cell(wb, "mmir", "reporting_month").value = dt.datetime(int(ym[:4]), int(ym[5:]), 1)
        for fid, n in zip(("support_plans_approved", "six_month_reports_approved", "exit_reports_approved"), approved):
            named_cell(wb, "mmir", fid, "in_month").value = n
        for kpi in range(1, 6):  # no case of the cohort referred from September 2026 yet (AtW 7.16)
            for fid in ("kpi_cases_due", "kpi_within_target", "kpi_outside_target", "kpi_outside_reasons"):
                named_cell(wb, "mmir", fid, f"kpi{kpi}_2026").value = 0 if fid != "kpi_outside_reasons" else None
        wb.save(folder / f"mmir-{ym}.xlsx")


def _consolidate(work: Path, inbox: Path) -> dict:
    result = run("consolidate", str(inbox), "--out", str(work / "run"), "--no-packs", "--as-of", "2026-08-20")
    assert result.exit_code in (0, 1), result.output
    return json.loads((work / "run" / "summary.json").read_text(encoding="utf-8"))


def _yearly_findings(work: Path) -> list[tuple[str, str, str]]:
    import sqlite3
    conn = sqlite3.connect(work / "run" / "ledger.sqlite")
    return [tuple(r) for r in conn.execute(
        "SELECT f.code, f.severity, f.message FROM findings f JOIN files x ON x.id = f.file_id "
        "WHERE x.return_id = ? AND f.origin = 'cross-check'", (RID,))]


def test_reports_of_the_year_are_queried_against_the_year_s_mmirs(blank, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(RID, blank, yearly_cells(), inbox / "yearly.xlsx")  # 3 Support Plans in the year
    months = [f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(8, 13)] + [(2026, m) for m in range(1, 8)]]
    _mmir_months(inbox, months[:-1], (0, 0, 0))  # July 2026 missing: the year is not compared
    _consolidate(tmp_path, inbox)
    assert _yearly_findings(tmp_path) == []
    # July's MMIR arrives after the yearly MI: the yearly MI is looked at again. 1 Support Plan approved
    # in the year against 3 listed is queried; the 6 Month (2) and Exit Reports (1) agree.
    _mmir_months(inbox, months[-1:], (1, 2, 1))
    _consolidate(tmp_path, inbox)
    [(code, severity, message)] = _yearly_findings(tmp_path)
    assert (code, severity) == ("months-sum-mismatch", "warning")
    assert message.startswith("Query (a plausibility check")
    assert "is 3, but the MMIR returns' Support Plans approved by DWP for August 2025 to July 2026 add up to 1" \
        in message


def test_consolidate_includes_the_yearly_mi(blank, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill(RID, blank, yearly_cells(), inbox / "yearly.xlsx")
    _consolidate(tmp_path, inbox)
    wb = openpyxl.load_workbook(tmp_path / "run" / "consolidated.xlsx", read_only=True)
    short = get_spec(RID).short_title
    assert f"{short} data" in wb.sheetnames and "Yearly MI customers" in wb.sheetnames
    # Its figures are on its data sheet. (Its key-measure sheets stay "(none)" on this code: a yearly
    # figure has no month yet; issue 21 item 5 gives every figure its period.)
    rows = [[str(c) for c in r] for r in wb[f"{short} data"].iter_rows(values_only=True)]
    assert any("ATW-MHSS-001" in r and "customers" in r and "5" in "".join(r) for r in rows), rows[:5]
