"""Field checks driven by the spec: value types first (values.parse), then pandera bounds,
whole numbers, decimals, text length and patterns, then required cells."""

from __future__ import annotations

import pytest
from test_checks_helpers import D, cell_of, check, codes, kpd_cells, mmir_cells, only

from kpd_returns.checks.batch import check_batch, prepare
from kpd_returns.checks.fields import pattern_hint
from kpd_returns.spec import basis as B  # each finding is cited to its basis (issue 20)
from kpd_returns.spec.return_spec import get_spec, load_all
from test_checks_helpers import build


def test_clean_returns_have_no_findings():
    """A complete KPD Q1 return (optional segmentation and RAG sheets empty) and a complete MMIR."""
    assert codes(check("kpd", kpd_cells())) == []
    assert codes(check("mmir", mmir_cells())) == []


@pytest.mark.parametrize("text", ["12 FTE", "n/a", "1,5"])
def test_text_in_a_number_cell_is_reported_with_the_text_found_kpd_7(text):
    """KPD 7 (Centrally-managed functions, FTE): text is never coerced to a number."""
    report = check("kpd", kpd_cells(staff_central__jun=text))
    f = only(report, "not-a-number")
    assert (f.sheet, f.cell, f.severity, f.found, f.guidance) == ("Staffing", "E7", "error", text, B.UNREADABLE.cite())
    assert f"'{text}'" in f.message
    assert [c for c in codes(report) if c[0] != "not-a-number"] == []  # June's total is skipped, not mismatched


def test_digits_stored_as_text_are_accepted():
    assert codes(check("kpd", kpd_cells(staff_central__jun="12"))) == []


def test_negative_complaint_working_days_are_below_minimum_atw_7_25():
    """AtW 7.25: time taken to resolve complaints, in working days, cannot be negative."""
    cells = mmir_cells(complaints__in_month=1, complaints__year_to_date=1, complaint_ref__row1="CMP-001",
                       complaint_date_received__row1=D(2026, 10, 5), complaint_summary__row1="Late appointment",
                       complaint_working_days__row1=-3)
    f = only(check("mmir", cells), "below-minimum")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == (
        "Complaints", "E5", "error", "-3", "0", B.COUNT_SIGN.cite())


def test_a_count_must_be_a_whole_number_atw_7_25():
    f = only(check("mmir", mmir_cells(referrals__year_to_date=60.5)), "not-whole-number")
    assert (f.sheet, f.cell, f.found, f.guidance) == ("Volumes", "D5", "60.5", B.COUNT_WHOLE.cite())


@pytest.mark.parametrize("value, queried", [(0.333, False), (0.3333, False), (2.675, False), (2.1, False),
                                            (0.1 + 0.2, False), (0.33333, True)])
def test_fte_to_four_decimal_places_is_accepted_beyond_is_a_query(value, queried):
    """KPD 4-8 set no precision for FTE (a third of a post is 0.333): up to 4 places is fine,
    more is the project's plausibility query, a warning that leaves the figure usable."""
    report = check("kpd", kpd_cells(staff_senior__apr=value))
    assert [f for f in report.findings if f.code == "too-many-decimals"] == []
    hits = [f for f in report.findings if f.code == "many-decimals"]
    if queried:
        assert [(f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) for f in hits] == [
            ("Staffing", "C5", "warning", "0.33333", "4", "plausibility check")]
        assert report.errors == []
    else:
        assert hits == []


def test_days_lost_to_three_places_is_accepted_kpd_10():
    """KPD 10 sets no precision for days lost either."""
    report = check("kpd", kpd_cells(days_lost__apr=2.125))
    assert [f.code for f in report.findings] == []


def test_a_percentage_above_100_atw_7_16():
    cells = mmir_cells("2026-09", sv_companies__=3, sv_measure1_pct__=120, sv_measure2_pct__=100,
                       sv_companies_over_500__=0)
    f = only(check("mmir", cells), "above-maximum")
    assert (f.sheet, f.cell, f.found, f.expected, f.guidance) == ("Social value", "B6", "120", "100", B.PERCENT_RANGE.cite())


def test_text_too_long_reports_its_length():
    f = only(check("kpd", kpd_cells(contact__="x" * 121)), "text-too-long")
    assert (f.sheet, f.cell, f.found, f.expected) == ("Header", "B10", "121", "120")


def test_contract_year_in_the_wrong_form_kpd_16():
    report = check("kpd", kpd_cells(contract_year__="2026/27"))
    f = only(report, "pattern-mismatch")
    assert (f.sheet, f.cell, f.found, f.expected, f.guidance) == ("Header", "B7", "2026/27", "2026-27", B.PATTERN.cite())
    assert report.period is None  # so no month checks run
    assert pattern_hint(get_spec("kpd").field("contract_year")) == "2026-27"


def test_withdrawal_stage_not_in_the_list_cites_atw_7_25():
    """AtW 7.25: withdrawals before the Support Plan, the 6 Month Report or the Exit Report."""
    cells = mmir_cells(withdrawals_before_support_plan__in_month=1, withdrawals_before_support_plan__year_to_date=3,
                       withdrawal_case_ref__row1="C-1", withdrawal_date__row1=D(2026, 10, 7),
                       withdrawal_stage__row1="After the Exit Report", withdrawal_reason__row1="Moved away")
    report = check("mmir", cells)
    f = only(report, "not-in-list")
    assert (f.sheet, f.cell, f.severity, f.found, f.guidance) == ("Withdrawals", "D5", "error", "After the Exit Report",
                                                                  B.LIST_CHOICE.cite())
    assert f.expected == "Before Support Plan, Before 6 Month Report, Before Exit Report"
    # The row does not count as a withdrawal before the Support Plan either.
    assert only(report, "detail-rows-mismatch").cell == "C14"


def test_not_a_date():
    f = only(check("mmir", mmir_cells(reporting_month__="October")), "not-a-date")
    assert (f.sheet, f.cell, f.found) == ("Header", "B7", "October")


def test_required_header_field_missing():
    f = only(check("mmir", mmir_cells(provider__=None)), "required-missing")
    assert (f.sheet, f.cell, f.severity, f.guidance) == ("Header", "B5", "error", B.HEADER.cite())


def test_required_in_both_columns_of_an_mmir_grid():
    report = check("mmir", mmir_cells(sustainment_required__year_to_date=None))
    assert codes(report) == [("required-missing", "Volumes", "D17", "error")]


def test_fixed_list_rows_are_required_atw_7_16():
    report = check("mmir", mmir_cells(kpi_cases_due__kpi3_2026=None))
    f = only(report, "required-missing")
    assert (f.sheet, f.cell, f.guidance) == ("KPIs", "B10", "AtW 7.25")  # the KPIs sheet's basis: "The MMIR should include as a minimum..."


def test_optional_sheets_have_no_required_cells():
    """Segmentation, RAG ratings (KPD) and Social value out of a quarter end (MMIR) may be empty."""
    assert codes(check("kpd", kpd_cells())) == []
    assert [f for f in check("mmir", mmir_cells()).findings if f.sheet == "Social value"] == []


def test_one_pandera_run_maps_failures_back_to_each_file():
    """Two files in one batch: each gets only its own findings, at its own cells."""
    specs = load_all()
    a = prepare(build("kpd", kpd_cells(staff_senior__may=-1)), name="a.xlsx", specs=specs)
    b = prepare(build("kpd", kpd_cells(caseload_active__jun=10.5)), name="b.xlsx", specs=specs)
    c = prepare(build("mmir", mmir_cells(referrals__in_month=-2, referrals__year_to_date=60)), name="c.xlsx", specs=specs)
    ra, rb, rc = check_batch([a, b, c])
    assert [(f.code, f.cell) for f in ra.findings] == [("below-minimum", "D5")]
    assert [(f.code, f.cell) for f in rb.findings] == [("not-whole-number", "E11")]
    assert ("below-minimum", "C5") in [(f.code, f.cell) for f in rc.findings]
    assert cell_of("kpd", "caseload_active", "jun") == ("Staffing", "E11")


@pytest.mark.parametrize("raw", [float("nan"), float("inf")])
def test_a_number_that_is_not_finite_is_not_a_number(raw):
    from kpd_returns.read.values import parse
    assert parse(get_spec("kpd").field("job_entries"), raw).code == "not-a-number"
