"""JOBS II 6.10 and 6.17 in the packs and the consolidated workbook (issue 20 item 4), all from the spec's
[pack] and [[key_measures]] tables: course starts as a percentage of the register's profile in the month
and in the contract year to date (April, validators/jobs2.toml [period]), below profile as a low
(query-level) item on the attention list citing JOBS II 6.10, and the three average times of 6.17, per
contract, weighted nationally, and in the consolidated key measures. Figures worked by hand in the comments."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as Row

import openpyxl
import pytest
from cli_return_helpers import fill, run, write_template
from test_pack_fixtures import ret
from test_return_jobs2 import jobs2_cells

from kpd_returns.packs.pack_data import build_packs
from kpd_returns.packs.pack_excel import write_xlsx
from kpd_returns.packs.pack_html import render

AS_OF = dt.date(2026, 7, 20)
P9, C9 = "Test Provider 09 Ltd", "JII-90"
P8, C8 = "Test Provider 08 Ltd", "JII-80"
# Contract JII-90: March closes the 2025-26 contract year; April opens 2026-27.
STARTS = {"2026-03": 30, "2026-04": 10, "2026-05": 24, "2026-06": 15}
PROFILE = {"2026-03": 20.0, "2026-04": 20.0, "2026-05": 30.0, "2026-06": 10.0}
# JII-80 is on profile: 12 starts against 10 every month.
# The 6.17 times, with the claimants each is an average over: (attended, starts, completions + early exits).
TIMES = {C9: (4.0, 6.0, 20.0), C8: (3.0, 8.0, 22.0)}


def _values(provider: str, contract: str, month: str, starts: int) -> list[Row]:
    attended = 30 if contract == C9 else 10
    figures = {"referrals": 40, "reception_attended": attended, "agreed_to_start": starts, "course_starts": starts,
               "completions": 8, "exit_work": 1, "exit_health": 0, "exit_stopped_attending": 1,
               "exit_chose_to_leave": 0, "exit_other": 0}
    figures |= dict(zip(("days_referral_to_interview", "days_interview_to_start", "days_start_to_end"),
                        TIMES[contract]))
    return [Row(provider=provider, contract=contract, period=month, month=month, field=f, key="in_month",
                value=float(v)) for f, v in figures.items()]


def _ret(provider: str, contract: str, month: str) -> Row:
    row = ret(provider, contract, "mmir", month)
    row.return_id, row.name = "jobs2", f"jobs2-{contract}-{month}.xlsx"
    return row


def _packs(period: str) -> dict:
    months = [m for m in STARTS if m <= period]
    returns = [_ret(p, c, m) for p, c in ((P9, C9), (P8, C8)) for m in months]
    values = [v for m in months for v in _values(P9, C9, m, STARTS[m]) + _values(P8, C8, m, 12)]
    profiles = {"jobs2": {"jii-90": PROFILE, "jii-80": {m: 10.0 for m in STARTS}}}
    return {p.slug: p for p in build_packs(returns=returns, values={"jobs2": values}, period=period, as_of=AS_OF,
                                           profiles=profiles)}


def _section(pack):
    return next(s for s in pack.sections if s.return_id == "jobs2")


@pytest.fixture(scope="module")
def june():
    return _packs("2026-06")


def test_starts_as_a_percentage_of_profile_in_the_month_and_the_contract_year(june):
    s = _section(june["test-provider-09-ltd"])
    by = s.by_month(C9)
    # In the month: 10/20, 24/30, 15/10.
    assert [by[m].measure("starts_pct_profile") for m in ("2026-04", "2026-05", "2026-06")] == [50.0, 80.0, 150.0]
    # The contract year from April: 10/20; (10 + 24)/(20 + 30); (10 + 24 + 15)/(20 + 30 + 10) = 49/60.
    # Never the average of the monthly percentages ((50 + 80 + 150) / 3 = 93.3) and never with March.
    year = [s.window(by[m], "starts_pct_profile", "contract_year") for m in ("2026-04", "2026-05", "2026-06")]
    assert year == [50.0, 68.0, pytest.approx(49 / 60 * 100)]
    assert (s.window(by["2026-06"], "course_starts", "contract_year"),
            s.window(by["2026-06"], "profiled_starts", "contract_year")) == (49, 60)
    # March is the last month of 2025-26: its year to date is March alone (the contract's first month held), 30/20.
    assert s.window(by["2026-03"], "starts_pct_profile", "contract_year") == 150.0
    # Nationally, June: (15 + 12) / (10 + 10).
    assert s.national["2026-06"].values["starts_pct_profile"] == 135.0


def test_below_profile_is_a_low_attention_item_citing_6_10(june):
    (item,) = [a.item for a in june["test-provider-09-ltd"].attention if a.item.kind == "measure_target"]
    assert (item.severity, item.severity_label, item.guidance) == (3, "low", "JOBS II 6.10")
    assert item.subject == "Course starts against profile"
    # June meets its profile, the contract year to date does not: both are stated, the item is there.
    assert item.fact == ("Course starts below profile: in June 2026, 15 against 10 (150.0% of profile), meeting "
                         "profile; in the contract year to date (April to June 2026), 49 against 60 (81.7% of "
                         "profile).")
    assert "profiled starts" in item.prompt
    # On profile in the month and the year: nothing to discuss.
    assert not [a for a in june["test-provider-08-ltd"].attention if a.item.kind == "measure_target"]
    may = _packs("2026-05")["test-provider-09-ltd"]
    (item,) = [a.item for a in may.attention if a.item.kind == "measure_target"]
    assert item.fact == ("Course starts below profile: in May 2026, 24 against 30 (80.0% of profile); in the "
                         "contract year to date (April to May 2026), 34 against 50 (68.0% of profile).")
    assert item.size == 32.0  # the larger shortfall, 100 - 68 points: orders items of the same level


def test_the_three_6_17_times_per_contract_and_weighted_nationally(june):
    oct_ = _section(june["test-provider-09-ltd"]).by_month(C9)["2026-06"]
    assert [oct_.measure(m) for m in ("time_referral_to_interview", "time_interview_to_start",
                                      "time_start_to_end")] == [4.0, 6.0, 20.0]
    nat = _section(june["national"]).national["2026-06"].values
    # Referral to interview over interviews attended: (4.0 x 30 + 3.0 x 10) / 40 = 3.75 (not (4 + 3) / 2).
    assert nat["time_referral_to_interview"] == 3.75
    # Interview to start over June's starts: (6.0 x 15 + 8.0 x 12) / 27 = 186 / 27.
    assert nat["time_interview_to_start"] == pytest.approx(186 / 27)
    # Start to end over completions and early exits, 10 each: (20 + 22) / 2.
    assert nat["time_start_to_end"] == 21.0


def test_a_month_with_no_one_reaching_a_stage_adds_nothing_to_a_weighted_time():
    from kpd_returns.packs.measures import contract_months, window_value
    from kpd_returns.spec.return_spec import get_spec

    section = get_spec("jobs2").pack
    measure = next(m for m in section.measures if m.id == "time_interview_to_start")
    rows = [("P", "A", "2026-05", "course_starts", 10.0, "in_month"),
            ("P", "A", "2026-05", "days_interview_to_start", 7.0, "in_month"),
            ("P", "A", "2026-06", "course_starts", 0.0, "in_month")]  # no starts in June: the time is left empty
    held = {cm.month: cm for cm in contract_months(rows, section)}
    assert held["2026-06"].measure("time_interview_to_start") is None
    assert window_value(held, measure, "2026-06", "contract_year") == 7.0  # (7.0 x 10 + 0) / (10 + 0)
    # Starts in June with no time returned: the year's figure is not known, never silently May's.
    rows[2] = ("P", "A", "2026-06", "course_starts", 5.0, "in_month")
    held = {cm.month: cm for cm in contract_months(rows, section)}
    assert window_value(held, measure, "2026-06", "contract_year") is None


def test_the_html_and_excel_packs_show_the_percentages_times_and_the_item(june, tmp_path):
    html = render(june["test-provider-09-ltd"])
    assert "Course starts as a percentage of profile, in the month and the contract year to date, JII-90" in html
    assert "81.7%" in html and "150.0%" in html
    assert "Average working days between the stages by month (JOBS II 6.17), JII-90" in html
    assert '<span class="tag sev-3">Low</span> Course starts against profile' in html
    assert "(April to June 2026), 49 against 60 (81.7% of profile). <span class=\"note\">(JOBS II 6.10)</span>" in html
    wb = openpyxl.load_workbook(write_xlsx(june["test-provider-09-ltd"], tmp_path / "p9.xlsx"))
    rows = [[c.value for c in r] for r in wb["JOBS II profile"].iter_rows()]
    jun = next(r for r in rows if r[:2] == [C9, "Jun 2026"])
    assert jun[2:5] == [150, 49, 60] and jun[5] == pytest.approx(49 / 60 * 100)
    times = [[c.value for c in r] for r in wb["JOBS II times"].iter_rows()]
    assert [C9, "Jun 2026", 4, 6, 20] in times
    national = openpyxl.load_workbook(write_xlsx(june["national"], tmp_path / "n.xlsx"))
    heads = [c.value for c in national["JOBS II national"][4]]
    row = next([c.value for c in r] for r in national["JOBS II national"].iter_rows() if r[0].value == "Jun 2026")
    assert row[heads.index("Course starts as % of profile")] == 135
    assert row[heads.index("Referral to reception interview (average working days)")] == 3.75


def test_consolidate_lays_out_the_three_times_and_its_pack_lists_below_profile(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    blank = write_template("jobs2", tmp_path)
    for month, days in ((dt.date(2026, 9, 1), 3.5), (dt.date(2026, 10, 1), 4.5)):
        cells = jobs2_cells(month, month.replace(month=month.month + 1, day=6),
                            days_referral_to_interview__in_month=days)
        fill("jobs2", blank, cells, inbox / f"jobs2-{month:%Y-%m}.xlsx")
    register = tmp_path / "providers.csv"
    register.write_text("provider,contract,returns,first_period,profile\n"
                        "Test Provider 02 Ltd,JOBS2-007,jobs2,2026-09,2026-09=20;2026-10=25\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("consolidate", str(inbox), "--out", str(out), "--providers", str(register), "--as-of", "2026-11-27",
                 "--workers", "1")
    assert result.exit_code == 0, result.output
    # The pack `consolidate` writes: 20 starts a month against 20 then 25, so October is below profile and so
    # is the contract year to date (40 of 45, 88.9%): a low item citing JOBS II 6.10.
    html = next(out.rglob("pack-2026-10-test-provider-02-ltd.html")).read_text(encoding="utf-8")
    assert ("Course starts below profile: in October 2026, 20 against 25 (80.0% of profile); in the contract year "
            "to date (September to October 2026), 40 against 45 (88.9% of profile).") in html
    assert '<span class="tag sev-3">Low</span> Course starts against profile' in html
    wb = openpyxl.load_workbook(out / "consolidated.xlsx")
    expected = {"JOBS II days to interview": [3.5, 4.5], "JOBS II days to start": [8.0, 8.0],
                "JOBS II days start to end": [5.0, 5.0]}  # as jobs2_cells returns them
    for sheet, figures in expected.items():
        rows = [[c.value for c in r] for r in wb[sheet].iter_rows()]
        header = next(r for r in rows if r[:2] == ["Provider", "Contract"])
        assert header[2:] == ["September 2026", "October 2026"]  # no Total column: averages are not added up
        assert ["Test Provider 02 Ltd", "JOBS2-007", *figures] in rows
        assert not any(r[0] == "Total" for r in rows)  # nor a totals row
        assert any("neither providers nor months are added up" in str(r[0]) for r in rows)
