"""The Excel pack (kpd_returns.packs.pack_excel): structure, accessibility rules, safety and determinism.

Government Analysis Function spreadsheet guidance: one table per sheet with its title in A1,
tables made with add_table, no merged cells, no blank rows inside tables, descriptive sheet
names, the protective marking on the cover; charts with alt text.
"""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from test_pack_fixtures import AS_OF, HOSTILE_CONTRACT, MISSING, PERIOD, build_rows

from kpd_returns.packs.pack_data import build_packs
from kpd_returns.spec.periods import month_title
from kpd_returns.packs.pack_excel import write_xlsx

PROVIDER_SHEETS = ["Cover", "Contents", "Attention", "Submissions", "KPI summary", "KPI trends", "Social value",
                   "KPD staffing", "KPD caseloads", "KPD segments", "Data sources", "Notes"]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx")
    paths = {}
    for p in build_packs(period=PERIOD, as_of=AS_OF, marking="OFFICIAL-SENSITIVE & COMMERCIAL", **build_rows()):
        paths[p.slug] = write_xlsx(p, out / f"{p.slug}.xlsx")
    return paths


def test_sheets_tables_titles_and_marking(books):
    wb = openpyxl.load_workbook(books["acme-health-ltd"])
    assert wb.sheetnames == PROVIDER_SHEETS
    cover = wb["Cover"]
    assert cover["A1"].value == "Contract performance pack: Acme Health Ltd, October 2026"
    assert cover["A2"].value == "Protective marking: OFFICIAL-SENSITIVE & COMMERCIAL"
    assert any("MMIR for October 2026, ATW-MHSS-LOT1: mmir-ATW-MHSS-LOT-2026-10.xlsx, received 2026-11-10 10:30, "
               "accepted, "
               "late by 2 working days" == c.value for c in cover["A"])
    for ws in wb.worksheets[1:]:
        assert ws["A1"].value and ws["A2"].value.startswith("Protective marking:")
        assert len(ws.tables) == 1, ws.title
        assert "OFFICIAL-SENSITIVE && COMMERCIAL" in ws.oddHeader.center.text  # printed on every page
        (ref,) = [t.ref for t in ws.tables.values()]
        assert ref.startswith("A4:")
        rows = list(ws[ref])
        assert all(any(c.value not in (None, "") for c in row) for row in rows), f"blank row in {ws.title}"
    assert wb.properties.creator == "kpd-returns" and wb.properties.created.date() == AS_OF


def test_no_merged_cells_and_contents_links(books):
    with zipfile.ZipFile(books["acme-health-ltd"]) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<mergeCell" in s for s in sheets)
    contents = openpyxl.load_workbook(books["acme-health-ltd"])["Contents"]
    links = [c.hyperlink.location for c in contents["A"][4:] if c.hyperlink]
    assert links == [f"'{n}'!A1" for n in PROVIDER_SHEETS[2:]]


def test_kpi_summary_words_tiers_and_incomplete_windows(books):
    ws = openpyxl.load_workbook(books["acme-health-ltd"])["KPI summary"]
    header = [c.value for c in ws[4]]
    assert header[:7] == ["Contract", "KPI", "Referral cohort", "In month (%)", "Rolling 3 months (%)",
                          "Rolling 12 months (%)", "Cumulative (%)"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    assert {r[2] for r in rows} == {"Referred Aug 2024 to Aug 2026", "Referred from Sep 2026"}
    k3 = next(r for r in rows if r[1] == "KPI 3 Submitting the Support Plan" and r[2].endswith("Aug 2026"))
    assert k3[3] == 93.3 and k3[5] == f"Incomplete: {month_title(MISSING)} missing"
    assert k3[9] == "Not rated: incomplete" and k3[10] == "▲ up 3.3 points"


def test_tier_in_words_with_a_fill(tmp_path):
    pack = next(p for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows(missing=None)) if p.slug.startswith("acme"))
    ws = openpyxl.load_workbook(write_xlsx(pack, tmp_path / "a.xlsx"))["KPI summary"]
    tiers = [r[9] for r in ws.iter_rows(min_row=5) if r[9].value == "4 - Good"]
    assert tiers and tiers[0].fill.fgColor.rgb.endswith("CCE2D8") and tiers[0].font.b


def test_native_line_charts_with_alt_text(books):
    with zipfile.ZipFile(books["acme-health-ltd"]) as zf:
        charts = [n for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        drawings = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/drawings/drawing"))
        chart_xml = zf.read(charts[0]).decode()
    # 8 of the 10 KPI lines have a figure (KPIs 4 and 5 of the 2026 cohort have had no cases due: no empty
    # chart is drawn) + staffing, job entries and caseload charts for one CPA
    assert len(charts) == 8 + 3
    assert "<c:lineChart>" in chart_xml
    # missing months are gaps: xlsxwriter leaves out dispBlanksAs for "gap", Excel's and LibreOffice's default
    assert 'dispBlanksAs val="zero"' not in chart_xml and 'dispBlanksAs val="span"' not in chart_xml
    descriptions = re.findall(r'descr="([^"]*)"', drawings)
    assert len(descriptions) == 11 and all(d.startswith(("In-month percentage", "FTE total", "Total caseload",
                                                         "Job entries")) for d in descriptions)


def test_provider_text_is_never_a_formula(books):
    path = books["script-alert-1-script-co"]
    wb = openpyxl.load_workbook(path)
    cell = wb["KPI summary"]["A5"]
    assert cell.value == HOSTILE_CONTRACT and cell.data_type == "s"
    with zipfile.ZipFile(path) as zf:
        xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "<f>" not in xml and "HYPERLINK" not in xml  # the text lives in sharedStrings, never as a formula
    segments = openpyxl.load_workbook(books["acme-health-ltd"])["KPD segments"]
    titles = [c.value for c in segments["D"] if c.value and "HYPERLINK" in c.value]
    assert titles and all(c.data_type == "s" for c in segments["D"] if c.value)


def test_same_inputs_give_identical_bytes(tmp_path):
    outs = []
    for n in range(2):
        pack = build_packs(period=PERIOD, as_of=AS_OF, **build_rows())[1]
        outs.append(write_xlsx(pack, tmp_path / f"{n}.xlsx").read_bytes())
    assert outs[0] == outs[1]


def test_national_workbook(books):
    wb = openpyxl.load_workbook(books["national"])
    assert wb.sheetnames == ["Cover", "Contents", "Attention", "Submissions", "KPIs by provider", "Social value",
                             "KPI all contracts", "KPI trends", "KPD national", "Data sources", "Notes"]
    providers = {r[0].value for r in wb["KPIs by provider"].iter_rows(min_row=5)}
    assert providers == {"Acme Health Ltd", "<script>alert(1)</script> & Co"}
    assert wb["Attention"]["A4"].value == "Provider" and wb["Attention"].max_row == 7


def _chart_payloads() -> list[str]:
    import tomllib
    from pathlib import Path
    table = tomllib.loads((Path(__file__).parent / "data" / "hostile_table.toml").read_text(encoding="utf-8"))
    return [entry["text"] for entry in table["chart_text"]]


@pytest.mark.parametrize("payload", _chart_payloads())
def test_provider_text_in_a_chart_stays_literal(tmp_path, payload, recwarn):
    """Issue 10 item 6: a CPA typed as ``CPA!A1`` is a title, never a chart formula or a broken reference."""
    rows = build_rows()
    for table in (rows["returns"], rows["values"]["kpd"], rows["register"]):
        for row in table:
            if row.contract == "CPA-12":
                row.contract = payload
    packs = build_packs(period=PERIOD, as_of=AS_OF, **rows)
    path = write_xlsx(next(p for p in packs if p.slug == "northern-works"), tmp_path / "north.xlsx")
    own = set(openpyxl.load_workbook(path).sheetnames)
    with zipfile.ZipFile(path) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert charts
    refs = [f for xml in charts for f in re.findall(r"<c:f>([^<]*)</c:f>", xml)]
    for ref in refs:  # every reference is one of our own sheets and a plain range
        m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!]+))!\$[A-Z]+\$\d+(?::\$[A-Z]+\$\d+)?", ref.replace("&apos;", "'"))
        assert m, ref
        assert (m.group(1) or m.group(2)).replace("''", "'") in own, ref
    titles = "".join(charts)
    from xml.sax.saxutils import escape
    assert escape(payload, {"'": "&apos;", '"': "&quot;"}) in titles or escape(payload) in titles
    assert not [w for w in recwarn if "worksheet reference" in str(w.message)]
