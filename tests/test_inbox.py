"""Finding inputs: folders (sorted, junk left out, nothing else skipped), .eml and .msg e-mails."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import types
from email.message import EmailMessage
from pathlib import Path

from kpd_returns.intake import inbox
from kpd_returns.intake.inbox_email import MAX_EMAIL_BYTES

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def make_eml(path: Path, attachments: list[tuple[str, bytes]], *, sender="MI Team <mi@northbridge.example>",
             date="Mon, 02 Nov 2026 09:15:00 +0000", forward: EmailMessage | None = None) -> Path:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "returns@dwp.example"
    msg["Subject"] = "MMIR October 2026"
    if date:
        msg["Date"] = date
    msg.set_content("Please find our return attached.")
    for name, data in attachments:
        if name.endswith((".xlsx", ".xls")):
            msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
        elif name.endswith(".csv"):
            msg.add_attachment(data, maintype="text", subtype="csv", filename=name)
        else:
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    if forward is not None:
        msg.add_attachment(forward)
    path.write_bytes(bytes(msg))
    return path


def test_folders_are_walked_in_sorted_order_and_files_that_are_not_returns_are_skipped(tmp_path):
    root = tmp_path / "inbox"
    for rel in ("b/z.xlsx", "b/a.xlsx", "a.xlsx", "notes.pdf", "old.xls", "sub/deeper/c.xlsx",
                ".DS_Store", "b/Thumbs.db", "~$a.xlsx", "._a.xlsx", "__MACOSX/a.xlsx", "desktop.ini", ".kpd-work/1/x.xlsx",
                ".hidden-but-not-junk.xlsx"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    found = [p.relative_to(root).as_posix() for p, _rel in inbox.scan_inputs([root]).inputs]
    assert found == [".hidden-but-not-junk.xlsx", "a.xlsx", "b/a.xlsx", "b/z.xlsx", "old.xls",
                     "sub/deeper/c.xlsx"]
    assert inbox.scan_inputs([root]).skipped == ["notes.pdf"]  # not a return: listed, never an input
    # Excluded paths (the ledger, the output folder) are left out; a file given directly is kept.
    assert [p.name for p, _rel in inbox.scan_inputs([root, root / "a.xlsx", root / "notes.pdf"],
                                                    exclude=[root / "b", root / "sub"]).inputs] == [
        ".hidden-but-not-junk.xlsx", "a.xlsx", "old.xls", "a.xlsx", "notes.pdf"]


def test_a_bare_workbook_falls_back_to_its_modification_time(tmp_path):
    p = tmp_path / "r.xlsx"
    p.write_bytes(b"PK\x03\x04 not really")
    stamp = dt.datetime(2026, 11, 3, 14, 5, 7, tzinfo=dt.timezone.utc).timestamp()  # 14:05:07 GMT
    os.utime(p, (stamp, stamp))
    (item,) = list(inbox.iter_items([p]))
    assert item.source == p and item.name == "r.xlsx" and item.source_email is None
    assert item.submitted == dt.datetime(2026, 11, 3, 14, 5, 7) and item.submitted_source == "file-modified"
    assert item.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() and item.size == p.stat().st_size


def test_eml_attachments_are_inputs_with_the_date_and_sender(tmp_path):
    eml = make_eml(tmp_path / "mail.eml", [("october.xlsx", b"PK-workbook"), ("cover.pdf", b"%PDF"),
                                           ("figures.csv", b"a,b\n1,2\n")], date="Tue, 06 Oct 2026 09:15:00 +0000")
    items = list(inbox.iter_items([eml]))
    assert [(i.name, i.source, i.source_email, i.sender) for i in items] == [
        ("october.xlsx", b"PK-workbook", "mail.eml", "mi@northbridge.example"),
        ("figures.csv", b"a,b\n1,2\n", "mail.eml", "mi@northbridge.example")]
    # 09:15 UTC in October is 10:15 British Summer Time.
    assert items[0].submitted == dt.datetime(2026, 10, 6, 10, 15) and items[0].submitted_source == "email"
    assert items[0].sha256 == hashlib.sha256(b"PK-workbook").hexdigest()
    assert [i.index for i in items] == [0, 1] and [i.last_of_file for i in items] == [False, True]


def test_an_eml_without_a_workbook_is_an_unreadable_input(tmp_path):
    eml = make_eml(tmp_path / "oops.eml", [("cover.pdf", b"%PDF")])
    (item,) = list(inbox.iter_items([eml]))
    assert item.problem == ("no-workbook-attached", " from mi@northbridge.example (attached: cover.pdf)")
    assert item.sha256 == hashlib.sha256(eml.read_bytes()).hexdigest()
    from kpd_returns.spec import findings as F
    f = F.make(item.problem[0], file=item.name, detail=item.problem[1])
    # The sender's address is kept in the ledger's own column, but masked in the message (issue 10, item 5).
    assert f.message.startswith("The e-mail oops.eml has no workbook attached from m***@***.example")


def test_a_forwarded_email_s_workbook_is_found(tmp_path):
    inner = EmailMessage()
    inner["From"] = "provider@example.org"
    inner["Subject"] = "original"
    inner.set_content("see attached")
    inner.add_attachment(b"PK-inner", maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename="inner.xlsx")
    eml = make_eml(tmp_path / "fwd.eml", [], forward=inner, sender="manager@dwp.example")
    items = list(inbox.iter_items([eml]))
    assert [(i.name, i.source, i.sender) for i in items] == [("inner.xlsx", b"PK-inner", "manager@dwp.example")]


def test_an_eml_without_a_date_uses_the_file_time(tmp_path):
    eml = make_eml(tmp_path / "nodate.eml", [("r.xlsx", b"PK")], date=None)
    (item,) = list(inbox.iter_items([eml]))
    assert item.submitted_source == "file-modified" and item.submitted is not None


def test_a_damaged_msg_is_an_unreadable_input(tmp_path):
    p = tmp_path / "broken.msg"
    p.write_bytes(b"not an OLE file at all")
    (item,) = list(inbox.iter_items([p]))
    assert item.problem[0] == "email-unreadable" and item.source_email == "broken.msg"


def test_msg_attachments_via_extract_msg(tmp_path, monkeypatch):
    class Att:
        def __init__(self, name, data, mimetype=None):
            self.longFilename, self.data, self.mimetype = name, data, mimetype

    class Msg:
        sender = "Calder MI <mi@calder.example>"
        date = dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.timezone.utc)

        def __init__(self, attachments):
            self.attachments = attachments

        def close(self):
            pass

    inner = Msg([Att("nested.xlsx", b"PK-nested")])
    fake = types.SimpleNamespace(openMsg=lambda path, strict=False: Msg(
        [Att("return.xlsx", b"PK-return"), Att("logo.png", b"png"), Att("embedded", inner)]))
    monkeypatch.setitem(sys.modules, "extract_msg", fake)
    p = tmp_path / "mail.msg"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 pretend")
    items = list(inbox.iter_items([p]))
    assert [(i.name, i.source, i.sender, i.submitted, i.submitted_source) for i in items] == [
        ("return.xlsx", b"PK-return", "mi@calder.example", dt.datetime(2026, 12, 3, 16, 0), "email"),
        ("nested.xlsx", b"PK-nested", "mi@calder.example", dt.datetime(2026, 12, 3, 16, 0), "email")]
    fake.openMsg = lambda path, strict=False: Msg([Att("logo.png", b"png")])
    (only,) = list(inbox.iter_items([p]))
    assert only.problem == ("no-workbook-attached", " from mi@calder.example (attached: logo.png)")


def test_the_streamed_email_reader_decodes_attachments_exactly(tmp_path):
    """The .eml reader streams a line at a time (issue 10, item 11): every transfer encoding and nesting
    gives back the attachment's exact bytes, as the standard library's whole-message parser does."""
    import random

    rng = random.Random(7)
    payloads = [b"", b"x", b"line\r\nbreak\n\r\n", bytes(range(256)) * 40, rng.randbytes(100_003),
                b"=" * 200 + b"\r\n" + b"\t trailing \r\n"]
    for n, data in enumerate(payloads):
        for cte in ("base64", "quoted-printable"):
            msg = EmailMessage()
            msg["From"] = "a@p.example"
            msg.set_content("body")
            msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=f"r{n}.xlsx", cte=cte)
            outer = EmailMessage()
            outer["From"] = "b@p.example"
            outer.set_content("forwarded")
            outer.add_attachment(msg)
            path = tmp_path / f"m{n}-{cte}.eml"
            path.write_bytes(bytes(outer))
            (item,) = inbox.items_from_file(path)
            assert (item.name, item.source) == (f"r{n}.xlsx", data), (n, cte)


def test_an_email_over_the_cap_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.eml"
    with path.open("wb") as fh:
        fh.write(b"From: a@p.example\r\n\r\n")
        fh.truncate(MAX_EMAIL_BYTES + 1)  # sparse
    (item,) = inbox.items_from_file(path)
    assert item.problem == ("email-too-large", "101 MB; the limit is 100 MB")

