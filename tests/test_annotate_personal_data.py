"""Annotated copies mask personal data (issue 10, item 1): a marked cell holding any shows the masked
text and says so in its comment, and the raw text survives in no part of the copy (shared strings,
inline strings, comments, the Findings sheet), on the zip path and on the openpyxl fallback."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from leakcheck import assert_no_leak

from kpd_returns.spec import findings as F
from kpd_returns.spec import layout
from kpd_returns.author import template
from kpd_returns.spec.model import FileReport
from kpd_returns.render import annotate_openpyxl
from kpd_returns.render.annotate import annotate
from kpd_returns.render.annotate_marks import MASKED_NOTE
from kpd_returns.spec.return_spec import get_spec

NEEDLES = ["AB123456C", "07700 900123", "jane.doe@example.com", "QQ123456C"]
NAME = "Return for QQ123456C.xlsx"


def _cell(field: str, key: str = "") -> tuple[str, str]:
    slot = layout.slot_index(get_spec("mmir"))[(field, key)]
    return slot.sheet, slot.cell


def build(folder: Path, provider_comment: str | None = None) -> Path:
    spec = get_spec("mmir")
    blank = folder / "blank.xlsx"
    template.write_template(spec, blank)
    wb = openpyxl.load_workbook(blank)
    sheet, cell = _cell("contact")
    wb[sheet][cell] = "Call Jane on 07700 900123"
    sheet, cell = _cell("referrals", "in_month")
    wb[sheet][cell] = "AB123456C"
    wb["Header"]["H40"] = "AB123456C"  # the same text in a cell no check reads: the shared string is one
    wb.properties.creator = "jane.doe@example.com"
    if provider_comment:
        wb[sheet]["A1"].comment = openpyxl.comments.Comment(provider_comment, "Provider")
    path = folder / NAME
    wb.save(path)
    return path


def report_for(path: Path) -> FileReport:
    c_sheet, c_cell = _cell("contact")
    r_sheet, r_cell = _cell("referrals", "in_month")
    return FileReport(path=str(path), name=path.name, return_id="mmir", version="1.0", period="2026-10", findings=[
        F.make("personal-data", sheet=c_sheet, cell=c_cell, field="contact", field_label="MI contact",
               found="07*** ***123", detail="a phone number", guidance="AtW 7.25"),
        F.make("not-a-number", sheet=r_sheet, cell=r_cell, field="referrals", field_label="Referrals",
               found="AB123456C", guidance="AtW 7.25"),
    ])


def check_copy(out: Path) -> None:
    assert_no_leak(out.parent, NEEDLES)
    wb = openpyxl.load_workbook(out)
    for (sheet, cell), masked in ((_cell("contact"), "Call Jane on 07*** ***123"),
                                  (_cell("referrals", "in_month"), "AB*****6C")):
        assert wb[sheet][cell].value == masked
        assert wb[sheet][cell].comment.text.startswith(MASKED_NOTE)
        assert wb[sheet][cell].fill.fgColor.rgb.endswith("FFC7CE")  # still marked
    assert "QQ*****6C" in wb.worksheets[0]["A1"].value  # the verdict line names the file masked


@pytest.fixture
def fast_only(monkeypatch):
    def refuse(*_args, **_kw):
        raise AssertionError("the openpyxl fallback was used")
    monkeypatch.setattr(annotate_openpyxl, "load_full", refuse)


_INLINE = re.compile(r'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"><is><t[^>]*>([^<]*)</t></is></c>')
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def to_shared_strings(source: Path, target: Path) -> Path:
    """``source`` (openpyxl writes inline strings) with every inline string cell made a shared string,
    as Excel and LibreOffice save them."""
    items: dict[str, int] = {}

    def shared(m: re.Match) -> str:
        index = items.setdefault(m.group(3), len(items))
        return f'<c r="{m.group(1)}"{m.group(2)} t="s"><v>{index}</v></c>'

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename).decode("utf-8")
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _INLINE.sub(shared, data)
            elif info.filename == "[Content_Types].xml":
                data = data.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace("</Relationships>", f'<Relationship Id="rIdSst" Type="{SST_TYPE}" '
                                    'Target="sharedStrings.xml"/></Relationships>')
            dst.writestr(info, data.encode("utf-8"))
        sst = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in items)
        dst.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     f'openxmlformats.org/spreadsheetml/2006/main" count="{len(items)}" uniqueCount="{len(items)}">'
                     f"{sst}</sst>")
    return target


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_zip_path_masks_marked_cells_everywhere(tmp_path, fast_only, shared):
    source = build(tmp_path)
    if shared:
        (tmp_path / "shared").mkdir()
        source = to_shared_strings(source, tmp_path / "shared" / NAME)
        with zipfile.ZipFile(source) as z:
            assert "AB123456C" in z.read("xl/sharedStrings.xml").decode()
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "copy.xlsx"
    assert annotate(source, report_for(source), out) == 2
    check_copy(out)
    assert openpyxl.load_workbook(out)["Header"]["H40"].value == "AB*****6C"  # unmarked, masked all the same


def test_openpyxl_fallback_masks_cells_and_comments(tmp_path, monkeypatch):
    source = build(tmp_path, provider_comment="Ask jane.doe@example.com")
    used = []
    real = annotate_openpyxl.load_full
    monkeypatch.setattr(annotate_openpyxl, "load_full", lambda *a, **k: used.append(1) or real(*a, **k))
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "copy.xlsx"
    annotate(source, report_for(source), out)
    assert used, "the fallback was not taken"
    check_copy(out)


def test_formulas_keep_their_references_and_lose_personal_data_in_their_text():
    from kpd_returns.spec.personal_data import mask_formula

    assert mask_formula("SUM(AB12:AB123456)") == "SUM(AB12:AB123456)"
    assert mask_formula('IF(A1>0,"AB123456C","")') == 'IF(A1>0,"AB*****6C","")'


def test_annotated_names_are_masked():
    from kpd_returns.render.annotate import annotated_name

    assert annotated_name("in/Return for AB123456C.xlsx") == "Return for ABxxxxx6C.annotated.xlsx"


def test_fixed_totals_copy_masks_personal_data_too(tmp_path):
    from kpd_returns.render.fix_totals import fix_totals

    source = build(tmp_path)
    (tmp_path / "out").mkdir()
    fix_totals(source, report_for(source), tmp_path / "out" / "fixed.xlsx")
    assert_no_leak(tmp_path / "out", NEEDLES)


def test_zip_path_masks_a_rich_text_inline_string_split_across_runs(tmp_path, fast_only):
    source = build(tmp_path)
    sheet, cell = _cell("contact")
    part = next(s.part for s in __import__("kpd_returns.read.workbook", fromlist=["x"]).open_workbook(source).sheets
                if s.name == sheet)
    rich = tmp_path / "rich.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(rich, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                text, n = re.subn(rf'(<c r="{cell}"[^>]*?t="inlineStr">)<is>.*?</is>',
                                  r'\1<is><r><t>Call Jane on 07700 </t></r><r><rPr><b/></rPr><t>900123</t></r></is>',
                                  data.decode("utf-8"))
                assert n == 1
                data = text.encode("utf-8")
            dst.writestr(info, data)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "copy.xlsx"
    annotate(rich, report_for(rich), out)
    assert_no_leak(out.parent, NEEDLES)
    copy = openpyxl.load_workbook(out)
    assert copy[sheet][cell].value == "Call Jane on 07*** ***123"
    assert copy[sheet][cell].comment.text.startswith(MASKED_NOTE)


def test_second_copy_masks_only_the_parts_that_differ(tmp_path, monkeypatch):
    """Issue 24: a part masked once (the same bytes in another copy) is not masked again, and what the
    second copy holds of personal data is still masked in it."""
    from kpd_returns.render import _zipmask

    _zipmask._PARTS_DONE.clear()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = build(tmp_path / "a")
    annotate(first, report_for(first), tmp_path / "a-annotated.xlsx")
    calls = []
    real = _zipmask.mask_text_nodes
    monkeypatch.setattr(_zipmask, "mask_text_nodes", lambda pkg, part, mask: calls.append(part) or real(pkg, part, mask))
    second = build(tmp_path / "b")
    out = tmp_path / "b-annotated.xlsx"
    annotate(second, report_for(second), out)
    sheets = [n for n in zipfile.ZipFile(second).namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(calls) < len(sheets) / 2, calls
    assert_no_leak(out, NEEDLES)
