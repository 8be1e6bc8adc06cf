"""Templates that print (issue 15 item 6): page setup on every sheet, and a LibreOffice PDF render
of each blank template within a stated number of pages with no text printed over other text."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import make_profile, require_soffice

from kpd_returns.spec.return_spec import META_SHEET
from kpd_returns.author.template import write_template

# Measured with LibreOffice 7.4 on 2026-12-07: KPD 11 pages, MMIR 43 (the README says so; on 2026-12-01, before
# the Checks and Explanations sheets grew, 10 and 41; 42 before the Checks sheet gave each error its basis). The bound leaves a little room for another LibreOffice
# version's fonts.
PAGE_BOUND = {"kpd": 11, "mmir": 45}


def _template(spec) -> bytes:
    buf = io.BytesIO()
    write_template(spec, buf)
    return buf.getvalue()


@pytest.mark.parametrize("return_id", ["kpd", "mmir"])
def test_every_sheet_has_page_setup(specs, return_id):
    spec = specs[return_id]
    wb = openpyxl.load_workbook(io.BytesIO(_template(spec)))
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        assert ws.page_setup.paperSize == 9, ws.title  # A4
        # one page wide (1 is the default, left out of the file), as many pages tall as it needs
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_area, ws.title
        if ws.title != "Cover":
            assert ws.print_title_rows == "$4:$4", ws.title


def _line_boxes(pdf: bytes) -> list[list[tuple[float, float, float, float, str]]]:
    html = subprocess.run(["pdftotext", "-bbox-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    pages = []
    for page in html.decode("utf-8").split("<page ")[1:]:
        boxes = []
        for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
                             page, re.S):
            words = " ".join(re.findall(r">([^<]*)</word>", m.group(5)))
            boxes.append((*map(float, m.groups()[:4]), words))
        pages.append(boxes)
    return pages


def _overlaps(pages, slack: float = 2.5) -> list[tuple]:
    """Lines of text whose boxes overlap by more than ``slack`` points both ways: text printed
    over its neighbour (the wrapped lines of one cell touch by about a point)."""
    out = []
    for n, boxes in enumerate(pages, start=1):
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack:
                    out.append((n, a[4], b[4]))
    return out


@pytest.mark.system
def test_blank_templates_print_within_the_bound_with_no_overlapping_text(specs, tmp_path):
    soffice = require_soffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed: apt-get install poppler-utils")
    profile = make_profile(tmp_path / "profile")
    for return_id in PAGE_BOUND:
        (tmp_path / f"{return_id}.xlsx").write_bytes(_template(specs[return_id]))
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path / "pdf"), *(str(tmp_path / f"{r}.xlsx") for r in PAGE_BOUND)],
                   capture_output=True, timeout=300, check=True)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"prints a blank KPD template on (\d+) pages and a blank MMIR on (\d+)", readme)
    assert stated, "the README no longer states the blank templates' printed pages"
    for (return_id, bound), said in zip(PAGE_BOUND.items(), stated.groups()):
        pages = _line_boxes((tmp_path / "pdf" / f"{return_id}.pdf").read_bytes())
        assert 1 < len(pages) <= bound, (return_id, len(pages))
        assert _overlaps(pages) == [], return_id
        # the README's figure is the page count measured (issue 19 item 20: it said 10 and 41, not 11 and 42)
        assert len(pages) == int(said), (return_id, len(pages), "README says", said)
