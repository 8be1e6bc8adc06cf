"""The WHP sections of the packs through the real command line: `kpd-returns consolidate` on an inbox holding the
two PRaP extracts (built from tests/whp_frames.py, whose figures are worked out by hand there and in
test_whp_css.py / test_whp_cohorts.py) with the WHP register (--whp) writes the provider and national packs'
WHP sections, attention list first; the register's levels, PMIR levels and compliance samples, and its
problems, each said in one sentence."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from cli_run import project_file, run_cli
from whp_frames import referrals_frame, starts_frame

from kpd_returns.packs.whp_css import STANDARDS
from kpd_returns.spec.whp_config import WhpConfigError, whp_config_from_text

REGISTER = """
[contracts."WHP-CPA-01"]
region = "england-and-wales"
[contracts."WHP-CPA-01".levels]
cpa = 45.0
disability = 50.0
dda = 60.0

[[pmir]]
contract = "WHP-CPA-01"
level = 1
action = "entered"
date = 2025-01-06
note = "Contract start."

[[pmir]]
contract = "WHP-CPA-01"
level = 2
action = "entered"
date = 2026-06-10
note = "CSS 1a and CSS 3 below standard."

[[compliance]]
contract = "WHP-CPA-01"
css = 5
month = "2026-05"
size = 30
passes = 28
"""


def write_inbox(folder: Path) -> None:
    folder.mkdir(parents=True)
    refs = referrals_frame()
    refs["referral_id"] = [f"R-{int(i[1:]):04d}" for i in refs["referral_id"]]  # the extract's id pattern
    starts = starts_frame()
    starts["participant_id"] = [f"P-{int(i[1:]):04d}" for i in starts["participant_id"]]
    for frame in (refs, starts):
        for col in [c for c in frame.columns if c.endswith("_date")]:
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    refs.to_csv(folder / "whp_referrals_WHP-CPA-01_2026-06.csv", index=False)
    starts.to_csv(folder / "whp_outcomes_WHP-CPA-01_2026-10.csv", index=False)


def text_of(html: str) -> str:
    text = re.sub(r"<svg.*?</svg>|<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).replace("&#39;", "'").replace("&amp;", "&")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("whp")
    write_inbox(work / "inbox")
    (work / "whp.toml").write_text(REGISTER, encoding="utf-8")
    proc = run_cli("consolidate", "inbox", "--out", "out", "--whp", "whp.toml", "--as-of", "2026-11-20",
                   "--period", "2026-05", "--workers", "1", cwd=work, **project_file(work))
    assert proc.returncode == 0, proc.stderr
    return work


def test_provider_pack_shows_may_2026_standards_by_hand(run):
    html = (run / "out" / "packs" / "pack-2026-05-whp-cpa-01.html").read_text(encoding="utf-8")
    text = text_of(html)
    # The attention list comes before the WHP section, most urgent first: CSS 4 (high), then the standards below.
    assert text.index("What needs attention") < text.index("Work and Health Programme Measured by DWP")
    assert text.index("High CSS 4, WHP-CPA-01") < text.index("Medium CSS 1a, WHP-CPA-01")
    assert ("CSS 1a was 66.7% in May 2026: 4 started or failed to attend in time of 6 referrals whose 15 working "
            "days ended in the month.") in text
    assert "(WHP 16.28-16.31)" in text and "Consider adding an action to the contract's Action Plan" in text
    row = lambda css: re.search(rf"CSS {css} {re.escape(STANDARDS[css][0])} (\S+%|\d+ over 25 working days) "  # noqa: E731
                                rf"(\d+) (\d+) ", text)
    assert row("1a").groups() == ("66.7%", "4", "6")
    assert row("1b").groups() == ("75.0%", "3", "4")
    assert row("2").groups() == ("75.0%", "3", "4")
    assert row("3").groups() == ("14.3%", "1", "7")
    assert row("4").groups() == ("1 over 25 working days", "1", "1")
    assert "Referrals behind CSS 1a (2) R-0003, R-0005" in text
    # Over months (16.8), from the first referral's month (April 2026): CSS 2 is April's 4 of 4 and May's 3 of 4.
    assert "CSS 2 75.0% (below the standard) (3 of 4) 87.5% (below the standard) (7 of 8)" in text
    assert "93.3% (28 of 30 records checked, May 2026)" in text  # CSS 5 as recorded, never inferred
    assert "CSS 6 The ESF1420m form" in text and "No sample recorded" in text
    assert ("CSS 5: 28 of the 30 records checked in May 2026 passed (93.3%); the standard is every one." in text
            and "(WHP 16.29-16.31, 16.41)" in text)
    # The PMIR register's two levels at once, as at the as-of date (16.5), and no cohort matured by May 2026.
    assert ("PMIR level: Level 1: Performance Management Regime (since 06 January 2025); Level 2: informal action, "
            "Performance Manager led (since 10 June 2026).") in text
    assert "No cohort of starts has yet had its 639 days" in text
    assert "3 Early Entry group No matured cohort No matured cohort No matured cohort No matured cohort level not " \
           "set" in text
    assert "1 CPA headline No matured cohort No matured cohort No matured cohort No matured cohort 45%" in text


def test_excel_pack_lists_standards_and_breaches(run):
    wb = openpyxl.load_workbook(run / "out" / "packs" / "pack-2026-05-whp-cpa-01.xlsx")
    rows = [[c.value for c in r] for r in wb["WHP standards"].iter_rows(min_row=5) if r[0].value]
    assert [r[2:] for r in rows[:5]] == [
        ["CSS 1a", rows[0][3], 66.7, 4, 6, "No"], ["CSS 1b", rows[1][3], 75, 3, 4, "No"],
        ["CSS 2", rows[2][3], 75, 3, 4, "No"], ["CSS 3", rows[3][3], 14.3, 1, 7, "No"],
        ["CSS 4", rows[4][3], None, 1, 1, "No"]]
    breaches = {(r[2].value, r[3].value) for r in wb["WHP breaches"].iter_rows(min_row=5) if r[0].value}
    assert breaches == {("CSS 1a", "R-0003"), ("CSS 1a", "R-0005"), ("CSS 1b", "R-0002"), ("CSS 2", "R-0003"),
                        ("CSS 3", "R-0005"), ("CSS 4", "R-0005")}
    assert wb.sheetnames.index("Attention") < wb.sheetnames.index("WHP standards")


def test_national_pack_holds_the_whp_section(run):
    text = text_of((run / "out" / "packs" / "pack-2026-05-national.html").read_text(encoding="utf-8"))
    assert "Work and Health Programme" in text and "WHP-CPA-01 (WHP-CPA-01)" in text


def test_october_cohort_and_pipeline_in_the_pack(tmp_path):
    """Without --period an inbox of extracts alone reports on the latest month an extract covers (2026-10 here):
    a WHP contract sends no MI return, its packs come from DWP's extracts (intake.report_month)."""
    write_inbox(tmp_path / "inbox")
    (tmp_path / "whp.toml").write_text(REGISTER, encoding="utf-8")
    proc = run_cli("consolidate", "inbox", "--out", "out", "--whp", "whp.toml", "--as-of", "2026-11-20",
                   "--workers", "1", cwd=tmp_path, **project_file(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "performance pack files for 2026-10 in" in proc.stdout, proc.stdout
    text = text_of((tmp_path / "out" / "packs" / "pack-2026-10-whp-cpa-01.html").read_text(encoding="utf-8"))
    assert "1 CPA headline 40.0% (below the level) (2 of 5) 50.0% (3 of 6)" in text
    # The pipeline shows the latest 12 cohorts in progress: September 2026 against the earlier cohorts at 1 month.
    assert "Sep 2026 1 1 100.0% 25.0%" in text and "Jan 2025 21" not in text
    assert "January 2025: 50.0% with earnings against 66.7% for earlier cohorts at the same age, projected 37.5%" in text
    assert "A Performance Indicator Course of Action Notice may follow. (WHP 16.12)" in text


@pytest.mark.parametrize("text, said", [
    ("[contracts.X]\nregion = 'wales'\n", "whp.toml: contracts.X: region 'wales' is not one of"),
    ("[contracts.X.levels]\ncpa = 120\n", "whp.toml: contracts.X.levels.cpa: Input should be less than or equal to 100."),
    ("[[compliance]]\ncontract = 'X'\ncss = 5\nmonth = '2026-05'\nsize = 3\npasses = 4\n",
     "passes (4) are more than the sample size (3)"),
    ("[[pmir]]\ncontract = 'X'\nlevel = 5\naction = 'entered'\ndate = 2026-01-01\n", "whp.toml: pmir.0.level"),
    ("[contracts.X]\nlevel = 3\n", "whp.toml: contracts.X.level: Extra inputs are not permitted."),
])
def test_register_problems_are_one_sentence(text, said):
    with pytest.raises(WhpConfigError) as exc:
        whp_config_from_text(text, "whp.toml")
    assert said in str(exc.value) and "\n" not in str(exc.value)


def test_bad_register_stops_the_pack_command_with_exit_2(run):
    (run / "bad.toml").write_text("[contracts.X]\nregion = 'wales'\n", encoding="utf-8")
    proc = run_cli("pack", "--period", "2026-05", "--out", "packs2", "--db", "out/ledger.sqlite", "--whp", "bad.toml",
                   cwd=run, **project_file(run))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("bad.toml: contracts.X: region 'wales' is not one of")


def test_pmir_levels_run_at_once_and_are_left():
    cfg = whp_config_from_text(REGISTER + """
[[pmir]]
contract = "WHP-CPA-01"
level = 1
action = "left"
date = 2026-09-01
note = "Moved to level 2 only."
""", "whp.toml")
    assert [e.level for e in cfg.pmir_current("WHP-CPA-01", dt.date(2026, 7, 1))] == [1, 2]
    assert [e.level for e in cfg.pmir_current("WHP-CPA-01")] == [2]
    assert [e.action for e in cfg.pmir_history("WHP-CPA-01")] == ["entered", "entered", "left"]
    assert cfg.level("WHP-CPA-03", "cpa") is None  # a contract with no entry has no levels


def test_example_register_for_the_sample_contracts_loads():
    from kpd_returns.spec.whp_config import load_whp_config

    cfg = load_whp_config(Path(__file__).resolve().parents[1] / "validators" / "whp-register.toml")
    assert cfg.level("WHP-CPA-02", "cpa") == 25.0 and cfg.level("WHP-CPA-01", "cpa") == 12.0
    assert all(cfg.level("WHP-CPA-03", g) is None for g in ("cpa", "disability", "early_entry", "ltu", "dda"))
    assert [e.level for e in cfg.pmir_current("WHP-CPA-01")] == [1, 2]
