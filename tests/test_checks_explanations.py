"""Queries a provider can explain (issue 13): the template's Explanations sheet answers a query
by its code and cell; the query is then reported as explained, with the explanation. An
explanation naming no current query is a query itself; one naming an error is a warning and
the error stays; the text is scanned for personal data like every text cell."""
from __future__ import annotations

import datetime as dt

from test_checks_helpers import check, kpd_cells, only

from kpd_returns.checks import explanations as X

# Job entries per front line FTE in April: 1000 / 50.25, above the plausible 15 (a query).
ODD = dict(job_entries__apr=1000)
WHY = "April had a large employer recruitment drive, so many job entries in one month."


def explain(*rows):
    def edit(wb):
        ws = wb[X.SHEET_NAME]
        for i, row in enumerate(rows):
            for c, v in enumerate(row, start=1):
                ws.cell(X.FIRST_ROW + i, c, v)
    return edit


def test_the_template_has_an_explanations_sheet_with_input_rows():
    report = check("kpd", kpd_cells("Q1"), edit=explain())
    assert report.verdict == "valid"


def test_an_unexplained_query_is_open():
    q = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value")
    assert (q.status, q.explanation) == ("open", None)
    assert q.to_dict()["status"] == "open"


def test_an_explained_query_is_explained_with_its_sentence():
    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    report = check("kpd", kpd_cells("Q1", **ODD), edit=explain(("implausible-value", ref, WHY)))
    q = only(report, "implausible-value")
    assert (q.status, q.explanation, q.severity) == ("explained", WHY, "warning")
    assert [f.code for f in report.findings] == ["implausible-value"]  # nothing else is said
    # The cell alone, with dollar signs, matches too.
    cell = "$" + q.cell[0] + "$" + q.cell[1:]
    q2 = only(check("kpd", kpd_cells("Q1", **ODD), edit=explain(("implausible-value", cell, WHY))),
              "implausible-value")
    assert q2.status == "explained"


def test_an_explanation_naming_no_current_query_is_a_query():
    report = check("kpd", kpd_cells("Q1"), edit=explain(("implausible-value", "Staffing!D15", WHY)))
    f = only(report, "explanation-unmatched")
    assert (f.sheet, f.cell, f.severity, f.status) == (X.SHEET_NAME, "C5", "warning", "open")
    assert "not a query on this return" in f.message


def test_a_query_cannot_hide_an_error():
    bad = check("kpd", kpd_cells("Q1", staff_senior__apr=-3))
    err = only(bad, "below-minimum")
    report = check("kpd", kpd_cells("Q1", staff_senior__apr=-3), edit=explain(("below-minimum", err.ref, WHY)))
    assert only(report, "below-minimum").severity == "error"
    f = only(report, "explanation-of-error")
    assert (f.cell, f.severity) == ("C5", "warning") and "must be corrected" in f.message
    assert report.verdict == "invalid"


def test_explanations_are_scanned_for_personal_data():
    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    report = check("kpd", kpd_cells("Q1", **ODD),
                   edit=explain(("implausible-value", ref, "Mostly QQ123456C's employer, a big intake.")))
    pd = only(report, "personal-data")
    assert (pd.sheet, pd.cell, pd.severity) == (X.SHEET_NAME, "C5", "error")
    assert "QQ123456C" not in pd.message
    assert only(report, "implausible-value").status == "open"  # a row with personal data explains nothing


def test_the_text_and_json_reports_show_explained_and_open_queries():
    import json

    from kpd_returns.render.json_report import dumps
    from kpd_returns.render.text import report_lines

    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    both = kpd_cells("Q1", job_entries__apr=1000, job_entries__may=1000)
    report = check("kpd", both, edit=explain(("implausible-value", ref, WHY)))
    whole = json.loads(dumps([report]))
    from test_render_json import load_schema, structural_errors

    schema = load_schema()
    assert structural_errors(whole, schema, schema) == []
    doc = whole["files"][0]
    statuses = [(f["code"], f["status"], f["explanation"]) for f in doc["findings"]]
    assert statuses == [("implausible-value", "explained", WHY), ("implausible-value", "open", None)]
    assert doc["counts"] == {"errors": 0, "warnings": 2, "explained": 1}
    text = ["".join(t for t, _ in line) for line in report_lines([report])]
    assert "2 warnings (1 query explained)" in text[0]
    assert sum(f'Explained by the provider: "{WHY}"' in line for line in text) == 1


def test_the_annotated_copy_shows_the_explanation(tmp_path):
    import openpyxl

    from kpd_returns.render.annotate import annotate
    from test_checks_helpers import build

    from kpd_returns.checks.validate import validate_file

    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    src = tmp_path / "kpd.xlsx"
    src.write_bytes(build("kpd", kpd_cells("Q1", **ODD), explain(("implausible-value", ref, WHY))))
    report = validate_file(src, as_of=dt.date(2026, 7, 1))
    out = tmp_path / "kpd-annotated.xlsx"
    annotate(src, report, out)
    wb = openpyxl.load_workbook(out)
    sheet, cell = ref.split("!")
    assert f'Explained by the provider: "{WHY}"' in wb[sheet][cell].comment.text
    findings = wb.worksheets[0]
    assert any(WHY in str(c.value) for row in findings.iter_rows() for c in row)


def test_a_sentence_is_scanned_whole_before_it_is_cut_issue19_item6():
    """An NI number or e-mail address across character 500 (where the sentence is cut) is found: the
    row explains nothing, and no fragment of it ("QQ-12-34-56", "john.smith@exam") is kept anywhere."""
    import json

    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    for item, fragment in (("QQ-12-34-56-C", "QQ-12-34-56"), ("john.smith@example.com", "john.smith@exam")):
        text = "A large employer recruitment drive. " + "x" * (X.MAX_TEXT - 36 - len(fragment)) + " " + item
        assert text.index(item) < X.MAX_TEXT < text.index(item) + len(item)
        report = check("kpd", kpd_cells("Q1", **ODD), edit=explain(("implausible-value", ref, text)))
        assert only(report, "personal-data").cell == "C5"
        assert only(report, "implausible-value").status == "open"
        blob = json.dumps([f.to_dict() for f in report.findings]) + repr(report.explanations)
        assert fragment not in blob and fragment[:9] not in blob


def test_a_long_clean_sentence_is_kept_to_500_characters():
    ref = only(check("kpd", kpd_cells("Q1", **ODD)), "implausible-value").ref
    text = WHY + " " + "More detail follows. " * 40
    q = only(check("kpd", kpd_cells("Q1", **ODD), edit=explain(("implausible-value", ref, text))), "implausible-value")
    assert q.status == "explained" and q.explanation == text[:X.MAX_TEXT]
