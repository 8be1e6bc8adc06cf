"""The project file (.kpd-returns.toml) is read and written only as a small regular file
(issue 19 item 11): a symbolic link there is replaced, never followed to overwrite its target; a
pipe or a device there is refused in one sentence (exit 2), never waited on or read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def kpd(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KPD_RETURNS_PROJECT_FILE", None)  # the real rule: the record lives in the working folder
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_consolidate_replaces_a_linked_project_file_and_leaves_the_target_alone(tmp_path):
    (tmp_path / "inbox").mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("not yours\n")
    (tmp_path / ".kpd-returns.toml").symlink_to(target)
    proc = kpd(tmp_path, "consolidate", "inbox", "--out", "run", "--no-packs", "--as-of", "2026-11-20")
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == "not yours\n"
    record = tmp_path / ".kpd-returns.toml"
    assert not record.is_symlink() and record.is_file() and "run/ledger.sqlite" in record.read_text()
    assert oct(record.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # as an ordinary write leaves it
    # and the record works as before
    proc = kpd(tmp_path, "status", "--as-of", "2026-11-20")
    assert proc.returncode == 0 and "run/ledger.sqlite" in proc.stderr, proc.stderr


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("make, said", [
    (lambda p: os.mkfifo(p), "is not an ordinary file (it is a pipe)"),
    (lambda p: p.symlink_to("/dev/zero"), "is a symbolic link"),
    (lambda p: p.symlink_to(p.parent / "elsewhere.toml"), "is a symbolic link"),
    (lambda p: p.write_bytes(b"# " + b"x" * (2 * 1024 * 1024)), "is too big"),
])
@pytest.mark.parametrize("command", [["status"], ["pack", "--period", "2026-10", "--out", "packs"]])
def test_a_project_file_that_is_not_a_small_file_is_refused_in_one_sentence(tmp_path, make, said, command):
    (tmp_path / "elsewhere.toml").write_text('ledger = "x.sqlite"\n')
    make(tmp_path / ".kpd-returns.toml")
    proc = kpd(tmp_path, *command, timeout=60)  # a pipe used to hang here, /dev/zero to fill the memory
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("The project file .kpd-returns.toml ") and said in lines[0], lines[0]
