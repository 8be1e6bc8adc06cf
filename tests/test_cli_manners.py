"""Everyday command-line manners: --version, plain help text, a quiet exit when the reader of
the output goes away (`| head`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.spec.constants import EXIT_CLOSED_PIPE
from kpd_returns.spec.resources import installed_version

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("template", "samples", "validate", "ingest", "status", "consolidate", "pack", "demo")


def _env() -> dict:
    return dict(os.environ, NO_COLOR="1", COLUMNS="100",
                PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kpd-returns {installed_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", installed_version())


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_shows_no_python_types_and_no_braces(command):
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.output
    for noise in ("<bool>", "<str>", "<path>", "<list", "<int>", "<Path"):
        assert noise not in text, f"{noise} in the help of {command}"
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage


def test_usage_lines_name_what_to_give():
    runner = CliRunner()
    usage = {c: next(line.strip() for line in runner.invoke(app, [c, "--help"], prog_name="kpd-returns", env={"COLUMNS": "120"}).output
                     .splitlines() if "Usage:" in line) for c in ("template", "samples", "validate", "consolidate")}
    # OUT.xlsx is optional: with --providers FILE --out DIR the template command writes one per contract
    assert usage["template"] == "Usage: kpd-returns template [OPTIONS] KIND [OUT.xlsx]"
    assert usage["samples"] == "Usage: kpd-returns samples [OPTIONS] DIR"
    assert usage["validate"] == "Usage: kpd-returns validate [OPTIONS] FILE..."
    assert usage["consolidate"] == "Usage: kpd-returns consolidate [OPTIONS] INBOX..."


def _with_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """Run the command with stdout a pipe whose reader has already gone, as `| head` leaves it."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(REPO), timeout=120)
    finally:
        os.close(write_end)


def test_validate_into_a_closed_pipe_exits_quietly():
    result = _with_closed_pipe("validate", "samples/mistakes/mistake-late.xlsx", "--as-of", "2026-11-20")
    assert result.stderr == ""
    assert result.returncode == EXIT_CLOSED_PIPE


def test_status_into_a_closed_pipe_exits_quietly(tmp_path):
    from kpd_returns.intake.ledger import Ledger

    db = tmp_path / "ledger.sqlite"
    with Ledger(db):
        pass
    result = _with_closed_pipe("status", "--db", str(db), "--as-of", "2026-11-20")
    assert result.stderr == ""
    assert result.returncode == EXIT_CLOSED_PIPE


def test_progress_stays_silent_off_a_terminal_and_before_a_second(monkeypatch):
    import io

    from kpd_returns.render.progress import Progress

    quiet = io.StringIO()
    with Progress("Working", 3, stream=quiet) as bar:  # a StringIO is not a terminal
        bar.advance(3)
    assert quiet.getvalue() == ""
    monkeypatch.setattr("kpd_returns.render.progress.SHOW_AFTER_SECONDS", 3600.0)
    shown = io.StringIO()
    with Progress("Working", 3, enabled=True, stream=shown) as bar:  # quick work: nothing shown
        bar.advance(3)
    assert shown.getvalue() == ""
    monkeypatch.setattr("kpd_returns.render.progress.SHOW_AFTER_SECONDS", 0.0)
    with Progress("Working", 3, enabled=True, stream=shown) as bar:
        bar.advance(1)
        bar.advance(2)
    assert "Working" in shown.getvalue()
