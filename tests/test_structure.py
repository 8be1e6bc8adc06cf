"""Recognising a return and checking its layout before any cell check runs (issue 3: "Recognise the return").

A workbook that is not one of our returns, a superseded template version, or a
tampered layout gets clear structure findings naming the sheet, cell or named
range, and cell-level checks do not run until the structure is right.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from kpd_returns.checks.batch import prepare
from kpd_returns.spec.return_spec import META_SHEET, get_spec, load_all
from kpd_returns.author.template import write_template
from kpd_returns.checks.validate import validate_file


def _template_wb(return_id: str) -> openpyxl.Workbook:
    buf = io.BytesIO()
    write_template(get_spec(return_id), buf, provider="Northbridge Employment Ltd", contract="CPA 07",
                   period="2026-27 Q2" if return_id == "kpd" else "2026-10")
    return openpyxl.load_workbook(io.BytesIO(buf.getvalue()))


def _bytes(wb: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _prepare(data: bytes, name: str):
    """The first phase of checking one file (checks.batch.prepare), the path every command takes."""
    return prepare(data, name=name, specs=load_all())


def _codes(findings) -> list[tuple[str, str | None, str | None]]:
    return [(f.code, f.sheet, f.cell) for f in findings]


def test_an_untouched_template_is_recognised_with_no_structure_findings():
    ex = _prepare(_bytes(_template_wb("kpd")), name="blank.xlsx")
    assert ex.return_id == "kpd" and ex.version == "1.0"
    assert ex.findings == [] and ex.check is not None
    assert ex.check.data.period == "2026-27 Q2" and ex.check.data.month_of_key["jan"] == "2027-01"


def test_a_workbook_that_is_not_a_return_is_one_file_level_finding_and_exit_2():
    wb = openpyxl.Workbook()
    wb.active.title = "My figures"
    wb.active["A1"] = "Referrals"
    wb.active["B1"] = 12
    report = validate_file(_bytes(wb), name="my-figures.xlsx")
    assert _codes(report.findings) == [("not-a-return", None, None)]
    assert "my-figures.xlsx" in report.findings[0].message
    assert report.verdict == "unreadable" and report.exit_code == 2


def test_a_hand_made_copy_without_the_marker_says_which_labels_differ():
    """A provider copied the layout by hand: no metadata sheet, and one label retyped."""
    wb = _template_wb("kpd")
    del wb[META_SHEET]
    wb["Staffing"]["A6"] = "Frontline staff"
    ex = _prepare(_bytes(wb), name="copy.xlsx")
    assert ex.check.unreadable_sheets == {"Staffing"}  # issue 13: the other sheets are still checked
    codes = _codes(ex.findings)
    assert codes[0] == ("not-a-return", None, None)
    assert ("label-changed", "Staffing", "A6") in codes
    changed = next(f for f in ex.findings if f.code == "label-changed")
    assert changed.found == "Frontline staff" and changed.expected == "Front line claimant-facing (FTE)"


def test_a_superseded_template_version_is_a_structure_error_that_comes_first():
    """Issue 13: run every check whose inputs are readable. The version error comes first, and the
    cell findings of the intact layout are reported with it (they no longer wait for a new template)."""
    wb = _template_wb("mmir")
    meta = wb[META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "template_version":
            row[1].value = "0.9"
    wb["Volumes"]["C5"] = -3
    report = validate_file(_bytes(wb), name="old.xlsx")
    assert _codes(report.findings)[0] == ("template-superseded", None, None)
    assert ("below-minimum", "Volumes", "C5") in _codes(report.findings)
    assert report.findings[0].found == "0.9" and report.findings[0].expected == "1.0"
    assert report.exit_code == 1


def test_a_renamed_sheet_is_sheet_missing_and_its_cells_are_not_checked():
    """Issue 13: the renamed sheet is not read (one line says so); the other sheets are checked."""
    wb = _template_wb("kpd")
    wb["Staffing"].title = "Staff"
    wb["Header"]["B5"] = None
    report = validate_file(_bytes(wb), name="renamed.xlsx")
    codes = _codes(report.findings)
    assert codes[0] == ("sheet-missing", "Staffing", None)
    assert [c for c in codes if c[1] == "Staffing"] == [("sheet-missing", "Staffing", None),
                                                        ("sheet-not-checked", "Staffing", None)]
    assert ("required-missing", "Header", "B5") in codes


def test_a_deleted_row_moves_labels_and_named_ranges():
    """Deleting a row shifts every label below it; openpyxl does not move defined names,
    so the names of the rows below point at the wrong row too."""
    wb = _template_wb("kpd")
    wb["Staffing"].delete_rows(7)  # Centrally-managed functions
    ex = _prepare(_bytes(wb), name="deleted-row.xlsx")
    assert ex.check.unreadable_sheets == {"Staffing"}  # issue 13: the other sheets are still checked
    codes = _codes(ex.findings)
    assert ("label-changed", "Staffing", "A7") in codes
    changed = next(f for f in ex.findings if f.cell == "A7" and f.sheet == "Staffing")
    assert changed.expected == "Centrally-managed functions (FTE)"


def test_a_missing_or_moved_defined_name_is_named():
    wb = _template_wb("mmir")
    del wb.defined_names["MMIR_referrals"]
    wb.defined_names["MMIR_reworks"] = DefinedName("MMIR_reworks", attr_text="'Volumes'!$C$20:$D$20")
    ex = _prepare(_bytes(wb), name="names.xlsx")
    found = {(f.code, f.field) for f in ex.findings}
    assert ("defined-name-missing", "referrals") in found
    assert ("defined-name-moved", "reworks") in found
    moved = next(f for f in ex.findings if f.code == "defined-name-moved")
    assert moved.expected == "'Volumes'!$C$9:$D$9"


@pytest.mark.parametrize("return_id", ["kpd", "mmir"])
def test_libreoffice_style_defined_names_without_quotes_are_accepted(return_id):
    """LibreOffice writes Header!$B$5 where xlsxwriter writes 'Header'!$B$5: compare targets, not text."""
    wb = _template_wb(return_id)
    for name in list(wb.defined_names):
        dn = wb.defined_names[name]
        dn.attr_text = dn.attr_text.replace("'", "") if " " not in dn.attr_text else dn.attr_text
    ex = _prepare(_bytes(wb), name="lo.xlsx")
    assert ex.findings == []


def test_structure_findings_cite_the_paragraph_that_requires_the_template():
    """KPD Annex 1 (the returns template every provider must use); AtW 7.23 (the MMIR return at Annex G)."""
    wb = _template_wb("kpd")
    wb["Staffing"]["A6"] = "Frontline staff"
    ex = _prepare(_bytes(wb), name="x.xlsx")
    assert [(f.code, f.guidance) for f in ex.findings] == [("label-changed", "KPD Annex 1")]
    wb = _template_wb("mmir")
    wb["Volumes"].title = "Vols"
    ex = _prepare(_bytes(wb), name="y.xlsx")
    assert ("sheet-missing", "AtW 7.23") in [(f.code, f.guidance) for f in ex.findings]
