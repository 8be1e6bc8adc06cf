"""AtW MHSS Customer Insight (validators/insight.toml, AtW 7.28-7.34), a return that is a spec
file only: its template from the CLI validates clean once filled; each rule fires at its cell with
its paragraph; personal data in a Question 2 answer is found and masked in every output; the
deadline is 17:00 on the 15th of the following month, moved to the next working day (AtW 7.32)."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from cli_return_helpers import cell_of, fill, findings, ref_of, run, validate, with_changes, write_template
from leakcheck import assert_no_leak

from kpd_returns.spec.deadlines import deadline_for

D = dt.date
LEVELS = ["Very satisfied", "Fairly satisfied", "Fairly dissatisfied", "Very dissatisfied"]


def insight_cells(month: D = D(2026, 10, 1), submitted: D = D(2026, 11, 13), **changes) -> dict:
    """A clean return: four anonymised responses (1 very, 2 fairly satisfied, 1 very dissatisfied)."""
    cells = {("provider", ""): "Test Provider 01 Ltd", ("contract", ""): "ATW-MHSS-001",
             ("reporting_month", ""): month, ("date_submitted", ""): submitted,
             ("contact", ""): "Customer insight team"}
    rows = [(LEVELS[0], "E-mail", "My adviser listened and the plan helped me stay in work."),
            (LEVELS[1], "Provider portal", "Useful sessions, though the first call came late."),
            (LEVELS[1], "Telephone (written record kept)", "Helpful overall."),
            (LEVELS[3], "Website or online survey", "")]
    for i, (level, channel, why) in enumerate(rows, start=1):
        cells |= {("response_date", f"row{i}"): month.replace(day=2 + i), ("response_channel", f"row{i}"): channel,
                  ("q1_satisfaction", f"row{i}"): level}
        if why:
            cells[("q2_reason", f"row{i}")] = why
    for fid, n in (("very_satisfied", 1), ("fairly_satisfied", 2), ("fairly_dissatisfied", 0),
                   ("very_dissatisfied", 1)):
        cells[(fid, "in_month")] = n
    return with_changes(cells, changes)


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return write_template("insight", tmp_path_factory.mktemp("insight"))


def test_the_template_has_the_return_s_sheets_choices_and_formulas(blank):
    wb = openpyxl.load_workbook(blank)
    assert {"Header", "Responses", "Summary"} <= set(wb.sheetnames)
    sheet, cell = cell_of("insight", "share_satisfied", "in_month")
    assert wb[sheet][cell].value.startswith("=IF(")  # auto-summed for the provider, recomputed by the checks
    choices = {dv.formula1 for dv in wb["Responses"].data_validations.dataValidation}
    assert any("Very satisfied" in (c or "") for c in choices)
    assert any("Telephone (written record kept)" in (c or "") for c in choices)


def test_a_filled_template_validates_clean_with_the_share_satisfied_recomputed(blank, tmp_path):
    code, report = validate(fill("insight", blank, insight_cells(), tmp_path / "clean.xlsx"))
    assert (code, findings(report)) == (0, [])
    assert (report["return_type"], report["period"]) == ("insight", "2026-10")
    run_json = run("validate", str(tmp_path / "clean.xlsx"), "--format", "json").output
    assert '"verdict": "valid"' in run_json


MISTAKES = [
    # (changes, code, field, key, severity, guidance)
    ({"very_satisfied__in_month": 2}, "detail-rows-mismatch", "very_satisfied", "in_month", "error", "AtW 7.29"),
    ({"fairly_dissatisfied__in_month": 1}, "detail-rows-mismatch", "fairly_dissatisfied", "in_month", "error",
     "AtW 7.29"),
    ({"response_channel__row2": None}, "list-row-incomplete", "response_channel", "row2", "error", "AtW 7.28"),
    ({"q1_satisfaction__row3": "Satisfied"}, "not-in-list", "q1_satisfaction", "row3", "error", "AtW 7.29"),
    ({"responses_total__in_month": 9}, "total-mismatch", "responses_total", "in_month", "error", "AtW 7.29"),
    ({"response_date__row1": D(2026, 9, 20)}, "date-outside-period", "response_date", "row1", "warning",
     "plausibility check"),
]


@pytest.mark.parametrize("changes, code, fid, key, severity, guidance", MISTAKES, ids=[m[1] + "-" + m[2] for m in MISTAKES])
def test_each_rule_fires_at_its_cell_with_its_paragraph(blank, tmp_path, changes, code, fid, key, severity, guidance):
    code_, report = validate(fill("insight", blank, insight_cells(**changes), tmp_path / "bad.xlsx"))
    assert (code, ref_of("insight", fid, key), severity, guidance) in findings(report), findings(report)
    assert code_ == (1 if severity == "error" else 0)
    if severity == "warning":
        message = next(f["message"] for f in report["findings"] if f["code"] == code)
        assert message.startswith("Query (a plausibility check")


NEEDLES = ["07700 900123", "jane.smith@example.com"]


def test_personal_data_in_a_question_2_answer_is_found_and_masked_in_every_output(blank, tmp_path):
    """AtW 7.31: responses are anonymised. The scan covers the free text like every text field."""
    answer = "Ring me on 07700 900123 or write to jane.smith@example.com, the adviser was great."
    path = fill("insight", blank, insight_cells(q2_reason__row2=answer), tmp_path / "pii.xlsx")
    code, report = validate(path)
    sheet, cell = cell_of("insight", "q2_reason", "row2")
    found = [f for f in report["findings"] if f["code"] == "personal-data"]
    assert code == 1 and found and all(f["ref"] == f"{sheet}!{cell}" for f in found)
    # The guard cites the AtW anonymisation paragraph it cites for every AtW return (AtW 7.25;
    # 7.31 says the same of customer responses): spec.personal_data.GUIDANCE.
    assert {f["guidance"] for f in found} == {"AtW 7.25"}
    assert any("e-mail address" in f["message"] for f in found) and any("phone" in f["message"] for f in found)
    out = tmp_path / "out"
    out.mkdir()
    text = run("validate", str(path))
    annotated = run("validate", str(path), "--annotate", str(out / "marked.xlsx"))
    as_json = run("validate", str(path), "--format", "json")
    assert (out / "marked.xlsx").exists()
    assert_no_leak(out, NEEDLES, streams=[text.output, annotated.output, as_json.output])


def test_the_deadline_is_17_00_on_the_15th_moved_to_the_next_working_day(blank, tmp_path):
    """AtW 7.32: 15 November 2026 is a Sunday, so an October 2026 return is due Monday 16 November
    at 17:00; checked through the function the registry uses, and in the report."""
    due = deadline_for("insight", "2026-10", D(2026, 10, 31))
    assert due.due == dt.datetime(2026, 11, 16, 17, 0)
    _code, report = validate(fill("insight", blank, insight_cells(submitted=D(2026, 11, 16)), tmp_path / "r.xlsx"))
    assert report["deadline"] == "2026-11-16T17:00:00" and report["late_working_days"] == 0
    _code, late = validate(tmp_path / "r.xlsx", "--submitted", "2026-11-16T17:30")
    assert "submitted-late" in [f["code"] for f in late["findings"]]
