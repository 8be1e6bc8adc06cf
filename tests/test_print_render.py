"""Printing (issue 12 item 10): the LibreOffice PDF render of every Excel pack of the generated real
season (kpd_returns/author/season.py) and of its consolidated workbook has no blank page and a page count
within the bounds stated in the README ("Printing"). Needs LibreOffice and pypdf (the test extras)."""

from __future__ import annotations

import os
import subprocess

import pytest
from libreoffice_helper import make_profile, require_soffice

pytestmark = pytest.mark.system
# The README's bounds (measured with the Customer Insight and JOBS II contracts in the season: packs 6-22,
# consolidated 53; before them packs 6-18, consolidated 36; with JOBS II's profile percentages and 6.17 times,
# issue 20: packs 6-23, consolidated 56).
PACK_PAGES, CONSOLIDATED_PAGES = 25, 60


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    soffice = require_soffice()
    pypdf = pytest.importorskip("pypdf")
    from kpd_returns.author import season
    from kpd_returns.packs.build import write_packs
    from kpd_returns.intake.consolidate import consolidate

    tmp = tmp_path_factory.mktemp("print")
    ledger = season.build_ledger(tmp / "ledger.sqlite")
    packs = write_packs(ledger, tmp / "packs", season.REPORT_MONTH, formats=("xlsx",), as_of=season.AS_OF,
                        register=season.register())
    result = consolidate([], tmp / "cons", db=ledger, register=season.register(), as_of=season.AS_OF, workers=1,
                         progress=False)
    sources = [p for p in packs if p.suffix == ".xlsx"] + [result.workbook]
    profile = make_profile(tmp / "profile")
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp / "pdf"), *map(str, sources)], capture_output=True, timeout=600,
                   env=dict(os.environ, HOME=str(profile)))
    out = {p.stem: pypdf.PdfReader(p) for p in sorted((tmp / "pdf").glob("*.pdf"))}
    assert len(out) == len(sources), "LibreOffice did not render every workbook"
    return out


def test_no_blank_page_and_page_counts_within_the_stated_bounds(pdfs):
    for name, reader in pdfs.items():
        blank = [i + 1 for i, page in enumerate(reader.pages) if not page.extract_text().strip()]
        assert blank == [], f"{name}: blank pages {blank}"
        bound = CONSOLIDATED_PAGES if name == "consolidated" else PACK_PAGES
        assert len(reader.pages) <= bound, f"{name}: {len(reader.pages)} pages"


def test_every_printed_page_is_a4_landscape(pdfs):
    for name, reader in pdfs.items():
        for page in reader.pages:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            assert (round(width), round(height)) == (842, 595), f"{name}: {width} x {height} points"
