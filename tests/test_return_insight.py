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
from kpd_returns.spec.return_spec import get_spec

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
    # (changes, code, field, key, severity, guidance: the basis each finding is cited to, or its start)
    ({"very_satisfied__in_month": 2}, "detail-rows-mismatch", "very_satisfied", "in_month", "error", "arithmetic: "),
    ({"fairly_dissatisfied__in_month": 1}, "detail-rows-mismatch", "fairly_dissatisfied", "in_month", "error",
     "arithmetic: "),
    # AtW 7.28 names the channels but asks for no channel per response (issue 20): a query.
    ({"response_channel__row2": None}, "list-row-incomplete-query", "response_channel", "row2", "warning",
     "plausibility check"),
    ({"q1_satisfaction__row3": "Satisfied"}, "not-in-list", "q1_satisfaction", "row3", "error", "the template: "),
    ({"responses_total__in_month": 9}, "total-mismatch", "responses_total", "in_month", "error", "arithmetic: "),
    ({"response_date__row1": D(2026, 9, 20)}, "date-outside-period", "response_date", "row1", "warning",
     "plausibility check"),
]


@pytest.mark.parametrize("changes, code, fid, key, severity, guidance", MISTAKES, ids=[m[1] + "-" + m[2] for m in MISTAKES])
def test_each_rule_fires_at_its_cell_with_its_paragraph(blank, tmp_path, changes, code, fid, key, severity, guidance):
    code_, report = validate(fill("insight", blank, insight_cells(**changes), tmp_path / "bad.xlsx"))
    got = [f for f in findings(report) if f[:3] == (code, ref_of("insight", fid, key), severity)]
    assert got and got[0][3].startswith(guidance), findings(report)
    assert code_ == (1 if severity == "error" else 0)
    if severity == "warning":
        message = next(f["message"] for f in report["findings"] if f["code"] == code)
        assert message.startswith("Query (a plausibility check")


# Issue 20: what the guidance would accept is accepted, or queried; never refused.
ACCEPTED = [
    # A long Question 2 answer: AtW 7.30 asks customers to be "as detailed and specific as possible".
    ({"q2_reason__row1": "I was helped a great deal. " * 100}, []),
    # A response answering Question 2 only: either question may be answered alone.
    ({"q1_satisfaction__row4": None, "q2_reason__row4": "I did not want to rate it.",
      "very_dissatisfied__in_month": 0}, []),
    # A response without a date: AtW 7.28 asks for no date per response.
    ({"response_date__row3": None}, [("list-row-incomplete-query", "response_date", "row3")]),
    # Contact and Date submitted left blank: no paragraph asks for them on the return.
    ({"contact__": None}, [("required-missing-query", "contact", "")]),
    ({"date_submitted__": None}, [("required-missing-query", "date_submitted", "")]),
]


@pytest.mark.parametrize("changes, queries", ACCEPTED, ids=["long-q2", "q2-only", "no-date", "no-contact",
                                                            "no-date-submitted"])
def test_what_the_guidance_accepts_is_never_refused(blank, tmp_path, changes, queries):
    # Received on time (a blank Date submitted would otherwise fall back on the file's date).
    code, report = validate(fill("insight", blank, insight_cells(**changes), tmp_path / "ok.xlsx"),
                            "--submitted", "2026-11-13T10:00")
    assert code == 0, findings(report)
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [(q, "warning") for q, _, _ in queries]
    assert [f["ref"] for f in report["findings"]] == [ref_of("insight", fid, key) for _, fid, key in queries]


def _many(n: int) -> dict:
    cells = insight_cells()
    for i in range(1, n + 1):
        cells |= {("response_date", f"row{i}"): D(2026, 10, 5), ("response_channel", f"row{i}"): "E-mail",
                  ("q1_satisfaction", f"row{i}"): LEVELS[0], ("q2_reason", f"row{i}"): None}
    return cells | {("very_satisfied", "in_month"): n, ("fairly_satisfied", "in_month"): 0,
                    ("very_dissatisfied", "in_month"): 0}


def test_a_large_contract_s_month_of_responses_fits_the_list(blank, tmp_path):
    """A 501st response used to fall below the 500-row list and turn into a count mismatch."""
    code, report = validate(fill("insight", blank, _many(501), tmp_path / "big.xlsx"))
    assert (code, findings(report)) == (0, [])


def test_rows_typed_below_the_list_say_add_rows_with_a_new_template(blank, tmp_path):
    """Rows below the list are reported once, at the first such cell, never as a count mismatch."""
    rows = get_spec("insight").sheet("Responses").max_rows
    path = fill("insight", blank, _many(3), tmp_path / "below.xlsx")
    wb = openpyxl.load_workbook(path)
    sheet, first = cell_of("insight", "q1_satisfaction", "row1")
    column = "".join(ch for ch in first if ch.isalpha())
    below = 5 + rows + 2  # two rows under the list's last row
    wb[sheet][f"{column}{below}"] = LEVELS[0]
    wb[sheet][f"{column}{below + 1}"] = LEVELS[0]
    wb.save(path)
    code, report = validate(path)
    assert code == 1
    assert findings(report) == [("rows-below-list", f"{sheet}!{column}{below}", "error",
                                 findings(report)[0][3])]
    assert "Add rows with a new template" in report["findings"][0]["message"]
    assert findings(report)[0][3].startswith("the template: ")


NEEDLES = ["07700 900123", "jane.smith@example.com"]


def test_personal_data_in_a_question_2_answer_is_found_and_masked_in_every_output(blank, tmp_path):
    """AtW 7.31: responses are anonymised. The scan covers the free text like every text field."""
    answer = "Ring me on 07700 900123 or write to jane.smith@example.com, the adviser was great."
    path = fill("insight", blank, insight_cells(q2_reason__row2=answer), tmp_path / "pii.xlsx")
    code, report = validate(path)
    sheet, cell = cell_of("insight", "q2_reason", "row2")
    found = [f for f in report["findings"] if f["code"] == "personal-data"]
    assert code == 1 and found and all(f["ref"] == f"{sheet}!{cell}" for f in found)
    # Cited to the sentence that asks for it (issue 20): "You are required to collate and anonymise
    # the Customer responses." (AtW 7.31), the spec's personal_data_basis.
    assert {f["guidance"] for f in found} == {"AtW 7.31"}
    # An error that rests on a sentence of the guidance says the sentence.
    assert all(f["message"].endswith('The guidance says: "You are required to collate and anonymise the Customer '
                                     'responses." (AtW 7.31).') for f in found)
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
