"""The annotated copy: findings marked on the cells and listed first, provider values untouched,
same input -> same bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kpd_returns import findings as F
from kpd_returns import layout
from kpd_returns.model import FileReport
from kpd_returns.render.annotate import (
    ERROR_FILL, FINDINGS_SHEET, HEADER_ROW, HEADERS, WARNING_FILL, CopyError, annotate, annotated_name,
)
from kpd_returns.spec import get_spec

from kpd_returns import template  # noqa: E402


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """An MMIR template with a few values typed in by openpyxl (as a provider's Excel would)."""
    spec = get_spec("mmir")
    folder = tmp_path_factory.mktemp("annotate")
    blank = folder / "blank.xlsx"
    template.write_template(spec, blank)
    wb = openpyxl.load_workbook(blank)
    idx = layout.slot_index(spec)
    wb["Header"][idx[("provider", "")].cell] = "Northbridge Employment Ltd"
    wb["Header"][idx[("reporting_month", "")].cell] = dt.datetime(2026, 10, 1)
    wb["Volumes"][idx[("referrals", "in_month")].cell] = 9999
    wb["Volumes"][idx[("support_plans_approved", "year_to_date")].cell] = "12 plans"
    wb["Volumes"]["C6"].comment = openpyxl.comments.Comment("Provider's own note", "Provider")
    wb["Late reworks"]["B5"] = "=cmd|' /C calc'!A0"  # a provider's text that looks like a formula
    path = folder / "northbridge.xlsx"
    wb.save(path)
    return path


def report_for(path: Path) -> FileReport:
    return FileReport(
        path=str(path), name=path.name, return_id="mmir", version="1.0", period="2026-10",
        provider="Northbridge Employment Ltd",
        findings=[
            F.make("implausible-value", sheet="Volumes", cell="C5", field="referrals", field_label="Referrals",
                   found=9999, expected=500, guidance="AtW 7.25"),
            F.make("not-a-number", sheet="Volumes", cell="D6", field="support_plans_approved",
                   field_label="Support Plans approved", found="12 plans", guidance="AtW 7.25"),
            F.make("required-missing", sheet="Volumes", cell="D6", field="support_plans_approved",
                   field_label="Support Plans approved", guidance="AtW 7.25"),
            F.make("total-typed-over", sheet="Volumes", cell="C6", field="support_plans_approved",
                   field_label="Support Plans approved", guidance="AtW 7.25"),
            F.make("required-missing", sheet="Header", cell="B9", field="contact", field_label="Contact",
                   guidance="AtW 7.24"),
            F.make("not-a-number", sheet="Late reworks", cell="B5", field="reference", field_label="Reference",
                   found="=cmd", guidance="AtW 7.25"),
            F.make("submitted-late", detail="on 20 November 2026", expected="4 November 2026"),
        ],
    )


def all_values(wb) -> dict[tuple[str, str], object]:
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None}


def test_findings_sheet_first_with_links(filled, tmp_path):
    out = tmp_path / "out.xlsx"
    report = report_for(filled)
    marked = annotate(filled, report, out)
    assert marked == 5  # D6 has two findings, one cell
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == FINDINGS_SHEET
    assert wb.active.title == FINDINGS_SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [FINDINGS_SHEET]
    ws = wb[FINDINGS_SHEET]
    assert ws["A1"].value.startswith("northbridge.xlsx: MMIR 2026-10, Northbridge Employment Ltd: 4 errors, 3 warnings — not valid")
    assert tuple(c.value for c in ws[HEADER_ROW]) == HEADERS
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=False))
    assert len(rows) == len(report.findings)
    by_ref = {}
    for row in rows:
        severity, code, sheet, cell = (c.value for c in row[:4])
        link = row[3].hyperlink
        if sheet is None:
            assert code == "submitted-late" and cell is None and link is None
        else:
            assert link is not None and link.location == f"'{sheet}'!{cell}"
            by_ref.setdefault((sheet, cell), []).append((severity, code))
    assert by_ref[("Late reworks", "B5")] == [("error", "not-a-number")]
    # errors come before warnings, and the file-level finding is first among warnings
    severities = [r[0].value for r in rows]
    assert severities == sorted(severities, key=lambda s: s != "error")
    # a message is text even if it started with '='
    assert all(r[5].data_type == "s" for r in rows)


def test_cells_marked_with_fill_and_severity_word(filled, tmp_path):
    out = tmp_path / "out.xlsx"
    annotate(filled, report_for(filled), out)
    wb = openpyxl.load_workbook(out)
    vol = wb["Volumes"]
    assert vol["D6"].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert vol["C5"].fill.fgColor.rgb.endswith(WARNING_FILL)
    d6 = vol["D6"].comment.text
    assert d6.startswith("ERROR not-a-number:") and "ERROR required-missing:" in d6 and "[AtW 7.25]" in d6
    assert vol["C5"].comment.text.startswith("WARNING implausible-value:")
    c6 = vol["C6"].comment.text
    assert c6.startswith("WARNING total-typed-over:") and "Provider's own note" in c6


def test_provider_values_untouched(filled, tmp_path):
    out = tmp_path / "out.xlsx"
    annotate(filled, report_for(filled), out)
    before = openpyxl.load_workbook(filled)
    after = openpyxl.load_workbook(out)
    assert after.sheetnames[1:] == before.sheetnames
    original = all_values(before)
    copied = {k: v for k, v in all_values(after).items() if k[0] != FINDINGS_SHEET}
    assert copied == original
    assert copied[("Late reworks", "B5")] == "=cmd|' /C calc'!A0"
    # every input cell of the spec, filled or not
    spec = get_spec("mmir")
    for (field, key), slot in layout.slot_index(spec).items():
        assert after[slot.sheet][slot.cell].value == before[slot.sheet][slot.cell].value, slot.ref
    assert dict(after.defined_names) .keys() == dict(before.defined_names).keys()
    assert [ws.sheet_state for ws in after.worksheets[1:]] == [ws.sheet_state for ws in before.worksheets]
    assert all(after[n].protection.sheet == before[n].protection.sheet for n in before.sheetnames)


def test_same_input_same_bytes(filled, tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "sub" / "b.xlsx"
    annotate(filled, report_for(filled), a)
    annotate(filled, report_for(filled), b)
    assert a.read_bytes() == b.read_bytes()


def test_no_findings_still_gives_a_findings_sheet(filled, tmp_path):
    out = tmp_path / "clean.xlsx"
    report = report_for(filled)
    report.findings = []
    assert annotate(filled, report, out) == 0
    ws = openpyxl.load_workbook(out)[FINDINGS_SHEET]
    assert ws.cell(HEADER_ROW + 1, 1).value == "No findings."


def test_unreadable_or_overwrite_refused(filled, tmp_path):
    bad = FileReport(path=str(filled), name=filled.name, findings=[F.make("file-corrupt", file="x", detail="y")])
    with pytest.raises(CopyError, match="could not be read"):
        annotate(filled, bad, tmp_path / "x.xlsx")
    with pytest.raises(CopyError, match="is the file being checked"):
        annotate(filled, report_for(filled), filled)


def test_doctype_never_reaches_openpyxl(tmp_path):
    import zipfile

    path = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    report = FileReport(path=str(path), name="evil.xlsx", return_id="mmir")
    with pytest.raises(CopyError, match="DOCTYPE"):
        annotate(path, report, tmp_path / "out.xlsx")


def test_annotated_name():
    assert annotated_name("returns/Northbridge Oct.xlsx") == "Northbridge Oct.annotated.xlsx"
