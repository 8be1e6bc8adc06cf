"""The Customer Insight (AtW 7.28-7.34) and JOBS II (ch. 6) sections of the packs, all from their specs'
[pack] tables (issue 11 items 7, 8): satisfaction by contract and nationally, course starts against the
register's profile (JOBS II 6.10), the 6.23 proportions and the 6.18/6.20 clocks, in HTML and Excel.
Figures worked out by hand in the comments."""

from __future__ import annotations

from types import SimpleNamespace as Row

import openpyxl
import pytest
from test_pack_fixtures import ACME, AS_OF, NORTH, PERIOD, build_rows, ret

from kpd_returns.intake.registry import registry_from_text
from kpd_returns.packs.build import contract_profiles
from kpd_returns.packs.pack_data import build_packs
from kpd_returns.packs.pack_excel import write_xlsx
from kpd_returns.packs.pack_html import render

MONTHS = ["2026-08", "2026-09", "2026-10"]
# Question 1 by level (AtW 7.29): very, fairly, fairly dissatisfied, very dissatisfied.
INSIGHT = {("INS-1", ACME): (10, 6, 3, 1), ("INS-2", NORTH): (5, 4, 1, 5)}
LEVELS = ("very_satisfied", "fairly_satisfied", "fairly_dissatisfied", "very_dissatisfied")
JOBS2 = {"referrals": 40, "reception_attended": 30, "agreed_to_start": 24, "course_starts": 20, "completions": 12,
         "exit_work": 2, "exit_health": 1, "exit_stopped_attending": 1, "exit_chose_to_leave": 0, "exit_other": 1}
CLOCKS = {"interview_5wd": (40, 36), "wellbeing_5wd": (20, 19)}
REGISTER = ("provider,contract,returns,profile\n"
            f"{ACME},JOBS2-1,jobs2,25\n"
            f"{NORTH},JOBS2-2,jobs2,2026-09=30;2026-10=28\n")


def _value(provider, contract, month, field, value, key="in_month"):
    return Row(provider=provider, contract=contract, period=month, field=field, key=key, month=month, value=value)


def rows() -> dict:
    out = build_rows()
    out["values"]["insight"], out["values"]["jobs2"] = [], []
    for (contract, provider), counts in INSIGHT.items():
        for m in MONTHS:
            out["returns"].append(_ret(provider, contract, "insight", m))
            out["values"]["insight"] += [_value(provider, contract, m, f, float(v)) for f, v in zip(LEVELS, counts)]
            # A response row's text is never a figure, and never shown.
            out["values"]["insight"].append(_value(provider, contract, m, "q2_reason", "Helpful sessions.", "row1"))
    for contract, provider, starts in (("JOBS2-1", ACME, 20), ("JOBS2-2", NORTH, 30)):
        for m in MONTHS:
            out["returns"].append(_ret(provider, contract, "jobs2", m))
            out["values"]["jobs2"] += [_value(provider, contract, m, f, float(starts if f == "course_starts" else v))
                                       for f, v in JOBS2.items()]
            for key, (due, within) in CLOCKS.items():
                out["values"]["jobs2"] += [_value(provider, contract, m, "clock_due", float(due), key),
                                           _value(provider, contract, m, "clock_within", float(within), key)]
    return out


def _ret(provider, contract, return_id, month):
    row = ret(provider, contract, "mmir", month)
    row.return_id, row.name = return_id, f"{return_id}-{contract}-{month}.xlsx"
    return row


@pytest.fixture(scope="module")
def packs():
    data = rows()
    profiles = contract_profiles(registry_from_text(REGISTER, "providers.csv"), data["values"])
    assert profiles["jobs2"]["jobs2-1"] == {m: 25.0 for m in MONTHS}
    assert profiles["jobs2"]["jobs2-2"] == {"2026-09": 30.0, "2026-10": 28.0}  # none for August
    return {p.slug: p for p in build_packs(period=PERIOD, as_of=AS_OF, profiles=profiles, **data)}


def _section(pack, rid):
    return next(s for s in pack.sections if s.return_id == rid)


def test_satisfaction_by_contract_and_nationally(packs):
    acme = _section(packs["acme-health-ltd"], "insight")
    oct_ = acme.by_month("INS-1")["2026-10"]
    assert oct_.measure("responses") == 20 and oct_.measure("share_satisfied") == 80.0  # (10 + 6) / 20
    nat = _section(packs["national"], "insight").national["2026-10"]
    assert nat.values["responses"] == 35 and nat.values["satisfied"] == 25
    assert nat.values["share_satisfied"] == pytest.approx(25 / 35 * 100)  # 71.4%: a ratio of the sums
    assert nat.medians["share_satisfied"] == 70.0  # the median of 80% and 60%


def test_starts_against_the_registers_profile_the_proportions_and_the_clocks(packs):
    north = _section(packs["northern-works"], "jobs2").by_month("JOBS2-2")
    assert north["2026-10"].targets == {"course_starts": 28.0} and north["2026-08"].targets == {"course_starts": None}
    acme = _section(packs["acme-health-ltd"], "jobs2")
    oct_ = acme.by_month("JOBS2-1")["2026-10"]
    assert acme.target_words(oct_, "course_starts") == "Below profile (25)"
    assert (oct_.measure("prop_attended"), oct_.measure("prop_agreed")) == (75.0, 80.0)  # 30/40, 24/30
    assert (oct_.measure("prop_started"), oct_.measure("prop_completed")) == (pytest.approx(20 / 24 * 100), 60.0)
    assert oct_.measure("early_exits") == 5
    assert (oct_.measure("clock_interview_5wd"), oct_.measure("clock_wellbeing_5wd")) == (90.0, 95.0)  # 36/40, 19/20
    assert oct_.measure("clock_exit_2wd") is None  # not returned
    nat = _section(packs["national"], "jobs2").national["2026-10"]
    assert (nat.values["course_starts"], nat.targets["course_starts"]) == (50, 53)  # 20 + 30 against 25 + 28
    assert nat.values["prop_started"] == pytest.approx(50 / 48 * 100)


def test_the_html_pack_shows_both_sections(packs):
    html = render(packs["acme-health-ltd"])
    assert '<h2 id="insight">Customer satisfaction (Customer Insight)</h2>' in html
    assert '<h2 id="jobs2">Group Work JOBS II</h2>' in html
    assert "Customer satisfaction by month (Question 1), INS-1" in html and "80.0%" in html
    assert "Below profile (25)" in html and "Course starts against profile by month, JOBS2-1" in html
    assert "Helpful sessions." not in html  # the customers' words stay in the returns (AtW 7.31)
    assert "AtW 7.28-7.29" in html and "JOBS II 6.23" in html
    national = render(packs["national"])
    assert "Customer satisfaction (Customer Insight), all providers" in national and "71.4%" in national
    assert "Group Work JOBS II, all providers" in national


def test_the_excel_packs_have_their_sheets_and_figures(packs, tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(packs["northern-works"], tmp_path / "north.xlsx"))
    assert {"Insight satisfaction", "JOBS II starts", "JOBS II proportions", "JOBS II clocks"} <= set(wb.sheetnames)
    cells = [[c.value for c in row] for row in wb["JOBS II starts"].iter_rows()]
    oct_ = next(r for r in cells if r[:2] == ["JOBS2-2", "Oct 2026"])
    assert 30 in oct_ and 28 in oct_ and "Meets profile (28)" in oct_
    national = openpyxl.load_workbook(write_xlsx(packs["national"], tmp_path / "n.xlsx"))
    assert {"Insight national", "JOBS II national"} <= set(national.sheetnames)


def test_a_target_column_needs_a_target_and_target_from_is_not_a_fixed_target_too():
    from kpd_returns.spec.pack_spec import Measure, PackSpec
    from kpd_returns.spec.return_spec import get_spec

    section = get_spec("jobs2").pack.model_dump()
    section["measures"] = [dict(m, target_from=None) if m["id"] == "course_starts" else m for m in section["measures"]]
    with pytest.raises(ValueError, match="measure 'course_starts': attention needs a target or target_from"):
        PackSpec(**section)
    section["measures"] = [dict(m, attention=None) for m in section["measures"]]
    with pytest.raises(ValueError, match="measure 'profiled_starts': target_of names 'course_starts', which is not "
                                         "an earlier measure with target_from"):
        PackSpec(**section)
    section["measures"] = [m for m in section["measures"] if m["id"] != "profiled_starts"]
    section["measures"] = [dict(m, ratio=[["course_starts"], ["referrals"]]) if m["id"] == "starts_pct_profile" else m
                           for m in section["measures"]]
    with pytest.raises(ValueError, match="measure 'course_starts' has no target or target_from"):
        PackSpec(**section)
    with pytest.raises(ValueError, match="give target or target_from, not both"):
        Measure(id="x", label="X", sum=["a"], target=5, target_from="profile")


def test_a_keyed_part_reads_one_row_of_a_field():
    from kpd_returns.packs.measures import contract_months
    from kpd_returns.spec.pack_spec import PackSpec

    section = PackSpec(title="T", label="T", guidance="g", findings_guidance="g", how_to_read=["r"], measures=[
        {"id": "a", "label": "A", "sum": ["due[a]"]}, {"id": "b", "label": "B", "ratio": [["within[b]"], ["due[b]"]]}])
    rows = [("P", "C", "2026-10", "due", 4.0, "a"), ("P", "C", "2026-10", "due", 10.0, "b"),
            ("P", "C", "2026-10", "within", 7.0, "b")]
    (cm,) = contract_months(rows, section)
    assert (cm.measure("a"), cm.measure("b")) == (4.0, 0.7)
