"""Personal data in the places of a workbook that are not cell values (issue 19 item 8): phonetic
runs, custom document properties, comment authors, rich text split across runs, data-validation
prompts and error texts, headers and footers, sheet names. Every copy kpd-returns writes (the
annotated copy on both of its paths, the fix-totals copy, consolidate's rejected/ copies) masks
them all: each is checked by building a return with a different datum in each place, writing
raw XML into the zip where openpyxl cannot, running the real command, and reading every part of
every output zip (``leakcheck``: the parts as stored, their text without tags, their names).

What the validator says about them (README, "Personal data"): the text of a cell is scanned as
one string, its rich-text runs joined; the hidden places themselves raise no finding (they are not
part of the return's figures and never reach the ledger), but they are masked in every copy.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from cli_run import run_cli
from leakcheck import assert_no_leak
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table
from openpyxl.worksheet.datavalidation import DataValidation
from test_consolidate_gen import InboxBuilder, Provider

REPO = Path(__file__).resolve().parents[1]

# One datum a place, so that a leak names its place.
PLACES = {
    "phonetic run": "AB111111A",
    "phonetic run in an inline string": "AB121212C",
    "custom property value": "AB222222B",
    "custom property name": "owner.prop@example.com",
    "comment author": "author.person@example.com",
    "comment split across runs": "CE444444D",
    "cell split across runs": "PR888888A",
    "data-validation prompt": "EH555555A",
    "data-validation error": "07700 900555",
    "data-validation titles": "title.dv@example.com",
    "header": "JK666666B",
    "footer": "jo.footer@example.com",
    "sheet name": "ML777777C",
    "hyperlink tooltip": "WX999999D",
    "external link": "link.mailto@example.com",
    "table column name": "AB313131C",
    "custom XML": "jane.cx@example.com",
}
NEEDLES = list(PLACES.values())
SHEET = f"Notes {PLACES['sheet name']}"


def _with_openpyxl(data: bytes, comment_sheet: str) -> bytes:
    """The places openpyxl can write: a comment (on ``comment_sheet``), custom properties, a data
    validation, a header and footer, a sheet named with an NI number (a formula refers to it), a link."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[1]
    notes = wb.create_sheet(SHEET)
    notes["A1"] = "Notes for the central team"
    notes["A2"] = "SPLIT-HERE"  # made rich text in two runs below
    notes["A4"], notes["B4"], notes["A5"], notes["B5"] = f"Ref {PLACES['table column name']}", "Count", "x", 1
    notes.add_table(Table(displayName="NotesTable", ref="A4:B5"))
    ws_target = wb[comment_sheet]
    ws_target["H2"].comment = Comment("COMMENT-HERE", PLACES["comment author"])
    wb.custom_doc_props.append(StringProperty(name="Owner", value=PLACES["custom property value"]))
    wb.custom_doc_props.append(StringProperty(name=PLACES["custom property name"], value="yes"))
    dv = DataValidation(type="whole", operator="between", formula1="0", formula2="9", showInputMessage=True,
                        showErrorMessage=True, prompt=f"Ask {PLACES['data-validation prompt']} first",
                        error=f"Call {PLACES['data-validation error']}", promptTitle=PLACES["data-validation titles"],
                        errorTitle="Wrong")
    dv.add("H5")
    ws.add_data_validation(dv)
    ws.oddHeader.left.text = PLACES["header"]  # written "&LJK666666B": the code's L touches the datum
    ws.oddFooter.right.text = f"Sent by {PLACES['footer']}"
    ws.oddFooter.right.font = "Arial,Bold"
    ws["H7"] = f"='{SHEET}'!A1"
    wb.defined_names["NotesList"] = DefinedName("NotesList", attr_text=f"'{SHEET}'!$A$1:$A$2")
    ws["H8"] = "Link"
    ws["H8"].hyperlink = f"mailto:{PLACES['external link']}"
    ws["H8"].hyperlink.tooltip = f"Ask {PLACES['hyperlink tooltip']}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_SST_CT = b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
_SST_REL = b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'


def _raw_xml(data: bytes) -> bytes:
    """The places openpyxl cannot write, as raw XML: the notes' cells become shared strings, one with
    a phonetic run, one split across two runs; an inline string with a phonetic run; the comment's
    text split across two runs."""
    cell, phonetic = PLACES["cell split across runs"], PLACES["phonetic run"]
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main" count="2" uniqueCount="2">'
           f'<si><t>Notes for the central team</t><rPh sb="0" eb="5"><t>{phonetic}</t></rPh>'
           '<phoneticPr fontId="0" type="noConversion"/></si>'
           f'<si><r><t>Case {cell[:4]}</t></r><r><rPr><b/></rPr><t>{cell[4:]}</t></r></si></sst>').encode()
    inline = PLACES["phonetic run in an inline string"]
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if b"<t>SPLIT-HERE</t>" in body:  # the notes sheet
                body = body.replace(b'<c r="A1" t="inlineStr"><is><t>Notes for the central team</t></is></c>',
                                    b'<c r="A1" t="s"><v>0</v></c>')
                body = body.replace(b'<c r="A2" t="inlineStr"><is><t>SPLIT-HERE</t></is></c>',
                                    b'<c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Seen</t>'
                                    b'<rPh sb="0" eb="4"><t>' + inline.encode() + b"</t></rPh></is></c>")
                assert b'<v>1</v>' in body and b'<v>0</v>' in body
            elif info.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", _SST_CT + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"</Relationships>", _SST_REL + b"</Relationships>")
            elif re.fullmatch(r"xl/comments/comment\d+\.xml|xl/comments\d+\.xml", info.filename):
                split = PLACES["comment split across runs"]
                body = body.replace(b"<text><t>COMMENT-HERE</t></text>", (
                    f"<text><r><t>Ask {split[:4]}</t></r><r><rPr><b/></rPr><t>{split[4:]}</t></r></text>").encode())
                assert split[4:].encode() in body
            dst.writestr(info, body)
        dst.writestr("xl/sharedStrings.xml", sst)
        dst.writestr("customXml/item1.xml", f"<owner><mail>{PLACES['custom XML']}</mail></owner>".encode())
    return out.getvalue()


def hostile(data: bytes, comment_sheet: str) -> bytes:
    return _raw_xml(_with_openpyxl(data, comment_sheet))


def _bad_return(b: InboxBuilder, p: Provider) -> bytes:
    """A return with an error (a negative count), so it is rejected and its copy annotated."""
    return b.workbook("mmir", "2026-10", p, extra={("referrals", "in_month"): -5})


@pytest.fixture(scope="module")
def returns(tmp_path_factory):
    """Two rejected returns with personal data in every hidden place: the comment on a sheet with no
    finding (the annotated copy is made at the zip level) or on the sheet with the error (openpyxl)."""
    base = tmp_path_factory.mktemp("hidden")
    b = InboxBuilder(base / "inbox")
    p = Provider(1, "Test Provider 01 Ltd", "file")
    raw = _bad_return(b, p)
    sheets = openpyxl.load_workbook(io.BytesIO(raw)).sheetnames
    zip_path = b.put_file("files/zip-path.xlsx", hostile(raw, sheets[0]), "rejected")
    openpyxl_path = b.put_file("files/openpyxl-path.xlsx", hostile(raw, "Volumes"), "rejected")
    return base, zip_path, openpyxl_path


def test_the_hostile_returns_hold_every_datum(returns):
    """The builder put each datum where it says (so the tests below test something)."""
    _base, zip_path, openpyxl_path = returns
    for path in (zip_path, openpyxl_path):
        with zipfile.ZipFile(path) as z:
            blob = b"".join(z.read(n) for n in z.namelist())
        for place, needle in PLACES.items():
            assert needle[4:].encode() in blob, place


@pytest.mark.parametrize("which", ["zip-path", "openpyxl-path"])
def test_validate_annotate_masks_every_hidden_place(returns, which, tmp_path):
    base, *_ = returns
    path = base / "inbox" / "files" / f"{which}.xlsx"
    out = tmp_path / "copy.xlsx"
    proc = run_cli("validate", str(path), "--annotate", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert out.is_file(), proc.stdout + proc.stderr
    assert_no_leak(tmp_path, NEEDLES, streams=[proc.stdout, proc.stderr])
    _opens_with_the_sheet_renamed(out)


def test_validate_fix_totals_masks_every_hidden_place(returns, tmp_path):
    base, zip_path, _ = returns
    out = tmp_path / "fixed.xlsx"
    proc = run_cli("validate", str(zip_path), "--fix-totals", str(out), cwd=tmp_path)
    assert out.is_file(), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert_no_leak(tmp_path, NEEDLES, streams=[proc.stdout, proc.stderr])
    _opens_with_the_sheet_renamed(out)


def test_consolidate_rejected_copies_mask_every_hidden_place(returns):
    base, *_ = returns
    out = base / "out"
    proc = run_cli("consolidate", str(base / "inbox"), "--out", str(out), "--as-of", "2026-11-27", "--workers", "1",
                   "--no-packs", cwd=base)
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(f["outcome"] for f in summary["files"]) == ["rejected", "rejected"]
    copies = sorted((out / "rejected").glob("*.annotated.xlsx"))
    assert len(copies) == 2, proc.stdout + proc.stderr
    assert_no_leak(out, NEEDLES, ledger=out / "ledger.sqlite", streams=[proc.stdout, proc.stderr])
    for copy in copies:
        _opens_with_the_sheet_renamed(copy)


def _opens_with_the_sheet_renamed(path: Path) -> None:
    """The copy still opens, the sheet is renamed with its NI number masked, and the formula that
    referred to the sheet refers to its new name."""
    wb = openpyxl.load_workbook(path)
    renamed = [name for name in wb.sheetnames if name.startswith("Notes ")]
    assert renamed == ["Notes MLxxxxx7C"], wb.sheetnames
    formulas = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=") and "Notes" in c.value]
    assert formulas == ["='Notes MLxxxxx7C'!A1"], formulas
    assert wb.defined_names["NotesList"].attr_text == "'Notes MLxxxxx7C'!$A$1:$A$2"


def _rich(data: bytes, marker: str, runs: list[str]) -> bytes:
    """``data`` with the string ``marker`` (shared or inline) written as rich text in ``runs``, raw XML."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    rich = "".join(f"<r><rPr><b/></rPr><t>{run}</t></r>" if i % 2 else f"<r><t>{run}</t></r>"
                   for i, run in enumerate(runs)).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            body = re.sub(rb"<t(?: [^>]*)?>" + marker.encode() + rb"</t>", lambda _m: rich, body)
            dst.writestr(info, body)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    assert runs[-1].encode() in blob and marker.encode() not in blob
    return out.getvalue()


def test_validate_scans_a_cell_split_across_runs_as_one_string(tmp_path):
    """A contact cell holding 'Call AB12' + '3456C' (bold) and 'jo.split@exa' + 'mple.com': one NI
    number and one e-mail address, found at the cell and quoted masked."""
    b = InboxBuilder(tmp_path / "in")
    data = b.workbook("mmir", "2026-10", Provider(1, "Test Provider 01 Ltd", "file"), contact="SPLIT-CONTACT")
    data = _rich(data, "SPLIT-CONTACT", ["Call AB12", "3456C or jo.split@exa", "mple.com"])
    path = b.put_file("files/split.xlsx", data, "rejected")
    proc = run_cli("validate", str(path), "--format", "json", cwd=tmp_path)
    report = json.loads(proc.stdout)["files"][0]
    found = sorted(f["found"] for f in report["findings"] if f["code"] == "personal-data")
    assert found == ["AB*****6C", "j***@***.com"], report["findings"]
    assert_no_leak(None, ["AB123456C", "jo.split@example.com"], streams=[proc.stdout, proc.stderr])


def test_a_damaged_comments_part_gives_no_copy_in_one_sentence_not_a_hang(returns, tmp_path):
    """Text parts are masked with patterns that assume well-formed XML: a comments part of 40,000
    unclosed rich-text elements (not read by the validator) is refused at once, never scanned for
    minutes, and no copy is written."""
    import time

    base, zip_path, _ = returns
    src = zipfile.ZipFile(zip_path)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if re.fullmatch(r"xl/comments/comment\d+\.xml", info.filename):
                body = body.replace(b"<commentList>", b"<commentList>" + b"<text><r><t>x</t></r>" * 40000)
            dst.writestr(info, body)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(data.getvalue())
    start = time.monotonic()
    proc = run_cli("validate", str(path), "--annotate", str(tmp_path / "copy.xlsx"), cwd=tmp_path)
    assert time.monotonic() - start < 60
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "copy.xlsx").exists()
    assert "damaged.xlsx" in proc.stdout + proc.stderr


def test_hidden_places_raise_no_finding_and_are_never_quoted(returns, tmp_path):
    """The decision (README, "Personal data"): only the return's cells are checked, so the hidden
    places raise no finding of their own; the report quotes none of them."""
    _base, zip_path, _ = returns
    proc = run_cli("validate", str(zip_path), "--format", "json", cwd=tmp_path)
    report = json.loads(proc.stdout)["files"][0]
    assert [f["code"] for f in report["findings"]] == ["below-minimum"]
    assert_no_leak(None, NEEDLES, streams=[proc.stdout, proc.stderr])
