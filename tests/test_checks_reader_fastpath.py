"""The worksheet fast path (kpd_returns.read.sheet_xml._parse_sheet_fast) reads exactly what the
expat parser reads, and hands anything unusual to expat, which keeps the safety guarantees."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from test_checks_helpers import build, kpd_cells, mmir_cells

from kpd_returns.read import sheet_xml as W

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def sheet(body: str, head: str = HEAD) -> bytes:
    return (head + "<sheetData>" + body + "</sheetData></worksheet>").encode("utf-8")


def _parts(xlsx: bytes):
    z = zipfile.ZipFile(io.BytesIO(xlsx))
    shared = W._parse_shared_strings(z.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in z.namelist() else []
    for name in z.namelist():
        if name.startswith("xl/worksheets/sheet"):
            yield name, z.read(name), shared


def _same(fast, slow) -> bool:
    """Equal, except that expat keeps an empty inline string ('') where the fast path has no cell."""
    return fast == {k: v for k, v in slow.items() if not (v.value == "" and v.formula is None)}


def _workbooks():
    yield build("kpd", kpd_cells("Q2", staff_central__may="12 FTE", contact__="A & B <team>"))
    yield build("mmir", mmir_cells(staff_skills__row1="line one\nline two ‘quoted’ é"))
    for p in sorted(SAMPLES.glob("*/*.xlsx")):
        yield p.read_bytes()


def test_fast_path_reads_what_expat_reads():
    n = 0
    for xlsx in _workbooks():
        for name, xml, shared in _parts(xlsx):
            fast = W._parse_sheet_fast(xml, shared)
            assert fast is not None, name
            assert _same(fast, W._parse_sheet_expat(xml, shared)), name
            n += 1
    assert n > 20


@pytest.mark.parametrize("body", [
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#233;&#x263A;</t></is></c></row>',
    '<row r="1"><c r="A1" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/><color rgb="FF0000"/></rPr><t>text</t></r></is></c></row>',
    '<row r="1"><c r="B2" s="1"/><c r="C2" s="1" t="n" /><c r="D2"><v>2.5</v></c><c r="E2"><f>SUM(A1:A2)</f><v>3</v></c></row>',
    '<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">B1*2</f><v>4</v></c><c r="A2"><f t="shared" si="0"/><v>6</v></c></row>',
    '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="e"><v>#DIV/0!</v></c><c r="C1" t="str"><f>"x"</f><v>x</v></c></row>',
    '<row r="1"><c r="A1" t="d"><v>2026-10-01T00:00:00</v></c><c r="B1" t="inlineStr"><is><t xml:space="preserve">  padded  </t></is></c></row>',
    '<row r="1"/><row r="2"><c r="A2"><v/></c></row>',
    '<row r="1"><c r="A1" t="inlineStr"><is><t>one\r\ntwo\rthree</t></is></c></row>',
])
def test_tricky_cells_match_expat(body):
    xml = sheet(body)
    fast = W._parse_sheet_fast(xml, [])
    assert fast is not None
    assert _same(fast, W._parse_sheet_expat(xml, []))


@pytest.mark.parametrize("xml", [
    sheet('<row r="1"><c r="A1"><v>1</v></c></row>').replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet'),
    sheet('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x]]></t></is></c></row>'),
    sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>'),
    sheet('<row r="1"><c s="1" r="A1"><v>1</v></c></row>'),
    sheet('<row r="1"><c><v>1</v></c></row>'),
    sheet('<row r="1"><!-- note --><c r="A1"><v>1</v></c></row>'),
    sheet('<row r="1"><c r="A1"><v>1</v></c></row>', HEAD.replace("UTF-8", "UTF-16")),
    sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&#0;</t></is></c></row>'),
    sheet('<row r="1"><c r="A1"><v>1</v><v>2</v></row>'),
    b'<?xml version="1.0"?><x:worksheet xmlns:x="urn:x"><x:sheetData><x:row><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>',
])
def test_anything_unusual_goes_to_expat(xml):
    assert W._parse_sheet_fast(xml, []) is None


def test_a_doctype_is_still_refused():
    xml = sheet('<row r="1"><c r="A1"><v>1</v></c></row>').replace(b"<worksheet", b"<!DOCTYPE worksheet><worksheet")
    with pytest.raises(W.UnreadableFile) as err:
        W._parse_sheet(xml, [])
    assert err.value.code == "file-hostile-xml"


def test_a_missing_shared_string_is_still_corrupt():
    with pytest.raises(W.UnreadableFile) as err:
        W._parse_sheet(sheet('<row r="1"><c r="A1" t="s"><v>7</v></c></row>'), ["only one"])
    assert err.value.code == "file-corrupt"


def test_pieces_seen_before_are_not_read_again(monkeypatch):
    """Issue 24: a second file made from the same template reads only the pieces it has not seen
    (labels and empty cells are remembered), and what it reads is what a fresh read gives."""
    W._PIECES.clear()
    W._SHARED_PIECES.clear()
    first = build("mmir", mmir_cells(staff_skills__row1="one"))
    second = build("mmir", mmir_cells(staff_skills__row1="two"))
    for _name, xml, shared in _parts(first):
        W._parse_sheet_fast(xml, shared)
    calls = []
    real = W._fast_parts
    monkeypatch.setattr(W, "_fast_parts", lambda head, inner: calls.append(head) or real(head, inner))
    cells = 0
    for name, xml, shared in _parts(second):
        fast = W._parse_sheet_fast(xml, shared)
        assert _same(fast, W._parse_sheet_expat(xml, shared)), name
        cells += len(fast)
    assert 0 < len(calls) < cells / 10


def test_remembered_shared_string_cells_take_each_files_own_strings():
    """A remembered piece holding a shared-string index is looked up in the file's own table."""
    body = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    assert W._parse_sheet_fast(sheet(body), ["Label", "first"])[(1, 2)].value == "first"
    assert W._parse_sheet_fast(sheet(body), ["Label", "second"])[(1, 2)].value == "second"
    with pytest.raises(W.UnreadableFile):
        W._parse_sheet_fast(sheet(body), ["only one"])


def test_workbook_part_parsed_once_per_template(monkeypatch):
    """Issue 24: files made from one template share their workbook part; it is parsed once, and a file
    whose workbook part differs (a defined name moved) is parsed on its own."""
    from kpd_returns.read.workbook import open_workbook

    W._WORKBOOKS.clear()
    calls = []
    real = W._parse_workbook_xml_once
    monkeypatch.setattr(W, "_parse_workbook_xml_once", lambda xml: calls.append(1) or real(xml))
    first = open_workbook(build("mmir", mmir_cells(staff_skills__row1="one")))
    second = open_workbook(build("mmir", mmir_cells(staff_skills__row1="two")))
    assert len(calls) == 1 and first.defined_names == second.defined_names
    second.defined_names["changed"] = "x"  # each file has its own copy
    assert "changed" not in open_workbook(build("mmir", mmir_cells())).defined_names
    z = zipfile.ZipFile(io.BytesIO(build("mmir", mmir_cells())))
    moved = io.BytesIO()
    with zipfile.ZipFile(moved, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"$C$5", b"$C$6", 1)
            out.writestr(info, data)
    assert open_workbook(moved.getvalue()).defined_names != first.defined_names and len(calls) == 2
