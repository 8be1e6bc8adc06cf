"""The README's first command: `kpd-returns demo` runs the whole job end to end on the samples."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kpd_returns.cli import app


def test_demo_writes_every_output_and_accounts_for_every_input(tmp_path):
    out = tmp_path / "demo-output"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    for line in ("Blank templates", "Sample returns", "Validation of the mistakes", "Consolidation", "Performance packs"):
        assert line in result.output
    assert (out / "templates" / "kpd-template.xlsx").is_file() and (out / "templates" / "mmir-template.xlsx").is_file()
    assert (out / "consolidated" / "consolidated.xlsx").is_file()
    assert (out / "packs" / "pack-2026-10-national.html").is_file()
    summary = json.loads((out / "demo-summary.json").read_text())
    consolidation = summary["consolidation"]
    inputs = len(list((out / "samples" / "returns").glob("*.xlsx"))) + len(list((out / "samples" / "mistakes").glob("*.xlsx")))
    assert consolidation["inputs"] == inputs == sum(consolidation["counts"].values())
    assert consolidation["counts"]["rejected"] == 6  # every mistake but the late (valid) one
    report = json.loads((out / "validation" / "mistakes-report.json").read_text())
    assert {f["name"] for f in report["files"]} == {p.name for p in (out / "samples" / "mistakes").glob("*.xlsx")}
    assert any(p.name.endswith(".annotated.xlsx") for p in (out / "validation").iterdir())
    # the register's provider that sent nothing shows as missing in its pack
    assert "Eastgate Pathways Ltd" in (out / "packs" / "pack-2026-10-eastgate-pathways-ltd.html").read_text()
    # and on the generated real season (issue 12): national figures with their coverage
    assert "A real season's packs" in result.output
    national = (out / "season" / "packs" / "pack-2026-10-national.html").read_text(encoding="utf-8")
    assert "87.9% (6 of 7 contracts, 670 cases due)" in national
    assert len(summary["season_packs"]) == 2 * 9 + 2  # xlsx and html for 8 providers and national, publication
