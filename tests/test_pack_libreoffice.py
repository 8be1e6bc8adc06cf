"""LibreOffice as a second real spreadsheet program for the Excel packs: each pack converts
(headless, own profile) with exit 0, and its native charts, tables and text survive the round trip.

(LibreOffice does not write the charts' alt text back out; Excel keeps it. The alt text itself is
checked in test_pack_excel.py.)
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import convert, make_profile, require_soffice
from test_pack_fixtures import AS_OF, HOSTILE_CONTRACT, MISSING, PERIOD, build_rows

from kpd_returns.packs.pack_data import build_packs
from kpd_returns.packs.pack_excel import write_xlsx
from kpd_returns.spec.periods import month_title

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    require_soffice()
    base = tmp_path_factory.mktemp("lo-pack")
    sources = [write_xlsx(p, base / f"pack-{p.slug}.xlsx") for p in build_packs(period=PERIOD, as_of=AS_OF,
                                                                                 **build_rows())]
    out = base / "out"
    proc = convert(sources, out, make_profile(base / "profile"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {s.stem.removeprefix("pack-"): (s, out / s.name) for s in sources}


def charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))


def test_every_pack_converts_and_keeps_its_charts(converted):
    for slug, (source, out) in converted.items():
        assert out.is_file(), slug
        assert len(charts(out)) == len(charts(source)) > 0, slug
        with zipfile.ZipFile(out) as zf:
            xml = zf.read(charts(out)[0]).decode()
        assert "<c:lineChart>" in xml and '<c:dispBlanksAs val="gap"/>' in xml  # missing months stay gaps


def test_sheets_tables_and_words_survive(converted):
    source, out = converted["acme-health-ltd"]
    before, after = openpyxl.load_workbook(source), openpyxl.load_workbook(out)
    assert after.sheetnames == before.sheetnames
    assert [len(ws._charts) for ws in after] == [len(ws._charts) for ws in before]
    assert all(len(ws.tables) == 1 for ws in after.worksheets[1:])
    ws = after["KPI summary"]
    assert f"Incomplete: {month_title(MISSING)} missing" in [c.value for c in ws["F"]]
    assert after["Cover"]["A2"].value == "Protective marking: OFFICIAL-SENSITIVE"


def test_provider_text_stays_text_after_the_round_trip(converted):
    _, out = converted["script-alert-1-script-co"]
    cell = openpyxl.load_workbook(out)["KPI summary"]["A5"]
    assert cell.value == HOSTILE_CONTRACT and cell.data_type == "s"
