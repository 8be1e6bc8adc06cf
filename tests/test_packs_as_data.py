"""Issue 11 item 1 for what a Performance Manager sees: packs, consolidated sheets, cross-return checks and
the rule catalogue's deadline paragraph come from the specs, not from Python that names a return."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kpd_returns.author import rule_catalogue as rc
from kpd_returns.spec import deadlines
from kpd_returns.spec.return_spec import load_all

ROOT = Path(__file__).resolve().parents[1]
SPECS = load_all()


# ---------------------------------------------------------------- item 5: the deadline paragraph
def test_the_deadline_paragraph_is_the_deadline_rules_own_guidance():
    for spec in SPECS.values():
        rule = deadlines.load_deadlines()[spec.id]
        late = next(e for e in rc.entries(spec) if e.code == "submitted-late")
        assert rule.guidance and late.guidance == rule.guidance == deadlines.deadline_guidance(spec.id)
    assert deadlines.deadline_guidance("mmir") == "AtW 7.24"  # AtW 7.24: MI due by the Reporting Date
    assert deadlines.deadline_guidance("no-such-return") == ""


def test_a_deadline_rule_with_guidance_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text('[x]\nkind = "calendar_days_after_period"\ndays = 7\nguidance = 7\n', encoding="utf-8")
    with pytest.raises(deadlines.DeadlineError, match=r"d.toml: key 'x.guidance' must be text"):
        deadlines.load_deadlines(path)


# ---------------------------------------------------------------- item 4: cross-return checks from the spec
def _without_roles(spec):
    sets = {k: v.model_copy(update={"role": None}) for k, v in spec.column_sets.items()}
    return spec.model_copy(update={"column_sets": sets})


def _restated_values():
    # KPD 5: senior staff FTE for May 2026 was 5 in the Q1 return and is 5.5 in Q2's.
    return [(1, "2026-27 Q1"), (2, "2026-27 Q2")], {
        1: {("staff_senior", "may"): ("2026-05", 5.0, None)},
        2: {("staff_senior", "may"): ("2026-05", 5.5, None)}}


def test_restated_months_are_queried_where_the_spec_declares_them():
    from kpd_returns.checks import cross_checks

    current, values = _restated_values()
    found = cross_checks.group_findings(SPECS["kpd"], current, values)
    assert [(f.code, f.cell, f.found, f.expected) for f in found[2]] == [("kpd-restatement", "D5", "5.5", "5")]


def test_a_spec_that_declares_no_column_roles_draws_no_cross_return_finding():
    from kpd_returns.checks import cross_checks

    from kpd_returns.checks.ytd_lists import list_fields

    current, values = _restated_values()
    for spec in SPECS.values():
        bare = _without_roles(spec)
        # only the fields of the year-to-date lists remain: those are declared by rules (AtW 7.25), not roles
        assert cross_checks.checked_fields(bare) == sorted(list_fields(spec))
        assert cross_checks.group_findings(bare, current, values) == {}
    # the MMIR's year to date: declared by role, not found by the column keys in_month/year_to_date
    bare = _without_roles(SPECS["mmir"])
    ytd = {1: {("referrals", "in_month"): ("", 10.0, None), ("referrals", "year_to_date"): ("", 100.0, None)},
           2: {("referrals", "in_month"): ("", 20.0, None), ("referrals", "year_to_date"): ("", 999.0, None)}}
    months = [(1, "2026-09"), (2, "2026-10")]
    assert [f.code for f in cross_checks.group_findings(SPECS["mmir"], months, ytd)[2]] == ["ytd-discontinuity"]
    assert cross_checks.group_findings(bare, months, ytd) == {}


def test_a_column_role_the_layout_cannot_carry_is_refused():
    from kpd_returns.spec.return_spec import ColumnSet

    with pytest.raises(ValueError, match="role 'in_month_ytd' needs two keys"):
        ColumnSet(keys=["a", "b", "c"], labels=["A", "B", "C"], role="in_month_ytd")
    with pytest.raises(ValueError, match="role 'restated_months' needs 'months'"):
        ColumnSet(keys=["a"], labels=["A"], role="restated_months")


def test_the_rule_catalogue_lists_the_cross_return_checks_a_spec_declares():
    codes = {rid: {e.code for e in rc.entries(spec)} for rid, spec in SPECS.items()}
    assert "ytd-discontinuity" in codes["mmir"] and "kpd-restatement" not in codes["mmir"]
    assert "kpd-restatement" in codes["kpd"] and "ytd-discontinuity" not in codes["kpd"]
    bare = _without_roles(SPECS["kpd"])
    assert not {"kpd-restatement", "ytd-discontinuity"} & {e.code for e in rc.entries(bare)}


# ---------------------------------------------------------------- item 3: the consolidated workbook from the specs
def _workbook(tmp_path, spec):
    import datetime as dt

    import openpyxl

    from kpd_returns.intake.consolidated_workbook import ReturnData, WorkbookInput, write_consolidated

    data = WorkbookInput(as_of=dt.date(2026, 11, 20), returns=[ReturnData(spec, [], lambda _fid: [])], register=[],
                         files=[], finding_summary=[])
    path = tmp_path / "c.xlsx"
    write_consolidated(path, data)
    return openpyxl.load_workbook(path).sheetnames


def test_the_kpi_percentages_sheet_is_declared_by_the_spec_not_by_the_return_id(tmp_path):
    mmir = SPECS["mmir"]
    assert mmir.pack.kpis.consolidated_sheet in _workbook(tmp_path, mmir)
    # The same return without [pack]: no KPI sheet; without key measures either: still its data sheet.
    bare = mmir.model_copy(update={"pack": None, "key_measures": []})
    names = _workbook(tmp_path, bare)
    assert mmir.pack.kpis.consolidated_sheet not in names
    assert not {m.sheet for m in mmir.key_measures} & set(names) and f"{mmir.short_title} data" in names
    renamed = mmir.model_copy(update={"id": "other", "pack": mmir.pack.model_copy(update={"kpis": mmir.pack.kpis.model_copy(
        update={"consolidated_sheet": "Other KPI percentages"})})})
    assert "Other KPI percentages" in _workbook(tmp_path, renamed)


# ---------------------------------------------------------------- item 1: a third return in the packs, no Python change
THIRD_PACK = {
    "title": "Job outcomes (third return)", "label": "Third return", "order": 3, "short": "third-return",
    "guidance": "Third guidance 1", "findings_guidance": "Third guidance 2", "how_to_read": ["Read it thus."],
    "notes": [{"measure": "Job entries", "explanation": "Job entries in the month.", "guidance": "Third 3"}],
    "measures": [{"id": "jobs", "label": "Job entries", "sum": ["job_entries"], "median": True, "trend": True,
                  "target": 50.0, "windows": ["month", "rolling_3"]},
                 {"id": "jobs_per_fte", "label": "Per front line FTE", "ratio": [["job_entries"],
                                                                                ["staff_front_line"]],
                  "national": "ratio"}],
    "tables": [{"id": "jobs", "caption": "Job entries by month", "sheet": "Third jobs", "sheet_title": "Jobs",
                "columns": [{"measure": "jobs", "heading": "Job entries"},
                            {"measure": "jobs", "show": "median", "heading": "Median contract"},
                            {"measure": "jobs_per_fte", "heading": "Per FTE"},
                            {"measure": "jobs", "show": "rolling_3", "heading": "Jobs, rolling 3 months"},
                            {"measure": "jobs", "show": "target", "heading": "Target", "format": "text"}]}],
    "charts": [{"id": "jobs", "title": "Job entries by month", "description": "Job entries", "table": "jobs",
                "series": [{"measure": "jobs", "label": "Job entries"}]}],
    "national_view": {"caption": "Third return, national", "sheet": "Third national", "sheet_title": "National",
                      "table_name": "Third national",
                      "columns": [{"measure": "jobs", "show": "national", "heading": "Job entries"},
                                  {"measure": "jobs_per_fte", "show": "national", "heading": "Per FTE"}],
                      "charts": [{"id": "jobs", "title": "Job entries, all", "description": "All job entries",
                                  "series": [{"measure": "jobs", "show": "national", "label": "All"}]}]},
}


@pytest.fixture()
def third_return(monkeypatch):
    """The specs as if validators/ held a third return with a [pack] section (a copy of the KPD's layout)."""
    from kpd_returns.packs import specs as pack_specs
    from kpd_returns.spec.pack_spec import PackSpec

    third = SPECS["kpd"].model_copy(update={"id": "third", "short_title": "THIRD", "pack": PackSpec(**THIRD_PACK)})
    monkeypatch.setattr(pack_specs, "load_all", lambda: {**SPECS, "third": third})
    return third


def test_a_third_return_with_a_pack_section_appears_in_the_packs(third_return, tmp_path):
    import openpyxl
    from test_pack_fixtures import AS_OF, PERIOD, build_rows

    from kpd_returns.packs.pack_data import build_packs, notes_for
    from kpd_returns.packs.pack_excel import write_xlsx
    from kpd_returns.packs.pack_html import render

    rows = build_rows()
    rows["values"]["third"] = list(rows["values"]["kpd"])
    packs = {p.slug: p for p in build_packs(period=PERIOD, as_of=AS_OF, **rows)}
    acme = packs["acme-health-ltd"]
    assert [s.return_id for s in acme.sections] == ["kpd", "third"]
    third = acme.sections[1]
    by = third.by_month(third.contracts()[0])
    assert by["2026-04"].measure("jobs") == acme.sections[0].by_month(third.contracts()[0])["2026-04"].measure(
        "job_entries")
    html = render(acme)
    assert '<h2 id="third">Job outcomes (third return)</h2>' in html and "Job entries by month, " in html
    assert "(Third return)" in html and "Job entries in the month." in html
    assert "Jobs, rolling 3 months" in html and ("Meets target (50)" in html or "Below target (50)" in html)
    assert any(m["measure"] == "Job entries" and m["guidance"] == "Third 3" for m in notes_for(acme)["measures"])
    names = openpyxl.load_workbook(write_xlsx(acme, tmp_path / "a.xlsx")).sheetnames
    assert "Third jobs" in names and "KPD staffing" in names
    national = packs["national"]
    assert '<h2 id="third">Job outcomes (third return)</h2>' in render(national)
    assert "Third national" in openpyxl.load_workbook(write_xlsx(national, tmp_path / "n.xlsx")).sheetnames


def test_a_pack_measure_names_what_it_computes():
    from kpd_returns.spec.pack_spec import PackSpec

    bad = dict(THIRD_PACK, measures=[{"id": "x", "label": "X", "sum": ["a"], "count": "b"}], tables=[], charts=[],
               national_view=None)
    with pytest.raises(ValueError, match="measure 'x' needs exactly one of sum, ratio, count, mean or target_of"):
        PackSpec(**bad)
    bad = dict(THIRD_PACK, charts=[dict(THIRD_PACK["charts"][0], series=[{"measure": "jobs", "label": "R",
                                                                           "show": "national"}])])
    with pytest.raises(ValueError, match="series 'R' is not a column of table 'jobs'"):
        PackSpec(**bad)


def test_a_column_or_chart_may_show_only_what_its_measure_declares():
    from kpd_returns.spec.pack_spec import PackSpec

    cols = THIRD_PACK["tables"][0]["columns"] + [{"measure": "jobs", "show": "rolling_12", "heading": "R12"}]
    with pytest.raises(ValueError, match="measure 'jobs' does not list window 'rolling_12'"):
        PackSpec(**dict(THIRD_PACK, tables=[dict(THIRD_PACK["tables"][0], columns=cols)]))
    untrended = [dict(m, trend=False) if m["id"] == "jobs" else m for m in THIRD_PACK["measures"]]
    with pytest.raises(ValueError, match="measure 'jobs' needs trend = true to be charted"):
        PackSpec(**dict(THIRD_PACK, measures=untrended))


def test_the_pack_month_is_the_latest_month_of_the_finest_returns_with_a_pack_section(tmp_path, monkeypatch):
    from test_pack_fixtures import PERIOD, ledger_from_rows

    from kpd_returns.intake import report_month
    from kpd_returns.intake.ledger import Ledger

    with Ledger(ledger_from_rows(tmp_path / "ledger.sqlite")) as ledger:
        assert report_month.latest_report_month(ledger) == PERIOD  # the MMIR's October beats the KPD's Q2
        # with only the KPD declaring a pack section, the packs are for its latest quarter's last month
        specs = {"kpd": SPECS["kpd"], "mmir": SPECS["mmir"].model_copy(update={"pack": None})}
        monkeypatch.setattr(report_month, "get_spec", specs.__getitem__)
        assert report_month.latest_report_month(ledger) == "2026-09"
