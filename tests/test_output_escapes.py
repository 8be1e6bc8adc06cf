"""Outside text in JSON and CSV outputs cannot drive a terminal or a spreadsheet (issue 19 item 17):
bidirectional overrides and C1 controls are written as \\u escapes in every JSON output (the same JSON
value, deterministic), and a CSV cell beginning = + - @ is kept as text by one rule (read.terminal)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir
from test_consolidate_gen import mmir_base, patch
from kpd_returns.spec.return_spec import get_spec

OLD = 'description = "Year to date is never less than in month."'
INJECTION = "-2+3+cmd|' /C calc'!A0"
RAW = "\u202e\u0085\u009b\u2066"  # right-to-left override, next line, CSI, left-to-right isolate


def _run(*args: str, folder: Path | None = None, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    if folder is not None:
        env[VALIDATORS_ENV] = str(folder)
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def _validators(tmp_path: Path, description: str) -> Path:
    folder = tmp_path / "validators"
    shutil.copytree(validators_dir(), folder)
    text = (folder / "mmir.toml").read_text(encoding="utf-8")
    assert OLD in text, "test setup: the rule description is no longer in mmir.toml"
    (folder / "mmir.toml").write_text(text.replace(OLD, f"description = {json.dumps(description)}"), encoding="utf-8")
    return folder


def test_rules_csv_keeps_a_description_beginning_with_a_formula_as_text(tmp_path):
    run = _run("rules", "mmir", "--format", "csv", folder=_validators(tmp_path, INJECTION), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    cells = [c for row in csv.reader(io.StringIO(run.stdout)) for c in row]
    assert "'" + INJECTION in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_json_outputs_escape_bidi_and_c1_controls(tmp_path):
    description = f"Year to date {RAW} is never less than in month."
    run = _run("rules", "mmir", "--format", "json", folder=_validators(tmp_path, description), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert not any(ch in run.stdout for ch in RAW) and "\\u202e\\u0085\\u009b\\u2066" in run.stdout
    assert description in [r["checks"] for r in json.loads(run.stdout)["rules"]]  # the same value, as JSON

    # validate --format json, and consolidate's summary.json, of a return whose provider name holds them
    name = f"Acme {RAW} Ltd"
    path = tmp_path / "inbox" / "mmir-acme.xlsx"
    path.parent.mkdir()
    path.write_bytes(patch(mmir_base("2026-09"), get_spec("mmir"), {("provider", ""): name}))
    run = _run("validate", str(path), "--format", "json", "--as-of", "2026-10-05", cwd=tmp_path)
    assert run.returncode in (0, 1) and run.stdout, run.stderr
    assert not any(ch in run.stdout for ch in RAW) and "\\u202e" in run.stdout
    assert json.loads(run.stdout)["files"][0]["provider"] == name
    assert run.stdout == _run("validate", str(path), "--format", "json", "--as-of", "2026-10-05", cwd=tmp_path).stdout
    run = _run("consolidate", "inbox", "--out", "out", "--as-of", "2026-10-20", "--no-packs", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert not any(ch in summary for ch in RAW) and json.loads(summary)["files"][0]["provider"] == name
    run = _run("status", "--db", "out/ledger.sqlite", "--as-of", "2026-10-20", "--format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert not any(ch in run.stdout for ch in RAW)
    assert name in [r["provider"] for r in json.loads(run.stdout)["returns"]]
