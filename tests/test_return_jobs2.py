"""JOBS II monthly MI (validators/jobs2.toml, JOBS II ch. 6), a return that is a spec file only:
its template from the CLI validates clean once filled; the 6.23 proportions are recomputed; each
rule fires at its cell with its paragraph (errors where the guidance says so, queries otherwise);
the project's default deadline; and `kpd-returns consolidate` records it beside the insight return,
with their sheets in the consolidated workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from cli_return_helpers import cell_of, fill, findings, ref_of, run, validate, with_changes, write_template
from test_checks_helpers import build
from test_return_insight import insight_cells

from kpd_returns.checks.validate import validate_file
from kpd_returns.intake.registry import RegistryError, registry_from_text
from kpd_returns.spec.deadlines import deadline_for
from kpd_returns.spec.return_spec import get_spec

D = dt.date
ACTIVITY = {"referrals": 40, "reception_attended": 30, "reception_dna": 8, "agreed_to_start": 24, "declined": 6,
            "course_starts": 20, "completions": 12, "exit_work": 2, "exit_health": 1, "exit_stopped_attending": 1,
            "exit_chose_to_leave": 0, "exit_other": 1}
CLOCKS = {"interview_5wd": (40, 36), "outcome_7wd": (38, 38), "course_day1_15wd": (24, 20),
          "course_start_17wd": (24, 23), "exit_2wd": (17, 15), "wellbeing_5wd": (20, 19)}


def jobs2_cells(month: D = D(2026, 10, 1), submitted: D = D(2026, 11, 6), **changes) -> dict:
    cells = {("provider", ""): "Test Provider 02 Ltd", ("contract", ""): "JOBS2-007", ("reporting_month", ""): month,
             ("date_submitted", ""): submitted, ("contact", ""): "MI team"}
    cells |= {(fid, "in_month"): v for fid, v in ACTIVITY.items()}
    cells[("exit_other_reasons", "in_month")] = "Moved out of the area."
    cells |= {("days_referral_to_interview", "in_month"): 4.5, ("days_interview_to_start", "in_month"): 8.0,
              ("days_start_to_end", "in_month"): 5.0}
    for key, (due, within) in CLOCKS.items():
        cells |= {("clock_due", key): due, ("clock_within", key): within}
    return with_changes(cells, changes)


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return write_template("jobs2", tmp_path_factory.mktemp("jobs2"))


def test_a_filled_template_validates_clean_and_the_proportions_are_recomputed(blank, tmp_path):
    path = fill("jobs2", blank, jobs2_cells(), tmp_path / "clean.xlsx")
    code, report = validate(path)
    assert (code, findings(report)) == (0, [])
    assert (report["return_type"], report["period"]) == ("jobs2", "2026-10")
    wb = openpyxl.load_workbook(blank)
    for fid in ("early_exits", "prop_attended", "prop_agreed", "prop_started", "prop_completed"):
        sheet, cell = cell_of("jobs2", fid, "in_month")
        assert str(wb[sheet][cell].value).startswith("="), fid  # a formula the provider sees fill in
    # The values the checks recompute (never a cached value): JOBS II 6.23 and 6.26.
    values = {(f, k): v for f, k, _m, v in validate_file(path.read_bytes(), name="clean.xlsx").values}
    assert values[("early_exits", "in_month")] == 5
    assert values[("prop_attended", "in_month")] == 0.75
    assert values[("prop_agreed", "in_month")] == 0.8
    assert values[("prop_completed", "in_month")] == 0.6
    assert values[("clock_share", "interview_5wd")] == 0.9


MISTAKES = [
    # (changes, code, field, key, severity, guidance: the basis each finding is cited to, or its start)
    ({"clock_within__wellbeing_5wd": 21}, "sum-above-limit", "clock_within", "wellbeing_5wd", "error",
     "arithmetic: "),
    # Issue 20: agreed + declined above attended is derived, not stated, and 6.18 lets a Start or DNS be
    # recorded up to 7 working days later, across a month end: a query like its three siblings.
    ({"declined__in_month": 7}, "sum-above-limit-query", "agreed_to_start", "in_month", "warning",
     "plausibility check"),
    ({"reception_dna__in_month": 11}, "sum-above-limit-query", "reception_attended", "in_month", "warning",
     "plausibility check"),
    ({"course_starts__in_month": 25}, "sum-above-limit-query", "course_starts", "in_month", "warning",
     "plausibility check"),
    ({"completions__in_month": 16}, "sum-above-limit-query", "completions", "in_month", "warning",
     "plausibility check"),
    ({"early_exits__in_month": 9}, "total-mismatch", "early_exits", "in_month", "error", "arithmetic: "),
    ({"prop_attended__in_month": 0.5}, "total-mismatch", "prop_attended", "in_month", "error", "arithmetic: "),
    ({"clock_due__exit_2wd": None}, "required-missing", "clock_due", "exit_2wd", "error", "JOBS II 6.18"),
    # Issue 20: 6.17 states no precision (KPD figures are a query for the same reason).
    ({"days_start_to_end__in_month": 5.25}, "many-decimals", "days_start_to_end", "in_month", "warning",
     "plausibility check"),
    # Issue 20: 6.26 lists no reasons for an early exit; these five are the template's own.
    ({"exit_health__in_month": None, "exit_other__in_month": 2}, "required-missing-query", "exit_health",
     "in_month", "warning", "plausibility check"),
]


@pytest.mark.parametrize("changes, code, fid, key, severity, guidance", MISTAKES,
                         ids=[f"{m[1]}-{m[2]}-{m[3]}" for m in MISTAKES])
def test_each_rule_fires_at_its_cell_with_its_paragraph(blank, tmp_path, changes, code, fid, key, severity,
                                                        guidance):
    exit_code, report = validate(fill("jobs2", blank, jobs2_cells(**changes), tmp_path / "bad.xlsx"))
    got = [f for f in findings(report) if f[:3] == (code, ref_of("jobs2", fid, key), severity)]
    assert got and got[0][3].startswith(guidance), findings(report)
    assert exit_code == (1 if severity == "error" else 0)
    message = next(f["message"] for f in report["findings"] if f["code"] == code)
    assert message.startswith("Query (a plausibility check") == (severity == "warning")


def test_a_sum_names_its_parts_and_its_limit():
    """The generic message says which figures came to how much, and against which cell."""
    report = validate_file(build("jobs2", jobs2_cells(declined__in_month=7)), name="r.xlsx")
    (f,) = [f for f in report.findings if f.code == "sum-above-limit-query"]
    _sheet, limit_cell = cell_of("jobs2", "reception_attended", "in_month")
    assert f.message.startswith("Query (a plausibility check by kpd-returns, not a rule of the guidance): "
                                "Agreed to start plus declined (did not start, DNS) come to 31 in Activity!")
    assert f"reception interviews attended in Activity!{limit_cell} (30)" in f.message


def test_the_default_deadline_is_the_10th_working_day_after_the_month():
    """Chapter 6 states no monthly deadline: the project's default (validators/deadlines.toml)."""
    assert deadline_for("jobs2", "2026-10", D(2026, 10, 31)).due == dt.datetime(2026, 11, 13, 23, 59)
    # December 2026: Christmas Day, Boxing Day (substitute Monday 28th) and New Year's Day are not working days.
    assert deadline_for("jobs2", "2026-12", D(2026, 12, 31)).due == dt.datetime(2027, 1, 15, 23, 59)


def test_consolidate_records_both_returns_and_the_workbook_has_their_sheets(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    fill("jobs2", write_template("jobs2", tmp_path), jobs2_cells(), inbox / "jobs2-2026-10.xlsx")
    fill("insight", write_template("insight", tmp_path), insight_cells(), inbox / "insight-2026-10.xlsx")
    register = tmp_path / "providers.csv"
    register.write_text("provider,contract,returns,first_period,profile\n"
                        "Test Provider 01 Ltd,ATW-MHSS-001,insight,2026-10,\n"
                        "Test Provider 02 Ltd,JOBS2-007,jobs2,2026-10,2026-10=24;2026-11=26\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("consolidate", str(inbox), "--out", str(out), "--providers", str(register), "--as-of",
                 "2026-11-27", "--workers", "1", "--no-packs", "--verbose")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    recorded = sorted((f["return_id"], f["period"], f["outcome"]) for f in summary["files"])
    assert recorded == [("insight", "2026-10", "accepted"), ("jobs2", "2026-10", "accepted")]
    wb = openpyxl.load_workbook(out / "consolidated.xlsx")
    for spec_id in ("insight", "jobs2"):
        for measure in get_spec(spec_id).key_measures:
            assert measure.sheet in wb.sheetnames, measure.sheet
    starts = wb["JOBS II starts"]
    values = [c.value for row in starts.iter_rows() for c in row]
    assert "Test Provider 02 Ltd" in values and 20 in values


# -- the profiled number of starts (JOBS II 6.10, 6.17) in the providers register ----------------


def test_the_register_gives_each_contract_its_profile_by_period_or_for_every_period():
    reg = registry_from_text("provider,contract,returns,profile\n"
                             "A,JOBS2-001,jobs2,2026-10=24;2026-11=26\n"
                             "B,JOBS2-002,jobs2,30\n"
                             "C,JOBS2-003,jobs2,\n", "providers.csv")
    a, b, c = (reg.for_contract(ref) for ref in ("JOBS2-001", "JOBS2-002", "JOBS2-003"))
    assert (a.profiled("2026-10"), a.profiled("2026-11"), a.profiled("2026-12")) == (24, 26, None)
    assert (b.profiled("2026-10"), c.profiled("2026-10")) == (30, None)
    toml = registry_from_text('[[providers]]\nprovider = "A"\ncontract = "JOBS2-001"\nreturns = ["jobs2"]\n'
                              'profile = { "2026-10" = 24 }\n', "providers.toml")
    assert toml.for_contract("JOBS2-001").profiled("2026-10") == 24


@pytest.mark.parametrize("value, words", [("lots", "'lots' is not a whole number"),
                                          ("2026-10=2.5", "'2026-10=2.5' is not a period and a whole number"),
                                          ("October=20", "'October=20' is not a period and a whole number")])
def test_a_bad_profile_is_one_sentence_naming_the_line_and_column(value, words):
    with pytest.raises(RegistryError) as err:
        registry_from_text(f"provider,contract,returns,profile\nA,JOBS2-001,jobs2,{value}\n", "providers.csv")
    assert str(err.value).startswith(f"providers.csv: line 2, column 4: {words}")


def test_the_rule_catalogue_lists_each_comparison_once_as_an_error_or_a_query():
    """`kpd-returns rules jobs2`: a sum_not_above rule gives the error or its query twin, never both."""
    rows = list(csv.DictReader(io.StringIO(run("rules", "jobs2", "--format", "csv").output)))
    sums = [(r["code"], r["kind"], r["guidance"]) for r in rows if r["code"].startswith("sum-above-limit")]
    assert sums == [("sum-above-limit", "error", "JOBS II 6.18")] + [
        ("sum-above-limit-query", "query", "plausibility check")] * 4
