"""The README's first command: `kpd-returns demo` runs the whole job end to end on the samples."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kpd_returns.cli.main import app


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One run of the demo, shared by the tests below (it is among the slowest steps of the suite),
    recording its ledger in a working-folder record of its own."""
    tmp = tmp_path_factory.mktemp("demo")
    project_file = tmp / ".kpd-returns.toml"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPD_RETURNS_PROJECT_FILE", str(project_file))
        result = CliRunner().invoke(app, ["demo", "--out", str(tmp / "demo-output"), "--workers", "1"])
    return tmp / "demo-output", result, project_file


def test_demo_writes_every_output_and_accounts_for_every_input(demo_run):
    out, result, _project_file = demo_run
    assert result.exit_code == 0, result.output
    for line in ("Blank templates", "Sample returns", "Validation of the mistakes", "Consolidation", "Performance packs"):
        assert line in result.output
    # files and findings counted apart, each named (it once said "6 errors in 7 files")
    assert "(16 files checked: 12 with errors (12 errors in all), 4 valid with warnings)" in result.output
    assert (out / "templates" / "kpd-template.xlsx").is_file() and (out / "templates" / "mmir-template.xlsx").is_file()
    assert (out / "consolidated" / "consolidated.xlsx").is_file()
    assert (out / "packs" / "pack-2026-10-national.html").is_file()
    summary = json.loads((out / "demo-summary.json").read_text())
    consolidation = summary["consolidation"]
    inputs = len(list((out / "samples" / "returns").glob("*.xlsx"))) + len(list((out / "samples" / "mistakes").glob("*.xlsx")))
    assert consolidation["inputs"] == inputs == sum(consolidation["counts"].values())
    assert consolidation["counts"]["rejected"] == 12  # every mistake but the three late and the SMART query (valid)
    # Customer Insight and JOBS II (issue 11 items 7, 8): templates, accepted samples and pack sections
    assert {p.name for p in (out / "templates").glob("*.xlsx")} >= {"insight-template.xlsx", "jobs2-template.xlsx"}
    accepted = {f["return_id"] for f in consolidation["files"] if f["outcome"] == "accepted"}
    assert accepted == {"kpd", "mmir", "insight", "jobs2", "action_plan", "atw_yearly"}
    # The AtW Yearly MI (AtW 7.26-7.27): its template, and its contract year in the submissions register
    # (from the Service Start Date, August 2024, so 2025-26 is due 7 August 2026).
    assert (out / "templates" / "atw_yearly-template.xlsx").is_file()
    northbridge = (out / "packs" / "pack-2026-10-northbridge-employment-ltd.html").read_text(encoding="utf-8")
    assert "The contract year (AtW Yearly MI)" in northbridge and "2026-08-07 23:59" in northbridge
    national_pack = (out / "packs" / "pack-2026-10-national.html").read_text(encoding="utf-8")
    assert '<h2 id="insight">' in national_pack and '<h2 id="jobs2">' in national_pack
    calder = (out / "packs" / "pack-2026-10-calder-valley-work-partnership.html").read_text(encoding="utf-8")
    assert "Course starts against profile by month, JII-12" in calder and " profile (2" in calder
    report = json.loads((out / "validation" / "mistakes-report.json").read_text())
    assert {f["name"] for f in report["files"]} == {p.name for p in (out / "samples" / "mistakes").glob("*.xlsx")}
    assert any(p.name.endswith(".annotated.xlsx") for p in (out / "validation").iterdir())
    # the register's provider that sent nothing shows as missing in its pack
    assert "Eastgate Pathways Ltd" in (out / "packs" / "pack-2026-10-eastgate-pathways-ltd.html").read_text()
    # and on the generated real season (issue 12): national figures with their coverage
    assert "A real season's packs" in result.output
    national = (out / "season" / "packs" / "pack-2026-10-national.html").read_text(encoding="utf-8")
    assert "87.9% (6 of 7 contracts, 670 cases due)" in national
    assert len(summary["season_packs"]) == 2 * 12 + 2  # xlsx and html for 11 providers (3 WHP) and national, publication
    assert len(list((out / "season" / "extracts").glob("*.csv"))) == 144  # WHP extracts: 3 contracts x 24 months x 2
    # The Action Plan (issue 21 item 9): its template, and the October packs' review of the September plans.
    assert (out / "templates" / "action_plan-template.xlsx").is_file()
    north = (out / "packs" / "pack-2026-10-northbridge-employment-ltd.html").read_text(encoding="utf-8")
    assert '<h2 id="plan-review">Review of the Action Plan</h2>' in north
    assert "Action Plan for September 2026 reviewed for AtW-MHSS-C014" in north
    season_north = (out / "season" / "packs" / "pack-2026-10-northbridge-employment-ltd.html").read_text(encoding="utf-8")
    review = season_north[season_north.index('<h2 id="plan-review">'):]
    assert ('<th scope="row" class="wrap">KPI 2 Arranging the appointment (Referred Aug 2024 to Aug 2026)</th><td>Medium'
            '</td><td colspan="5"><strong class="tag status-missing">No action</strong>') in review
    assert "Open errors on returns" in review[review.index("Actions overdue"):]


def test_the_validation_tally_counts_files_and_findings_apart():
    from kpd_returns.spec import findings as F
    from kpd_returns.cli.demo import validation_tally
    from kpd_returns.spec.model import FileReport

    def report(*codes):
        return FileReport(path="x.xlsx", name="x.xlsx", sha256=None,
                          findings=[F.Finding(code=c, severity=s, message="m") for c, s in codes])

    reports = [report(("a", "error"), ("b", "error"), ("c", "error")), report(("d", "error")),
               report(("w", "warning")), report()]
    assert validation_tally(reports) == "4 files checked: 2 with errors (4 errors in all), 1 valid with warnings, 1 valid"
    assert validation_tally([report(("a", "error"))]) == "1 file checked: 1 with errors (1 error in all)"


def test_after_the_demo_status_reads_its_ledger_and_register(demo_run, monkeypatch):
    """A user who runs the demo and then a bare `kpd-returns status` sees the demo's ledger, with the
    demo's register (issue 14 item 6: one ledger for every command)."""
    _out, result, project_file = demo_run
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("KPD_RETURNS_PROJECT_FILE", str(project_file))
    status = CliRunner().invoke(app, ["status", "--as-of", "2026-11-20", "--format", "json"])
    assert status.exit_code == 0, status.output
    assert "demo-output/consolidated/ledger.sqlite" in status.output
    assert "providers.csv stored in the ledger" in status.output
    assert "Eastgate Pathways Ltd" in status.output  # in the register only: it sent nothing
