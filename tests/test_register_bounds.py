"""A providers register is bounded (issue 19 item 13): a regular file of at most 5 MB, at most
20,000 rows, each value at most 4,000 characters. Anything else is refused in one sentence naming
the file and row, exit 2, by every command that reads a register; never a traceback, never a hang,
never hundreds of megabytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpd_returns.intake.registry import RegistryError, registry_from_text

REPO = Path(__file__).resolve().parents[1]
HEADER = "provider,contract,returns\n"


# Runs the command as its own child and prints that child's peak memory last on stderr: the test
# process's own RUSAGE_CHILDREN would count every earlier child of the worker (LibreOffice, a season).
_MEASURED = ("import resource, subprocess, sys\n"
             "p = subprocess.run([sys.executable, '-m', 'kpd_returns.cli.main', *sys.argv[1:]])\n"
             "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
             "sys.exit(p.returncode)")


def kpd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KPD_RETURNS_PROJECT_FILE=str(cwd / ".kpd-returns.toml"))
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)
    body, _, peak = proc.stderr.rstrip("\n").rpartition("\n")
    if not peak.startswith("PEAK_KB"):  # the command printed nothing on stderr
        body, peak = "", proc.stderr.strip()
    proc.stderr, proc.peak_kb = body + "\n" if body else "", int(peak.split()[1])
    return proc


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("register")
    (work / "inbox").mkdir()
    proc = kpd(work, "consolidate", "inbox", "--out", "run", "--no-packs", "--as-of", "2026-11-20")
    assert proc.returncode == 0, proc.stderr
    return work


COMMANDS = {
    "template": ["template", "kpd", "--providers", "{reg}", "--period", "2026-27 Q2", "--out", "t"],
    "consolidate": ["consolidate", "inbox", "--out", "run", "--no-packs", "--as-of", "2026-11-20", "--providers", "{reg}"],
    "status": ["status", "--db", "run/ledger.sqlite", "--as-of", "2026-11-20", "--providers", "{reg}"],
    "pack": ["pack", "--period", "2026-10", "--out", "p", "--db", "run/ledger.sqlite", "--providers", "{reg}"],
}


def _refused(work: Path, command: str, register: str, said: str) -> None:
    proc = kpd(work, *[a.replace("{reg}", register) for a in COMMANDS[command]])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and said in lines[-1], proc.stderr
    assert not (work / "t").exists() or not any((work / "t").iterdir())
    return proc.peak_kb


@pytest.mark.parametrize("command", COMMANDS)
def test_a_value_over_131072_characters_is_one_sentence(work, command):
    (work / "long.csv").write_text(HEADER + "A" * 140_000 + ",CPA 07,kpd\n")
    _refused(work, command, "long.csv", "long.csv: line 2: the value is too long; the most is 4,000.")


@pytest.mark.parametrize("command", ["template", "status"])
def test_a_long_value_within_csv_limits_is_refused_at_its_cell(work, command):
    (work / "long2.csv").write_text(HEADER + "Northbridge,CPA 07,kpd\n" + "B,C" * 1 + "," + "k" * 5000 + "\n")
    _refused(work, command, "long2.csv", "long2.csv: line 3, column 3: the value is 5,000 characters long")


def test_a_long_value_in_a_toml_register(work):
    (work / "long.toml").write_text('[[providers]]\nprovider = "' + "x" * 5000 + '"\ncontract = "C"\nreturns = "kpd"\n')
    _refused(work, "status", "long.toml", "long.toml: providers entry 1, key 'provider': the value is 5,000")


def test_a_million_rows_are_refused_in_one_sentence_under_300_mb(work):
    rows = "".join(f"P{i},C{i},kpd\n" for i in range(1_000_000))
    (work / "million.csv").write_text(HEADER + rows)
    peaks = [_refused(work, "template", "million.csv", "The providers register million.csv is too big (")]
    # within the size bound, the row bound
    (work / "many.csv").write_text(HEADER + rows[:4_000_000].rpartition("\n")[0] + "\n")
    peaks.append(_refused(work, "status", "many.csv", "many.csv: line 20002: the register has more than 20,000 rows"))
    assert max(peaks) < 300 * 1024, peaks  # kilobytes: each command's own peak


@pytest.mark.parametrize("make, said", [
    (os.mkfifo, "is not an ordinary file (it is a pipe)"),
    (lambda p: p.symlink_to("/dev/zero"), "is not an ordinary file (it is a device)"),
])
def test_a_register_that_is_not_a_file(work, make, said):
    path = work / "odd.csv"
    if path.exists() or path.is_symlink():
        path.unlink()
    make(path)
    _refused(work, "status", "odd.csv", f"The providers register odd.csv {said}")


def test_the_bounds_hold_for_a_stored_register_too():
    with pytest.raises(RegistryError, match="more than 20,000 rows"):
        registry_from_text(HEADER + "".join(f"P{i},C{i},kpd\n" for i in range(20_001)), "stored.csv")


def test_a_huge_register_stored_in_a_ledger_by_hand_is_one_sentence(work, tmp_path):
    import shutil
    import sqlite3

    db = tmp_path / "ledger.sqlite"
    shutil.copy(work / "run" / "ledger.sqlite", db)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO registers (name, sha256, content, stored_at) VALUES ('providers.csv', 'x', ?, 't')",
                 (HEADER + "P,C,kpd\n" * 2_000_000,))
    conn.commit()
    conn.close()
    proc = kpd(tmp_path, "status", "--db", str(db), "--as-of", "2026-11-20")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == ("The providers register stored in the ledger cannot be used: "
                                                    "providers.csv: is too big (over 5 MB, the most kpd-returns "
                                                    "reads).")
