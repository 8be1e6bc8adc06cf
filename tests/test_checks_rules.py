"""The rule kinds of the specs' [[rules]], one test (or more) per kind, named for its guidance."""

from __future__ import annotations

import pytest
from test_checks_helpers import D, check, codes, kpd_cells, mmir_cells, only

from kpd_returns.spec.return_spec import RuleSpec, SpecError, get_spec
from kpd_returns.checks.validate import validate_file

SEGMENT_KEY = dict(seg_title__seg1="Engagement", seg_type__seg1="Out of work", seg_key__seg1="First weeks",
                   seg_title__seg2="Job search", seg_type__seg2="Out of work", seg_key__seg2="Job ready",
                   seg_title__seg3="In-work support", seg_type__seg3="In work", seg_key__seg3="In work")


def segments(per_month: dict[str, tuple], **changes):
    """KPD Q1 with three segments; per_month: key -> (seg1 people, seg1 jobs, seg2 people, seg2 jobs, seg3 people)."""
    cells = dict(SEGMENT_KEY)
    for month, (p1, j1, p2, j2, p3) in per_month.items():
        cells |= {f"seg1_participants__{month}": p1, f"seg1_job_entries__{month}": j1,
                  f"seg2_participants__{month}": p2, f"seg2_job_entries__{month}": j2,
                  f"seg3_participants__{month}": p3}
    return kpd_cells("Q1", **(cells | changes))


# Out-of-work caseload each month: actively engaged 3000 + not currently engaged 500 = 3500.
BALANCED = {"apr": (2000, 50, 1500, 70, 800), "may": (2000, 50, 1500, 70, 800), "jun": (2000, 50, 1500, 70, 800)}


# -- KPD caseload management ----------------------------------------------------------------
def test_segments_that_add_up_are_clean_kpd_18():
    assert codes(check("kpd", segments(BALANCED))) == []


def test_segments_within_the_tolerance_kpd_18():
    """5% of 3500 is 175: 3600 is within it."""
    assert codes(check("kpd", segments(BALANCED | {"may": (2100, 50, 1500, 70, 800)}))) == []


def test_segments_outside_the_tolerance_are_a_query_not_an_error():
    """The guidance sets no reconciliation (KPD 17-21): a sum off by more than the spec's
    tolerance is the project's plausibility query, a warning that says so."""
    report = check("kpd", segments(BALANCED | {"may": (2400, 50, 1500, 70, 800)}))
    f = only(report, "segments-not-reconciled")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == (
        "Segmentation", "D5", "warning", "3900", "3500", "plausibility check")
    assert "May 2026" in f.message and "5%" in f.message
    assert "plausibility check" in f.message and "not a rule of the guidance" in f.message


def test_segments_covering_85_percent_of_the_caseload_validate_with_a_query():
    """A provider segmenting only part of its out-of-work caseload (3500 here) is not rejected."""
    report = check("kpd", segments(BALANCED | {"may": (1700, 50, 1200, 70, 800)}))
    assert [f.severity for f in report.findings] == ["warning"]
    assert report.errors == []


def test_the_reconciliation_tolerance_lives_in_the_spec():
    rule = next(r for r in get_spec("kpd").rules if r.kind == "segments_reconcile")
    assert rule.query and rule.params["tolerance"] == 0.05


def _without_rag_ratings(cells):
    return {k: v for k, v in cells.items() if not k[0].startswith("rag")}


def test_neither_segmentation_nor_rag_ratings_is_an_error_kpd_20():
    """KPD 19-20: complete the segmentation or the RAG rating tables, or both."""
    report = check("kpd", _without_rag_ratings(kpd_cells("Q1")))
    f = only(report, "caseload-management-missing")
    assert (f.sheet, f.cell, f.severity, f.guidance) == ("Segment key", "B5", "error", "KPD 20")
    assert "neither the Segmentation sheet nor the RAG ratings sheet has any figures" in f.message


def test_segmentation_alone_or_rag_ratings_alone_is_enough_kpd_20():
    assert "caseload-management-missing" not in codes(check("kpd", _without_rag_ratings(segments(BALANCED))))
    assert "caseload-management-missing" not in codes(check("kpd", kpd_cells("Q1")))


def test_in_work_segment_job_entries_kpd_22():
    report = check("kpd", segments(BALANCED, seg3_job_entries__apr=12))
    f = only(report, "in-work-job-entries")
    assert (f.sheet, f.cell, f.severity, f.guidance) == ("Segmentation", "C10", "error", "KPD 22")
    assert "segment 3 (In-work support)" in f.message


def test_a_segment_with_figures_but_no_title_kpd_20():
    report = check("kpd", segments(BALANCED, seg_title__seg2=None))
    f = only(report, "keyed-row-incomplete")
    assert (f.sheet, f.cell, f.severity, f.guidance) == ("Segment key", "B6", "error", "KPD 20")
    assert f.message.startswith("Segment 2 has figures on the Segmentation sheet.")


def test_a_titled_segment_without_figures_kpd_20():
    report = check("kpd", segments(BALANCED, seg_title__seg4="Intensive support"))
    assert codes(report) == [("keyed-row-unused", "Segment key", "B8", "warning")]


def test_rag_job_entries_above_participants_kpd_21():
    """KPD 21: the number of customers from each RAG group who achieved a job entry."""
    cells = kpd_cells("Q1", rag_title__rag1="Green", rag_key__rag1="Job ready",
                      **{f"rag1_participants__{m}": 300 for m in ("apr", "may", "jun")},
                      **{f"rag1_job_entries__{m}": 40 for m in ("apr", "may", "jun")})
    cells[("rag1_job_entries", "may")] = 301
    # Issue 20: KPD 21 does not say it (participants is a month-end count), so a query.
    f = only(check("kpd", cells), "job-entries-above-participants-query")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == (
        "RAG ratings", "D6", "warning", "301", "300", "plausibility check")


def test_implausible_job_entries_per_front_line_fte_is_a_warning_kpd_15():
    """Above the rule's max (15 in kpd.toml): 800 job entries / 50.25 FTE = 15.92."""
    report = check("kpd", kpd_cells(job_entries__may=800))
    assert codes(report) == [("implausible-value", "Staffing", "D16", "warning")]
    f = report.findings[0]
    assert (f.found, f.expected, f.guidance) == ("15.92", "15", "plausibility check")
    assert f.message.startswith("Query (a plausibility check by kpd-returns, not a rule of the guidance)")


def test_the_plausible_maximum_is_configurable():
    spec = get_spec("kpd")
    rules = [r if r.kind != "plausible_range" else r.model_copy(update={"params": {**r.params, "max": 20.0}})
             for r in spec.rules]
    custom = spec.model_copy(update={"rules": rules})
    from test_checks_helpers import build
    report = validate_file(build("kpd", kpd_cells(job_entries__may=800)), name="x.xlsx", specs={"kpd": custom},
                           as_of=D(2026, 7, 1))
    assert codes(report) == []


# -- MMIR (AtW 7.25) ---------------------------------------------------------------------------
def test_year_to_date_below_in_month_atw_7_25():
    f = only(check("mmir", mmir_cells(exit_reports_approved__year_to_date=1)), "ytd-below-in-month")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == ("Volumes", "D8", "error", "1", "2",
                                                                             "arithmetic: a year-to-date figure includes the month, so it cannot be less")
    assert "Year to date" in f.message


def test_programme_to_date_below_in_month_atw_7_25():
    f = only(check("mmir", mmir_cells(heard_gp__programme_to_date=2)), "ytd-below-in-month")
    assert (f.sheet, f.cell) == ("Referral routes", "D8")


def test_kpi_parts_not_equal_to_cases_due_atw_7_25():
    cells = mmir_cells(kpi_cases_due__kpi3_2024=10, kpi_within_target__kpi3_2024=8, kpi_outside_target__kpi3_2024=1,
                       kpi_outside_reasons__kpi3_2024="Customer unavailable")
    f = only(check("mmir", cells), "parts-not-equal-total")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == ("KPIs", "B9", "error", "9", "10",
                                                                             "arithmetic: the cases within target plus the cases outside target are the cases due")


def test_cases_outside_target_need_reasons_atw_7_25():
    cells = mmir_cells(kpi_cases_due__kpi1_2024=10, kpi_within_target__kpi1_2024=8, kpi_outside_target__kpi1_2024=2)
    f = only(check("mmir", cells), "reasons-missing")
    assert (f.sheet, f.cell, f.severity, f.found, f.guidance) == ("KPIs", "E5", "error", "2", "AtW 7.25")


def test_detail_rows_must_match_the_count_atw_7_25():
    """Specific details of each rework: 2 reworks in the month but one row listed."""
    cells = mmir_cells(reworks__in_month=2, reworks__year_to_date=6, rework_case_ref__row1="C-1",
                       rework_report_type__row1="Support Plan", rework_reason__row1="Goals missing")
    f = only(check("mmir", cells), "detail-rows-mismatch")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == ("Volumes", "C9", "error", "1", "2",
                                                                             "AtW 7.25")
    assert "Rework reasons" in f.message


def test_withdrawal_rows_are_counted_by_stage_atw_7_25():
    cells = mmir_cells(withdrawals_before_support_plan__in_month=1, withdrawals_before_support_plan__year_to_date=3,
                       withdrawal_case_ref__row1="C-1", withdrawal_date__row1=D(2026, 10, 7),
                       withdrawal_stage__row1="Before Exit Report", withdrawal_reason__row1="Moved away")
    report = check("mmir", cells)
    assert sorted((f.code, f.cell, f.found, f.expected) for f in report.findings) == [
        ("detail-rows-mismatch", "C14", "0", "1"), ("detail-rows-mismatch", "C16", "1", "0")]


def test_a_started_list_row_must_be_complete_atw_7_25():
    cells = mmir_cells(staff_ref__row2="STF-002", staff_role__row2="Team leader", staff_skills__row2="Coaching")
    report = check("mmir", cells)
    assert codes(report) == [("list-row-incomplete", "Staff", "E6", "error"), ("list-row-incomplete", "Staff", "F6", "error")]
    assert "row 2" in report.findings[0].message


def test_an_open_complaint_may_leave_working_days_empty_atw_7_25():
    cells = mmir_cells(complaints__in_month=1, complaints__year_to_date=2, complaint_ref__row1="CMP-1",
                       complaint_date_received__row1=D(2026, 10, 5), complaint_summary__row1="Late appointment")
    assert codes(check("mmir", cells)) == []


def test_referral_breakdown_must_add_up_atw_7_25():
    f = only(check("mmir", mmir_cells(route_supplier_generated__in_month=4)), "breakdown-mismatch")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == ("Volumes", "C5", "error", "11", "10",
                                                                             "arithmetic: referrals by route are a breakdown of the referrals received, so they add up to them")
    assert f.message.startswith("The figures in 'Referral routes'!C5 to C6 add up to 11")


def test_a_report_returned_before_its_clock_started_atw_7_25():
    cells = mmir_cells(reworks_outside_1wd__in_month=1, reworks_outside_1wd__year_to_date=1,
                       late_rework_case_ref__row1="C-9", late_rework_date_requested__row1=D(2026, 10, 12),
                       late_rework_date_returned__row1=D(2026, 10, 9), late_rework_reason__row1="Absence")
    f = only(check("mmir", cells), "dates-out-of-order")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == (
        "Late reworks", "D5", "error", "2026-10-09", "2026-10-12", "arithmetic: a report or rework cannot be returned before its clock started")
    assert "9 October 2026" in f.message and "12 October 2026" in f.message


# -- the rule registry ----------------------------------------------------------------------------
def test_an_unknown_rule_kind_is_a_spec_error():
    spec = get_spec("mmir")
    bad = spec.model_copy(update={"rules": [*spec.rules, RuleSpec(kind="made_up", guidance="x", description="x")]})
    with pytest.raises(SpecError, match="made_up"):
        validate_file(b"", name="x.xlsx", specs={"mmir": bad})


def test_a_rule_without_its_parameter_is_a_spec_error():
    spec = get_spec("mmir")
    bad = spec.model_copy(update={"rules": [*spec.rules, RuleSpec(kind="column_not_below", guidance="x",
                                                                  description="x", params={"sheet": "Volumes"})]})
    with pytest.raises(SpecError, match="'greater'"):
        validate_file(b"", name="x.xlsx", specs={"mmir": bad})


def test_a_rule_naming_a_field_the_spec_does_not_have_is_a_spec_error():
    spec = get_spec("mmir")
    bad = spec.model_copy(update={"rules": [*spec.rules, RuleSpec(
        kind="text_required_when_positive", guidance="x", description="x",
        params={"sheet": "KPIs", "count": "kpi_outside_target", "text": "kpi_reasons_typo"})]})
    with pytest.raises(SpecError, match="kpi_reasons_typo"):
        validate_file(b"", name="x.xlsx", specs={"mmir": bad})


def test_the_packaged_specs_name_only_what_exists():
    from kpd_returns.checks.registry import check_spec_rules
    for rid in ("kpd", "mmir"):
        check_spec_rules(get_spec(rid))


# -- referral cohorts (AtW 7.16) ------------------------------------------------------------
def test_cases_of_a_cohort_before_its_first_referrals_are_errors_atw_7_16():
    """10 KPI 1 cases "referred from Sep 2026" on a May 2026 return cannot be: an error at each count."""
    report = check("mmir", mmir_cells("2026-05", kpi_cases_due__kpi1_2026=10, kpi_within_target__kpi1_2026=10),
                   as_of=D(2026, 6, 1))
    hits = [f for f in report.findings if f.code == "cohort-before-start"]
    assert [(f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) for f in hits] == [
        ("KPIs", "B6", "error", "10", "September 2026", "arithmetic: a referral cohort has no cases due before its first referrals"),
        ("KPIs", "C6", "error", "10", "September 2026", "arithmetic: a referral cohort has no cases due before its first referrals")]
    assert "May 2026" in hits[0].message and "referred from Sep 2026" in hits[0].message


def test_cases_of_a_cohort_from_its_first_month_pass_atw_7_16():
    report = check("mmir", mmir_cells("2026-09", kpi_cases_due__kpi1_2026=10, kpi_within_target__kpi1_2026=10),
                   as_of=D(2026, 10, 1))
    assert "cohort-before-start" not in codes(report)


def test_cohort_bounds_live_in_the_spec():
    rule = next(r for r in get_spec("mmir").rules if r.kind == "cohort_not_before_start")
    assert rule.params["cohorts"] == {"2024": {"from": "2024-08", "to": "2026-08"}, "2026": {"from": "2026-09"}}


# -- the KPI clocks, case by case (AtW 7.16, 7.25) --------------------------------------------
def _late_sp(referred, returned):
    return mmir_cells("2026-10", late_sp_case_ref__row1="SP-0001", late_sp_referral_date__row1=referred,
                      late_sp_date_returned__row1=returned, late_sp_reason__row1="Waiting for the GP letter.",
                      support_plans_outside_1_month__in_month=1, support_plans_outside_1_month__year_to_date=1)


def test_a_support_plan_listed_late_that_came_back_8_days_after_referral_atw_7_25():
    report = check("mmir", _late_sp(D(2026, 10, 1), D(2026, 10, 9)), as_of=D(2026, 11, 1))
    # Issue 20: the KPI 3 clock (AtW 7.16) and 7.25's calendar month can disagree: a query.
    f = only(report, "listed-late-on-time-query")
    assert (f.sheet, f.severity, f.found, f.expected, f.guidance) == (
        "Late Support Plans", "warning", "2026-10-09", "1 calendar month", "plausibility check")
    assert f.cell.endswith("5") and "listed as returned late" in f.message


def test_a_support_plan_back_after_a_calendar_month_is_late_indeed():
    report = check("mmir", _late_sp(D(2026, 9, 8), D(2026, 10, 9)), as_of=D(2026, 11, 1))
    assert not [c for c in codes(report) if "listed-late-on-time" in str(c)]


@pytest.mark.parametrize("region, flagged", [("england-and-wales", False), ("scotland", True)])
def test_a_rework_clock_counts_the_contracts_working_days(region, flagged):
    """Requested Friday 12 June 2026, returned Tuesday 16th: 2 working days in England, but 1 in
    Scotland, where Monday 15 June 2026 is a bank holiday (so on time there, wrongly listed)."""
    cells = mmir_cells("2026-06", late_rework_case_ref__row1="RW-0001", late_rework_date_requested__row1=D(2026, 6, 12),
                       late_rework_date_returned__row1=D(2026, 6, 16), late_rework_reason__row1="Staff absence.",
                       reworks_outside_1wd__in_month=1, reworks_outside_1wd__year_to_date=1)
    report = check("mmir", cells, as_of=D(2026, 7, 1), region=region)
    assert ("listed-late-on-time" in [f.code for f in report.findings]) == flagged


def test_a_six_month_report_listed_late_inside_10_working_days():
    cells = mmir_cells("2026-10", late_6m_case_ref__row1="SM-0001", late_6m_period_end__row1=D(2026, 9, 30),
                       late_6m_date_returned__row1=D(2026, 10, 14), late_6m_reason__row1="Customer unwell.",
                       six_month_reports_outside_10wd__in_month=1, six_month_reports_outside_10wd__year_to_date=1)
    f = only(check("mmir", cells, as_of=D(2026, 11, 1)), "listed-late-on-time")
    assert (f.sheet, f.expected) == ("Late 6 Month Reports", "10 working days")
