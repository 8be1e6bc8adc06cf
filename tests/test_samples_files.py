"""The sample returns: reproducible, internally consistent, one mistake per mistake file,
and the files committed under samples/ are exactly what the generator writes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from kpd_returns.spec import layout
from kpd_returns.spec.findings import CATALOGUE
from kpd_returns.spec.deadlines import assess
from kpd_returns.author.samples import COMMITTED_RETURNS, PROVIDERS, cli_samples, sample_name, write_samples
from kpd_returns.spec.return_spec import META_SHEET, load_all
from kpd_returns.author.template import computed_formula

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Two independent runs: write_samples, and the `kpd-returns samples` command with its
    progress bar shown (one run serves the determinism and the progress tests: writing the
    samples is among the slowest steps of the suite)."""
    import contextlib
    import io

    first, second = tmp_path_factory.mktemp("samples-a"), tmp_path_factory.mktemp("samples-b")
    paths_a = write_samples(first)
    stream, stdout = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setattr("kpd_returns.render.progress.SHOW_AFTER_SECONDS", 0.0)  # no waiting on the clock
        status = cli_samples(second / "s", progress=True, progress_stream=stream)
    paths_b = [(second / "s") / p.relative_to(first) for p in paths_a]
    return (first, paths_a), (second / "s", paths_b), (status, stream.getvalue(), stdout.getvalue())


def _grids(path: Path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def _values(spec, path: Path) -> dict[str, dict[str, object]]:
    """field id -> {key: value} read by layout position (None for an empty cell)."""
    grids = _grids(path)
    out: dict[str, dict[str, object]] = defaultdict(dict)
    for (fid, key), slot in layout.slot_index(spec).items():
        rows = grids[slot.sheet]
        row = rows[slot.row - 1] if slot.row <= len(rows) else []
        value = row[slot.col - 1] if slot.col <= len(row) else ""
        out[fid][key] = None if value == "" else value
    return out


def _returns(first: Path, prefix: str) -> list[Path]:
    return sorted((first / "returns").glob(f"{prefix}-*.xlsx"))


# -- reproducible ------------------------------------------------------------------------
def test_write_samples_is_deterministic(generated):
    (first, paths_a), (second, _paths_b), _cli = generated
    rel_a = [p.relative_to(first) for p in paths_a]
    assert sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file()) == sorted(rel_a)
    assert len([p for p in rel_a if p.parts[0] == "returns"]) >= 4 * 7 + 4 * 2
    # Every profile's [[samples.mistakes]]: KPD 3, MMIR 4, Customer Insight 3, JOBS II 2, Action Plan 1, AtW Yearly MI 3.
    assert len([p for p in rel_a if p.parts[0] == "mistakes"]) == 16
    for rel in rel_a:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_committed_samples_match_the_generator(generated):
    (first, _paths), *_ = generated
    committed = sorted(p.relative_to(SAMPLES_DIR) for p in SAMPLES_DIR.rglob("*") if p.is_file())
    expected = {Path("README.md"), Path("expected-findings.json"), Path("providers.csv")}
    expected |= {Path("returns") / n for n in COMMITTED_RETURNS}
    expected |= {p.relative_to(first) for p in (first / "mistakes").iterdir()}
    assert set(committed) == expected
    for rel in committed:
        assert (SAMPLES_DIR / rel).read_bytes() == (first / rel).read_bytes(), (
            f"samples/{rel} is out of date: run `kpd-returns samples DIR` and copy it over")


def test_cli_samples_cannot_write_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli_samples(blocker) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Cannot write the samples") and "\n" not in err


# -- clean KPD returns -------------------------------------------------------------------
def test_kpd_clean_returns_are_consistent(generated, specs):
    (first, _), *_ = generated
    kpd = specs["kpd"]
    months = kpd.column_sets["months"].keys
    by_cpa = defaultdict(dict)
    for path in _returns(first, "kpd"):
        v = _values(kpd, path)
        quarter = v["quarter"][""]
        n = 3 * int(quarter[1])
        inside, after = months[:n], months[n:]
        assert v["contract_year"][""] == "2026-27"
        # submitted on the 2nd working day of the month after the quarter
        submitted = v["date_submitted"][""]
        assert submitted.month == kpd.column_sets["months"].months[n - 1] % 12 + 1 and submitted.weekday() < 5
        for f in kpd.sheet("Staffing").expanded_fields:
            if not f.computed:
                assert all(isinstance(v[f.id][k], float) for k in inside), (path.name, f.id)
        for sheet_name in ("Staffing", "Segmentation", "RAG ratings"):
            for f in kpd.sheet(sheet_name).expanded_fields:
                if not f.computed:
                    assert all(v[f.id][k] is None for k in after), (path.name, f.id, "month after the quarter")
        types = {row: v["seg_type"][row] for row in v["seg_type"] if v["seg_type"][row]}
        for k in inside:
            out_of_work = sum(v[f"{row}_participants"][k] for row, t in types.items() if t == "Out of work")
            assert out_of_work == v["caseload_active"][k] + v["caseload_not_engaged"][k]
            for row, t in types.items():
                if t == "In work":
                    assert v[f"{row}_job_entries"][k] is None
                    assert v[f"{row}_participants"][k] == v["caseload_in_work"][k]
                else:
                    assert v[f"{row}_job_entries"][k] <= v[f"{row}_participants"][k]
            for n_rag in range(1, 11):
                jobs, people = v[f"rag{n_rag}_job_entries"][k], v[f"rag{n_rag}_participants"][k]
                assert (jobs is None) == (people is None) and (jobs or 0) <= (people or 0)
        by_cpa[v["cpa"][""]][quarter] = v
    assert len(by_cpa) >= 2
    for cpa, quarters in by_cpa.items():
        q1, q2 = quarters["Q1"], quarters["Q2"]
        for f in kpd.sheet("Staffing").expanded_fields:
            if not f.computed:
                assert [q1[f.id][k] for k in months[:3]] == [q2[f.id][k] for k in months[:3]], (cpa, f.id)


def test_kpd_totals_are_left_as_formulas(generated, specs):
    (first, _), *_ = generated
    kpd = specs["kpd"]
    wb = openpyxl.load_workbook(first / "returns" / next(n for n in COMMITTED_RETURNS if n.startswith("kpd-")))
    for slot in layout.slots(kpd, kpd.sheet("Staffing")):
        if kpd.field(slot.field).computed:
            assert wb["Staffing"][slot.cell].value == computed_formula(kpd, slot.field, slot.key)
    assert wb[META_SHEET].sheet_state == "hidden" and all(ws.protection.sheet for ws in wb.worksheets)


# -- clean MMIR returns ------------------------------------------------------------------
DETAIL_COUNTS = {"reworks": "rework_case_ref", "reworks_outside_1wd": "late_rework_case_ref",
                 "support_plans_outside_1_month": "late_sp_case_ref",
                 "six_month_reports_outside_10wd": "late_6m_case_ref",
                 "exit_reports_outside_10wd": "late_exit_case_ref", "complaints": "complaint_ref"}
STAGES = {"withdrawals_before_support_plan": "Before Support Plan",
          "withdrawals_before_six_month_report": "Before 6 Month Report",
          "withdrawals_before_exit_report": "Before Exit Report"}
PERSONAL = re.compile(r"@|\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b|\b0\d{9,10}\b", re.I)


def test_mmir_clean_returns_are_consistent(generated, specs):
    (first, _), *_ = generated
    mmir = specs["mmir"]
    volumes = [f.id for f in mmir.sheet("Volumes").expanded_fields]
    routes = [f.id for f in mmir.sheet("Referral routes").expanded_fields]
    no_large = 0
    for p in PROVIDERS:
        previous = None
        for month in mmir.samples["periods"]:
            path = first / "returns" / sample_name(mmir, p, p.contracts_for("mmir")[0], month)
            v = _values(mmir, path)
            assert v["provider"][""] == p.name and v["reporting_month"][""] == dt.date(2026, int(month[5:]), 1)
            for fid in volumes:  # year to date is the running sum from April
                before = previous[fid]["year_to_date"] if previous else 0
                assert v[fid]["year_to_date"] == before + v[fid]["in_month"], (path.name, fid)
            for fid in routes:  # programme to date continues month to month
                if previous:
                    assert v[fid]["programme_to_date"] == previous[fid]["programme_to_date"] + v[fid]["in_month"]
            referrals = v["referrals"]["in_month"]
            assert sum(v[f]["in_month"] for f in routes if f.startswith("route_")) == referrals
            assert sum(v[f]["in_month"] for f in routes if f.startswith("heard_")) == referrals
            for count, ref in DETAIL_COUNTS.items():
                assert sum(x is not None for x in v[ref].values()) == v[count]["in_month"], (path.name, count)
            stages = [x for x in v["withdrawal_stage"].values() if x]
            for count, stage in STAGES.items():
                assert stages.count(stage) == v[count]["in_month"]
            for row, due in v["kpi_cases_due"].items():
                outside = v["kpi_outside_target"][row]
                assert v["kpi_within_target"][row] + outside == due
                assert bool(v["kpi_outside_reasons"][row]) == (outside > 0)
            social = [v[f.id][""] for f in mmir.sheet("Social value").expanded_fields]
            if int(month[5:]) % 3 == 0:
                assert all(x is not None for x in social[:4])
                assert (social[3] == 0) == (social[4] is None)
                no_large += social[3] == 0
            else:
                assert all(x is None for x in social)
            staff = [x for x in v["staff_ref"].values() if x]
            assert staff and all(re.fullmatch(r"STF-\d{3}", x) for x in staff)
            texts = [x for fid, cells in v.items() if mmir.field(fid).type == "text" for x in cells.values() if x]
            assert not [t for t in texts if PERSONAL.search(t)]
            assert v["date_submitted"][""].month == int(month[5:]) + 1
            previous = v
    assert no_large >= 2  # one provider, in June and September


def _period_end(period: str) -> dt.date:
    if " Q" in period:  # contract quarter: Q1 ends in June of the first year
        year, q = int(period[:4]), int(period[-1])
        month = 3 * q + 3
        year, month = (year + 1, month - 12) if month > 12 else (year, month)
    else:
        year, month = int(period[:4]), int(period[5:])
    return (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))


def test_clean_returns_on_time_and_late_mistake_late_by_deadline_calendar(generated, specs):
    (first, _), *_ = generated
    for path in sorted((first / "returns").glob("*.xlsx")):
        rid = next(r for r in load_all() if path.name.startswith(r + "-"))
        spec = load_all()[rid]
        if rid == "atw_yearly":  # a contract year read from its first month (AtW 7.26)
            v = _values(load_all()["atw_yearly"], path)
            label, _start, end = load_all()["atw_yearly"].period.from_header(month=v["contract_year_start"][""])
            lateness = assess("atw_yearly", label, end, v["date_submitted"][""])
            assert (label, end) == ("2025-26", dt.date(2026, 7, 31)) and lateness.late_working_days == 0, path.name
            continue
        v = _values(spec, path)
        month = v[spec.period.month_field or "reporting_month"].get("")
        period = f"{v['contract_year']['']} {v['quarter']['']}" if rid == "kpd" else f"{month.year}-{month.month:02d}"
        lateness = assess(rid, period, _period_end(period), v[spec.header.submitted][""])
        if rid == "action_plan":  # no deadline (validators/deadlines.toml): never on time, never late
            assert lateness is None or lateness.deadline is None, path.name
            continue
        assert lateness is not None and lateness.late_working_days == 0, path.name
    v = _values(specs["mmir"], first / "mistakes" / "mistake-late.xlsx")
    lateness = assess("mmir", "2026-10", dt.date(2026, 10, 31), v["date_submitted"][""])
    assert lateness.deadline.due.date() == dt.date(2026, 11, 4) and lateness.late_working_days == 12


# -- mistakes ------------------------------------------------------------------------------
def _differences(a: Path, b: Path) -> list[tuple[str, str]]:
    ga, gb = _grids(a), _grids(b)
    assert list(ga) == list(gb)
    diffs = []
    for name in ga:
        ra, rb = ga[name], gb[name]
        for r in range(max(len(ra), len(rb))):
            xa, xb = (ra[r] if r < len(ra) else []), (rb[r] if r < len(rb) else [])
            for c in range(max(len(xa), len(xb))):
                if (xa[c] if c < len(xa) else "") != (xb[c] if c < len(xb) else ""):
                    diffs.append((name, layout.a1(r + 1, c + 1)))
    return diffs


def test_each_mistake_file_has_exactly_one_mistake(generated):
    (first, _), *_ = generated
    expected = json.loads((first / "expected-findings.json").read_text())["mistakes"]
    assert len(expected) == 16
    for name, entry in expected.items():
        (finding,) = entry["findings"]
        diffs = _differences(first / name, first / entry["base"])
        if finding["cell"]:
            assert diffs == [(finding["sheet"], finding["cell"])], name
        elif finding["code"] == "template-superseded":
            assert diffs == [(META_SHEET, "B2")], name
        else:
            assert finding["code"] == "submitted-late" and diffs == [("Header", "B8")], name


def test_expected_findings_are_exact(generated):
    (first, _), *_ = generated
    expected = json.loads((first / "expected-findings.json").read_text())["mistakes"]
    found = {Path(n).name: e["findings"][0] for n, e in expected.items()}
    refs = {n: (f["code"], f["severity"], f["ref"]) for n, f in found.items()}
    assert refs == {
        "mistake-typed-over-total.xlsx": ("total-mismatch", "error", "Staffing!D9"),
        "mistake-negative-count.xlsx": ("below-minimum", "error", "Volumes!C17"),
        "mistake-text-in-number.xlsx": ("not-a-number", "error", "Staffing!E7"),
        "mistake-missing-header.xlsx": ("required-missing", "error", "Header!B5"),
        "mistake-personal-data.xlsx": ("personal-data", "error", "'Rework reasons'!D5"),
        "mistake-wrong-version.xlsx": ("template-superseded", "error", None),
        "mistake-late.xlsx": ("submitted-late", "warning", None),
        "mistake-insight-count-mismatch.xlsx": ("detail-rows-mismatch", "error", "Summary!C5"),
        "mistake-insight-late.xlsx": ("submitted-late", "warning", None),
        "mistake-insight-personal-data.xlsx": ("personal-data", "error", "Responses!E5"),
        "mistake-jobs2-clock-above-due.xlsx": ("sum-above-limit", "error", "Clocks!C10"),
        "mistake-jobs2-typed-over-exits.xlsx": ("total-mismatch", "error", "Activity!C18"),
        # An action with no target date: not SMART (WHP ch.16 7), a query.
        "mistake-action-plan-no-target-date.xlsx": ("row-condition-query", "warning", "Actions!E5"),
        "mistake-yearly-full-postcode.xlsx": ("personal-data", "error", "Locations!B5"),
        "mistake-yearly-missing-cpd-plan.xlsx": ("required-missing", "error", "Summary!C13"),
        "mistake-yearly-late.xlsx": ("submitted-late", "warning", None),
    }
    for f in found.values():
        assert CATALOGUE[f["code"]][0] == f["severity"]
    late = found["mistake-late.xlsx"]
    # 3rd working day of November 2026: Mon 2, Tue 3, Wed 4. Then 5 to 20 November: weekdays only.
    assert late["expected"] == "2026-11-04" and late["found"] == "2026-11-20"
    weekdays = [dt.date(2026, 11, d) for d in range(5, 21) if dt.date(2026, 11, d).weekday() < 5]
    assert late["late_working_days"] == len(weekdays) == 12
    # Customer Insight (AtW 7.32): 5pm on 15 November 2026, a Sunday, so Monday 16th; sent Thursday 19th.
    insight = found["mistake-insight-late.xlsx"]
    assert (insight["expected"], insight["found"], insight["late_working_days"]) == ("2026-11-16", "2026-11-19", 3)
    readme = (first / "README.md").read_text()
    for name, (code, severity, ref) in refs.items():
        (line,) = [x for x in readme.splitlines() if x.startswith(f"| `{name}`")]
        assert f"`{code}`" in line and severity in line and (ref or "file level") in line


def test_committed_register_names_every_sample_contract():
    """samples/providers.csv loads and lists every sample provider's CPAs and MMIR contract."""
    from kpd_returns.intake.registry import load_registry
    from kpd_returns.author.samples import PROVIDERS

    register = load_registry(SAMPLES_DIR / "providers.csv")
    contracts = {e.contract for e in register.entries}
    for p in PROVIDERS:
        assert {c for cs in p.contracts.values() for c in cs} <= contracts, p.name


def test_samples_write_their_own_register_matching_the_returns(generated):
    """providers.csv owes exactly the returns written: every contract, from the first period written."""
    from kpd_returns.intake.registry import load_registry
    from kpd_returns.checks.validate import validate_paths

    (first, paths), *_ = generated
    assert first / "providers.csv" in paths
    register = load_registry(first / "providers.csv")
    reports = validate_paths(sorted((first / "returns").glob("*.xlsx")), as_of=dt.date(2026, 11, 20), workers=1)
    sent = {(r.return_id, r.contract) for r in reports}
    owed = {(rid, e.contract) for e in register.entries for rid in e.returns}
    assert owed == sent
    firsts = {rid: min(r.period for r in reports if r.return_id == rid) for rid in ("kpd", "mmir")}
    assert firsts == {"kpd": "2026-27 Q1", "mmir": "2026-04"}
    text = (first / "providers.csv").read_text(encoding="utf-8")
    for rid, period in firsts.items():
        rows = [line for line in text.splitlines() if f",{rid}," in line]
        assert rows and all(f",{period}," in line for line in rows)
    # Every clean return validates clean, the Customer Insight and JOBS II ones included.
    assert {r.return_id for r in reports} == {"kpd", "mmir", "insight", "jobs2", "action_plan", "atw_yearly"}
    # The Yearly MI's contract year runs from the register's Service Start Date (August 2024), not April.
    assert {(r.period, r.period_end) for r in reports if r.return_id == "atw_yearly"} == {
        ("2025-26", dt.date(2026, 7, 31))}
    assert [(r.name, r.findings) for r in reports if r.findings] == []
    # JOBS II contracts carry their profiled starts (JOBS II 6.10) from the profile's register_profile.
    assert {e.contract: e.profile for e in register.entries if "jobs2" in e.returns} == {
        "JII-07": 24, "JII-12": {"2026-08": 22, "2026-09": 24, "2026-10": 26}}


def test_samples_show_progress_on_a_terminal(generated):
    _first, _second, (status, progress, stdout) = generated
    assert status == 0
    assert "Writing sample returns" in progress
    assert "providers.csv" in stdout
