"""A damaged or tampered ledger is refused when it is opened (issue 19 item 14): a corrupt page, an
injected trigger, a replaced view, an extra table or a dropped index is one sentence naming the
ledger and exit 2, from every command that opens it, never a traceback.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from cli_run import ledger_of_one_return, project_file, run_cli

from kpd_returns.intake.ledger import Ledger, LedgerError

REPO = Path(__file__).resolve().parents[1]
MMIR_SAMPLE = REPO / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"


def kpd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, timeout=300, **project_file(cwd))


@pytest.fixture(scope="module")
def clean_ledger(tmp_path_factory) -> Path:
    return ledger_of_one_return(tmp_path_factory.mktemp("ledger"))


def _corrupt_page(path: Path) -> None:
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'files'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:  # the files table's first page loses its header
        fh.seek((root - 1) * size)
        fh.write(b"\0" * 4)


def _sql(statements: str):
    def tamper(path: Path) -> None:
        conn = sqlite3.connect(path)
        conn.executescript(statements)
        conn.close()
    return tamper


TAMPERS = {
    "corrupt-page": (_corrupt_page, "is damaged (SQLite's check found: "),
    "trigger": (_sql("CREATE TRIGGER evil AFTER INSERT ON files BEGIN SELECT RAISE(ABORT, 'no'); END;"),
                "has been altered: it has a trigger 'evil' that kpd-returns did not make."),
    "view": (_sql("DROP VIEW current_files; CREATE VIEW current_files AS SELECT * FROM files;"),
             "has been altered: its view 'current_files' has been changed."),
    "table": (_sql("CREATE TABLE notes (x TEXT);"), "has been altered: it has a table 'notes'"),
    "index": (_sql("DROP INDEX findings_file;"), "has been altered: its index 'findings_file' is missing."),
}
COMMANDS = {
    "status": ["status", "--db", "{db}", "--as-of", "2026-10-20"],
    "pack": ["pack", "--db", "{db}", "--period", "2026-09", "--out", "packs", "--as-of", "2026-10-20"],
    "consolidate": ["consolidate", "inbox", "--db", "{db}", "--out", "out", "--as-of", "2026-10-20"],
    "ingest": ["ingest", "inbox", "--db", "{db}"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("tamper", TAMPERS)
def test_a_tampered_ledger_is_refused_in_one_sentence(clean_ledger, tmp_path, tamper, command):
    make, said = TAMPERS[tamper]
    db = tmp_path / "ledger.sqlite"
    shutil.copy(clean_ledger, db)
    make(db)
    (tmp_path / "inbox").mkdir()
    shutil.copy(MMIR_SAMPLE, tmp_path / "inbox" / "again.xlsx")
    proc = kpd(tmp_path, *[a.replace("{db}", str(db)) for a in COMMANDS[command]])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Error:" not in proc.stderr, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"The ledger {db} ") and said in line, line
    assert not (tmp_path / "out" / "consolidated.xlsx").exists()


def test_another_sqlite_file_is_not_a_ledger(tmp_path):
    path = tmp_path / "other.sqlite"
    _sql("CREATE TABLE accounts (id INTEGER);")(path)
    with pytest.raises(LedgerError, match=r"other.sqlite is not a kpd-returns ledger \(it has a table 'accounts'"):
        Ledger(path)


def test_an_old_ledger_is_checked_against_its_own_version_then_migrated(tmp_path):
    from kpd_returns.intake.ledger_schema import MIGRATIONS, _statements

    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path)
    for version, _d, sql in MIGRATIONS[:2]:
        for statement in _statements(sql):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Ledger(path) as ledger:
        assert ledger.schema_version == MIGRATIONS[-1][0]


def test_the_check_reads_a_ledger_once_per_process_while_unchanged(clean_ledger, tmp_path, monkeypatch):
    db = tmp_path / "ledger.sqlite"
    shutil.copy(clean_ledger, db)
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    checks = lambda: sum("quick_check" in s for s in statements)  # noqa: E731
    Ledger(db).close()
    assert checks() == 1
    Ledger(db).close()  # unchanged since this process closed it: not read again
    assert checks() == 1
    time.sleep(0.01)
    _corrupt_page(db)  # changed by another program: checked again, and refused
    with pytest.raises(LedgerError, match="is damaged"):
        Ledger(db)
    assert checks() == 2
