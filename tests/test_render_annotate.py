"""The annotated copy: findings marked on the cells and listed first, provider values untouched,
same input -> same bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.spec import findings as F
from kpd_returns.spec import layout
from kpd_returns.spec.constants import ZIP_TIME
from kpd_returns.spec.model import FileReport
from kpd_returns.render.annotate import (
    ERROR_FILL, FINDINGS_SHEET, HEADER_ROW, HEADERS, WARNING_FILL, CopyError, annotate, annotated_name,
)
from kpd_returns.spec.return_spec import get_spec

from kpd_returns.author import template  # noqa: E402


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
    # An array formula (the Checks sheet) is an object: compare its text.
    return {(ws.title, c.coordinate): getattr(c.value, "text", c.value) for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.value is not None}


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
    assert ws["A1"].value.startswith("northbridge.xlsx: MMIR for October 2026, Northbridge Employment Ltd: 4 errors, 3 warnings — not valid")
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


# ---------------------------------------------------------------- the zip/XML copy (the usual path)
# The fixture above has a provider's comment on Volumes, so it takes the openpyxl fallback; the tests
# below use files without comments, which take the zip/XML path, and check what it must keep.

import copy  # noqa: E402
import re  # noqa: E402
import zipfile  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

from kpd_returns.render import annotate as annotate_mod  # noqa: E402
from kpd_returns.render import annotate_openpyxl  # noqa: E402
from kpd_returns.read.workbook import open_workbook  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
X14_EXT = (
    '<extLst><ext xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
    'uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation type="list" '
    'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>\'Header\'!$A$1:$A$3</xm:f>'
    '</x14:formula1><xm:sqref>F5:F9</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')


@pytest.fixture
def fast_only(monkeypatch):
    """Fail if the openpyxl fallback is taken."""
    def refuse(*_args, **_kw):
        raise AssertionError("the openpyxl fallback was used")
    monkeypatch.setattr(annotate_openpyxl, "load_full", refuse)


@pytest.fixture(scope="module")
def plain(filled, tmp_path_factory) -> Path:
    """The same return as ``filled`` without the provider's comment, saved with Volumes selected."""
    wb = openpyxl.load_workbook(filled)
    wb["Volumes"]["C6"].comment = None
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "Volumes"
    wb.active = wb.sheetnames.index("Volumes")
    path = tmp_path_factory.mktemp("plain") / "northbridge.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    """The MMIR template as xlsxwriter writes it: shared strings, spans, app.xml titles, local names."""
    path = tmp_path_factory.mktemp("blank") / "blank.xlsx"
    template.write_template(get_spec("mmir"), path)
    return path


def sheet_part(path: Path, title: str) -> str:
    return next(s.part for s in open_workbook(path).sheets if s.name == title)


def rewrite(source: Path, target: Path, part: str, change) -> Path:
    """A copy of ``source`` with one part's text changed by ``change``."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                new = change(data.decode("utf-8"))
                assert new != data.decode("utf-8"), "the change did not apply"
                data = new.encode("utf-8")
            dst.writestr(info, data)
    return target


def part_text(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(part).decode("utf-8")


def names_by_cells(path: Path) -> set[tuple[str, str | None, str]]:
    """Every defined name as (name, title of its sheet if local, what it refers to), from workbook.xml."""
    root = ET.fromstring(part_text(path, "xl/workbook.xml"))
    titles = [s.get("name") for s in root.iter(MAIN + "sheet")]
    out = set()
    for dn in root.iter(MAIN + "definedName"):
        local = dn.get("localSheetId")
        out.add((dn.get("name"), titles[int(local)] if local is not None else None, dn.text))
    return out


def test_fast_copy_findings_first_selected_and_linked(plain, tmp_path, fast_only):
    out = tmp_path / "out.xlsx"
    report = report_for(plain)
    assert annotate(plain, report, out) == 5
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [FINDINGS_SHEET] + openpyxl.load_workbook(plain).sheetnames
    assert wb.active.title == FINDINGS_SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [FINDINGS_SHEET]
    ws = wb[FINDINGS_SHEET]
    assert ws["A1"].value.startswith("northbridge.xlsx: MMIR for October 2026") and ws["A1"].font.b
    assert tuple(c.value for c in ws[HEADER_ROW]) == HEADERS and all(c.font.b for c in ws[HEADER_ROW])
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:G{HEADER_ROW + len(report.findings)}"
    assert ws.column_dimensions["F"].width == 100
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1))
    assert [(r[1].value, r[2].value, r[3].value) for r in rows] == [
        (f.code, f.sheet, f.cell) for f in annotate_mod.sorted_findings(report)]
    for row in rows:
        severity, sheet, cell, link = row[0].value, row[2].value, row[3].value, row[3].hyperlink
        assert row[0].fill.fgColor.rgb.endswith(ERROR_FILL if severity == "error" else WARNING_FILL)
        assert row[5].alignment.wrap_text and all(c.data_type == "s" for c in row if c.value is not None)
        if sheet is None:
            assert link is None
        else:
            assert link.location == f"'{sheet}'!{cell}" and link.tooltip.startswith("Go to ")
            assert row[3].font.u == "single" and row[3].font.color.rgb == "FF0563C1"
            assert wb[sheet][cell] is not None  # the link goes to a cell that is there


def test_fast_copy_marks_cells_and_keeps_their_format(plain, tmp_path, fast_only):
    out = tmp_path / "out.xlsx"
    annotate(plain, report_for(plain), out)
    before, after = openpyxl.load_workbook(plain), openpyxl.load_workbook(out)
    vol = after["Volumes"]
    assert vol["D6"].fill.fgColor.rgb.endswith(ERROR_FILL) and vol["D6"].fill.fill_type == "solid"
    assert vol["C5"].fill.fgColor.rgb.endswith(WARNING_FILL)
    assert after["Late reworks"]["B5"].fill.fgColor.rgb.endswith(ERROR_FILL)
    d6 = vol["D6"].comment
    assert d6.author == "kpd-returns"
    assert d6.text.startswith("ERROR not-a-number:") and "\n\nERROR required-missing:" in d6.text
    assert vol["C5"].comment.text.startswith("WARNING implausible-value:") and "[AtW 7.25]" in vol["C5"].comment.text
    assert vol["C6"].comment.text.startswith("WARNING total-typed-over:")
    for sheet, ref in [("Volumes", "D6"), ("Volumes", "C5"), ("Header", "B9"), ("Late reworks", "B5")]:
        old, new = before[sheet][ref], after[sheet][ref]
        assert new.protection.locked == old.protection.locked
        assert new.number_format == old.number_format
        for attr in ("font", "border", "alignment"):  # style proxies: compare copies of what they hold
            assert copy.copy(getattr(new, attr)) == copy.copy(getattr(old, attr)), (ref, attr)
    assert vol["B5"].comment is None and copy.copy(vol["B5"].fill) == copy.copy(before["Volumes"]["B5"].fill)  # unmarked cells as they were


def test_fast_copy_creates_absent_cells_in_order(blank, tmp_path, fast_only):
    part = sheet_part(blank, "Volumes")
    xml = part_text(blank, part)
    assert 'r="F5"' not in xml and '<row r="30"' not in xml and '<row r="3"' not in xml
    report = FileReport(path=str(blank), name="blank.xlsx", return_id="mmir", findings=[
        F.make("required-missing", sheet="Volumes", cell=ref, field="x", field_label="X") for ref in ("F5", "B30", "A3", "E30")])
    out = tmp_path / "out.xlsx"
    assert annotate(blank, report, out) == 4
    vol = openpyxl.load_workbook(out)["Volumes"]
    for ref in ("F5", "B30", "A3", "E30"):
        assert vol[ref].fill.fgColor.rgb.endswith(ERROR_FILL) and vol[ref].comment.text.startswith("ERROR ")
    root = ET.fromstring(part_text(out, part))
    rows = [int(r.get("r")) for r in root.iter(MAIN + "row")]
    assert rows == sorted(rows) and {3, 30} <= set(rows)
    for row in root.iter(MAIN + "row"):
        cols = [annotate_mod.Z.parse_ref(c.get("r"))[1] for c in row.iter(MAIN + "c")]
        assert cols == sorted(cols)
    assert root.find(MAIN + "sheetData/" + MAIN + "row[@r='5']").get("spans") == "1:6"
    assert root.find(MAIN + "dimension").get("ref") == "A1:F30"


def test_fast_copy_marks_the_top_left_of_a_merged_range(plain, tmp_path, fast_only):
    wb = openpyxl.load_workbook(plain)
    wb["Volumes"].merge_cells("B22:C23")
    merged = tmp_path / "merged.xlsx"
    wb.save(merged)
    report = FileReport(path=str(merged), name="merged.xlsx", return_id="mmir", findings=[
        F.make("required-missing", sheet="Volumes", cell="C23", field="x", field_label="X")])
    out = tmp_path / "out.xlsx"
    assert annotate(merged, report, out) == 1
    vol = openpyxl.load_workbook(out)["Volumes"]
    assert vol["B22"].fill.fgColor.rgb.endswith(ERROR_FILL) and vol["B22"].comment is not None


@pytest.mark.parametrize("source", ["blank", "kpd-sample"])
def test_every_defined_name_points_at_the_same_cells(source, blank, tmp_path, fast_only):
    path = blank if source == "blank" else REPO / "samples/returns/kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"
    spec_sheet = "Volumes" if source == "blank" else "Staffing"
    report = FileReport(path=str(path), name=path.name, findings=[
        F.make("required-missing", sheet=spec_sheet, cell="C5", field="x", field_label="X")])
    out = tmp_path / "out.xlsx"
    annotate(path, report, out)
    before = names_by_cells(path)
    assert any(local for _, local, _ in before)  # the check means something: there are local names
    after = {n for n in names_by_cells(out) if n[1] != FINDINGS_SHEET}
    assert after == before
    old, new = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    assert {k: v.attr_text for k, v in new.defined_names.items()} == {k: v.attr_text for k, v in old.defined_names.items()}
    for ws in old.worksheets:
        assert {k: v.attr_text for k, v in new[ws.title].defined_names.items()} == {
            k: v.attr_text for k, v in ws.defined_names.items()}
        assert (new[ws.title].print_title_rows, new[ws.title].print_area) == (ws.print_title_rows, ws.print_area)


def test_values_formulas_and_cached_results_kept(tmp_path, fast_only):
    sample = REPO / "samples/returns/kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"
    part = sheet_part(sample, "Staffing")
    # The sample was saved by openpyxl (no cached results): give every formula one, as Excel would.
    source = rewrite(sample, tmp_path / "cached.xlsx", part,
                     lambda xml: re.sub(r"(<f>[^<]*</f>)<v ?/>", r"\g<1><v>42.5</v>", xml))
    report = FileReport(path=str(source), name="cached.xlsx", return_id="kpd", findings=[
        F.make("total-mismatch", sheet="Staffing", cell="D9", field="fte_total", field_label="FTE", found=1, expected=2),
        F.make("required-missing", sheet="Header", cell="B9", field="contact", field_label="Contact")])
    out = tmp_path / "out.xlsx"
    annotate(source, report, out)
    for data_only in (False, True):
        before = all_values(openpyxl.load_workbook(source, data_only=data_only))
        after = {k: v for k, v in all_values(openpyxl.load_workbook(out, data_only=data_only)).items()
                 if k[0] != FINDINGS_SHEET}
        assert after == before
    cached = openpyxl.load_workbook(out, data_only=True)["Staffing"]
    assert cached["D9"].value == 42.5 and "SUM(D5,D6,D7,D8)" in openpyxl.load_workbook(out)["Staffing"]["D9"].value
    # every part not edited is byte for byte the provider's
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        edited = {part, sheet_part(source, "Header"), "xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml",
                  "xl/_rels/workbook.xml.rels", "docProps/app.xml", sheet_part(source, "Cover")}
        for name in a.namelist():
            if name not in edited:
                assert a.read(name) == b.read(name), name


@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_x14_validation_survives_byte_for_byte(plain, tmp_path, fast_only):
    part = sheet_part(plain, "Volumes")
    source = rewrite(plain, tmp_path / "x14.xlsx", part, lambda xml: xml.replace("</worksheet>", X14_EXT + "</worksheet>"))
    out = tmp_path / "out.xlsx"
    annotate(source, report_for(source), out)
    xml = part_text(out, part)
    assert X14_EXT in xml
    assert xml.index("<legacyDrawing ") < xml.index("<extLst>")  # the schema's order: legacyDrawing before extLst
    assert openpyxl.load_workbook(out)["Volumes"]["D6"].comment is not None


def test_app_xml_lists_the_findings_sheet(blank, tmp_path, fast_only):
    out = tmp_path / "out.xlsx"
    annotate(blank, FileReport(path=str(blank), name="blank.xlsx"), out)
    app = part_text(out, "docProps/app.xml")
    assert "<vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>20</vt:i4>" in app
    assert '<TitlesOfParts><vt:vector size="130" baseType="lpstr"><vt:lpstr>Findings</vt:lpstr><vt:lpstr>Cover<' in app
    assert part_text(out, "docProps/core.xml") == part_text(blank, "docProps/core.xml")


def test_fast_copy_same_bytes_and_findings_name_taken(plain, tmp_path, fast_only):
    a, b = tmp_path / "a.xlsx", tmp_path / "sub" / "b.xlsx"
    annotate(plain, report_for(plain), a)
    annotate(plain, report_for(plain), b)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {ZIP_TIME}
    wb = openpyxl.load_workbook(plain)
    wb.create_sheet("findings")
    taken = tmp_path / "taken.xlsx"
    wb.save(taken)
    out = tmp_path / "out.xlsx"
    annotate(taken, report_for(taken), out)
    assert openpyxl.load_workbook(out).sheetnames[0] == "kpd-returns findings"


def test_text_with_markup_and_control_characters_is_written_as_text(plain, tmp_path, fast_only):
    report = FileReport(path=str(plain), name="a <b> & \"c\".xlsx", return_id="mmir", findings=[
        F.make("not-a-number", sheet="Volumes", cell="C5", field="x", field_label="X <y> & z",
               found="=1+1 </t>\x01\x0b & ]]>")])
    out = tmp_path / "out.xlsx"
    annotate(plain, report, out)
    wb = openpyxl.load_workbook(out)
    message = wb[FINDINGS_SHEET]["F4"].value
    assert "=1+1 </t> & ]]>" in message and "\x01" not in message
    assert wb["Volumes"]["C5"].comment.text.startswith("ERROR not-a-number:")
    assert wb[FINDINGS_SHEET]["A1"].value.startswith('a <b> & "c".xlsx')


def test_fallback_for_a_sheet_with_comments_keeps_them(filled, tmp_path, monkeypatch):
    used = []
    real = annotate_mod._openpyxl_copy
    monkeypatch.setattr(annotate_mod, "_openpyxl_copy", lambda *a: used.append(1) or real(*a))
    out = tmp_path / "out.xlsx"
    assert annotate(filled, report_for(filled), out) == 5
    assert used == [1]
    wb = openpyxl.load_workbook(out)
    c6 = wb["Volumes"]["C6"]
    assert c6.comment.text.startswith("WARNING total-typed-over:") and "Provider's own note" in c6.comment.text
    assert wb["Volumes"]["D6"].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert wb.sheetnames[0] == FINDINGS_SHEET


def test_comments_on_an_unmarked_sheet_do_not_need_the_fallback(filled, tmp_path, fast_only):
    report = report_for(filled)
    report.findings = [f for f in report.findings if f.sheet != "Volumes"]
    out = tmp_path / "out.xlsx"
    assert annotate(filled, report, out) == 2
    wb = openpyxl.load_workbook(out)
    assert wb["Volumes"]["C6"].comment.text == "Provider's own note"
    assert wb["Header"]["B9"].comment.text.startswith("ERROR required-missing:")


@pytest.mark.parametrize("damage, message", [
    (lambda xml: xml.replace("<sheetData>", "<sheetData><row>", 1), "damaged XML"),
    (lambda xml: '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "x">]>' + xml.split("?>", 1)[-1], "DOCTYPE"),
])
def test_damaged_or_hostile_sheet_refused(plain, tmp_path, damage, message):
    part = sheet_part(plain, "Volumes")
    bad = rewrite(plain, tmp_path / "bad.xlsx", part, damage)
    out = tmp_path / "out.xlsx"
    with pytest.raises(CopyError, match=message) as caught:
        annotate(bad, report_for(bad), out)
    assert "bad.xlsx" in str(caught.value) and "\n" not in str(caught.value)
    assert not out.exists()


def test_macros_refused(plain, tmp_path):
    bad = tmp_path / "macro.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 16)
    with pytest.raises(CopyError, match="macros"):
        annotate(bad, report_for(bad), tmp_path / "out.xlsx")


@pytest.mark.system
def test_libreoffice_opens_the_annotated_copy(plain, tmp_path):
    from libreoffice_helper import convert, make_profile, require_soffice

    require_soffice()
    out = tmp_path / "annotated.xlsx"
    annotate(plain, report_for(plain), out)
    proc = convert([out], tmp_path / "lo", make_profile(tmp_path / "profile"))
    converted = tmp_path / "lo" / out.name
    assert proc.returncode == 0 and converted.exists(), proc.stdout + proc.stderr
    wb = openpyxl.load_workbook(converted)
    assert wb.sheetnames[0] == FINDINGS_SHEET
    assert wb[FINDINGS_SHEET].cell(HEADER_ROW, 1).value == HEADERS[0]
    assert wb["Volumes"]["D6"].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert wb["Volumes"]["D6"].comment.text.startswith("ERROR not-a-number:")
    assert wb["Volumes"]["C5"].value == 9999


def test_an_unforeseen_failure_on_the_zip_path_falls_back_to_openpyxl(monkeypatch, tmp_path):
    """A file shape the zip editor did not foresee still gets its copy, through openpyxl."""
    import kpd_returns.render.annotate as A
    from kpd_returns.checks.validate import validate_file

    source = next(p for p in (Path(__file__).resolve().parents[1] / "samples" / "mistakes").glob("*.xlsx"))
    report = validate_file(source)
    assert report.findings

    def unforeseen(*_args, **_kw):
        raise IndexError("an element the zip editor did not expect")

    monkeypatch.setattr(A, "_zip_copy", unforeseen)
    out = tmp_path / "copy.xlsx"
    A.annotate(source, report, out)
    assert openpyxl.load_workbook(out).sheetnames[0] == A.FINDINGS_SHEET
