"""A full disk and two runs into one output folder (issue 19 item 15).

A full disk is made real with Linux's /dev/full, where every write fails with ENOSPC ("No space
left on device"): an output name that leads there. ``pack`` and ``template --providers`` then stop
with one sentence naming the file, exit 2, and no traceback (not even Python's "Exception ignored"
from an archive left open). Two ``consolidate`` runs into the same --out take turns: the second
waits for the first's hold on the folder (intake.output_lock, a lock on the folder itself), or stops with one sentence after
KPD_LEDGER_WAIT seconds, having written nothing there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cli_run import ledger_of_one_return, project_file, run_cli

from kpd_returns.intake.output_lock import output_lock

REPO = Path(__file__).resolve().parents[1]
RETURNS = REPO / "samples" / "returns"
MMIR_SAMPLE = RETURNS / "mmir-northbridge-employment-ltd-2026-09.xlsx"
pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full is Linux's")


def kpd(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, **project_file(cwd), **env)


def _one_sentence(proc: subprocess.CompletedProcess, said: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and "No space left on device" in lines[0], proc.stderr


def test_template_onto_a_full_disk(tmp_path):
    _one_sentence(kpd(tmp_path, "template", "kpd", "/dev/full"), "Cannot write /dev/full")


def test_template_providers_onto_a_full_disk(tmp_path):
    (tmp_path / "providers.csv").write_text("provider,contract,returns\n"
                                            + "".join(f"Provider {i},CPA {i},kpd\n" for i in range(1, 5)))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "kpd-provider-3-cpa-3-2026-27-q2.xlsx").symlink_to("/dev/full")
    proc = kpd(tmp_path, "template", "kpd", "--providers", "providers.csv", "--period", "2026-27 Q2", "--out", "t")
    _one_sentence(proc, "Cannot write into t")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    return ledger_of_one_return(tmp_path_factory.mktemp("full"))


@pytest.mark.parametrize("name", ["pack-2026-09-national.xlsx", "pack-2026-09-national.html",
                                  "pack-2026-09-northbridge-employment-ltd.xlsx"])
def test_pack_onto_a_full_disk(ledger, tmp_path, name):
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / f".{name}.tmp").symlink_to("/dev/full")  # where packs.build writes the file before moving it in
    proc = kpd(tmp_path, "pack", "--db", str(ledger), "--period", "2026-09", "--out", "packs", "--as-of", "2026-10-20")
    _one_sentence(proc, f"could not read or write packs/{name}")
    assert not (packs / name).exists()


def test_two_consolidates_into_one_folder_take_turns(tmp_path):
    (tmp_path / "inbox").mkdir()
    for path in sorted(RETURNS.glob("*.xlsx"))[:6]:
        shutil.copy(path, tmp_path / "inbox")
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KPD_RETURNS_PROJECT_FILE=str(tmp_path / ".kpd-returns.toml"))
    args = [sys.executable, "-m", "kpd_returns.cli.main", "consolidate", "inbox", "--out", "out", "--as-of",
            "2026-11-20", "--workers", "1"]
    for _ in range(3):
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        runs = [subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        results = [(p.wait(timeout=600), *p.communicate()) for p in runs]
        for rc, out, err in results:
            assert rc in (0, 1) and "Traceback" not in err and "BadZipFile" not in err, err
        assert sum("is in use by another run; waiting" in err for _rc, _out, err in results) <= 1
        with zipfile.ZipFile(tmp_path / "out" / "consolidated.xlsx") as z:
            assert z.testzip() is None


def test_a_consolidate_that_cannot_get_the_folder_stops_in_one_sentence(tmp_path):
    (tmp_path / "inbox").mkdir()
    shutil.copy(MMIR_SAMPLE, tmp_path / "inbox")
    with output_lock(tmp_path / "out"):  # another run holds the folder
        proc = kpd(tmp_path, "consolidate", "inbox", "--out", "out", "--as-of", "2026-10-20", KPD_LEDGER_WAIT="1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("The output folder out is in use by another run; waiting up to 1 seconds")
    assert lines[-1].startswith("The output folder out is still in use by another run after 1 seconds") and len(lines) == 2
    assert list((tmp_path / "out").iterdir()) == []  # nothing written, and no lock file either
    proc = kpd(tmp_path, "consolidate", "inbox", "--out", "out", "--as-of", "2026-10-20", "--no-packs")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # released: the next run goes ahead


def test_a_pack_waits_for_its_output_folder_too(ledger, tmp_path):
    with output_lock(tmp_path / "packs"):
        proc = kpd(tmp_path, "pack", "--db", str(ledger), "--period", "2026-09", "--out", "packs", "--as-of",
                   "2026-10-20", KPD_LEDGER_WAIT="0.5")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("The output folder packs is still in use by another run")
    assert list((tmp_path / "packs").iterdir()) == []


@pytest.mark.parametrize("limit", [20_000, 100_000])
def test_consolidate_when_files_cannot_grow(tmp_path, limit):
    """RLIMIT_FSIZE makes the operating system refuse to grow any file past ``limit`` bytes (EFBIG, as a
    full disk refuses with ENOSPC): the ledger cannot be written, said in one sentence naming it."""
    import resource

    (tmp_path / "inbox").mkdir()
    shutil.copy(MMIR_SAMPLE, tmp_path / "inbox")
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KPD_RETURNS_PROJECT_FILE=str(tmp_path / ".kpd-returns.toml"))
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "consolidate", "inbox", "--out", "out",
                           "--as-of", "2026-10-20", "--workers", "1"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("The ledger out/ledger.sqlite cannot be written: the disk is full"), \
        proc.stderr


def test_a_refused_run_leaves_no_output_folder_and_a_file_is_no_folder(ledger, tmp_path):
    """The output lock once made --out before the run's options were checked (and its 'not a folder'
    sentence could not be reached)."""
    proc = kpd(tmp_path, "pack", "--period", "1999-10", "--out", "o", "--db", str(ledger))
    assert proc.returncode == 2 and "outside the years" in proc.stderr
    assert not (tmp_path / "o").exists()
    (tmp_path / "afile").write_text("x")
    proc = kpd(tmp_path, "pack", "--period", "2026-09", "--out", "afile", "--db", str(ledger))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "The output folder afile is not a folder: give another --out."
