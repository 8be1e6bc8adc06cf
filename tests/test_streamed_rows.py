"""Rows streamed to XML and spliced into an xlsxwriter workbook read back exactly (kpd_returns.intake.streamed_rows)."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
import xlsxwriter

from kpd_returns.intake.streamed_rows import RowWriter, col_letter, splice

ROWS = [
    ["Northbridge Employment Ltd", "AtW-07", 12.0, None, "2026-10"],
    ["=SUM(A1:A3)", "+44 text", -3.5, "", "  leading and trailing  "],
    ["Fish & Chips <Ltd>", "tab\there", 0, "bell\x07char", "_x0041_ literal"],
    ["", None, float("nan"), True, "x" * 40_000],
]


def build(tmp_path, rows, first_row=3, name="Data"):
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": __import__("datetime").datetime(2024, 1, 1)})
    ws = wb.add_worksheet(name)
    other = wb.add_worksheet("After")
    other.write_string(0, 0, "unchanged")
    ws.write_string(0, 0, "A title")
    for c, h in enumerate(["A", "B", "C", "D", "E"]):
        ws.write_string(first_row, c, h)
    stream = RowWriter(first_row, 5, folder=tmp_path)
    stream.write_all(rows)
    ws.autofilter(first_row, 0, stream.last_row, 4)
    wb.close()
    splice(path, {name: stream})
    return path, stream


def test_rows_read_back_as_written_and_text_is_never_a_formula(tmp_path):
    path, stream = build(tmp_path, ROWS)
    assert stream.rows == 4 and stream.last_row == 7 and not stream.path.exists()
    ws = openpyxl.load_workbook(path)["Data"]
    assert ws.dimensions == "A1:E8" and ws.auto_filter.ref == "A4:E8"
    assert [c.value for c in ws[4]] == ["A", "B", "C", "D", "E"]
    first, second, third, fourth = ([c.value for c in ws[r]] for r in range(5, 9))
    assert first == ["Northbridge Employment Ltd", "AtW-07", 12, None, "2026-10"]
    assert second == ["=SUM(A1:A3)", "+44 text", -3.5, None, "  leading and trailing  "]
    assert ws["A6"].data_type == "s"  # text, not a formula
    assert third[:3] == ["Fish & Chips <Ltd>", "tab\there", 0]
    # Control characters and escape-like text read back as they do from xlsxwriter's own cells.
    reference = tmp_path / "reference.xlsx"
    book = xlsxwriter.Workbook(str(reference), {"constant_memory": True})  # inline strings, as ours
    sheet = book.add_worksheet("S")
    sheet.write_string(0, 0, "bell\x07char")
    sheet.write_string(0, 1, "_x0041_ literal")
    book.close()
    expected = [c.value for c in openpyxl.load_workbook(reference)["S"][1]]
    assert third[3:] == expected == ["bell_x0007_char", "_x005F_x0041_ literal"]  # Excel shows both unescaped
    assert fourth[0] is None and fourth[1] is None
    assert fourth[2] == "nan" and fourth[3] == "True"  # not numbers Excel can hold: kept as text
    assert len(fourth[4]) == 32_767  # Excel's cell limit
    assert openpyxl.load_workbook(path)["After"]["A1"].value == "unchanged"


def test_same_rows_same_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, _ = build(tmp_path / "a", ROWS)
    b, _ = build(tmp_path / "b", ROWS)
    assert a.read_bytes() == b.read_bytes()


def test_no_rows_leaves_the_header_only(tmp_path):
    path, stream = build(tmp_path, [])
    assert stream.rows == 0
    ws = openpyxl.load_workbook(path)["Data"]
    assert ws.max_row == 4 and ws["A4"].value == "A"


def test_a_sheet_name_that_needs_quoting(tmp_path):
    path, _ = build(tmp_path, ROWS[:1], name="KPD data's")
    assert openpyxl.load_workbook(path)["KPD data's"]["A5"].value == "Northbridge Employment Ltd"


def test_splice_refuses_a_sheet_without_data_and_cleans_up(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Empty")
    wb.close()
    before = path.read_bytes()
    stream = RowWriter(3, 2, folder=tmp_path)
    stream.write(["a", "b"])
    with pytest.raises(ValueError, match="no sheet data"):
        splice(path, {"Empty": stream})
    assert path.read_bytes() == before
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]  # no temporary files left


def test_column_letters():
    assert [col_letter(c) for c in (0, 7, 25, 26, 701, 702)] == ["A", "H", "Z", "AA", "ZZ", "AAA"]


def test_spliced_part_is_a_valid_package(tmp_path):
    path, _ = build(tmp_path, ROWS)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert xml.index("<sheetData>") < xml.index('<row r="5">') < xml.index("</sheetData>") < xml.index("<autoFilter")


def test_tables_added_to_constant_memory_sheets(tmp_path):
    """xlsxwriter cannot add a table in constant-memory mode; splice adds it as xlsxwriter would."""
    from kpd_returns.intake.streamed_rows import TableSpec

    path = tmp_path / "tables.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    links = wb.add_worksheet("Links")
    links.write_url(0, 0, "https://www.gov.uk/", string="GOV.UK")  # a sheet that already has relationships
    links.write_string(2, 0, "Name")
    links.write_string(3, 0, "x")
    ws = wb.add_worksheet("Totals & more")
    for c, h in enumerate(["Provider", "April 2026", 'Say "hi"']):
        ws.write_string(3, c, h)
    ws.write_string(4, 0, "A & B")
    ws.write_number(4, 1, 3)
    ws.write_string(5, 0, "Total")
    ws.write_formula(5, 1, "=SUBTOTAL(109,B5:B5)", None, 3)
    wb.close()
    splice(path, {}, {"Totals & more": TableSpec("tbl_totals", 3, 5, ["Provider", "April 2026", 'Say "hi"'],
                                                 [("label", "Total"), ("formula", "=SUBTOTAL(109,B5:B5)"), None]),
                      "Links": TableSpec("tbl_links", 2, 3, ["Name"])})
    book = openpyxl.load_workbook(path)
    (table,) = book["Totals & more"].tables.values()
    assert table.name == "tbl_totals" and table.ref == "A4:C6" and table.totalsRowCount == 1
    assert table.autoFilter.ref == "A4:C5"
    assert [c.name for c in table.tableColumns] == ["Provider", "April 2026", 'Say "hi"']
    assert table.tableColumns[0].totalsRowLabel == "Total"
    assert table.tableColumns[1].totalsRowFormula.attr_text == "SUBTOTAL(109,B5:B5)"
    (other,) = book["Links"].tables.values()
    assert other.ref == "A3:A4" and book["Links"]["A1"].hyperlink.target == "https://www.gov.uk/"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        types = zf.read("[Content_Types].xml").decode()
        assert types.count("spreadsheetml.table+xml") == 2


def test_a_table_on_a_sheet_larger_than_the_held_back_tail(tmp_path):
    from kpd_returns.intake.streamed_rows import TableSpec

    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Files")
    ws.write_string(0, 0, "Name")
    for r in range(1, 5001):
        ws.write_string(r, 0, f"file number {r} with a name long enough to make the sheet large")
    wb.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 300_000
    splice(path, {}, {"Files": TableSpec("tbl_files", 0, 5000, ["Name"])})
    sheet = openpyxl.load_workbook(path)["Files"]
    assert sheet.tables["tbl_files"].ref == "A1:A5001" and sheet["A5001"].value.startswith("file number 5000 ")
