"""The Action Plan (validators/action_plan.toml; WHP ch.16 6-7, 9, 23, Annex A; AtW 7.06) through the command line:
the samples validate clean, an action without a target date or a measurable milestone is a query (SMART,
WHP ch.16 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CLEAN = SAMPLES / "returns" / "action-plan-northbridge-employment-ltd-atw-mhss-c014-2026-10.xlsx"


def kpd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_the_clean_sample_plan_validates_clean():
    run = kpd("validate", str(CLEAN))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Action Plan for October 2026" in run.stdout and "0 errors, 0 warnings" in run.stdout


def test_an_action_without_a_target_date_or_a_milestone_is_a_smart_query(tmp_path):
    wb = openpyxl.load_workbook(CLEAN)
    ws = wb["Actions"]
    headers = {ws.cell(4, c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(5, headers["Target date"]).value = None  # first action: not Timebound
    ws.cell(6, headers["Measurable milestone"]).value = None  # second action: not Measurable
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    run = kpd("validate", str(path))
    assert run.returncode == 0, run.stdout + run.stderr  # queries only: still valid, with warnings
    assert "0 errors, 2 warnings" in run.stdout
    assert "Actions!E5 (Target date) is empty" in run.stdout
    assert "Actions!F6 (Measurable milestone) is empty" in run.stdout
    assert run.stdout.count("list-row-incomplete-query") == 2
