"""The public API (kpd_returns.checks.validate): reports with every field filled, structure before
cells, bad files confined, lateness, and serial and parallel runs giving the same reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from test_checks_helpers import D, build, check, codes, kpd_cells, mmir_cells, only

from kpd_returns.checks.validate import validate_file, validate_items, validate_paths

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_a_report_has_every_field_filled():
    xlsx = build("kpd", kpd_cells("Q2"))
    report = validate_file(xlsx, name="kpd.xlsx", as_of=D(2026, 10, 5))
    assert report.sha256 == hashlib.sha256(xlsx).hexdigest()
    assert (report.return_id, report.version, report.provider, report.contract) == ("kpd", "1.0", "Test Provider Ltd",
                                                                                   "CPA 07")
    assert (report.period, report.period_end) == ("2026-27 Q2", D(2026, 9, 30))
    assert (report.submitted, report.submitted_source) == (dt.datetime(2026, 10, 2), "workbook")
    assert (report.deadline, report.late_working_days) == (dt.datetime(2026, 10, 21, 23, 59), 0)
    assert report.verdict == "valid" and report.exit_code == 0
    values = {(f, k): (m, v) for f, k, m, v in report.values}
    assert values[("staff_senior", "apr")] == ("2026-04", 4.5)
    assert values[("caseload_total", "sep")] == ("2026-09", 4300.0)  # recomputed, not cached
    assert values[("date_submitted", "")] == ("", "2026-10-02")
    assert values[("provider", "")] == ("", "Test Provider Ltd")
    assert not any(k == "oct" for _f, k, _m, _v in report.values)


def test_mmir_values_carry_the_reporting_month():
    report = check("mmir", mmir_cells("2026-10"))
    assert {m for _f, _k, m, _v in report.values} == {"2026-10"}
    assert ("referrals", "year_to_date", "2026-10", 60.0) in report.values


def test_a_renamed_sheet_is_not_read_and_says_so():
    """Structure first: a renamed sheet gives sheet-missing, its cells are not read (no finding
    about them), one line says what was not checked, and the other sheets are checked (issue 13)."""
    def rename(wb):
        wb["Volumes"].title = "Volumes (Oct)"
    report = check("mmir", mmir_cells(referrals__in_month=-5), edit=rename)
    assert report.findings[0].code == "sheet-missing"
    assert [f.code for f in report.findings if f.sheet == "Volumes"] == ["sheet-missing", "sheet-not-checked"]
    assert not [v for v in report.values if v[0] == "referrals"]
    assert report.verdict == "invalid" and report.exit_code == 1


@pytest.mark.parametrize("source, code", [(b"", "file-empty"), (b"a,b,c\n1,2,3\n", "file-csv"),
                                          (b"PK\x03\x04broken", "file-corrupt")])
def test_unreadable_bytes_become_one_file_finding(source, code):
    report = validate_file(source, name="in.xlsx")
    assert [f.code for f in report.findings] == [code]
    assert report.verdict == "unreadable" and report.exit_code == 2


def test_a_missing_file(tmp_path):
    report = validate_file(tmp_path / "nope.xlsx")
    assert [f.code for f in report.findings] == ["file-not-found"]
    assert report.name == "nope.xlsx" and report.sha256 is None


def test_an_unexpected_error_is_confined_to_its_file(monkeypatch):
    from kpd_returns.checks import registry

    kind = registry.RULES["parts_equal_total"]

    def boom(fc, rule):
        raise RuntimeError("rule exploded")
    monkeypatch.setitem(registry.RULES, "parts_equal_total", registry.RuleKind(boom, kind.required, kind.early))
    good, bad = build("kpd", kpd_cells()), build("mmir", mmir_cells())
    reports = list(validate_items([(good, "good.xlsx", None, None, "england-and-wales"),
                                   (bad, "bad.xlsx", None, None, "england-and-wales")], as_of=D(2026, 7, 1)))
    assert reports[0].verdict == "valid"
    assert [f.code for f in reports[1].findings] == ["file-check-failed"]
    assert "rule exploded" in reports[1].findings[0].message


# -- submission and lateness ----------------------------------------------------------------
def test_submitted_from_the_workbook_late_atw_7_24():
    """MMIR October 2026 is due on the 3rd working day after the month ends: Wed 4 November."""
    report = check("mmir", mmir_cells("2026-10", date_submitted__=D(2026, 11, 20)))
    f = only(report, "submitted-late")
    assert (f.severity, f.sheet, f.cell, f.found, f.expected, f.guidance) == (
        "warning", None, None, "2026-11-20", "2026-11-04", "AtW 7.24")
    assert report.late_working_days == 12 and report.deadline == dt.datetime(2026, 11, 4, 23, 59)
    assert "12 working days late" in f.message and "4 November 2026" in f.message
    assert report.verdict == "valid-with-warnings"


def test_submitted_option_overrides_the_workbook():
    report = check("mmir", mmir_cells("2026-10"), submitted=dt.datetime(2026, 11, 5, 9, 30))
    assert report.submitted_source == "option" and report.late_working_days == 1
    assert only(report, "submitted-late").found == "2026-11-05T09:30"
    report = check("mmir", mmir_cells("2026-10"), submitted=dt.datetime(2026, 11, 4, 9, 30),
                   submitted_source="email")
    assert (report.submitted_source, report.late_working_days, codes(report)) == ("email", 0, [])


def test_without_a_submission_date_the_as_of_date_is_used():
    report = check("mmir", mmir_cells("2026-10", date_submitted__=None), as_of=D(2026, 11, 6))
    assert (report.submitted, report.submitted_source, report.late_working_days) == (
        dt.datetime(2026, 11, 6), "as-of", 2)
    assert {f.code for f in report.findings} == {"required-missing-query", "submitted-late"}  # issue 20


def test_an_unknown_region_is_refused_before_any_work():
    with pytest.raises(ValueError, match="region"):
        validate_file(b"", name="x.xlsx", region="wales-only")


# -- batches ---------------------------------------------------------------------------------
def _batch(tmp_path: Path) -> list[Path]:
    """Ten files: clean and faulty KPD and MMIR returns, and a file that is not a workbook."""
    variants = [("kpd", kpd_cells()), ("kpd", kpd_cells("Q2", staff_central__may="12 FTE")),
                ("mmir", mmir_cells()), ("mmir", mmir_cells(referrals__year_to_date=5)),
                ("kpd", kpd_cells(fte_total__apr=1)), ("mmir", mmir_cells(staff_role__row1="jo@x.org")),
                ("kpd", kpd_cells(job_entries__jul=3)), ("mmir", mmir_cells("2026-09")),
                ("kpd", kpd_cells(contact__=None))]
    paths = []
    for i, (rid, cells) in enumerate(variants):
        p = tmp_path / f"{i:02d}-{rid}.xlsx"
        p.write_bytes(build(rid, cells))
        paths.append(p)
    junk = tmp_path / "09-notes.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    return paths + [junk]


def _as_json(reports) -> str:
    return json.dumps([{**r.__dict__, "findings": [f.to_dict() for f in r.findings]} for r in reports],
                      default=str, sort_keys=True)


def test_serial_and_parallel_give_identical_reports(tmp_path):
    paths = _batch(tmp_path)
    done: list[int] = []
    serial = validate_paths(paths, workers=1, as_of=D(2026, 7, 1), progress=done.append)
    parallel = validate_paths(paths, workers=2, as_of=D(2026, 7, 1), chunk_size=3)
    assert done == list(range(1, 11))
    assert [r.path for r in serial] == [str(p) for p in paths]
    assert _as_json(serial) == _as_json(parallel)
    # Social Value missing in September and a blank Contact are queries (issue 20).
    assert [r.verdict for r in serial] == ["valid", "invalid", "valid", "invalid", "invalid", "invalid", "invalid",
                                           "valid-with-warnings", "valid-with-warnings", "unreadable"]
    # One file at a time gives the same as a batch.
    assert _as_json([validate_file(p, as_of=D(2026, 7, 1)) for p in paths]) == _as_json(serial)


def test_validate_items_streams_in_input_order(tmp_path):
    paths = _batch(tmp_path)[:4]
    items = ((p.read_bytes(), p.name, None, None, "england-and-wales") for p in paths)
    reports = validate_items(items, workers=2, chunk_size=1, as_of=D(2026, 7, 1))
    assert [r.name for r in reports] == [p.name for p in paths]


@pytest.mark.skipif(not (SAMPLES / "expected-findings.json").exists(), reason="no committed samples")
def test_the_committed_samples_give_their_expected_findings():
    expected = json.loads((SAMPLES / "expected-findings.json").read_text(encoding="utf-8"))
    cases = {name: [] for name in expected["clean"]}
    cases |= {name: m["findings"] for name, m in expected["mistakes"].items()}
    present = [name for name in cases if (SAMPLES / name).exists()]
    assert present
    reports = validate_paths([SAMPLES / name for name in present], workers=1)
    for name, report in zip(present, reports):
        got = sorted((f.code, f.severity, f.sheet, f.cell) for f in report.findings)
        want = sorted((e["code"], e["severity"], e["sheet"], e["cell"]) for e in cases[name])
        assert got == want, name
