"""Issue 20's cases on the committed samples, through `kpd-returns validate` (and `template`): each
sample is clean; one mistake is laid over its cells and the verdict, code and citation are checked.
The Customer Insight and JOBS II cases on filled templates are in test_return_insight.py and
test_return_jobs2.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from cli_return_helpers import findings, ref_of, run, validate
from test_checks_helpers import named_cell

from kpd_returns.spec.deadlines import deadline_guidance
from kpd_returns.spec.return_spec import load_all

D = dt.datetime
RETURNS = Path(__file__).resolve().parent.parent / "samples" / "returns"
SAMPLE = {"mmir": RETURNS / "mmir-northbridge-employment-ltd-2026-09.xlsx",
          "kpd": RETURNS / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx",
          "jobs2": RETURNS / "jobs2-northbridge-employment-ltd-jii-07-2026-10.xlsx",
          "insight": RETURNS / "insight-northbridge-employment-ltd-2026-10.xlsx"}
ON_TIME = {"mmir": "2026-10-02T10:00", "kpd": "2026-10-05T10:00", "jobs2": "2026-11-03T10:00",
           "insight": "2026-11-03T10:00"}


def laid_over(return_id: str, changes: dict[tuple[str, str], object], target: Path) -> Path:
    """The committed sample with ``changes`` typed over its cells (through each field's defined name)."""
    wb = openpyxl.load_workbook(SAMPLE[return_id])
    for (fid, key), value in changes.items():
        named_cell(wb, return_id, fid, key).value = value
    wb.save(target)
    return target


@pytest.mark.parametrize("return_id", sorted(SAMPLE))
def test_each_sample_is_clean_to_start_with(return_id, tmp_path):
    code, report = validate(laid_over(return_id, {}, tmp_path / "same.xlsx"), "--submitted", ON_TIME[return_id])
    assert (code, findings(report)) == (0, [])


CASES = [
    # MMIR: 66.67 (two of three companies) states more places than no sentence asks for: a query.
    ("mmir", {("sv_measure2_pct", ""): 66.67}, ("many-decimals", "sv_measure2_pct", "")),
    # MMIR: Social Value left out in a quarter's last month: AtW 7.17-7.18 say DWP reports it quarterly.
    ("mmir", {("sv_measure1_pct", ""): None}, ("social-value-missing-query", "sv_measure1_pct", "")),
    # MMIR: a Support Plan back on day 31 (2 August to 2 September) is within 7.25's "one (1) calendar
    # month" though it may fail KPI 3: listed late, it is queried, not refused.
    ("mmir", {("late_sp_referral_date", "row1"): dt.date(2026, 8, 2)},
     ("listed-late-on-time-query", "late_sp_date_returned", "row1")),
    # KPD: job entries above participants in a segment (KPD 21 does not say it).
    ("kpd", "seg", ("job-entries-above-participants-query", None, None)),
]


@pytest.mark.parametrize("return_id, changes, expected", CASES, ids=[c[2][0] for c in CASES])
def test_what_the_guidance_would_accept_is_a_query_not_a_refusal(return_id, changes, expected, tmp_path):
    if changes == "seg":  # the first segment with figures: its job entries one above its participants
        wb = openpyxl.load_workbook(SAMPLE["kpd"])
        key = next(k for k in ("apr", "may", "jun", "jul", "aug", "sep")
                   if isinstance(named_cell(wb, "kpd", "seg1_participants", k).value, (int, float)))
        participants = named_cell(wb, "kpd", "seg1_participants", key).value
        changes, expected = {("seg1_job_entries", key): participants + 1}, (expected[0], "seg1_job_entries", key)
    code, report = validate(laid_over(return_id, changes, tmp_path / "r.xlsx"), "--submitted", ON_TIME[return_id])
    code_, fid, key = expected
    assert code == 0, findings(report)
    assert [(f[0], f[1], f[2], f[3]) for f in findings(report)] == [
        (code_, ref_of(return_id, fid, key), "warning", "plausibility check")]
    assert report["findings"][0]["message"].startswith("Query (a plausibility check")


def test_lateness_has_one_citation_everywhere_the_deadline_rule_s():
    """KPD: "KPD intro 4" on the field, the finding and the packs; JOBS II: the project's own default."""
    kpd = run("validate", str(SAMPLE["kpd"]), "--submitted", "2027-01-29T10:00", "--format", "json").output
    assert '"guidance": "KPD intro 4"' in kpd and "intro 5" not in kpd
    jobs2 = run("validate", str(SAMPLE["jobs2"]), "--submitted", "2026-12-20T10:00", "--format", "json").output
    assert "\"guidance\": \"kpd-returns' own default (JOBS II states no day)\"" in jobs2 and "6.23" not in jobs2
    for spec in load_all().values():
        assert spec.guidance_ref(spec.field(spec.header.submitted).guidance) == deadline_guidance(spec.id) or \
            spec.id == "jobs2", spec.id


def test_jobs2_personal_data_is_the_project_s_own_protection(tmp_path):
    path = laid_over("jobs2", {("exit_other_reasons", "in_month"): "Moved away: ring 07700 900123."},
                     tmp_path / "pii.xlsx")
    code, report = validate(path, "--submitted", ON_TIME["jobs2"])
    (f,) = [f for f in report["findings"] if f["code"] == "personal-data"]
    assert code == 1 and f["guidance"].startswith("kpd-returns' own protection: ")


def test_the_atw_and_kpd_packs_do_not_cite_whp_chapter_16():
    for spec in load_all().values():
        if spec.pack is not None and spec.guidance_short in ("AtW", "KPD"):
            assert "WHP" not in spec.pack.model_dump_json(), spec.id


@pytest.mark.parametrize("return_id, reporting_date", [("mmir", True), ("insight", False), ("jobs2", False),
                                                       ("kpd", False)])
def test_the_cover_says_send_it_by_the_reporting_date_only_on_the_mmir(return_id, reporting_date, tmp_path):
    path = tmp_path / f"{return_id}.xlsx"
    assert run("template", return_id, str(path)).exit_code == 0
    cover = [str(c) for row in openpyxl.load_workbook(path)["Cover"].iter_rows(values_only=True) for c in row if c]
    step5 = next(c for c in cover if c.startswith("Save the workbook"))
    assert ("Reporting Date" in step5) == reporting_date, step5


def test_the_checks_sheet_gives_each_error_its_basis_and_marks_each_query(tmp_path):
    """The template's Checks sheet: an error's text ends with its basis (the quote, or why), its
    guidance column names the paragraph or the kind; a check without a basis is worded as a query."""
    path = tmp_path / "mmir.xlsx"
    assert run("template", "mmir", str(path)).exit_code == 0
    rows = [(str(r[0]), str(r[1])) for r in openpyxl.load_workbook(path)["Checks"].iter_rows(min_row=5, values_only=True)
            if r[0]]
    assert ("Required fields on the Volumes sheet are filled in. Basis: \"The MMIR should include as a minimum, but "
            "shall not be limited to, the following information:\"", "AtW 7.25") in rows
    assert ("Numbers are not negative on the Volumes sheet. Basis: a count, a time or a share of people cannot be "
            "negative.", "arithmetic") in rows
    assert any(words.startswith("Query: in the last month") and guidance == "plausibility check"
               for words, guidance in rows)
