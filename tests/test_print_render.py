"""Printing (issue 12 item 10): the LibreOffice PDF render of every Excel pack of the generated real
season (kpd_returns/author/season.py) and of its consolidated workbook has no blank page and a page count
within the bounds stated in the README ("Printing"). Needs LibreOffice and pypdf (the test extras)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from libreoffice_helper import make_profile, require_soffice
from test_template_print import _line_boxes, _overlaps
from typer.testing import CliRunner

from kpd_returns.cli.main import app

pytestmark = pytest.mark.system
# The README's bounds (measured with the Customer Insight and JOBS II contracts in the season: packs 6-22,
# consolidated 53; before them packs 6-18, consolidated 36; with JOBS II's profile percentages and 6.17 times,
# issue 20: packs 6-23, consolidated 56). With the three WHP contracts (issue 22): provider packs 6-24, the
# national 38 (it lists the 144 WHP extracts among its data sources and the WHP standards and levels); with the
# AtW Yearly MI of three contracts (issue 21): consolidated 61; with the Action Plan review and the Yearly MI
# in the packs (issue 21): provider packs 6-26, the national 39, consolidated 64.
PACK_PAGES, NATIONAL_PAGES, CONSOLIDATED_PAGES = 28, 42, 68


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The folder of PDFs LibreOffice printed from the season's packs, its consolidated workbook and an
    annotated copy of a sample mistake."""
    soffice = require_soffice()
    from kpd_returns.author import season
    from kpd_returns.packs.build import write_packs
    from kpd_returns.intake.consolidate import consolidate

    tmp = tmp_path_factory.mktemp("print")
    ledger = season.build_ledger(tmp / "ledger.sqlite")
    packs = write_packs(ledger, tmp / "packs", season.REPORT_MONTH, formats=("xlsx",), as_of=season.AS_OF,
                        register=season.register(), whp=season.whp_register())
    result = consolidate([], tmp / "cons", db=ledger, register=season.register(), as_of=season.AS_OF, workers=1,
                         progress=False)
    annotated = tmp / "annotated.xlsx"
    mistake = Path(__file__).resolve().parent.parent / "samples" / "mistakes" / "mistake-typed-over-total.xlsx"
    assert CliRunner().invoke(app, ["validate", str(mistake), "--annotate", str(annotated)]).exit_code == 1
    sources = [p for p in packs if p.suffix == ".xlsx"] + [result.workbook, annotated]
    profile = make_profile(tmp / "profile")
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp / "pdf"), *map(str, sources)], capture_output=True, timeout=600,
                   env=dict(os.environ, HOME=str(profile)))
    assert len(list((tmp / "pdf").glob("*.pdf"))) == len(sources), "LibreOffice did not render every workbook"
    return tmp / "pdf"


@pytest.fixture(scope="module")
def pdfs(rendered):
    pypdf = pytest.importorskip("pypdf")
    return {p.stem: pypdf.PdfReader(p) for p in sorted(rendered.glob("*.pdf")) if p.stem != "annotated"}


def test_no_blank_page_and_page_counts_within_the_stated_bounds(pdfs):
    for name, reader in pdfs.items():
        blank = [i + 1 for i, page in enumerate(reader.pages) if not page.extract_text().strip()]
        assert blank == [], f"{name}: blank pages {blank}"
        bound = CONSOLIDATED_PAGES if name == "consolidated" else NATIONAL_PAGES if name.endswith("-national") \
            else PACK_PAGES
        assert len(reader.pages) <= bound, f"{name}: {len(reader.pages)} pages"


def test_every_printed_page_is_a4_landscape(pdfs):
    for name, reader in pdfs.items():
        for page in reader.pages:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            assert (round(width), round(height)) == (842, 595), f"{name}: {width} x {height} points"


# -- issue 19 item 19: what overlapped, clipped or sat under the wrong heading when printed ---------------
def _pages(rendered, stem: str):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed: apt-get install poppler-utils")
    return _line_boxes((rendered / f"{stem}.pdf").read_bytes())


def _words(rendered, stem: str) -> list[list[tuple[float, float, float, float, str]]]:
    html = subprocess.run(["pdftotext", "-bbox", str(rendered / f"{stem}.pdf"), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    return [[(*map(float, m.groups()[:4]), m.group(5)) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        for page in html.split("<page ")[1:]]


# The pack sheets without charts, by their titles (charts are drawn over the cells holding their own titles).
NO_CHARTS = ("Contract performance pack:", "Contents", "What needs attention", "Submissions register", "KPI 1 to 5",
             "Social Value", "Returns used", "Notes")


def test_covers_and_tables_print_with_no_text_over_other_text(rendered):
    """The consolidated Cover, the pack Cover and the KPI header row overlapped or were cut off. Charts
    are drawn over the cells holding their own titles, so sheets with charts are left out."""
    cons = _pages(rendered, "consolidated")
    assert _overlaps(cons) == []
    assert "current returns" in " ".join(b[4] for b in cons[0])  # the Cover's text is on its page
    for pdf in sorted(rendered.glob("pack-*.pdf")):
        pages = _pages(rendered, pdf.stem)
        checked, sheet = [], ""
        for page in pages:
            lines = [b[4] for b in page]
            # a sheet's first page has its title just above the "Protective marking:" line
            sheet = next((lines[i - 1] for i, t in enumerate(lines) if t.startswith("Protective marking:") and i),
                         sheet)
            if sheet.startswith(NO_CHARTS):
                checked.append(page)
        assert len(checked) >= 4, pdf.stem
        assert _overlaps(checked) == [], pdf.stem
        # a Cover line is wrapped inside the page, not cut off at its edge
        assert max(b[2] for b in pages[0]) < 842 - 20, pdf.stem


def test_validation_summary_numbers_sit_under_their_headings(rendered):
    pages = _words(rendered, "consolidated")
    (page,) = [p for p in pages if any(w[4] == "summary:" for w in p) and any(w[4] == "Findings" for w in p)]
    heads = {w[4]: w for w in page if w[4] in ("Findings", "Files")}
    rows = {round(w[1]) for w in page if re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", w[4])}  # a finding code's row
    numbers = [w for w in page if w[4].isdigit() and round(w[1]) in rows]
    assert numbers
    for w in numbers:  # a figure's right edge is its heading's right edge, within a couple of points
        assert min(abs(w[2] - heads[h][2]) for h in ("Findings", "Files")) < 3, w


def test_annotated_findings_sheet_prints_landscape_and_whole_width(rendered):
    pages = _words(rendered, "annotated")
    first = {w[4] for w in pages[0]}
    assert {"Severity", "Code", "Sheet", "Cell", "Field", "Message", "Guidance"} <= first
    pypdf = pytest.importorskip("pypdf")
    page = pypdf.PdfReader(rendered / "annotated.pdf").pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
