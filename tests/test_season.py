"""The packs on a real season (issue 12): kpd_returns/author/season.py, seven MMIR contracts and a KPD-only
one over 2025-11 to 2026-10, through the real ledger, register and pack pipeline.

Every expected number is worked by hand from the table in the season module's docstring: each
contract returns the same cases due / within target every month for every KPI (Northbridge
20/19, Calder 10/9, Harbourside 10/8, Meridian 10/10, Westfield 5/4, Southmoor 10/7), KPI 4
has no cases due anywhere in 2026-07, and Northbridge has cohort 2026 (4/4) from 2026-09.
"""

from __future__ import annotations

import pytest

from kpd_returns.author import season
from kpd_returns.packs.build import load_packs
from kpd_returns.intake.ledger import Ledger
from kpd_returns.packs.pack_data import publication
from kpd_returns.intake.submissions import owed_span, submissions_register
from kpd_returns.spec.return_spec import get_spec

WINDOWS = ("in_month", "rolling_3", "rolling_12", "cumulative")
OLD_COHORT = "Referred Aug 2024 to Aug 2026"
EASTGATE, MERIDIAN, SOUTHMOOR = "AtW-MHSS-C058", "AtW-MHSS-C047", "AtW-MHSS-C070"


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory):
    return season.build_ledger(tmp_path_factory.mktemp("season") / "ledger.sqlite")


@pytest.fixture(scope="module")
def register_rows(ledger_path):
    with Ledger(ledger_path) as ledger:
        return submissions_register(ledger, as_of=season.AS_OF, register=season.register())


@pytest.fixture(scope="module")
def packs(ledger_path):
    built = load_packs(ledger_path, season.REPORT_MONTH, as_of=season.AS_OF, register=season.register())
    return {p.slug: p for p in built}


def national_line(packs, kpi, cohort="2024"):
    return next(x for x in packs["national"].lines if x.kpi == kpi and x.cohort == cohort)


def contract(packs, name):
    return next(c for p in packs.values() if not p.is_national for c in p.contracts if c.contract == name)


# ---------------------------------------------------------------- the season itself
def test_the_season_holds_the_cases_the_issue_lists(register_rows):
    # An Action Plan has no deadline (validators/deadlines.toml): "no deadline", never on time or late.
    statuses = {(r.contract, r.period): r.status for r in register_rows if r.status not in ("on time", "no deadline")}
    assert statuses == {("AtW-MHSS-C022", "2026-10"): "late",  # late this month
                        ("AtW-MHSS-C031", "2026-08"): "late",  # rejected, then resubmitted two working days late
                        (EASTGATE, "2026-10"): "missing"}  # has just started, nothing received
    harbourside = next(r for r in register_rows if (r.contract, r.period) == ("AtW-MHSS-C031", "2026-08"))
    assert (harbourside.files, harbourside.resubmissions, harbourside.late_working_days) == (2, 1, 2)
    mmir = [r for r in register_rows if r.return_id == "mmir"]
    # 12 + 12 + 12 (three full years) + 7 (Meridian from 2026-04) + 1 (Eastgate) + 6 (Westfield) + 9 (Southmoor)
    assert len(mmir) == 59
    assert {r.period for r in mmir if r.contract == SOUTHMOOR} == {f"2025-{m}" for m in ("11", "12")} | {
        f"2026-{m:02d}" for m in range(1, 8)}  # the contract ended in July: nothing owed after it
    kpd = sorted((r.contract, r.period, r.status) for r in register_rows if r.return_id == "kpd")
    assert kpd == [("CPA 07", "2026-27 Q1", "on time"), ("CPA 07", "2026-27 Q2", "on time"),
                   ("CPA 21", "2026-27 Q1", "on time"), ("CPA 21", "2026-27 Q2", "on time")]


def test_a_resubmission_supersedes_the_first_file(packs):
    north = contract(packs, "AtW-MHSS-C014")
    k3 = next(x for x in north.lines if x.kpi == 3 and x.cohort == "2024")
    assert k3.month_counts["2026-09"] == (20, 19)  # the corrected file's figures, not the first file's 15


# ---------------------------------------------------------------- item 3: one start for every output
def test_one_function_decides_from_when_a_contract_owes_returns(packs, register_rows):
    spec = get_spec("mmir")
    reg = season.register()
    span = owed_span(reg.for_contract(MERIDIAN), spec)
    assert (span.first_period, span.first_month, span.last_month) == ("2026-04", "2026-04", None)
    assert owed_span(reg.for_contract(SOUTHMOOR), spec).last_month == "2026-07"
    assert owed_span(None, spec, "2026-02").first_month == "2026-02"  # not in the register: first period seen
    # status, pack and KPI engine agree: Meridian owes 2026-04 to 2026-10 and sent all seven
    meridian_rows = [r for r in register_rows if r.contract == MERIDIAN]
    assert [r.period for r in meridian_rows] == [f"2026-{m:02d}" for m in range(4, 11)]
    assert {r.status for r in meridian_rows} == {"on time"}
    m = contract(packs, MERIDIAN)
    assert m.service_start == "2026-04" and m.missing == []
    k3 = next(x for x in m.lines if x.kpi == 3)
    assert k3.cell("rolling_12") == (100.0, "100.0% (since start)") and k3.tier_text == "4 - Good"
    assert k3.cell("cumulative") == (100.0, "100.0%")


def test_an_ended_contract_is_not_missing_after_its_last_month(packs):
    s = contract(packs, SOUTHMOOR)
    assert s.service_end == "2026-07" and s.missing == []
    k3 = next(x for x in s.lines if x.kpi == 3)
    assert k3.results["rolling_12"].due == 90 and k3.cell("rolling_12")[0] == 70.0  # 63 of 90, nine months
    assert k3.tier_text == "1 - Inadequate"


def test_publication_rates_every_contract_that_reported(packs):
    quarter, rows = publication(list(packs.values()), season.REPORT_MONTH)
    assert quarter == "2026-27 Q2"
    k3 = {r["contract_identifier"]: (r["percentage"], r["tier_name"]) for r in rows
          if r["kpi"] == "KPI 3" and r["cohort"] == "2024"}
    # rolling 12 to 2026-09: Meridian 60 of 60 since 2026-04; Westfield 20 of 25 since 2026-05;
    # Southmoor 63 of 90 (2025-11 to 2026-07); Harbourside 96 of 120
    assert k3[MERIDIAN] == (100.0, "Good")
    assert k3["AtW-MHSS-C063"] == (80.0, "Inadequate")
    assert k3[SOUTHMOOR] == (70.0, "Inadequate")
    assert k3["AtW-MHSS-C031"] == (80.0, "Inadequate")
    assert EASTGATE not in {r["contract_identifier"] for r in rows}  # its service starts after the quarter


# ---------------------------------------------------------------- item 1: national figures with coverage
def test_national_figures_over_the_contracts_that_reported_with_coverage(packs):
    k3 = national_line(packs, 3)
    # In month 2026-10: Northbridge 20/19, Calder 10/9, Harbourside 10/8, Meridian 10/10, Westfield 5/4
    # = 55 due, 50 within = 90.9%. Eastgate owed 2026-10 and sent nothing; Southmoor owed nothing.
    assert k3.cell("in_month") == (90.9, "90.9% (5 of 6 contracts, 55 cases due)")
    # Rolling 3 (2026-08 to 10): 60/57 + 30/27 + 30/24 + 30/30 + 15/12 = 165 due, 150 within = 90.9%
    assert k3.cell("rolling_3") == (90.9, "90.9% (5 of 6 contracts, 165 cases due)")
    # Rolling 12 (2025-11 to 2026-10): 240/228 + 120/108 + 120/96 + 70/70 + 30/24 + 90/63 = 670/589 = 87.9%
    assert k3.cell("rolling_12") == (87.9, "87.9% (6 of 7 contracts, 670 cases due)")
    assert k3.tier_text == "3 - Near Target"  # 87.9 is at least 85 (2024 cohort), below 90
    assert k3.cell("cumulative") == (87.9, "87.9% (6 of 7 contracts, 670 cases due)")
    cov = packs["national"].contracts[0].coverage["in_month"]
    assert cov.missing_text == "not counted: AtW-MHSS-C058 (October 2026 missing)"
    assert "AtW-MHSS-C058 (October 2026 missing)" in packs["national"].contracts[0].missing_text


def test_national_figure_for_every_kpi_line_and_basis_any_contract_reported(packs):
    nat = packs["national"]
    assert {(x.kpi, x.cohort) for x in nat.lines} == {(k, c) for k in range(1, 6) for c in ("2024", "2026")}
    for x in nat.lines:
        for w in WINDOWS:
            if (x.kpi, x.cohort) == (5, "2026"):  # no Exit Report due yet for the new cohort: said so
                assert x.cell(w) == (None, f"No cases due ({'5 of 6' if w in ('in_month', 'rolling_3') else '6 of 7'}"
                                           " contracts)")
            else:
                assert x.cell(w)[0] is not None, (x.label, x.cohort, w)
    # KPI 4 had no cases due in 2026-07: rolling 12 is 670 - 65 = 605 due, 589 - 57 = 532 within = 87.9%
    k4 = national_line(packs, 4)
    assert (k4.results["rolling_12"].due, k4.results["rolling_12"].within) == (605, 532)
    # cohort 2026: Northbridge only, 4/4 in 2026-09 and 2026-10
    assert national_line(packs, 3, "2026").cell("rolling_12") == (100.0, "100.0% (6 of 7 contracts, 8 cases due)")


def test_national_trend_runs_to_the_report_month(packs):
    k4 = national_line(packs, 4)
    points = {p.month: p for p in k4.trend}
    assert [p.month for p in k4.trend][0] == "2025-11" and k4.trend[-1].month == "2026-10"
    assert points["2026-10"].percentage == 90.9 and not points["2026-10"].incomplete
    # 2026-06: all six running contracts; 20/19+10/9+10/8+10/10+5/4+10/7 = 65 due, 57 within = 87.7%
    assert points["2026-06"].percentage == 87.7
    assert points["2026-07"].percentage is None and not points["2026-07"].incomplete  # no cases due
    assert k4.point_note(points["2026-07"]) == "No cases due"


# ---------------------------------------------------------------- item 2: no data is said as no data
def test_a_contract_with_no_returns_says_so_and_is_not_good_news(packs):
    from kpd_returns.packs.pack_html import glance, render

    east = packs["eastgate-pathways-ltd"]
    c = east.contracts[0]
    assert c.no_returns and c.lines == [] and c.missing == ["2026-10"]
    # MMIR 2026-10 is due on the 3rd working day of November 2026 (AtW 7.24 default): 4 November
    assert c.notes == ["No returns received yet: the first, for October 2026, was due by 2026-11-04 and is missing."]
    cards = {label: (big, detail) for label, big, detail in glance(east)}
    assert not any(label.startswith("KPI lines below target") for label in cards)
    assert cards["KPIs, AtW-MHSS-C058"] == ("No data", c.notes[0])
    html = render(east)
    assert "No returns received yet" in html and "0 of 5" not in html and "KPI trends" not in html
    assert [a.item.fact for a in east.attention] == ["The MMIR for October 2026 is missing."]


def test_rated_card_reads_when_nothing_is_rated():
    from types import SimpleNamespace

    from kpd_returns.packs.pack_html import glance
    from kpd_returns.packs.pack_text import PackData

    line = SimpleNamespace(meets=None, published=True, tier=None, tier_text="Not rated: incomplete", kpi=3)
    contract_kpis = SimpleNamespace(lines=[line], social_value=None, no_returns=False)
    pack = PackData("P", "p", "2026-10", season.AS_OF, "OFFICIAL", contracts=[contract_kpis])
    cards = {label: (big, detail) for label, big, detail in glance(pack)}
    assert cards["Published KPIs rated, rolling 12 months"] == ("0 of 1", "None rated (incomplete or no cases due).")


# ---------------------------------------------------------------- item 4: timeliness decided once
def test_every_output_tells_one_timeliness_per_return(packs, register_rows, tmp_path):
    import re

    import openpyxl

    from kpd_returns.spec.findings import CATALOGUE
    from kpd_returns.spec.extract_spec import load_extracts
    from kpd_returns.packs.pack_excel import write_xlsx
    from kpd_returns.packs.pack_html import glance, render
    from kpd_returns.packs.pack_text import register_text

    told = {(r.return_id, r.contract, r.period): register_text(vars(r) if hasattr(r, "__dict__") else r._asdict())
            ["status"] for r in register_rows}
    # Meridian 2026-10: on time, then a copy resent a working day late (which carries the validator's
    # submitted-late warning): the return was on time, and every output says so.
    assert told[("mmir", MERIDIAN, "2026-10")] == "on time"
    assert told[("mmir", "AtW-MHSS-C022", "2026-10")] == "late by 3 working days"
    meridian = packs["meridian-skills-and-health-ltd"]
    src = next(s for s in meridian.sources if s["period"] == "2026-10")
    assert src["name"].endswith("-resent.xlsx") and src["timeliness"] == "on time"
    assert meridian.attention == []  # no "late", no "submitted-late 1"
    assert dict((label, big) for label, big, _ in glance(meridian))["Returns in the last 12 months"] == "0 missing"
    codes = re.compile("|".join(re.escape(c) for c in CATALOGUE))
    for pack in packs.values():
        for s in pack.sources:
            key = (s["return_id"], s["contract"], s["period"])
            if s["return_id"] in load_extracts():  # a DWP extract is owed by no provider: no timeliness
                assert key not in told and s["timeliness"] == "", key
                continue
            assert s["timeliness"] == told[key], key
        for a in pack.attention:
            assert not codes.search(a.item.fact + a.item.prompt), a.item.fact
        assert not codes.search(render(pack))
    path = write_xlsx(meridian, tmp_path / "meridian.xlsx")
    wb = openpyxl.load_workbook(path)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(codes.search(t) for t in texts)
    assert any(t.endswith("-resent.xlsx, received 2026-11-05 12:00, accepted with warnings, on time") for t in texts)


# ---------------------------------------------------------------- item 5: KPD-only inbox
def test_consolidate_writes_kpd_packs_for_a_kpd_only_inbox(tmp_path):
    import io
    import shutil
    from pathlib import Path

    from kpd_returns.cli.batch import run_consolidate

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sample = Path(__file__).resolve().parents[1] / "samples" / "returns"
    for path in sample.glob("kpd-*.xlsx"):
        shutil.copy(path, inbox / path.name)
    buf = io.StringIO()
    code = run_consolidate([inbox], out_dir=tmp_path / "out", as_of="2026-11-20", workers="1", progress=False,
                           out=buf, err=buf)
    assert code == 0, buf.getvalue()
    # 2026-27 Q2 ends in September 2026: the packs are for that month
    assert "performance pack files for 2026-09" in buf.getvalue()
    html = (tmp_path / "out" / "packs" / "pack-2026-09-northbridge-employment-ltd.html").read_text(encoding="utf-8")
    assert "KPD intro 3-4" in html and "AtW 7.04" not in html
    assert "WHP" not in html  # WHP chapter 16 governs neither the KPD nor the AtW returns (issue 20)
    assert "Staffing and caseloads (KPD)" in html
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "out" / "packs" / "pack-2026-09-northbridge-employment-ltd.xlsx")
    texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    # AtW chapter 7 only where the same words cite the KPD guidance too (the submissions register)
    assert not any("AtW 7" in t and "KPD" not in t for t in texts) and any("KPD 15" in t for t in texts)
    assert not any("AtW 7" in line and "KPD" not in line for line in html.splitlines())


# ---------------------------------------------------------------- item 6: charts that do not mislead
def test_an_empty_chart_is_not_drawn_and_gaps_say_why(packs, tmp_path):
    import zipfile

    from kpd_returns.packs.pack_excel import write_xlsx
    from kpd_returns.packs.pack_html import render

    north = packs["northbridge-employment-ltd"]
    empty = [(x.kpi, x.cohort) for x in north.lines if not x.has_figures]
    assert empty == [(5, "2026")]  # no Exit Report yet for customers referred from September 2026
    html = render(north)
    # KPI lines with a figure + 3 KPD charts + Customer Insight's satisfaction + JOBS II's starts and proportions
    assert html.count('<svg class="chart"') == len(north.lines) - 1 + 3 + 1 + 2
    assert "No chart: no month in the period has a figure (Nov 2025 to Oct 2026)." in html
    k4 = next(x for x in north.lines if (x.kpi, x.cohort) == (4, "2024"))
    assert [k4.gap_word(p) for p in k4.trend].count("none due") == 1  # 2026-07
    assert ">none due</text>" in html
    assert "Gaps where no cases were due: July 2026." in k4.chart_description()
    with zipfile.ZipFile(write_xlsx(north, tmp_path / "north.xlsx")) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == len(north.lines) - 1 + 3 + 1 + 2


def test_kpd_charts_span_the_months_with_data(packs):
    from kpd_returns.packs.pack_html import render

    html = render(packs["pennine-pathways-cic"])
    # KPD Q1 and Q2 2026-27: April to September 2026, not the 12 months to October
    assert "Staff FTE by month, CPA 21" in html and "Apr 2026 to Sep 2026" in html
    assert "Nov 2025 to" not in html


# ---------------------------------------------------------------- item 7: words match what is counted
def test_priority_follows_the_published_kpis(packs):
    north = packs["northbridge-employment-ltd"]
    # KPI 1 (95.0% against 99%) and KPI 2 (95.0% against 96%) are below target on every basis, but neither is
    # published (AtW 7.17-7.19): medium priority. KPIs 3-5 at 95.0% meet the 90% target and rate 4 - Good.
    # JOBS II JII-07's 20 starts a month against a profile of 24: a low item for discussion (JOBS II 6.10).
    assert [(a.item.severity, a.item.subject.split(" (")[0]) for a in north.attention] == [
        (2, "KPI 1 Acknowledging the referral"), (2, "KPI 2 Arranging the appointment"),
        (3, "Course starts against profile")]
    summary = {a["provider"]: a["high"] for a in packs["national"].attention_summary}
    assert summary["Northbridge Employment Ltd"] == 0
    # Harbourside: KPIs 3-5 at 80.0% on the rolling 12 months are tier 1 Inadequate: high
    assert summary["Harbourside Futures CIC"] == 6  # 3 tiers + 3 published KPIs below target on 12 months


def test_national_kpd_table_counts_cpas_and_says_median_cpa(packs):
    from kpd_returns.packs.pack_html import render

    html = render(packs["national"])
    assert '<th scope="col" class="num">CPAs reporting</th>' in html and "Median provider" not in html
    assert '<th scope="col" class="num">Median CPA</th>' in html


# ---------------------------------------------------------------- item 8: what matters is found first
def test_attention_and_returns_to_chase_come_first_with_status_tags(packs, tmp_path):
    import openpyxl

    from kpd_returns.packs.pack_excel import write_xlsx
    from kpd_returns.packs.pack_html import render

    html = render(packs["national"])
    main = html[html.index('<main id="main-content"'):]
    order = [main.index(f'<section aria-labelledby="{s}">') for s in ("attention", "chase", "summary", "overview",
                                                                        "register")]
    assert order == sorted(order)
    chase = main[main.index('id="chase"'):main.index('<section aria-labelledby="summary">')]
    assert chase.count("<tr>") == 1 + 3  # header + Calder late, Harbourside late, Eastgate missing
    assert '<strong class="tag status-missing">missing</strong>' in chase
    assert '<strong class="tag status-late">late by 3 working days</strong>' in chase
    wb = openpyxl.load_workbook(write_xlsx(packs["national"], tmp_path / "national.xlsx"))
    ws = wb["Submissions"]
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert {r.text for r in rules} == {"missing", "late", "rejected", "Incomplete", "on time"}
    assert ws.print_title_rows == "$4:$4"  # the table header repeats on every printed page


# ---------------------------------------------------------------- item 9: the consolidated workbook divides
def test_consolidated_workbook_has_the_kpi_percentages(ledger_path, tmp_path):
    import openpyxl

    from kpd_returns.intake.consolidate import consolidate

    result = consolidate([], tmp_path / "out", db=ledger_path, register=season.register(), as_of=season.AS_OF,
                         workers=1, progress=False)
    wb = openpyxl.load_workbook(result.workbook)
    ws = wb["MMIR KPI percentages"]
    rows = {(r[1], r[2], r[3][:5], r[4]): r for r in ws.iter_rows(min_row=5, values_only=True) if r[1]}
    # Harbourside KPI 3, cohort 2024, 2026-10: 8 of 10 = 80.0% on every basis
    assert rows[("AtW-MHSS-C031", "2026-10", "KPI 3", OLD_COHORT)][5:10] == (10, 8, 80.0, 80.0, 80.0)
    # Westfield KPI 1 2026-06: in month 4/5 = 80.0%; rolling 3 clipped at its first month 2026-05: 8/10
    assert rows[("AtW-MHSS-C063", "2026-06", "KPI 1", OLD_COHORT)][5:10] == (5, 4, 80.0, 80.0, 80.0)
    # Northbridge KPI 4 2026-07: no cases due in the month; rolling 3 (05-07) 38 of 40 = 95.0%
    k4 = rows[("AtW-MHSS-C014", "2026-07", "KPI 4", OLD_COHORT)]
    assert k4[5:10] == (0, 0, None, 95.0, 95.0) and k4[10] == "No cases due in the month"
    subs = wb["Submissions"]
    assert {r.text for rng in subs.conditional_formatting for r in rng.rules} == {"Missing", "Late", "Rejected",
                                                                                 "On time"}


# ---------------------------------------------------------------- item 10: printing
def test_excel_rows_are_tall_enough_for_their_wrapped_text(packs, tmp_path):
    import openpyxl

    from kpd_returns.packs.pack_excel import ROW_HEIGHT, write_xlsx

    wb = openpyxl.load_workbook(write_xlsx(packs["national"], tmp_path / "national.xlsx"))
    checked = 0
    for ws in wb.worksheets:
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
        for row in ws.iter_rows(min_row=5):
            for cell in row:
                width = widths.get(cell.column_letter)
                if isinstance(cell.value, str) and cell.alignment.wrap_text and width:
                    # text of n columns' width needs n lines of ROW_HEIGHT points (pack_excel.wrapped_lines)
                    needed = -(-len(cell.value) // max(int(width) - 1, 1))
                    if needed > 1:
                        height = ws.row_dimensions[cell.row].height or ROW_HEIGHT
                        assert height >= ROW_HEIGHT * needed, (ws.title, cell.coordinate, height, needed)
                        checked += 1
    assert checked > 20  # the coverage cells, attention facts and notes wrap onto several lines


def test_national_pack_counts_every_contract_owing(packs):
    from kpd_returns.packs.pack_html import render

    # 8 providers of returns and the 3 WHP providers whose PRaP extracts are in the season (issue 22)
    assert ("<dd>11 providers, 7 AtW MHSS contracts and the Work Programme KPD, AtW MHSS Customer Insight, AtW MHSS "
            "Yearly MI and JOBS II returns</dd>") in render(packs["national"])


def test_season_packs_are_byte_identical_across_runs(tmp_path):
    from kpd_returns.packs.build import write_packs

    runs = []
    for n in (1, 2):
        ledger = season.build_ledger(tmp_path / f"ledger{n}.sqlite")
        paths = write_packs(ledger, tmp_path / f"out{n}", season.REPORT_MONTH, as_of=season.AS_OF,
                            register=season.register())
        runs.append({p.name: p.read_bytes() for p in paths})
    assert runs[0] == runs[1] and len(runs[0]) == 26  # 11 providers and national, xlsx and html; publication


def test_kpis_toml_service_start_is_read_by_status_and_packs_alike(ledger_path, monkeypatch):
    """Without a register, a Service Start Date set in validators/kpis.toml decides for both (owed_span)."""
    from kpd_returns.spec import kpi_config

    config = kpi_config.default_config()
    westfield = kpi_config.ContractSettings(supplier="Westfield Works Ltd", service_start="2026-04")
    monkeypatch.setattr(kpi_config, "config_named", lambda name: config.model_copy(
        update={"contracts": {"atw-mhss-c063": westfield}}))
    with Ledger(ledger_path) as ledger:
        rows = submissions_register(ledger, as_of=season.AS_OF, register=None)
    west = {r.period: r.status for r in rows if r.contract == "AtW-MHSS-C063"}
    assert west["2026-04"] == "missing" and len(west) == 7  # 2026-04 owed (configured), 05-10 received
    packs = {p.slug: p for p in load_packs(ledger_path, season.REPORT_MONTH, as_of=season.AS_OF)}
    w = packs["westfield-works-ltd"].contracts[0]
    assert (w.service_start, w.missing) == ("2026-04", ["2026-04"])
    # and without it, the first period in the ledger: 2026-05, nothing missing, in both
    monkeypatch.undo()
    packs = {p.slug: p for p in load_packs(ledger_path, season.REPORT_MONTH, as_of=season.AS_OF)}
    assert (packs["westfield-works-ltd"].contracts[0].service_start, packs["westfield-works-ltd"].contracts[0].missing
            ) == ("2026-05", [])


def test_national_excel_figures_carry_their_coverage(packs, tmp_path):
    import openpyxl

    from kpd_returns.packs.pack_excel import write_xlsx

    ws = openpyxl.load_workbook(write_xlsx(packs["national"], tmp_path / "n.xlsx"))["KPI all contracts"]
    k3 = next(r for r in ws.iter_rows(min_row=5, values_only=True) if r[1] == "KPI 3 Submitting the Support Plan"
              and r[2] == OLD_COHORT)
    assert k3[3:7] == ("90.9% (5 of 6 contracts, 55 cases due)", "90.9% (5 of 6 contracts, 165 cases due)",
                       "87.9% (6 of 7 contracts, 670 cases due)", "87.9% (6 of 7 contracts, 670 cases due)")


def test_no_returns_note_before_the_first_deadline(ledger_path):
    import datetime as dt

    built = load_packs(ledger_path, season.REPORT_MONTH, as_of=dt.date(2026, 11, 2), register=season.register())
    east = next(p for p in built if p.slug == "eastgate-pathways-ltd").contracts[0]
    assert east.notes == ["No returns received yet: the first, for October 2026, is due by 2026-11-04."]
