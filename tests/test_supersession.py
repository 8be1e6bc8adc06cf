"""Which submission supersedes which is one rule (intake.supersession), whatever order the files are
read in (issue 19 item 18): a corrected return with the same Date submitted as a rejected one puts it
right, so consolidate, status and the packs agree; and every run names the files still open."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from test_consolidate_gen import InboxBuilder, Provider

SAME_DAY = dt.date(2026, 11, 2)


def _pair(root: Path) -> tuple[bytes, bytes]:
    b = InboxBuilder(root)
    p = Provider(1, "Test Provider 01 Ltd", "file")
    good = b.workbook("mmir", "2026-10", p, submitted=SAME_DAY)
    bad = b.workbook("mmir", "2026-10", p, submitted=SAME_DAY, extra={("referrals", "in_month"): "n/a"})
    return good, bad


def _consolidate(inboxes: list[Path], out: Path, db: Path):
    return CliRunner().invoke(app, ["consolidate", *map(str, inboxes), "--out", str(out), "--db", str(db),
                                    "--as-of", "2026-11-27", "--workers", "1", "--no-packs"])


def _status(db: Path) -> list[dict]:
    result = CliRunner().invoke(app, ["status", "--db", str(db), "--as-of", "2026-11-27", "--period", "2026-10",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["returns"]


@pytest.mark.parametrize("order", ["corrected first", "rejected first"])
@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_a_corrected_return_with_the_same_date_puts_the_rejected_one_right_in_any_order(tmp_path, order, runs):
    good, bad = _pair(tmp_path / "gen")
    first, second = (("a-corrected.xlsx", good), ("b-rejected.xlsx", bad))
    if order == "rejected first":
        first, second = (("a-rejected.xlsx", bad), ("b-corrected.xlsx", good))
    db = tmp_path / "ledger.sqlite"
    inboxes = [tmp_path / "in1", tmp_path / "in2"] if runs == "two runs" else [tmp_path / "in1"] * 2
    for inbox, (name, data) in zip(inboxes, (first, second)):
        inbox.mkdir(exist_ok=True)
        (inbox / name).write_bytes(data)
    for n, inbox in enumerate(dict.fromkeys(inboxes)):
        _consolidate([inbox], tmp_path / f"out{n}", db)
    for again in ("again", "once more"):  # every later run says the same
        result = _consolidate(list(dict.fromkeys(inboxes)), tmp_path / again, db)
        assert result.exit_code == 0, result.output
        assert "STILL OPEN" not in result.output
    (row,) = [r for r in _status(db) if r["return_type"] == "mmir"]
    assert row["status"] == "on time" and row["files"] == 2
    summary = json.loads((tmp_path / "once more" / "summary.json").read_text())
    assert not [f for f in summary["files"] if f["open"]]


def test_every_run_names_the_files_still_open(tmp_path):
    _good, bad = _pair(tmp_path / "gen")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mmir-rejected.xlsx").write_bytes(bad)
    db = tmp_path / "ledger.sqlite"
    outputs = []
    for run in ("first", "second"):
        result = _consolidate([inbox], tmp_path / run, db)
        assert result.exit_code == 1, result.output
        outputs.append(result.output)
        assert "1 input is still open" in result.output
        (line,) = [ln for ln in result.output.splitlines() if ln.startswith("STILL OPEN")]
        assert line.startswith("STILL OPEN mmir-rejected.xlsx: MMIR for October 2026, Test Provider 01 Ltd, AtW-T-01: 1 error")
