"""A bad spec costs only itself, and every return has a deadline rule (issue 11 items 3 and 5).

Run through the real command line with a validators folder of the test's own
($KPD_RETURNS_VALIDATORS): one malformed spec file makes that return type unavailable with
one sentence naming the file and the key, said once per command on stderr; every other
return still templates, validates, consolidates and packs, and only a command that needs
the broken return exits 2.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.intake.ledger import Ledger
from kpd_returns.intake.registry import Registry, RegistryEntry
from kpd_returns.spec.deadlines import DeadlineError, load_deadlines
from kpd_returns.spec.model import FileReport
from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir
from kpd_returns.spec.return_spec import SpecError, load_all, spec_problems

ROOT = Path(__file__).resolve().parent.parent
MMIR_SAMPLE = ROOT / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"
KPD_SAMPLE = ROOT / "samples" / "returns" / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"


def _folder(tmp_path: Path, edit: dict[str, tuple[str, str]]) -> Path:
    """A copy of validators/ with ``edit``: file name -> (old text, new text)."""
    folder = tmp_path / "validators"
    shutil.copytree(validators_dir(), folder)
    for name, (old, new) in edit.items():
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} is no longer in {name}"
        (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def _run(folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, VALIDATORS_ENV: str(folder), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


BROKEN_KPD = {"kpd.toml": ('kind = "contract_quarter"', 'kind = "contract_quater"')}
SAID = "kpd.toml: key 'period.kind'"


def test_one_broken_spec_leaves_the_other_returns_working(tmp_path):
    folder = _folder(tmp_path, BROKEN_KPD)
    # the broken return: unavailable, exit 2, the problem said once and the file named
    run = _run(folder, "template", "kpd", "k.xlsx", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count(SAID) == 1, run.stderr
    assert "The return type 'kpd' is not available until kpd.toml is fixed." in run.stderr
    # the others: template, validate, consolidate and pack as without the broken file
    run = _run(folder, "template", "mmir", "m.xlsx", cwd=tmp_path)
    assert run.returncode == 0 and (tmp_path / "m.xlsx").exists()
    assert run.stderr.count(SAID) == 1 and "unavailable until the file is fixed" in run.stderr
    run = _run(folder, "validate", str(MMIR_SAMPLE), "--as-of", "2026-10-05", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count(SAID) == 1
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(MMIR_SAMPLE, inbox)
    run = _run(folder, "consolidate", str(inbox), "--out", "out", "--as-of", "2026-10-20", "--no-packs", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count(SAID) == 1
    assert openpyxl.load_workbook(tmp_path / "out" / "consolidated.xlsx", read_only=True)["MMIR data"] is not None
    run = _run(folder, "pack", "--period", "2026-09", "--out", "packs", "--db", "out/ledger.sqlite",
               "--as-of", "2026-10-20", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count(SAID) == 1 and any((tmp_path / "packs").rglob("*.html"))


def test_a_rule_kind_that_does_not_exist_sets_only_its_return_aside(tmp_path):
    folder = _folder(tmp_path, {"kpd.toml": ('kind = "computed_totals"', 'kind = "computed_totalz"')})
    run = _run(folder, "validate", str(MMIR_SAMPLE), "--as-of", "2026-10-05", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.count("kpd.toml: rule") == 1 and "'computed_totalz'" in run.stderr


def test_a_spec_without_a_deadline_rule_is_a_spec_error_naming_the_file_and_key(tmp_path):
    folder = _folder(tmp_path, {"deadlines.toml": ("[mmir]\n", "[mmir_old]\n")})
    assert "mmir" not in load_all(folder) and "kpd" in load_all(folder)
    problem = next(p for p in spec_problems(folder) if "'mmir'" in p)
    assert problem.startswith("deadlines.toml: key 'mmir' is missing") and "mmir.toml" in problem
    run = _run(folder, "template", "mmir", "m.xlsx", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("deadlines.toml: key 'mmir' is missing") == 1


def test_a_bad_deadline_rule_costs_only_its_return(tmp_path):
    folder = _folder(tmp_path, {"deadlines.toml": ('[mmir]\nkind = "nth_working_day_after_period"\nn = 3\n',
                                                   '[mmir]\nkind = "nth_working_day_after_period"\nn = 0\n')})
    assert "mmir" not in load_all(folder) and "kpd" in load_all(folder)
    assert any(p.startswith("deadlines.toml: key 'mmir.n' is 0") for p in spec_problems(folder))


# -- the deadline format ---------------------------------------------------------------------
def _calendar(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "my-deadlines.toml"
    path.write_text(text, encoding="utf-8")
    return load_deadlines(path)


def test_no_deadline_needs_a_reason(tmp_path):
    cal = _calendar(tmp_path, '[mmir]\nno_deadline = true\nreason = "AtW 7.24: the Reporting Date is per contract"\n')
    assert cal["mmir"].no_deadline and cal["mmir"].deadline("2026-10", dt.date(2026, 10, 31)) is None
    with pytest.raises(DeadlineError, match=r"my-deadlines\.toml: key 'mmir\.reason' is missing"):
        _calendar(tmp_path, "[mmir]\nno_deadline = true\n")
    with pytest.raises(DeadlineError, match=r"key 'mmir\.no_deadline' must be true"):
        _calendar(tmp_path, '[mmir]\nno_deadline = false\nreason = "x"\n')


def test_the_format_says_17_00_on_the_15th_moved_to_a_working_day_and_n_working_days(tmp_path):
    """AtW 7.32: by 5pm on the 15th of the following month, the next working day if not one;
    and a fixed number of working days after the period ends."""
    cal = _calendar(tmp_path, '[insight_trial]\nkind = "day_of_following_month"\nday = 15\ntime = "17:00"\n'
                              'source = "AtW 7.32"\n[jobs_trial]\nkind = "nth_working_day_after_period"\nn = 10\n')
    # 15 November 2026 is a Sunday: Monday 16th at 17:00
    assert cal["insight_trial"].deadline("2026-10", dt.date(2026, 10, 31)).due == dt.datetime(2026, 11, 16, 17, 0)
    assert cal["jobs_trial"].deadline("2026-10", dt.date(2026, 10, 31)).due == dt.datetime(2026, 11, 13, 23, 59)


# -- "no deadline" is never on time and never late -------------------------------------------
def _report(tag: str, period: str, end: dt.date, submitted: dt.datetime) -> FileReport:
    return FileReport(path=f"{tag}.xlsx", name=f"{tag}.xlsx", sha256=tag * 8, return_id="mmir", version="1.0",
                      provider="Provider A", contract="AtW-C1", period=period, period_end=end,
                      submitted=submitted, submitted_source="email", values=[])


def test_a_return_with_no_deadline_shows_no_deadline_in_the_register_and_status(tmp_path):
    from kpd_returns.render.status_report import write_status

    cal = _calendar(tmp_path, '[mmir]\nno_deadline = true\nreason = "a trial"\n')
    reg = Registry([RegistryEntry("Provider A", "AtW-C1", ("mmir",), first_period="2026-09")])
    with Ledger(tmp_path / "l.sqlite") as ledger:
        # received months after the period: with a deadline this would be late
        ledger.add_report(_report("a9", "2026-09", dt.date(2026, 9, 30), dt.datetime(2027, 1, 20, 9)),
                          source_path="x")
        rows = ledger.submissions_register(as_of=dt.date(2027, 2, 1), register=reg, calendar=cal)
    sept = next(r for r in rows if r.period == "2026-09")
    assert (sept.status, sept.late_working_days, sept.deadline) == ("no deadline", None, None)
    out = __import__("io").StringIO()
    write_status([sept], dt.date(2027, 2, 1), out, "text")
    assert "no deadline" in out.getvalue() and "on time" not in out.getvalue() and "late" not in out.getvalue()
    out = __import__("io").StringIO()
    write_status([sept], dt.date(2027, 2, 1), out, "json")
    doc = json.loads(out.getvalue())
    assert doc["counts"]["no deadline"] == 1 and doc["counts"]["on time"] == 0 and doc["counts"]["late"] == 0


def test_no_deadline_in_the_consolidated_submissions_and_files_sheets(tmp_path):
    folder = _folder(tmp_path, {"deadlines.toml": (
        '[mmir]\nkind = "nth_working_day_after_period"\nn = 3\ntime = "23:59"\n',
        '[mmir]\nno_deadline = true\nreason = "a trial"\n')})
    folder.joinpath("deadlines.toml").write_text(
        "\n".join(line for line in folder.joinpath("deadlines.toml").read_text().splitlines()
                  if not line.startswith(("source = \"AtW 7.24", "guidance = \"AtW 7.24")))  # the MMIR rule's own
        + "\n", encoding="utf-8")
    assert "mmir" in load_all(folder), spec_problems(folder)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(MMIR_SAMPLE, inbox)
    run = _run(folder, "consolidate", str(inbox), "--out", "out", "--as-of", "2027-01-20", "--no-packs", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    wb = openpyxl.load_workbook(tmp_path / "out" / "consolidated.xlsx", read_only=True)
    subs = [r for r in wb["Submissions"].iter_rows(values_only=True) if r and r[2] == "MMIR" and r[3] == "2026-09"]
    assert subs and subs[0][4] == "No deadline" and subs[0][6] == "no deadline" and subs[0][7] is None
    files = [r for r in wb["Files"].iter_rows(values_only=True) if r and r[3] == "MMIR"]
    assert files and files[0][13] == "no deadline"


def test_get_spec_of_an_unknown_return_still_lists_the_known_ones():
    from kpd_returns.spec.return_spec import get_spec

    with pytest.raises(SpecError, match=r"There is no return type 'nope' \(known: .*kpd.*mmir"):
        get_spec("nope")


def test_registry_does_not_import_the_ledger():
    """The ledger <-> registry cycle is open: the register reads no ledger module."""
    code = ("import sys, kpd_returns.intake.registry; "
            "print('kpd_returns.intake.ledger' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
