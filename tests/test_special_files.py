"""A pipe or a device among the returns is one unreadable input, never a hang or a memory blow-up
(found in the session's own read-through after issue 19: a FIFO in an inbox stopped `consolidate`
for good, and a link to /dev/zero named .xlsx would have been read without end)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_run import project_file, run_cli

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "returns" / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")


@pytest.fixture
def inbox(tmp_path):
    box = tmp_path / "inbox"
    (box / "sub").mkdir(parents=True)
    (box / "sub" / CLEAN.name).write_bytes(CLEAN.read_bytes())
    os.mkfifo(box / "pipe")  # no suffix: sniffed
    os.mkfifo(box / "pipe.eml")  # an e-mail by its name
    (box / "zero.xlsx").symlink_to("/dev/zero")  # a workbook by its name, endless bytes
    return box


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, timeout=120, **project_file(cwd))  # a hang fails here, not after hours


def test_consolidate_reports_pipes_and_devices_and_keeps_the_good_return(inbox, tmp_path):
    proc = _run(tmp_path, "consolidate", "inbox", "--out", "out", "--no-packs", "--as-of", "2026-11-20",
                "--workers", "1")
    assert "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    outcomes = {f["name"]: f["outcome"] for f in summary["files"]}
    assert outcomes[CLEAN.name] == "accepted"
    assert {outcomes[n] for n in ("pipe", "pipe.eml", "zero.xlsx")} == {"unreadable"}
    assert "it is not an ordinary file (it is a pipe)" in proc.stdout
    assert "it is not an ordinary file (it is a device)" in proc.stdout


def test_validate_a_folder_with_pipes_and_devices(inbox, tmp_path):
    proc = _run(tmp_path, "validate", "inbox", "--format", "json", "--as-of", "2026-11-20")
    assert proc.returncode == 2, proc.stderr  # documented: a file could not be read
    report = json.loads(proc.stdout)
    by_name = {f["name"]: f for f in report["files"]}
    assert by_name[CLEAN.name]["verdict"] == "valid"
    for name in ("pipe", "pipe.eml", "zero.xlsx"):
        (finding,) = by_name[name]["findings"]
        assert finding["code"] == "file-unreadable" and "not an ordinary file" in finding["message"]
