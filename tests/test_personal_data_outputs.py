"""No raw personal datum leaves in any output (issue 10, items 1-5), end to end through the real CLI.

An inbox holds good returns beside one return with personal data in free text, in the provider and
contract fields and in a number cell, under a file name holding an NI number and an e-mail address,
and an e-mail (from a person's address, under a file name holding one) whose attached good return
has such a name. After `kpd-returns consolidate`, every output (the workbook, summary.json,
rejected/, the packs and their publication files, the ledger, stdout and stderr) is read by
``leakcheck``: no raw needle anywhere, except the sender's address in the ledger's audit trail.
``validate`` (text, JSON, --annotate) is checked the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from leakcheck import assert_no_leak, find_leaks
from test_checks_helpers import cell_of
from test_consolidate_gen import InboxBuilder, Provider

REPO = Path(__file__).resolve().parents[1]

NI, NI_DASHED, NI_SPECIMEN = "AB123456C", "JK-31-41-59-D", "QQ123456C"
EMAIL, PHONE, SENDER = "jane.doe@example.com", "07700 900123", "jane.sender@example.com"
NEEDLES = [NI, NI_DASHED, NI_SPECIMEN, EMAIL, PHONE, "QQ 12 34 56 C", SENDER]
BAD_NAME = f"Return for {NI} {EMAIL}.xlsx"
ATTACHMENT_NAME = f"Return for {NI_SPECIMEN} {EMAIL}.xlsx"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=str(cwd))


def bad_return(b: InboxBuilder, p: Provider) -> bytes:
    """A return with personal data in free text, the provider and contract cells, and a number cell."""
    return b.workbook("mmir", "2026-10", p, contact=f"Jane Doe on {PHONE}", extra={
        ("provider", ""): f"Jane Doe Services {NI_DASHED}",
        ("contract", ""): "AtW QQ 12 34 56 C",
        ("referrals", "in_month"): NI,
    })


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory):
    base = tmp_path_factory.mktemp("pii")
    b = InboxBuilder(base / "inbox")
    good = Provider(1, "Test Provider 01 Ltd", "file")
    by_mail = Provider(2, "Test Provider 02 Ltd", "email")
    for period in ("2026-09", "2026-10"):
        b.deliver(good, "mmir", period, b.workbook("mmir", period, good), b.name("mmir", period, good), "accepted")
    b.put_file(f"files/{BAD_NAME}", bad_return(b, good), "rejected")
    b.put_email(f"mail/from {EMAIL}.eml", SENDER, dt.datetime(2026, 11, 3, 9, 0),
                [(ATTACHMENT_NAME, b.workbook("mmir", "2026-10", by_mail), "accepted")])
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
    assert outcomes.count("rejected") == 1
    assert sum(o.startswith("accepted") for o in outcomes) == 3
    rejected = next(f for f in summary["files"] if f["outcome"] == "rejected")
    assert rejected["name"] == "Return for AB*****6C j***@***.xlsx"
    assert rejected["provider"] == "Jane Doe Services JK-**-**-*9-D"
    mailed = next(f for f in summary["files"] if f["email"])
    assert mailed["email"] == "from j***@***.eml" and mailed["sender"] == "j***@***.com"
    assert mailed["name"] == "Return for QQ*****6C j***@***.xlsx"


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
    assert {f["outcome"] for f in summary["files"]} == {"duplicate"}, again.stdout + again.stderr
    assert_no_leak(tmp_path / "again", [n for n in NEEDLES if n != SENDER],
                   streams=[again.stdout, again.stderr])


def test_the_rejected_copy_shows_the_masked_text_in_the_marked_cells(consolidated):
    out, _proc = consolidated
    copy = next((out / "rejected").glob("*.annotated.xlsx"))
    wb = openpyxl.load_workbook(copy)
    volumes = wb["Volumes"]
    masked = [c for row in volumes.iter_rows() for c in row if c.value == "AB*****6C"]
    assert masked and masked[0].comment is not None and "masked" in masked[0].comment.text
    sheet, cell = cell_of("mmir", "provider")
    assert wb[sheet][cell].value == "Jane Doe Services JK-**-**-*9-D"


# -- validate -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory):
    base = tmp_path_factory.mktemp("pii-validate")
    b = InboxBuilder(base / "in")
    path = b.put_file(BAD_NAME, bad_return(b, Provider(1, "Test Provider 01 Ltd", "file")), "rejected")
    return base, path


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_reports_quote_nothing_raw(bad_file, fmt):
    base, path = bad_file
    proc = run_cli("validate", str(path), "--format", fmt, cwd=base)
    assert proc.returncode == 1, proc.stderr
    assert "AB*****6C" in proc.stdout
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
    assert "Jane Doe on 07*** ***123" in texts and "AB*****6C" in texts
