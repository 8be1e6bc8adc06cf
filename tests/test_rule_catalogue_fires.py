"""The catalogue cannot drift (issue 13): every check in the rule catalogue has a test that makes
it fire. Each code either has a mutation here, of a clean sample return, that must draw exactly
that code (nothing else new), or names the test elsewhere that makes it fire (which must exist and
name the code). A new check with neither fails here, as one without a catalogue entry or a
paragraph fails in test_rule_catalogue."""
from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from test_checks_helpers import check, kpd_cells, mmir_cells

from kpd_returns.author import rule_catalogue as rc
from kpd_returns.checks.validate import validate_file
from kpd_returns.spec.findings import CATALOGUE
from kpd_returns.spec.return_spec import META_SHEET, load_all

TESTS = Path(__file__).resolve().parent
SPECS = load_all()
NO_RAG = {"rag_title__rag1": None, "rag_key__rag1": None,
          **{f"rag1_{f}__{m}": None for f in ("participants", "job_entries") for m in ("apr", "may", "jun")}}


def _version(v: str):
    def edit(wb):
        for row in wb[META_SHEET].iter_rows(min_col=1, max_col=2):
            if row[0].value == "template_version":
                row[1].value = v
    return edit


# code -> (return, cells, edit): a mutation of the clean sample (kpd_cells("Q1") or mmir_cells()).
MUTATIONS = {
    "required-missing": ("kpd", kpd_cells("Q1", provider__=None), None),
    "not-a-number": ("kpd", kpd_cells("Q1", staff_central__apr="12 FTE"), None),
    "below-minimum": ("kpd", kpd_cells("Q1", days_lost__apr=-1), None),
    "many-decimals": ("kpd", kpd_cells("Q1", days_lost__apr=12.12345), None),
    "month-after-period": ("kpd", kpd_cells("Q1", staff_central__jul=5), None),
    "month-missing": ("kpd", kpd_cells("Q1", days_lost__may=None), None),
    "keyed-row-unused": ("kpd", kpd_cells("Q1", rag_title__rag2="Group two", rag_key__rag2="Everyone else"), None),
    "keyed-row-incomplete": ("kpd", kpd_cells("Q1", rag2_participants__apr=5), None),
    "caseload-management-missing": ("kpd", kpd_cells("Q1", **NO_RAG), None),
    "job-entries-above-participants-query": ("kpd", kpd_cells("Q1", rag1_job_entries__apr=5000), None),
    "required-missing-query": ("kpd", kpd_cells("Q1", contact__=None), None),
    "implausible-value": ("kpd", kpd_cells("Q1", job_entries__apr=1000), None),
    "not-a-date": ("kpd", kpd_cells("Q1", date_submitted__="last Tuesday"), None),
    "date-out-of-range": ("kpd", kpd_cells("Q1", date_submitted__="31/12/9999"), None),
    "template-unknown-version": ("kpd", kpd_cells("Q1"), _version("7.7")),
    "template-superseded": ("kpd", kpd_cells("Q1"), _version("0.9")),
    "ytd-below-in-month": ("mmir", mmir_cells(sustainment_required__year_to_date=0), None),
    "parts-not-equal-total": ("mmir", mmir_cells(kpi_cases_due__kpi1_2026=3), None),
    "reasons-missing": ("mmir", mmir_cells(kpi_cases_due__kpi1_2026=1, kpi_outside_target__kpi1_2026=1), None),
    "detail-rows-mismatch": ("mmir", mmir_cells(complaints__in_month=1), None),
    "list-row-incomplete": ("mmir", mmir_cells(staff_role__row1=None), None),
}

# code -> "file::test" that makes it fire, or "file::test data-file" when the test reads its cases from a table.
ELSEWHERE = {
    # The extract checks (checks.extract_checks, issue 22): one test each in test_whp_extracts.py.
    "extract-unknown": "test_whp_extracts.py::test_an_id_listed_twice_and_a_csv_that_is_no_extract test_whp_extracts.py",
    "extract-month-unknown": "test_whp_extracts.py::test_an_unknown_month_or_mixed_contracts_are_refused test_whp_extracts.py",
    "extract-column-missing": "test_whp_extracts.py::test_validate_names_row_and_column_of_each_problem test_whp_extracts.py",
    "extract-column-twice": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-column-unknown": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-contract-mixed": "test_whp_extracts.py::test_an_unknown_month_or_mixed_contracts_are_refused test_whp_extracts.py",
    "extract-personal-data": "test_whp_extracts.py::test_validate_names_row_and_column_of_each_problem test_whp_extracts.py",
    "extract-not-a-date": "test_whp_extracts.py::test_validate_names_row_and_column_of_each_problem test_whp_extracts.py",
    "extract-required": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-not-in-list": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-pattern": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-too-long": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-duplicate-id": "test_whp_extracts.py::test_an_id_listed_twice_and_a_csv_that_is_no_extract test_whp_extracts.py",
    "extract-dates-out-of-order": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-filled-together": "test_whp_extracts.py::test_each_extract_check_fires_at_its_row_and_column test_whp_extracts.py",
    "extract-more-rows": "test_whp_extracts.py::test_rows_beyond_the_first_ten_are_counted_not_listed test_whp_extracts.py",
    "text-too-long": "test_checks_fields.py::test_text_too_long_reports_its_length",
    "not-whole-number": "test_checks_fields.py::test_a_count_must_be_a_whole_number_atw_7_25",
    "not-in-list": "test_checks_fields.py::test_withdrawal_stage_not_in_the_list_cites_atw_7_25",
    "pattern-mismatch": "test_checks_fields.py::test_contract_year_in_the_wrong_form_kpd_16",
    "period-invalid": "test_checks_period.py::test_a_contract_year_that_is_not_two_consecutive_years_kpd_16",
    "above-maximum": "test_checks_fields.py::test_a_percentage_above_100_atw_7_16",
    # Issue 20: the error or query form a basis gives, each made to fire by changing the spec's basis.
    **{code: "test_basis.py::test_a_check_is_an_error_with_a_basis_and_its_query_twin_without test_basis.py"
       for code in ("too-many-decimals", "social-value-missing", "job-entries-above-participants",
                    "detail-rows-mismatch-query", "below-minimum-query", "above-maximum-query", "text-too-long-query")},
    "rows-below-list": "test_return_insight.py::test_rows_typed_below_the_list_say_add_rows_with_a_new_template",
    "list-row-incomplete-query": "test_return_insight.py::test_what_the_guidance_accepts_is_never_refused "
                                 "test_return_insight.py",
    "listed-late-on-time-query": "test_checks_rules.py::"
                                 "test_a_support_plan_listed_late_that_came_back_8_days_after_referral_atw_7_25",
    "total-mismatch": "test_checks_totals.py::test_a_typed_number_that_disagrees_kpd_9",
    "total-typed-over": "test_checks_totals.py::test_a_typed_number_that_agrees_is_a_warning_kpd_14",
    "total-divide-by-zero": "test_checks_totals.py::test_zero_front_line_fte_with_job_entries_kpd_15",
    "total-out-of-range": "test_figure_limits.py::test_a_ratio_that_overflows_is_a_finding_at_its_cell_and_is_never_"
                          "stored",
    "in-work-job-entries": "test_checks_rules.py::test_in_work_segment_job_entries_kpd_22",
    "segments-not-reconciled": "test_checks_rules.py::test_segments_outside_the_tolerance_are_a_query_not_an_error",
    "cohort-before-start": "test_checks_rules.py::test_cases_of_a_cohort_before_its_first_referrals_are_errors_atw_7_16",
    "breakdown-mismatch": "test_checks_rules.py::test_referral_breakdown_must_add_up_atw_7_25",
    "listed-late-on-time": "test_checks_rules.py::test_a_rework_clock_counts_the_contracts_working_days",
    "dates-out-of-order": "test_checks_rules.py::test_a_report_returned_before_its_clock_started_atw_7_25",
    "social-value-missing-query": "test_checks_period.py::test_social_value_due_in_a_quarter_end_month_atw_7_16",
    "check-not-run": "test_checks_period.py::test_without_the_quarter_the_checks_that_need_it_say_they_did_not_run",
    "sheet-not-checked": "test_checks_run_every_check.py::"
                         "test_a_broken_sheet_is_not_read_and_one_line_says_what_was_not_checked",
    "explanation-unmatched": "test_checks_explanations.py::test_an_explanation_naming_no_current_query_is_a_query",
    "explanation-of-error": "test_checks_explanations.py::test_a_query_cannot_hide_an_error",
    "personal-data": "test_checks_explanations.py::test_explanations_are_scanned_for_personal_data",
    "not-a-return": "test_structure.py::test_a_workbook_that_is_not_a_return_is_one_file_level_finding_and_exit_2",
    "sheet-missing": "test_structure.py::test_a_renamed_sheet_is_sheet_missing_and_its_cells_are_not_checked",
    "sheet-duplicate": "test_duplicate_sheets.py::test_two_sheets_of_one_name_are_a_structure_error",
    "defined-name-missing": "test_structure.py::test_a_missing_or_moved_defined_name_is_named",
    "defined-name-moved": "test_structure.py::test_a_missing_or_moved_defined_name_is_named",
    "label-changed": "test_checks_run_every_check.py::"
                     "test_a_broken_sheet_is_not_read_and_one_line_says_what_was_not_checked",
    "file-not-found": "test_validate.py::test_a_missing_file",
    "file-check-failed": "test_validate.py::test_an_unexpected_error_is_confined_to_its_file",
    "file-corrupt": "test_checks_reader_fastpath.py::test_a_missing_shared_string_is_still_corrupt",
    "file-hostile-xml": "test_checks_reader_fastpath.py::test_a_doctype_is_still_refused",
    **{code: "test_hostile_inputs.py::test_refused_with_one_plain_sentence data/hostile_table.toml" for code in
       ("file-empty", "file-not-workbook", "file-csv", "file-encrypted", "file-legacy-xls", "file-macros",
        "file-too-large")},
    "email-too-large": "test_inbox.py::test_an_email_over_the_cap_is_refused_without_being_read",
    "email-unreadable": "test_inbox.py::test_a_damaged_msg_is_an_unreadable_input",
    "no-workbook-attached": "test_inbox.py::test_an_eml_without_a_workbook_is_an_unreadable_input",
    "submitted-late": "test_consolidate.py::test_cross_return_warning_is_stored_on_the_later_file",
    "ytd-discontinuity": "test_ledger.py::test_ytd_discontinuity_is_a_warning_on_the_later_month_and_clears_when_fixed",
    "kpd-restatement": "test_ledger.py::test_kpd_restatement_reports_both_values",
    "ytd-list-mismatch": "test_checks_ytd_lists.py::test_a_year_to_date_total_that_is_not_the_year_s_lists_is_a_query",
    "months-sum-mismatch": "test_return_atw_yearly.py::test_reports_of_the_year_are_queried_against_the_year_s_mmirs",
    "file-unreadable": "test_rule_catalogue_fires.py::test_a_link_that_loops_is_file_unreadable",
    # Table-driven: the code is in the file's MISTAKES table, which the named test runs.
    "sum-above-limit": "test_return_jobs2.py::test_each_rule_fires_at_its_cell_with_its_paragraph test_return_jobs2.py",
    "sum-above-limit-query": "test_return_jobs2.py::test_each_rule_fires_at_its_cell_with_its_paragraph "
                             "test_return_jobs2.py",
    "date-outside-period": "test_return_insight.py::test_each_rule_fires_at_its_cell_with_its_paragraph "
                           "test_return_insight.py",
    # Issue 21: a spec's own row condition, and the query form each rule kind's error takes with query = true.
    "row-condition": "test_rule_kinds.py::test_a_row_condition_with_a_basis_is_an_error",
    "row-condition-query": "test_rule_kinds.py::test_a_row_condition_is_a_query_at_its_row_through_validate_rules_and_the_checks_sheet",
    **{code: "test_rule_kinds.py::test_with_query_true_each_kind_s_error_is_its_query_form" for code in
       ("month-after-period-query", "month-missing-query", "keyed-row-incomplete-query",
        "caseload-management-missing-query", "ytd-below-in-month-query", "parts-not-equal-total-query",
        "reasons-missing-query", "in-work-job-entries-query", "cohort-before-start-query",
        "breakdown-mismatch-query", "dates-out-of-order-query")},
}


def test_every_check_has_a_test_that_makes_it_fire():
    listed = {e.code for s in SPECS.values() for e in rc.entries(s)} | set(CATALOGUE)
    assert sorted(listed - set(MUTATIONS) - set(ELSEWHERE)) == []
    assert set(MUTATIONS) & set(ELSEWHERE) == set()
    assert set(MUTATIONS) | set(ELSEWHERE) <= listed  # no entry for a check that no longer exists


def _test_source(path: Path, name: str) -> str | None:
    src = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            # With its decorators: a parametrized test names its codes in @pytest.mark.parametrize.
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return "\n".join(src.splitlines()[first - 1:node.end_lineno])
    return None


@pytest.mark.parametrize("code", sorted(ELSEWHERE))
def test_the_named_test_exists_and_names_the_code(code):
    where, _, data = ELSEWHERE[code].partition(" ")
    file, name = where.split("::")
    source = _test_source(TESTS / file, name)
    assert source is not None, f"{ELSEWHERE[code]} does not exist"
    text = (TESTS / data).read_text(encoding="utf-8") if data else source
    assert f'"{code}"' in text or f"'{code}'" in text, f"{where} does not name {code}"


_CLEAN = {"kpd": check("kpd", kpd_cells("Q1")), "mmir": check("mmir", mmir_cells())}


@pytest.mark.parametrize("code", sorted(MUTATIONS))
def test_the_mutation_draws_exactly_that_code(code):
    return_id, cells, edit = MUTATIONS[code]
    clean = {f.code for f in _CLEAN[return_id].findings}
    assert code not in clean
    report = check(return_id, cells, edit)
    assert {f.code for f in report.findings} - clean == {code}, [(f.code, f.ref) for f in report.findings]


def test_a_link_that_loops_is_file_unreadable(tmp_path):
    loop = tmp_path / "loop.xlsx"
    os.symlink(loop.name, loop)
    (finding,) = validate_file(loop).findings
    assert finding.code == "file-unreadable" and "loop.xlsx" in finding.message
