"""The batch commands on a small inbox: byte-identical outputs in fresh folders, text that begins with '='
stays text, --period scoping, the status table and exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.cli.batch import run_consolidate, run_ingest, run_status
from test_consolidate_gen import EQUALS_NAME, small_inbox


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("small")
    exp = small_inbox(base / "inbox")
    outs = []
    for name in ("out1", "out2"):
        buf = io.StringIO()
        code = run_consolidate([base / "inbox"], out_dir=base / name, providers=exp.providers_csv,
                               as_of="2026-11-27", workers="1", progress=False, out=buf, err=buf)
        outs.append((code, buf.getvalue()))
    return base, exp, outs


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("ledger.sqlite")}


def test_fresh_runs_give_byte_identical_outputs(two_runs):
    base, exp, outs = two_runs
    first, second = _tree(base / "out1"), _tree(base / "out2")
    assert {"consolidated.xlsx", "summary.json", "rejected/mmir-p01-2026-10-bad.findings.json",
            "rejected/mmir-p01-2026-10-bad.annotated.xlsx", "rejected/no-attachment.findings.json"} <= set(first)
    assert "rejected/notes.findings.json" not in first  # a PDF is not a return: skipped, not refused
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    assert outs[0][1].replace("out1", "OUT") == outs[1][1].replace("out2", "OUT")  # the messages too


def test_the_summary_line_adds_up_and_the_exit_code_says_some_were_rejected(two_runs):
    _base, exp, outs = two_runs
    code, text = outs[0]
    assert code == 1
    c = exp.counts
    assert (f"{exp.inputs} inputs: {c['accepted']} accepted, {c['accepted with warnings']} accepted with warnings, "
            f"{c['rejected']} rejected, {c['unreadable']} unreadable, {c['duplicate']} duplicate.") in text
    assert "REJECTED   mmir-p01-2026-10-bad.xlsx" in text and "-> rejected/mmir-p01-2026-10-bad.findings.json" in text
    assert "UNREADABLE no-attachment.eml" in text
    assert "SKIPPED    files/stray/notes.pdf: not a return" in text and text.count("notes.pdf") == 1


def test_provider_text_beginning_with_equals_is_text(two_runs):
    base, _exp, _outs = two_runs
    wb = openpyxl.load_workbook(base / "out1" / "consolidated.xlsx")
    found = [(ws.title, c.coordinate, c.data_type) for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value == EQUALS_NAME]
    assert {t for t, _, _ in found} >= {"Submissions", "KPD return data", "KPD FTE total", "MMIR data", "MMIR referrals",
                                          "Files"}
    assert all(dtype == "s" for _, _, dtype in found)
    # The only formulas anywhere are the totals rows' SUBTOTALs.
    formulas = {c.value.split("(")[0] for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"}
    assert formulas == {"=SUBTOTAL"}


def test_period_selects_the_return_type_and_its_year_to_date(tmp_path, two_runs):
    base, exp, _outs = two_runs
    buf = io.StringIO()
    code = run_consolidate([base / "inbox"], out_dir=tmp_path / "oct", db=base / "out1" / "ledger.sqlite",
                           periods=["2026-10"], as_of="2026-11-27", workers="1", progress=False, out=buf, err=buf)
    # Everything is already in the ledger, but the inbox still holds an e-mail with no workbook that
    # nothing has replaced: a re-run still says so and exits 1 (issue 14 item 4). The rejected
    # mmir-p01-2026-10-bad.xlsx was put right by a later valid return, so it is not open.
    assert code == 1
    text = buf.getvalue()
    assert f"{exp.inputs - 1} already recorded by an earlier run (" in text
    assert "STILL OPEN no-attachment.eml" in text and "STILL OPEN mmir-p01-2026-10-bad" not in text
    assert "ACCEPTED" not in text
    wb = openpyxl.load_workbook(tmp_path / "oct" / "consolidated.xlsx")
    assert not [n for n in wb.sheetnames if n.startswith("KPD")]
    ws = wb["MMIR referrals"]
    assert [c.value for c in ws[4]][2:] == ["April 2026", "May 2026", "June 2026", "July 2026", "August 2026",
                                            "September 2026", "October 2026", "Total"]
    periods = {r[3] for r in wb["Submissions"].iter_rows(min_row=5, values_only=True) if r[3]}
    assert periods == {f"2026-{m:02d}" for m in range(4, 11)}


def test_status_shows_each_provider_and_return(two_runs, monkeypatch):
    base, exp, _outs = two_runs
    monkeypatch.setenv("COLUMNS", "120")  # wide enough for every column
    buf = io.StringIO()
    assert run_status(db=base / "out1" / "ledger.sqlite", providers=exp.providers_csv, as_of="2026-11-27",
                      periods=["2026-10"], out=buf, err=buf) == 0
    text = buf.getvalue()
    assert "MMIR for October 2026, as at 2026-11-27" in text and "KPD" not in text
    # Provider 01 sent October on time, then a rejected version, then a late one: on time (the first
    # valid one was), with 2 resubmissions and 3 files.
    (line,) = [ln for ln in text.splitlines() if "AtW-T-01" in ln]
    assert line.split() == ["Test", "Provider", "01", "Ltd", "AtW-T-01", "on", "time", "2026-11-03", "2026-11-04",
                            "2", "3"]
    assert text.splitlines()[-1] == "2 on time."


@pytest.mark.parametrize("kwargs, message", [
    ({"inboxes": ["does-not-exist"]}, "does not exist"),
    ({"as_of": "27/11/2026"}, "is not a date"),
    ({"workers": "0"}, "--workers must be a whole number from 1 to 64, not '0'"),
    ({"workers": "1000"}, "--workers must be a whole number from 1 to 64, not '1000'"),
    ({"workers": "-3"}, "--workers must be a whole number from 1 to 64"),
    ({"region": "wales"}, "is not a UK division"),
    ({"periods": ["October"]}, "is not a period of any return type (Action Plan, a month: 2026-10; AtW Yearly MI, a contract year: 2026-27; "
                               "Customer Insight, a month: 2026-10; JOBS II MI, a "
                               "month: 2026-10; KPD return, a quarter: 2026-27 Q2; MMIR, a month: 2026-10)"),  # every return type's form
])
def test_bad_options_stop_before_anything_is_read(tmp_path, kwargs, message):
    buf = io.StringIO()
    args = {"inboxes": [tmp_path], "as_of": "2026-11-27", "workers": "1", "region": "england-and-wales",
            "periods": None} | kwargs
    code = run_consolidate([Path(p) for p in args.pop("inboxes")], out_dir=tmp_path / "out", progress=False,
                           out=buf, err=buf, **args)
    assert code == 2 and message in buf.getvalue()
    assert not (tmp_path / "out").exists()


def test_ingest_default_ledger_and_status_without_a_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "inbox" / "notes.xlsx").write_bytes(b"%PDF-1.4")
    buf = io.StringIO()
    assert run_ingest([tmp_path / "inbox"], workers="1", progress=False, out=buf, err=buf) == 1
    assert (tmp_path / "kpd-ledger.sqlite").exists()
    assert ("1 input: 0 accepted, 0 accepted with warnings, 0 rejected, 1 unreadable, 0 duplicate. "
            "1 other file skipped: not a return.") in buf.getvalue()
    assert "SKIPPED    notes.pdf: not a return" in buf.getvalue()
    buf = io.StringIO()
    assert run_status(db=tmp_path / "nothing.sqlite", out=buf, err=buf) == 2
    assert "There is no ledger" in buf.getvalue()
