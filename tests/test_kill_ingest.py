"""A real `kpd-returns ingest` process killed part-way leaves a consistent ledger; running it again
completes the batch with every input in the ledger exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kpd_returns.intake.inbox import iter_items
from kpd_returns.intake.ledger import Ledger
from test_consolidate_gen import small_inbox

REPO = Path(__file__).resolve().parents[1]


def _files_in(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or locked for a moment
        return 0


def _ingest(inbox: Path, db: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "kpd_returns.cli.main", "ingest", str(inbox), "--db", str(db),
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=inbox.parent)


def test_killed_ingest_resumes_without_duplicates(tmp_path):
    inbox = tmp_path / "inbox"
    small_inbox(inbox, extra_providers=6)
    items = list(iter_items([inbox]))
    expected = {i.sha256 for i in items}
    assert len(items) >= 70
    db = tmp_path / "ledger.sqlite"

    proc = _ingest(inbox, db)
    deadline = time.monotonic() + 300
    while _files_in(db) < 5:
        assert proc.poll() is None, "ingest finished before it could be killed: " + proc.stderr.read().decode()
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    part = _files_in(db)
    assert 5 <= part < len(expected)

    # Consistent after the kill: every stored file is whole.
    with Ledger(db) as led:
        assert led.integrity_problems() == []
        assert led.conn.execute("SELECT COUNT(*) FROM files f WHERE NOT EXISTS "
                                "(SELECT 1 FROM file_values v WHERE v.file_id = f.id) "
                                "AND f.verdict IN ('valid', 'valid-with-warnings')").fetchone()[0] == 0

    again = _ingest(inbox, db)
    out, err = again.communicate(timeout=600)
    assert again.returncode in (0, 1), err.decode()
    text = out.decode()
    assert f"{len(items)} inputs:" in text
    # The resumed run reports the files' recorded outcomes, whichever run stored them (issue 14 item 5):
    # its summary line and exit code are an uninterrupted run's, and only copies within the inbox
    # are duplicates; what the killed run stored is counted once as already recorded.
    whole = _ingest(inbox, tmp_path / "uninterrupted.sqlite")
    whole_out, _ = whole.communicate(timeout=600)
    summary_line = next(ln for ln in whole_out.decode().splitlines() if " inputs: " in ln)
    assert summary_line in text.splitlines() and again.returncode == whole.returncode
    assert f"{len(items) - len(expected)} duplicate." in summary_line
    assert f"{part} already recorded by an earlier run (" in text

    with Ledger(db) as led:
        rows = led.conn.execute("SELECT sha256, COUNT(*) FROM files GROUP BY sha256").fetchall()
        assert {r[0] for r in rows} == expected
        assert all(r[1] == 1 for r in rows)
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert led.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert led.integrity_problems() == []

    # A third run adds nothing.
    third = _ingest(inbox, db)
    out, _ = third.communicate(timeout=600)
    assert summary_line in out.decode().splitlines()
    assert f"{len(expected)} already recorded by an earlier run (" in out.decode()
    assert _files_in(db) == len(expected)
