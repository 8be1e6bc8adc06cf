"""Hostile inputs and faults in a batch (issue 10, items 7-16; issue 14, item 3): one bad entry costs only itself.

Every case is a `[[fault]]` entry of tests/data/hostile_table.toml (the one table of hostile payloads),
built here by the function named after it, and run with the REAL command in a subprocess, beside two
good returns. Each asserts the exit code, the one sentence naming the entry, that no traceback and no
raw terminal escape is printed, how summary.json lists the entry, and that the good returns are accepted.
Faults a test cannot cause for real as root (no read permission, a read-only ledger) are injected by
tests/fault_inject.py around the same command.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import tomllib
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from kpd_returns.intake.ledger import Ledger
from test_consolidate_gen import InboxBuilder, Provider
from test_hostile_inputs import build as build_hostile
from test_hostile_inputs import cfb

REPO = Path(__file__).resolve().parents[1]
TABLE = tomllib.loads((REPO / "tests" / "data" / "hostile_table.toml").read_text(encoding="utf-8"))["fault"]
CASES = {case["id"]: case for case in TABLE}
AS_OF = "2026-11-27"
MB = 2**20
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def returns() -> dict[int, bytes]:
    """Good MMIR returns of three providers: 1 and 2 sit beside every case, 3 is the case's own."""
    b = InboxBuilder(Path("unused"))
    return {n: b.workbook("mmir", "2026-10", Provider(n, f"Test Provider {n:02d} Ltd", "file")) for n in (1, 2, 3)}


# -- building each case (returns the fault to inject, if any) ---------------------------------
def _eml(*attachments: tuple[str, bytes, str]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "MI team <mi@p09.example>"
    msg["To"] = "returns@dwp.example"
    msg["Subject"] = "Monthly return"
    msg["Date"] = "Tue, 03 Nov 2026 10:00:00 +0000"
    msg.set_content("Our return is attached.")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def _hostile(kind: str, target: Path) -> None:
    folder = target.parent / ".build"
    folder.mkdir(exist_ok=True)
    shutil.move(build_hostile(kind, folder), target)
    shutil.rmtree(folder)


def _deny(path: Path) -> str:
    """No read permission on ``path``: for real, and injected as well when root can read anyway."""
    path.chmod(0)
    return f"deny-read:{path.name}" if AS_ROOT else "none"


def make(case: dict, inbox: Path, good: dict[int, bytes], tmp: Path) -> str:
    cid, name = case["id"], case.get("name", "")
    target = inbox / name
    if cid == "symlink-loop":
        target.symlink_to(name)
    elif cid == "symlink-loop-pair":
        target.symlink_to("pong.xlsx")
        (inbox / "pong.xlsx").symlink_to(name)
    elif cid == "dangling-link":
        target.symlink_to("nowhere.xlsx")
    elif cid == "no-read-permission":
        target.write_bytes(good[3])
        return _deny(target)
    elif cid == "unreadable-folder":
        target.mkdir()
        (target / "inside.xlsx").write_bytes(good[3])
        return _deny(target)
    elif cid.startswith("non-utf8-name"):
        raw = os.fsencode(str(inbox)) + b"/" + name.encode().replace(b"\\xff\\xfe", b"\xff\xfe")
        Path(os.fsdecode(raw)).write_bytes(good[3] if cid.endswith("good") else b"not a workbook at all")
    elif cid in ("terminal-escape-name", "bidi-override-name"):
        target.write_bytes(b"not a workbook at all")
    elif cid == "terminal-escape-attachment":
        target.write_bytes(_eml((case["attachment"], b"not a workbook at all",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))
    elif cid == "email-too-large":
        with target.open("wb") as fh:  # sparse: 300 MB on the file system, a few KB on disk
            fh.write(_eml(("r.xlsx", good[3], "application/vnd.ms-excel")))
            fh.truncate(300 * MB)
    elif cid == "attachment-too-large":
        write_big_attachment_email(target, case["attachment"], 51 * MB)
    elif cid == "email-nested-too-deep":
        head = b"From: a@p.example\r\nMIME-Version: 1.0\r\n"
        parts = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(30))
        target.write_bytes(head + parts + b"Content-Type: text/plain\r\n\r\nhello\r\n")
    elif cid == "email-header-flood":
        target.write_bytes(b"From: a@p.example\r\nX-Flood: " + b"a" * (2 * MB) + b"\r\n\r\nbody\r\n")
    elif cid in ("email-no-workbook", "email-without-extension"):
        target.write_bytes(_eml(("cover.pdf", b"%PDF-1.4 letter", "application/pdf")))
    elif cid == "msg-not-outlook":
        target.write_bytes(b"this is not an Outlook message")
    elif cid == "damaged-deflate":
        write_damaged_deflate(target, good[3])
    elif cid in ("truncated-zip", "zip-bomb", "xxe", "billion-laughs", "encrypted", "legacy-xls", "macros-xlsm",
                 "csv-renamed", "empty", "random-bytes"):
        kind = {"truncated-zip": "truncated", "legacy-xls": "xls", "macros-xlsm": "xlsm", "csv-renamed": "csv",
                "random-bytes": "random"}.get(cid, cid)
        _hostile(kind, target)
    elif cid == "ole-without-extension":
        target.write_bytes(cfb({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\0" * 100}))
    elif cid == "workbook-without-extension":
        target.write_bytes(good[3])
    elif cid == "readme":
        target.write_text("# Inbox\nReturns for November go here.\n", encoding="utf-8")
    elif cid == "tracker-json":
        target.write_text('{"provider": "Northbridge", "chased": true}\n', encoding="utf-8")
    elif cid == "cover-letter-pdf":
        target.write_bytes(b"%PDF-1.4\n% covering letter\n")
    elif cid == "stray-csv":
        target.write_text("provider,referrals\nP01,10\n", encoding="utf-8")
    elif cid == "word-document":
        with zipfile.ZipFile(target, "w") as zf:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("word/document.xml", "<document/>")
    elif cid == "ledger-read-only":
        Ledger(tmp / "ledger.sqlite").close()
        return "readonly-ledger"
    elif cid == "ledger-not-sqlite":
        (tmp / "ledger.sqlite").write_text("provider,period\n", encoding="utf-8")
    elif cid == "leftovers-after-kill":
        leave_leftovers(tmp / "out")
    return "none"


def write_big_attachment_email(path: Path, name: str, decoded_bytes: int) -> None:
    """An e-mail under the e-mail cap whose one attachment decodes to ``decoded_bytes`` (written streaming)."""
    with path.open("wb") as fh:
        fh.write(b'From: a@p.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
                 b'--B\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n--B\r\n'
                 b'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n'
                 b'Content-Transfer-Encoding: base64\r\n'
                 b'Content-Disposition: attachment; filename="' + name.encode() + b'"\r\n\r\n')
        block = os.urandom(57 * 1000)  # 57 bytes a 76-character line
        written = 0
        while written < decoded_bytes:
            encoded = base64.encodebytes(block).replace(b"\n", b"\r\n")
            fh.write(encoded)
            written += len(block)
        fh.write(b"--B--\r\n")


def write_damaged_deflate(path: Path, data: bytes) -> None:
    """The return with the deflate stream of its workbook part broken (an invalid block type)."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("xl/workbook.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    buf[start:start + 16] = b"\xff" * 16
    path.write_bytes(bytes(buf))


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def leave_leftovers(out: Path) -> list[Path]:
    """What runs killed with -9 left in an output folder: this version's scratch folder and older versions'
    hidden files beside the outputs (each holding provider data)."""
    stale = out / ".kpd-work" / str(dead_pid())
    stale.mkdir(parents=True)
    paths = [out / ".kpd-rows-abc123.xml", out / ".kpd-splice-def456.xlsx", out / ".kpd-returns-x.xlsx",
             stale / "rows-1.xml", stale / "splice-2.xlsx"]
    for p in paths:
        p.write_bytes(b"<row><c>Test Provider 01 Ltd</c></row>")
    return paths


# -- running the real command ---------------------------------------------------------------------
def run_cli(fault: str, *args: str, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(REPO / "tests" / "fault_inject.py"), fault, "--", *args],
                          capture_output=True, text=True, errors="surrogateescape", env=full_env, cwd=cwd,
                          timeout=timeout)


def command_for(case: dict, inbox: Path, tmp: Path) -> list[str]:
    command = case.get("command", "consolidate")
    where = ["--out", str(tmp / "out")] if command == "consolidate" else ["--db", str(tmp / "ledger.sqlite")]
    if command == "consolidate" and case["id"].startswith("ledger-"):
        where += ["--db", str(tmp / "ledger.sqlite")]
    extra = ["--no-packs", "--verbose"] if command == "consolidate" else []
    args = case.get("args", ["--workers", "1"])
    if command == "consolidate":
        extra = ["--as-of", AS_OF, *extra]
    return [command, str(inbox), *where, *extra, *args]


def assert_plain(proc: subprocess.CompletedProcess) -> str:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "Error:" not in output.replace("OperationalError", ""), output
    assert "\x1b" not in output and "\x07" not in output, "a raw terminal escape was printed"
    return output


@pytest.fixture
def inbox(tmp_path, returns) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good-1.xlsx").write_bytes(returns[1])
    (folder / "good-2.xlsx").write_bytes(returns[2])
    yield folder
    for p in folder.rglob("*"):  # let pytest remove what the case made unreadable
        if not p.is_symlink():
            p.chmod(0o755)


def test_the_table_has_a_case_for_every_kind_and_each_is_complete():
    assert len(TABLE) >= 40 and len(CASES) == len(TABLE)
    for case in TABLE:
        assert {"id", "exit", "outcome", "says", "about"} <= set(case), case["id"]
        assert case["outcome"] in ("unreadable", "rejected", "accepted", "skipped", "none"), case["id"]


RUN_CASES = [c["id"] for c in TABLE if c["id"] != "ledger-locked"]


@pytest.mark.parametrize("cid", RUN_CASES)
def test_one_bad_entry_costs_only_itself(cid, inbox, tmp_path, returns):
    case = CASES[cid]
    fault = make(case, inbox, returns, tmp_path)
    proc = run_cli(fault, *command_for(case, inbox, tmp_path), cwd=tmp_path)
    output = assert_plain(proc)
    assert proc.returncode == case["exit"], output
    assert case["says"] in output, output
    shown = case.get("shown", case.get("name", ""))
    if case["outcome"] == "none":
        if case["exit"] == 2:  # a fault of the run: one sentence, nothing recorded
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert not (tmp_path / "out" / "summary.json").exists()
        return
    lines = [ln for ln in output.splitlines() if case["says"] in ln]
    assert any(shown in ln for ln in lines), lines  # the sentence names the entry, in its printable form
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    by_name = {f["name"]: f for f in summary["files"]}
    assert by_name["good-1.xlsx"]["outcome"] == by_name["good-2.xlsx"]["outcome"] == "accepted"
    if case["outcome"] == "skipped":
        assert summary["skipped"] == [{"source": shown, "reason": "not a return"}]
        assert shown not in by_name and summary["inputs"] == 2
    else:
        entry = case.get("shown", case.get("attachment", shown)) if "attachment" in case else shown
        assert by_name[entry]["outcome"] == case["outcome"], summary
        others = [f for f in summary["files"] if f["name"] not in ("good-1.xlsx", "good-2.xlsx")]
        assert {f["outcome"] for f in others} == {case["outcome"]}, summary


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(inbox, tmp_path, returns):
    stale = leave_leftovers(tmp_path / "out")
    proc = run_cli("none", *command_for(CASES["leftovers-after-kill"], inbox, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [p for p in stale if p.exists()]
    hidden = [p for p in (tmp_path / "out").rglob(".*")]
    assert hidden == [], hidden  # and this run left none of its own


class LockHolder:
    """Another client holding the ledger's write lock (BEGIN IMMEDIATE) until released."""

    def __init__(self, db: Path):
        self.conn = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_locked_ledger_stops_the_run_and_records_nothing(inbox, tmp_path, returns):
    """Item 13: while another client holds the write lock, a valid file was recorded as unreadable with
    its real SHA-256, so every later run called it a duplicate. Now the run waits (KPD_LEDGER_WAIT), says
    so, stops with exit 2, and the next run accepts both returns."""
    case = CASES["ledger-locked"]
    db = tmp_path / "ledger.sqlite"
    Ledger(db).close()
    holder = LockHolder(db)
    try:
        proc = run_cli("none", "ingest", str(inbox), "--db", str(db), "--workers", "1",
                       env={"KPD_LEDGER_WAIT": "1"})
    finally:
        holder.release()
    output = assert_plain(proc)
    assert proc.returncode == case["exit"], output
    assert "is in use by another run; waiting up to 1 seconds" in proc.stderr
    assert case["says"] in proc.stderr
    with Ledger(db) as led:
        assert led.file_count() == 0  # nothing mis-filed
    again = run_cli("none", "ingest", str(inbox), "--db", str(db), "--workers", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 inputs: 2 accepted" in again.stdout


def test_a_lock_released_while_waiting_lets_the_run_finish(inbox, tmp_path):
    db = tmp_path / "ledger.sqlite"
    Ledger(db).close()
    holder = LockHolder(db)
    timer = threading.Timer(2.0, holder.release)  # released well within the wait allowed
    timer.start()
    try:
        proc = run_cli("none", "ingest", str(inbox), "--db", str(db), "--workers", "1",
                       env={"KPD_LEDGER_WAIT": "120"})
    finally:
        timer.join()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 inputs: 2 accepted" in proc.stdout


# -- the combined scenario ------------------------------------------------------------------
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("PEAK_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def test_an_inbox_of_hostile_entries_and_two_good_returns(inbox, tmp_path, returns):
    """Issue 10, done-when: a symlink loop, a non-UTF-8 name, a 300 MB e-mail (and an e-mail under the cap
    whose attachment is over it, and two whose attachments are just under it) beside two good returns:
    exit 1, both accepted, every bad entry named in summary.json, and the peak memory of the run and its
    workers under 300 MB."""
    make(CASES["symlink-loop"], inbox, returns, tmp_path)
    make(CASES["non-utf8-name-bad"], inbox, returns, tmp_path)
    make(CASES["email-too-large"], inbox, returns, tmp_path)
    make(CASES["attachment-too-large"], inbox, returns, tmp_path)
    for n in (1, 2):  # e-mails just under the cap, each holding an attachment just under the workbook cap
        write_big_attachment_email(inbox / f"near-cap-{n}.eml", f"near-cap-{n}.xlsx", 49 * MB)
    assert (inbox / "huge.eml").stat().st_size == 300 * MB
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "kpd_returns.cli.main", "consolidate",
                           str(inbox), "--out", str(tmp_path / "out"), "--as-of", AS_OF, "--workers", "2"],
                          capture_output=True, text=True, env=env, timeout=600)
    output = assert_plain(proc)
    assert proc.returncode == 1, output
    peak_kb = int(proc.stderr.split("PEAK_KB")[1].split()[0])
    assert peak_kb < 300 * 1024, f"peak memory {peak_kb // 1024} MB"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    outcomes = {f["name"]: f["outcome"] for f in summary["files"]}
    assert outcomes == {"good-1.xlsx": "accepted", "good-2.xlsx": "accepted", "loop.xlsx": "unreadable",
                        "\\xff\\xfe-bad.xlsx": "unreadable", "huge.eml": "unreadable", "big.xlsx": "unreadable",
                        "near-cap-1.xlsx": "unreadable", "near-cap-2.xlsx": "unreadable"}
    details = {f["name"]: f["detail"] for f in summary["files"]}
    assert "loops back on itself" in details["loop.xlsx"]
    assert "300 MB; the limit is 100 MB" in details["huge.eml"]
    assert "more than 50 MB" in details["big.xlsx"]


# -- validate names what it could not read, in plain words, and prints no escape -------------------------
@pytest.mark.parametrize("cid", ["terminal-escape-name", "symlink-loop", "dangling-link", "damaged-deflate"])
def test_validate_says_what_happened_and_prints_no_escape(cid, tmp_path, returns):
    case = CASES[cid]
    make(case, tmp_path, returns, tmp_path)
    proc = run_cli("none", "validate", str(tmp_path / case["name"]))
    output = assert_plain(proc)
    assert proc.returncode == 2, output
    assert case["says"] in output and case.get("shown", case["name"]) in output
    assert "damaged" not in output or cid == "damaged-deflate"
    assert "unexpected problem" not in output
