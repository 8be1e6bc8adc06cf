"""Pool workers end with the run that started them (issue 10, item 15): after kill -9 or SIGTERM of a real
`kpd-returns consolidate`, none of its workers is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_consolidate_gen import small_inbox

REPO = Path(__file__).resolve().parents[1]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("State:")), "X")
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left to collect


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_their_parent_is_killed(tmp_path, sig):
    inbox = tmp_path / "inbox"
    small_inbox(inbox, extra_providers=6)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "kpd_returns.cli.main", "consolidate", str(inbox), "--out",
                             str(tmp_path / "out"), "--workers", "2", "--as-of", "2026-11-27"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2:
        assert proc.poll() is None, "consolidate finished before its workers could be seen"
        assert time.monotonic() < deadline, "no workers were started"
        workers = _children(proc.pid)
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60  # a bound so a failure cannot hang the suite, not a measure of speed
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "workers outlived the run that started them"
