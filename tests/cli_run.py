"""The command line as a user runs it: `python -m kpd_returns.cli.main ARGS` in a child process, with
this checkout on PYTHONPATH and colour off. Shared by the tests that need a real process (exit codes,
stderr, a hang stopped by a timeout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MMIR_SAMPLE = REPO / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"


def run_cli(*args: str, cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """Run the command in ``cwd``; ``env`` adds to (or overrides) this process's environment."""
    full = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                **env)
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True,
                          cwd=str(cwd), env=full, timeout=timeout)


def project_file(cwd: Path) -> dict[str, str]:
    """The working-folder record kept in ``cwd`` (a module fixture has no per-test record of its own)."""
    return {"KPD_RETURNS_PROJECT_FILE": str(cwd / ".kpd-returns.toml")}


def ledger_of_one_return(work: Path) -> Path:
    """A ledger in ``work``/run written by `consolidate` from one clean MMIR sample."""
    (work / "inbox").mkdir()
    shutil.copy(MMIR_SAMPLE, work / "inbox")
    proc = run_cli("consolidate", "inbox", "--out", "run", "--no-packs", "--as-of", "2026-10-20", cwd=work,
                   **project_file(work))
    assert proc.returncode == 0, proc.stderr
    return work / "run" / "ledger.sqlite"
