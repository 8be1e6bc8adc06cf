"""A return inside an .eml attached to an Outlook .msg (as Outlook forwards a saved e-mail) is read, not
dropped without a word (issue 19 item 17). The .msg is a real one, written with extract-msg's own OLE
writer and read back by extract-msg as kpd-returns reads any .msg."""

from __future__ import annotations

import datetime as dt
import json
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.spec.return_spec import get_spec
from test_consolidate_gen import XLSX, patch

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"
SENT = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.timezone.utc)
SENT_FILETIME = (SENT - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1) * 10
HEADERS = "From: MI team <mi@p01.example>\r\nTo: returns@dwp.example\r\nDate: Fri, 2 Oct 2026 10:00:00 +0100\r\n\r\n"


def _u(text: str) -> bytes:
    return text.encode("utf-16-le")


def _prop(tag: int, value: int = 0) -> bytes:
    return struct.pack("<IIQ", tag, 6, value)  # tag, flags (readable, writable), value


def write_msg(path: Path, attachments: list[tuple[str, bytes, str]]) -> None:
    """An Outlook message (MS-OXMSG): message class, transport headers, and each attachment by value."""
    ole_writer = pytest.importorskip("extract_msg.ole_writer")
    w = ole_writer.OleWriter()
    n = len(attachments)
    w.addEntry("__properties_version1.0", b"\0" * 8 + struct.pack("<IIII", 0, n, 0, n) + b"\0" * 8
               + _prop(0x001A001F, len(_u("IPM.Note")) + 2) + _prop(0x007D001F, len(_u(HEADERS)) + 2)
               + _prop(0x00390040, SENT_FILETIME))  # PR_CLIENT_SUBMIT_TIME: when it was sent
    w.addEntry("__substg1.0_001A001F", _u("IPM.Note"))
    w.addEntry("__substg1.0_0037001F", _u("Fwd: our return"))
    w.addEntry("__substg1.0_007D001F", _u(HEADERS))
    w.addEntry("__nameid_version1.0", storage=True)
    for stream in ("00020102", "00030102", "00040102"):
        w.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    for i, (name, data, mime) in enumerate(attachments):
        folder = f"__attach_version1.0_#{i:08X}"
        w.addEntry(folder, storage=True)
        w.addEntry(f"{folder}/__properties_version1.0", b"\0" * 8 + _prop(0x37050003, 1) + _prop(0x0E210003, i))
        w.addEntry(f"{folder}/__substg1.0_37010102", data)
        w.addEntry(f"{folder}/__substg1.0_3707001F", _u(name))
        w.addEntry(f"{folder}/__substg1.0_370E001F", _u(mime))
    w.write(str(path))


def test_a_return_in_an_eml_attached_to_a_msg_is_read(tmp_path):
    direct = SAMPLE.read_bytes()
    forwarded = patch(direct, get_spec("mmir"), {("provider", ""): "Forwarded Provider Ltd",
                                                  ("contract", ""): "AtW-FWD-01"})
    eml = EmailMessage()
    eml["From"] = "MI team <mi@forwarded.example>"
    eml["Subject"] = "MMIR September 2026"
    eml.set_content("Our return is attached.")
    eml.add_attachment(forwarded, maintype=XLSX[0], subtype=XLSX[1], filename="mmir-forwarded-2026-09.xlsx")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_msg(inbox / "returns.msg", [("mmir-northbridge-2026-09.xlsx", direct, "/".join(XLSX)),
                                      ("forwarded.eml", bytes(eml), "message/rfc822")])
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "out"), "--no-packs",
                                      "--as-of", "2026-10-20"])
    assert result.exit_code == 0, result.output
    assert "2 inputs: 2 accepted" in result.output, result.output
    files = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["files"]
    got = sorted((f["name"], f["email"], f["outcome"], f["provider"]) for f in files)
    assert got == [("mmir-forwarded-2026-09.xlsx", "returns.msg", "accepted", "Forwarded Provider Ltd"),
                   ("mmir-northbridge-2026-09.xlsx", "returns.msg", "accepted", "Northbridge Employment Ltd")]


def test_an_attached_eml_without_a_workbook_or_unreadable_is_named(tmp_path):
    notes = EmailMessage()
    notes["From"] = "MI team <mi@p01.example>"
    notes.set_content("Notes only.")
    notes.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="covering-letter.pdf")
    broken = b"From: x\r\nX-Pad: " + b"a" * 1_100_000 + b"\r\n\r\nbody\r\n"  # headers over 1 MB: refused
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_msg(inbox / "returns.msg", [("notes.eml", bytes(notes), "message/rfc822"),
                                      ("broken.eml", broken, "message/rfc822")])
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "out"), "--no-packs",
                                      "--as-of", "2026-10-20"])
    assert result.exit_code == 1, result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("UNREADABLE")]
    assert "(attached: notes.eml, covering-letter.pdf, broken.eml (an e-mail kpd-returns could not read))" in line
