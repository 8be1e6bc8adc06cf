"""The reporting period: months within it are required, months after it stay empty (KPD intro 4),
and quarterly Social Value in the last month of a quarter (AtW 7.16)."""

from __future__ import annotations

from test_checks_helpers import check, codes, kpd_cells, mmir_cells, only

from kpd_returns.spec.basis import HEADER
from kpd_returns.spec.return_spec import get_spec


def test_a_figure_in_a_month_after_the_quarter_kpd_4():
    """KPD intro 4: a Q1 return reports April to June; July must be left empty."""
    report = check("kpd", kpd_cells("Q1", job_entries__jul=40))
    f = only(report, "month-after-period")
    assert (f.sheet, f.cell, f.severity) == ("Staffing", "F15", "error")
    assert f.guidance == get_spec("kpd").rules[0].basis.cite()  # its basis (issue 20): arithmetic
    assert "July 2026" in f.message and "2026-27 Q1" in f.message
    assert not any(v[0] == "job_entries" and v[1] == "jul" for v in report.values)


def test_months_after_the_period_on_optional_sheets_kpd_4():
    report = check("kpd", kpd_cells("Q1", seg_title__seg1="Engagement", seg_type__seg1="Out of work",
                                    seg_key__seg1="First eight weeks", seg1_participants__jun=3500,
                                    seg1_participants__oct=3000))
    assert codes(report) == [("month-after-period", "Segmentation", "I5", "error")]


def test_formulas_in_months_after_the_period_are_fine():
    """The template's total formulas fill all twelve months: they are not figures."""
    assert codes(check("kpd", kpd_cells("Q1"))) == []


def test_a_month_within_the_quarter_left_empty_kpd_4():
    report = check("kpd", kpd_cells("Q2", staff_front_line__aug=None))
    f = only(report, "month-missing")
    # Its basis (issue 20): "The following categories of Contract Delivery data are required in respect of each
    # calendar month:" (KPD 3).
    assert (f.sheet, f.cell, f.severity, f.guidance) == ("Staffing", "G6", "error", "KPD 3")
    assert "August 2026" in f.message
    # The month's ratio and total are not recomputed from a missing input.
    assert not any(v[0] in ("fte_total", "job_entries_per_front_line_fte") and v[1] == "aug" for v in report.values)


def test_social_value_due_in_a_quarter_end_month_atw_7_16():
    """A query (issue 20): AtW 7.17-7.18 say DWP reports Social Value quarterly; no paragraph puts it
    on that month's MMIR."""
    report = check("mmir", mmir_cells("2026-09"))
    assert codes(report) == [("social-value-missing-query", "Social value", c, "warning")
                             for c in ("B5", "B6", "B7", "B8")]
    assert only(check("mmir", mmir_cells("2026-09", sv_measure1_pct__=100, sv_measure2_pct__=100,
                                          sv_companies_over_500__=0)), "social-value-missing-query").cell == "B5"
    assert "September 2026" in report.findings[0].message
    assert report.findings[0].guidance == "plausibility check"


def test_measure_3_only_when_a_company_has_over_500_employees_atw_7_16():
    full = dict(sv_companies__=3, sv_measure1_pct__=100, sv_measure2_pct__=66.7)
    assert codes(check("mmir", mmir_cells("2026-09", sv_companies_over_500__=0, **full))) == []
    report = check("mmir", mmir_cells("2026-09", sv_companies_over_500__=1, **full))
    assert codes(report) == [("social-value-missing-query", "Social value", "B9", "warning")]
    assert codes(check("mmir", mmir_cells("2026-09", sv_companies_over_500__=1, sv_measure3_pct__=100, **full))) == []


def test_social_value_not_due_outside_a_quarter_end_atw_7_16():
    assert codes(check("mmir", mmir_cells("2026-10"))) == []


def test_a_contract_year_that_is_not_two_consecutive_years_kpd_16():
    report = check("kpd", kpd_cells(contract_year__="2026-28"))
    f = only(report, "period-invalid")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == ("Header", "B7", "error", "2026-28",
                                                                             "2026-27", HEADER.cite())
    assert report.period is None and [c[0] for c in codes(report)] == ["period-invalid", "check-not-run"]
    assert {(c[1], c[2]) for c in codes(report)} == {("Header", "B7")}


def test_a_contract_year_in_the_wrong_form_is_one_finding_kpd_16():
    assert [c[0] for c in codes(check("kpd", kpd_cells(contract_year__="2026/27")))] == [
        "pattern-mismatch", "check-not-run"]


def test_without_the_quarter_the_checks_that_need_it_say_they_did_not_run():
    """A filled July on a return with no Quarter cannot be judged: one line says so, and the
    other checks still run (a negative FTE is still found)."""
    report = check("kpd", kpd_cells("Q1", quarter__=None, staff_central__jul=5, staff_senior__apr=-3))
    not_run = [f for f in report.findings if f.code == "check-not-run"]
    assert [(f.sheet, f.cell, f.severity) for f in not_run] == [("Header", "B8", "warning")]
    assert not_run[0].message == (
        "Could not check months after the period, that each month of the period is filled in or the segments "
        "against the caseload month by month: Quarter in Header!B8 is missing or not valid. Once it is right, "
        "these checks run.")
    assert {"required-missing", "below-minimum"} <= {f.code for f in report.findings}


def test_a_return_with_its_period_says_nothing_about_unrun_checks():
    assert "check-not-run" not in [f.code for f in check("kpd", kpd_cells("Q1")).findings]
