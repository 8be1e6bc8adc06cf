"""A computed ratio may say what a 0 denominator means (issue 11 item 8): ``zero_denominator = "blank"``
leaves it empty with no finding (JOBS II 6.23's proportions are month-by-month flows: a month with no one
agreeing to start can still have starts, from last month's agreements), while the default still reports
``total-divide-by-zero``. The template's formula is blank either way, never #DIV/0!."""

from __future__ import annotations

import openpyxl
import pytest
from cli_return_helpers import cell_of, fill, findings, ref_of, validate, write_template
from test_return_jobs2 import jobs2_cells

from kpd_returns.author.template import computed_formula
from kpd_returns.spec.computed import evaluate
from kpd_returns.spec.return_spec import get_spec
from kpd_returns.spec.sheet_model import Computed


def test_the_evaluator_says_whether_a_zero_denominator_is_reportable():
    value_of = {"num": 3.0, "den": 0.0}.get
    default = evaluate(Computed(op="ratio", of=["num", "den"]), value_of)
    blank = evaluate(Computed(op="ratio", of=["num", "den"], zero_denominator="blank"), value_of)
    assert (default.value, default.zero_denominator, default.reportable) == (None, True, True)
    assert (blank.value, blank.zero_denominator, blank.reportable) == (None, True, False)


def test_zero_denominator_goes_with_a_ratio_only():
    with pytest.raises(ValueError, match="zero_denominator"):
        Computed(op="sum", of=["a", "b"], zero_denominator="blank")


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return write_template("jobs2", tmp_path_factory.mktemp("jobs2-zero"))


def test_starts_with_no_one_agreeing_this_month_leave_the_proportion_blank_with_no_finding(blank, tmp_path):
    # 6 start in the month, all of whom agreed last month: 0 agreed this month, so the attended who
    # agreed (prop_agreed) is 0 / 30 and the starts' proportion (prop_started) 6 / 0.
    cells = jobs2_cells(agreed_to_start__in_month=0, declined__in_month=30, course_starts__in_month=6,
                        completions__in_month=1, exit_work__in_month=0, exit_health__in_month=0,
                        exit_stopped_attending__in_month=0, exit_other__in_month=0,
                        clock_due__course_day1_15wd=6, clock_within__course_day1_15wd=6,
                        clock_due__course_start_17wd=6, clock_within__course_start_17wd=6)
    code, report = validate(fill("jobs2", blank, cells, tmp_path / "flow.xlsx"))
    assert "total-divide-by-zero" not in {c for c, *_ in findings(report)}, findings(report)
    assert code == 0


def test_a_ratio_without_the_option_still_reports_a_zero_denominator(blank, tmp_path):
    # clock_share keeps the default: actions within the clock with none due is the provider's mistake.
    cells = jobs2_cells(clock_due__exit_2wd=0, clock_within__exit_2wd=3)
    _, report = validate(fill("jobs2", blank, cells, tmp_path / "clock.xlsx"))
    assert ("total-divide-by-zero", ref_of("jobs2", "clock_share", "exit_2wd")) in {
        (c, r) for c, r, *_ in findings(report)}


def test_the_template_formula_is_blank_for_a_zero_denominator_not_an_error(blank):
    spec = get_spec("jobs2")
    formula = computed_formula(spec, "prop_started", "in_month")
    assert formula.startswith("=IF(OR(") and '=0),"",' in formula and "IFERROR" not in formula
    sheet, cell = cell_of("jobs2", "prop_started", "in_month")
    assert openpyxl.load_workbook(blank)[sheet][cell].value == formula
