"""Dates outside the years a return can mean (issue 19 items 5 and 16; spec.constants PLAUSIBLE_YEARS,
2000 to 2100) are findings at their cell, or one sentence and exit code 2 for an option, and never a
traceback, a hang or a wrong year. Each case runs the real command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from cli_return_helpers import fill, findings, ref_of, run, validate, write_template
from test_checks_helpers import build, kpd_cells, mmir_cells
from test_return_jobs2 import jobs2_cells

from kpd_returns.spec.constants import EXIT_UNREADABLE, PLAUSIBLE_YEARS

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "returns" / "jobs2-northbridge-employment-ltd-jii-07-2026-10.xlsx"
XLSX = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
D = dt.date


def test_the_plausible_years_are_2000_to_2100():
    assert PLAUSIBLE_YEARS == (2000, 2100)


# -- cells -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("submitted", [D(9999, 12, 31), "0001-01-01", "31/12/1899"])
def test_a_date_submitted_outside_the_years_is_a_finding_at_its_cell(tmp_path, submitted):
    """9999-12-31 was "an unexpected problem (OverflowError)"; 0001-01-01 was accepted as on time."""
    path = fill("jobs2", write_template("jobs2", tmp_path), jobs2_cells(submitted=submitted), tmp_path / "r.xlsx")
    code, report = validate(path, "--as-of", "2026-11-10")
    got = findings(report)
    assert code == 1, got
    assert ("date-out-of-range", ref_of("jobs2", "date_submitted"), "error", "JOBS II 6.27") in got or \
        ("date-out-of-range", ref_of("jobs2", "date_submitted")) in {(c, r) for c, r, _s, _g in got}
    assert "file-check-failed" not in {c for c, *_ in got}
    assert report["submitted_source"] != "workbook"  # the as-of date stands in, as for a blank cell
    message = next(f["message"] for f in report["findings"] if f["code"] == "date-out-of-range")
    assert "2000 to 2100" in message


@pytest.mark.parametrize("year", ["9999-00", "0000-01", "0001-02", "1999-00"])
def test_a_contract_year_outside_the_years_is_a_finding_at_its_cell_not_a_crash(tmp_path, year):
    """'9999-00' would end in the year 10000 (a traceback before); '0001-02' is no period either."""
    path = tmp_path / "kpd.xlsx"
    path.write_bytes(build("kpd", kpd_cells("Q1", contract_year__=year)))
    code, report = validate(path, "--as-of", "2026-07-01")
    assert code == 1
    got = {(c, r) for c, r, _s, _g in findings(report)}
    assert ("date-out-of-range", ref_of("kpd", "contract_year")) in got, got
    assert "file-check-failed" not in {c for c, _r in got}
    assert report["period"] is None


@pytest.mark.parametrize("period", ["2000-01", "2100-12"])
def test_a_pack_for_the_first_and_last_months_of_the_years_is_written(ledger, tmp_path, period):
    """The quarter before January 2000 belongs to contract year 1999-00: still a period to compute with."""
    result = run("pack", "--period", period, "--db", str(ledger), "--out", str(tmp_path / "packs"))
    assert result.exit_code == 0, result.output


def test_a_list_of_200_rows_dated_1900_to_9999_finishes_in_seconds(tmp_path):
    """Issue 19: did not finish in 300 s (working days counted one at a time from 1900 to 9999)."""
    changes = {}
    for k in range(1, 201):
        changes[f"late_rework_case_ref__row{k}"] = f"RW-{k:05d}"
        changes[f"late_rework_date_requested__row{k}"] = D(1900 + k, 1, 2)
        changes[f"late_rework_date_returned__row{k}"] = D(9999, 12, 31 - k % 28)
        changes[f"late_rework_reason__row{k}"] = "Waiting for a report."
    path = tmp_path / "mmir.xlsx"
    path.write_bytes(build("mmir", mmir_cells(**changes)))
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", str(path), "--format", "json",
                           "--as-of", "2026-11-10"], capture_output=True, text=True, timeout=240, env=env)
    assert time.monotonic() - began < 60
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)["files"][0]
    out_of_range = [f for f in report["findings"] if f["code"] == "date-out-of-range"]
    requested_outside = sum(1 for k in range(1, 201) if not 2000 <= 1900 + k <= 2100)
    assert len(out_of_range) == 200 + requested_outside  # every 9999 and every year before 2000
    assert {f["sheet"] for f in out_of_range} == {"Late reworks"}


# -- e-mails ---------------------------------------------------------------------------------------
def _eml(folder: Path, date: str) -> Path:
    m = EmailMessage()
    m["From"] = "mi-team@provider.example"
    m["To"] = "returns@dwp.example"
    m["Subject"] = "JOBS II monthly MI"
    m.set_content("The return is attached.")
    m.add_attachment(SAMPLE.read_bytes(), maintype="application", subtype=XLSX, filename=SAMPLE.name)
    folder.mkdir()
    path = folder / "return.eml"
    # The Date header as a mail client wrote it: the email package would write 0001 as 2001.
    path.write_bytes(f"Date: {date}\n".encode() + bytes(m))
    return path


@pytest.mark.parametrize("date", ["Fri, 31 Dec 9999 23:59:00 +0000", "Fri, 31 Dec 9999 22:00:00 -0500",
                                  "Mon, 01 Jan 0001 09:00:00 +0000"])
def test_an_e_mail_dated_outside_the_years_is_not_taken_at_its_date(tmp_path, date):
    """An e-mail dated 9999 marked a sound workbook "damaged"; one dated 0001 read as 2001."""
    _eml(tmp_path / "inbox", date)
    db = tmp_path / "ledger.sqlite"
    result = run("ingest", str(tmp_path / "inbox"), "--db", str(db), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "damaged" not in result.output and "UNREADABLE" not in result.output
    with sqlite3.connect(db) as conn:
        ((received, source, verdict, sender),) = conn.execute(
            "SELECT received_at, submitted_source, verdict, sender FROM files").fetchall()
    assert verdict in ("valid", "valid-with-warnings")
    assert source != "email" and not received.startswith(("2001", "9999"))
    assert sender == "mi-team@provider.example"  # the rest of the headers still read


def test_an_e_mail_with_a_two_digit_year_still_reads_as_the_standard_says(tmp_path):
    _eml(tmp_path / "inbox", "Mon, 02 Nov 26 09:00:00 +0000")
    db = tmp_path / "ledger.sqlite"
    assert run("ingest", str(tmp_path / "inbox"), "--db", str(db), "--workers", "1").exit_code == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT received_at, submitted_source FROM files").fetchone() == (
            "2026-11-02T09:00:00", "email")


# -- options (item 16 among them) ------------------------------------------------------------------
@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    db = folder / "ledger.sqlite"
    assert run("ingest", str(SAMPLE), "--db", str(db), "--workers", "1").exit_code == 0
    return db


def _one_sentence(result, *words: str) -> None:
    assert result.exit_code == EXIT_UNREADABLE, result.output
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    for word in words:
        assert word in text, text


@pytest.mark.parametrize("period", ["0001-01", "9999-12"])
def test_pack_for_a_month_outside_the_years_is_one_sentence(ledger, tmp_path, period):
    """`pack --period 0001-01` was a traceback; 9999-12 never finished."""
    result = run("pack", "--period", period, "--db", str(ledger), "--out", str(tmp_path / "packs"))
    _one_sentence(result, f"'{period}'", "2000 to 2100")
    assert not (tmp_path / "packs").exists() or not list((tmp_path / "packs").iterdir())


@pytest.mark.parametrize("args", [
    ("status", "--period", "0001-01"),
    ("status", "--as-of", "9999-12-31"),
    ("pack", "--period", "2026-10", "--as-of", "0001-01-01"),
])
def test_ledger_commands_refuse_dates_outside_the_years(ledger, tmp_path, args):
    extra = ("--out", str(tmp_path / "p")) if args[0] == "pack" else ()
    _one_sentence(run(*args, "--db", str(ledger), *extra), "2000 to 2100")


def test_consolidate_refuses_a_period_outside_the_years(tmp_path):
    result = run("consolidate", str(SAMPLE), "--out", str(tmp_path / "out"), "--period", "9999-12")
    _one_sentence(result, "'9999-12'", "2000 to 2100")


@pytest.mark.parametrize("option", ["--submitted", "--as-of"])
@pytest.mark.parametrize("when", ["9999-12-31", "0001-01-01T09:00"])
def test_validate_refuses_a_submission_or_as_of_date_outside_the_years(option, when):
    """--submitted 9999-12-31 gave an OverflowError reported as an unexpected problem."""
    _one_sentence(run("validate", str(SAMPLE), option, when), option, "2000 to 2100")


@pytest.mark.parametrize("wait", ["inf", "1e308", "nan", "86401"])
def test_a_ledger_wait_that_is_not_a_plausible_number_of_seconds_is_one_sentence(tmp_path, wait):
    """`KPD_LEDGER_WAIT=inf` or `1e308` was a traceback (OverflowError in sqlite3.connect)."""
    env = dict(os.environ, KPD_LEDGER_WAIT=wait, NO_COLOR="1",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "ingest", str(SAMPLE), "--db",
                           str(tmp_path / "l.sqlite")], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == EXIT_UNREADABLE, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"KPD_LEDGER_WAIT must be a number of seconds from 0 to 86400 (a day), not '{wait}'."


@pytest.mark.parametrize("year", [1980, 2200])
def test_a_file_time_outside_the_years_is_not_a_submission_time(tmp_path, year):
    """A workbook unzipped with 1980 dates: its modification time tells nothing (the as-of date stands in)."""
    from kpd_returns.intake import inbox

    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    stamp = dt.datetime(year, 6, 1, 12, 0, tzinfo=dt.timezone.utc).timestamp()
    os.utime(path, (stamp, stamp))
    (item,) = list(inbox.iter_items([path]))
    assert item.submitted is None
