"""The generated season's Customer Insight and JOBS II contracts (validators/season.toml) in the packs it
writes: satisfaction by contract and nationally (AtW 7.28-7.34), starts against the register's profile
(JOBS II 6.10) with the 6.23 proportions and the clocks (6.18, 6.20). Figures worked by hand in the comments."""

from __future__ import annotations

import openpyxl
import pytest

from kpd_returns.author import season
from kpd_returns.packs.build import load_packs, write_packs
from kpd_returns.packs.pack_html import render


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory):
    return season.build_ledger(tmp_path_factory.mktemp("season-new") / "ledger.sqlite")


@pytest.fixture(scope="module")
def packs(ledger_path):
    return {p.slug: p for p in load_packs(ledger_path, season.REPORT_MONTH, as_of=season.AS_OF,
                                          register=season.register())}


def _section(pack, rid):
    return next(s for s in pack.sections if s.return_id == rid)


def test_the_season_register_carries_the_jobs2_profiles():
    reg = season.register()
    profiles = {e.contract: (e.profiled("2026-09"), e.profiled("2026-10")) for e in reg.entries if "jobs2" in e.returns}
    assert profiles == {"JII-07": (24, 24), "JII-12": (18, 22)}


def test_satisfaction_by_contract_and_nationally(packs):
    north = _section(packs["northbridge-employment-ltd"], "insight").by_month("AtW-MHSS-C014")["2026-10"]
    assert (north.measure("responses"), north.measure("share_satisfied")) == (20, 90.0)  # (12 + 6) / 20
    nat = _section(packs["national"], "insight").national["2026-10"]
    # Northbridge 18 of 20 and Calder Valley 8 of 10: 26 of 30, not the average of 90% and 80%.
    assert nat.values["share_satisfied"] == pytest.approx(26 / 30 * 100)
    assert "86.7%" in render(packs["national"])


def test_starts_against_profile_proportions_and_clocks(packs):
    calder = _section(packs["calder-valley-work-partnership"], "jobs2")
    by = calder.by_month("JII-12")
    assert [calder.target_words(by[m], "course_starts") for m in ("2026-08", "2026-09", "2026-10")] == [
        "Meets profile (18)", "Meets profile (18)", "Below profile (22)"]  # 20 starts a month
    oct_ = by["2026-10"]
    assert [oct_.measure(m) for m in ("prop_attended", "prop_agreed", "prop_completed", "clock_interview_5wd",
                                      "clock_wellbeing_5wd")] == [75.0, 80.0, 60.0, 90.0, 95.0]
    nat = _section(packs["national"], "jobs2").national["2026-10"]
    assert (nat.values["course_starts"], nat.targets["course_starts"]) == (40, 46)  # 20 + 20 against 24 + 22
    html = render(packs["northbridge-employment-ltd"])
    assert "Below profile (24)" in html and "Course starts against profile by month, JII-07" in html


def test_the_season_packs_files_show_the_new_sections(ledger_path, tmp_path):
    paths = write_packs(ledger_path, tmp_path, season.REPORT_MONTH, as_of=season.AS_OF, register=season.register())
    national = next(p for p in paths if p.name == "pack-2026-10-national.xlsx")
    assert {"Insight national", "JOBS II national"} <= set(openpyxl.load_workbook(national).sheetnames)
    calder = next(p for p in paths if p.name == "pack-2026-10-calder-valley-work-partnership.xlsx")
    sheet = openpyxl.load_workbook(calder)["JOBS II starts"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any(r[:2] == ["JII-12", "Oct 2026"] and 22 in r and "Below profile (22)" in r for r in rows)


def test_starts_as_a_percentage_of_profile_the_attention_item_and_the_6_17_times(packs):
    """Issue 20 item 4: JOBS II 6.10 and 6.17 in the season's packs."""
    calder = _section(packs["calder-valley-work-partnership"], "jobs2")
    oct_ = calder.by_month("JII-12")["2026-10"]
    assert oct_.measure("starts_pct_profile") == pytest.approx(20 / 22 * 100)  # 90.9%
    # The contract year to date from August (the contract's first month): (20 x 3) / (18 + 18 + 22) = 60 / 58.
    assert calder.window(oct_, "starts_pct_profile", "contract_year") == pytest.approx(60 / 58 * 100)
    (item,) = [a for a in packs["calder-valley-work-partnership"].attention if a.item.kind == "measure_target"]
    assert (item.contract, item.item.severity_label, item.item.guidance) == ("JII-12", "low", "JOBS II 6.10")
    assert item.item.fact == ("Course starts below profile: in October 2026, 20 against 22 (90.9% of profile); in the "
                              "contract year to date (August to October 2026), 60 against 58 (103.4% of profile), "
                              "meeting profile.")
    assert [oct_.measure(m) for m in ("time_referral_to_interview", "time_interview_to_start",
                                      "time_start_to_end")] == [3.6, 8.5, 22.5]
    nat = _section(packs["national"], "jobs2").national["2026-10"].values
    # 30 interviews, 20 starts and 17 completions or early exits on each contract: weighted equally here.
    assert [nat[m] for m in ("time_referral_to_interview", "time_interview_to_start", "time_start_to_end")] == [
        pytest.approx(3.9), 8.0, 21.75]
    assert nat["starts_pct_profile"] == pytest.approx(40 / 46 * 100)  # (20 + 20) / (24 + 22)
