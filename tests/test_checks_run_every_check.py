"""Run every check, and say what was not run (issue 13): a header problem must not hide the
findings elsewhere; a sheet whose layout is broken is not read, and one line says which
checks could not run; structural problems still come first."""
from __future__ import annotations

from test_checks_helpers import check, kpd_cells

from kpd_returns.spec.return_spec import META_SHEET


def _superseded(wb) -> None:
    ws = wb[META_SHEET]
    for row in ws.iter_rows(min_col=1, max_col=2):
        if row[0].value == "template_version":
            row[1].value = "0.9"


def _rag_label_changed(wb) -> None:
    wb["RAG ratings"]["A5"] = "Someone typed here"


def test_a_superseded_version_no_longer_hides_the_cell_findings():
    """Before: template-superseded alone; the negative FTE was found only after a new template."""
    report = check("kpd", kpd_cells("Q1", staff_senior__apr=-3), edit=_superseded)
    found = [f.code for f in report.findings]
    assert found[0] == "template-superseded"  # structure first
    assert "below-minimum" in found


def test_a_broken_sheet_is_not_read_and_one_line_says_what_was_not_checked():
    def edit(wb):
        _superseded(wb)
        _rag_label_changed(wb)

    report = check("kpd", kpd_cells("Q1", staff_senior__apr=-3, staff_central__jul=5), edit=edit)
    found = [f.code for f in report.findings]
    assert found[:2] == ["template-superseded", "label-changed"]  # structural problems still come first
    assert {"below-minimum", "month-after-period"} <= set(found)  # Staffing is read and checked
    # Nothing is said about the RAG ratings' cells, and caseload management is not judged blind.
    assert "caseload-management-missing" not in found
    assert not [f for f in report.findings if f.sheet == "RAG ratings" and f.code not in
                ("label-changed", "sheet-not-checked")]
    (line,) = [f for f in report.findings if f.code == "sheet-not-checked"]
    assert line.severity == "warning" and line.sheet == "RAG ratings"
    assert line.message.startswith("Could not check the cells of the RAG ratings sheet or the 4 rules that read it: "
                                   "its layout has been changed")
