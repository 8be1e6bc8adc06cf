"""One ledger and one providers register for every command (issue 14 items 6-7).

Run as a user would, in one working folder: ``consolidate inbox --out run`` and then bare
``status`` and ``pack`` (no --db, no --providers) find the same ledger and the same register.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_consolidate_gen import small_inbox

REPO = Path(__file__).resolve().parents[1]


def kpd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KPD_RETURNS_PROJECT_FILE", None)  # the real rule: the record lives in the working folder
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    exp = small_inbox(work / "inbox")
    (work / "providers.csv").write_bytes(exp.providers_csv.read_bytes())
    proc = kpd(work, "consolidate", "inbox", "--out", "run", "--providers", "providers.csv", "--as-of", "2026-11-27",
               "--workers", "1", "--no-packs")
    assert proc.returncode in (0, 1), proc.stderr
    (work / "providers.csv").unlink()  # later commands must use the register the ledger stored
    return work, exp


def test_status_finds_the_consolidated_ledger_and_its_register(folder):
    work, exp = folder
    assert (work / ".kpd-returns.toml").exists() and not (work / "kpd-ledger.sqlite").exists()
    proc = kpd(work, "status", "--as-of", "2026-11-27")
    assert proc.returncode == 0, proc.stderr
    assert "run/ledger.sqlite" in proc.stderr and "providers.csv stored in the ledger" in proc.stderr
    # The register says who owes what: its contracts appear, and none is flagged as not in it.
    assert "not in register" not in proc.stdout
    assert not (work / "kpd-ledger.sqlite").exists()


def test_pack_finds_the_ledger_and_keeps_registered_contracts(folder, tmp_path):
    work, exp = folder
    proc = kpd(work, "pack", "--period", "2026-10", "--out", str(tmp_path / "packs"), "--as-of", "2026-11-27")
    assert proc.returncode == 0, proc.stderr
    assert "run/ledger.sqlite" in proc.stderr and "providers.csv stored in the ledger" in proc.stderr
    assert any(p.suffix == ".html" for p in (tmp_path / "packs").iterdir())


def test_ingest_adds_to_the_same_ledger(folder):
    work, _exp = folder
    proc = kpd(work, "ingest", "inbox", "--workers", "1")
    assert proc.returncode in (0, 1), proc.stderr
    assert "run/ledger.sqlite" in proc.stdout + proc.stderr
    assert not (work / "kpd-ledger.sqlite").exists()


def test_a_register_given_again_is_stored_once_and_a_new_one_replaces_it(tmp_path):
    from kpd_returns.intake.ledger import Ledger
    from kpd_returns.intake.workspace import register_for

    exp = small_inbox(tmp_path / "inbox")
    db = tmp_path / "l.sqlite"
    reg, name = register_for(db, exp.providers_csv)
    register_for(db, exp.providers_csv)
    assert reg is not None and name == exp.providers_csv.name
    edited = tmp_path / "providers-2.csv"
    edited.write_text(exp.providers_csv.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    register_for(db, edited)
    with Ledger(db) as ledger:
        stored = ledger.conn.execute("SELECT name FROM registers ORDER BY id").fetchall()
        assert [r[0] for r in stored] == [exp.providers_csv.name, "providers-2.csv"]
    again, again_name = register_for(db, None)
    assert again_name == "providers-2.csv" and len(again.entries) == len(reg.entries)


def test_without_any_record_the_default_is_kpd_ledger_sqlite(tmp_path):
    proc = kpd(tmp_path, "status")
    assert proc.returncode == 2 and "There is no ledger at kpd-ledger.sqlite" in proc.stderr
