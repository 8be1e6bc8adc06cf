"""No raw personal datum leaves in any output (issue 10, items 1-5), end to end through the real CLI.

An inbox holds good returns beside one return with personal data in free text, in the provider and
contract fields and in a number cell, and a KPD return with some in its CPA, under a file name holding an NI number and an e-mail address,
and an e-mail (from a person's address, under a file name holding one) whose attached good return
has such a name. After `kpd-returns consolidate`, every output (the workbook, summary.json,
rejected/, the packs and their publication files, the ledger, stdout and stderr) is read by
``leakcheck``: no raw needle anywhere, except the sender's address in the ledger's audit trail.
``validate`` (text, JSON, --annotate) is checked the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import openpyxl
import pytest
from cli_run import run_cli
from leakcheck import assert_no_leak, find_leaks
from test_checks_helpers import cell_of
from test_consolidate_gen import InboxBuilder, Provider

REPO = Path(__file__).resolve().parents[1]

E2E = tomllib.loads((Path(__file__).parent / "data" / "hostile_table.toml").read_text(encoding="utf-8"))[
    "personal_data"]["end_to_end"]
NEEDLES, SENDER = E2E["needles"], E2E["sender"]


def bad_return(b: InboxBuilder, p: Provider) -> bytes:
    """A return with personal data in free text, the provider and contract cells, and a number cell."""
    return b.workbook("mmir", "2026-10", p, contact=E2E["free_text"], extra={
        ("provider", ""): E2E["provider"], ("contract", ""): E2E["contract"],
        ("referrals", "in_month"): E2E["number_cell"]})


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory):
    base = tmp_path_factory.mktemp("pii")
    b = InboxBuilder(base / "inbox")
    good = Provider(1, "Test Provider 01 Ltd", "file")
    by_mail = Provider(2, "Test Provider 02 Ltd", "email")
    for period in ("2026-09", "2026-10"):
        b.deliver(good, "mmir", period, b.workbook("mmir", period, good), b.name("mmir", period, good), "accepted")
    b.put_file(f"files/{E2E['file_name']}", bad_return(b, good), "rejected")
    b.put_file(f"files/{E2E['cpa_file_name']}", b.workbook("kpd", "2026-27 Q2", good, extra={("cpa", ""): E2E["cpa"]}),
               "rejected")
    b.put_email(f"mail/{E2E['email_file_name']}", SENDER, dt.datetime(2026, 11, 3, 9, 0),
                [(E2E["attachment_name"], b.workbook("mmir", "2026-10", by_mail), "accepted")])
    out = base / "out"
    proc = run_cli("consolidate", str(base / "inbox"), "--out", str(out), "--as-of", "2026-11-27",
                   "--workers", "1", "--verbose", cwd=base)
    return out, proc


def test_the_other_returns_are_accepted_and_the_bad_one_rejected(consolidated):
    out, proc = consolidated
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    outcomes = sorted(f["outcome"] for f in summary["files"])
    assert outcomes.count("rejected") == 2
    assert sum(o.startswith("accepted") for o in outcomes) == 3
    kpd = next(f for f in summary["files"] if f["return_id"] == "kpd")
    assert kpd["outcome"] == "rejected" and kpd["contract"] == "CPA 07 AB/*****1/D"
    rejected = next(f for f in summary["files"] if f["outcome"] == "rejected" and f["return_id"] == "mmir")
    assert rejected["name"] == E2E["file_name_masked"]
    assert rejected["provider"] == E2E["provider_masked"]
    mailed = next(f for f in summary["files"] if f["email"])
    assert mailed["email"] == E2E["email_file_name_masked"] and mailed["sender"] == E2E["sender_masked"]
    assert mailed["name"] == E2E["attachment_name_masked"]


def test_no_raw_personal_datum_in_any_output(consolidated):
    """The workbook, summary.json, rejected/, the packs (HTML, Excel, publication CSV/JSON), the
    ledger and the terminal: the sender's address only in the ledger's audit trail."""
    out, proc = consolidated
    assert (out / "packs").is_dir() and any((out / "packs").iterdir())
    assert list((out / "rejected").glob("*.annotated.xlsx"))
    assert_no_leak(out, NEEDLES, ledger=out / "ledger.sqlite", streams=[proc.stdout, proc.stderr],
                   allowed_in_ledger=[SENDER])


def test_the_ledger_keeps_the_sender_and_knows_a_rerun_by_its_sha256(consolidated, tmp_path):
    out, _proc = consolidated
    leaks = find_leaks(None, [SENDER], ledger=out / "ledger.sqlite")
    assert any("table files" in leak for leak in leaks)  # who sent it: the audit trail
    again = run_cli("consolidate", str(out.parent / "inbox"), "--out", str(tmp_path / "again"), "--db",
                    str(out / "ledger.sqlite"), "--as-of", "2026-11-27", "--workers", "1", "--no-packs",
                    cwd=tmp_path)
    summary = json.loads((tmp_path / "again" / "summary.json").read_text(encoding="utf-8"))
    first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Known by its SHA-256: nothing is added, and each file keeps its recorded outcome (issue 14 item 4).
    assert summary["files"] == first["files"], again.stdout + again.stderr
    assert "already recorded by an earlier run" in again.stdout
    assert_no_leak(tmp_path / "again", [n for n in NEEDLES if n != SENDER],
                   streams=[again.stdout, again.stderr])


def test_the_rejected_copy_shows_the_masked_text_in_the_marked_cells(consolidated):
    out, _proc = consolidated
    copy = next((out / "rejected").glob("Return for*.annotated.xlsx"))
    wb = openpyxl.load_workbook(copy)
    volumes = wb["Volumes"]
    masked = [c for row in volumes.iter_rows() for c in row if c.value == E2E["number_cell_masked"]]
    assert masked and masked[0].comment is not None and "masked" in masked[0].comment.text
    sheet, cell = cell_of("mmir", "provider")
    assert wb[sheet][cell].value == E2E["provider_masked"]


# -- validate -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory):
    base = tmp_path_factory.mktemp("pii-validate")
    b = InboxBuilder(base / "in")
    path = b.put_file(E2E["file_name"], bad_return(b, Provider(1, "Test Provider 01 Ltd", "file")), "rejected")
    return base, path


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_reports_quote_nothing_raw(bad_file, fmt):
    base, path = bad_file
    proc = run_cli("validate", str(path), "--format", fmt, cwd=base)
    assert proc.returncode == 1, proc.stderr
    assert E2E["number_cell_masked"] in proc.stdout and E2E["file_name_masked"] in proc.stdout
    assert_no_leak(None, NEEDLES, streams=[proc.stdout, proc.stderr])


def test_validate_annotate_masks_the_cells_of_the_copy(bad_file, tmp_path):
    base, path = bad_file
    out = tmp_path / "copy"
    out.mkdir()
    proc = run_cli("validate", str(path), "--annotate", str(out / "annotated.xlsx"), cwd=base)
    assert proc.returncode == 1, proc.stderr
    assert (out / "annotated.xlsx").is_file()
    assert_no_leak(out, NEEDLES, streams=[proc.stdout, proc.stderr])
    wb = openpyxl.load_workbook(out / "annotated.xlsx")
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert E2E["free_text_masked"] in texts and E2E["number_cell_masked"] in texts
