"""Does any raw personal datum leave in an output? One check for every end-to-end test (issue 10).

``assert_no_leak(folder, needles, ledger=..., streams=..., allowed_in_ledger=...)`` reads everything
a run wrote and fails naming each needle and where it was found:

* every file under ``folder`` (hidden ones too), and every file's own relative path;
* every .xlsx/.xlsm (any zip): every part, as stored and as text with the XML tags removed (a value
  split across rich-text runs is still found) and entities resolved;
* every SQLite file (by its header): every row of every table, plus its raw bytes (and any -wal
  or -journal beside it);
* every .eml (the draft e-mails to providers): its raw bytes, and each part decoded (base64 or
  quoted-printable), an attached workbook read as any zip is;
* every other file: its text (JSON unescaped, HTML entities resolved) and its raw bytes;
* the captured ``streams`` (stdout, stderr).

Each needle is also looked for in a normalised form: letters and digits only, lower case (so
``AB 12 34 56 C``, ``ab-123456-c`` and ``AB123456C`` are one needle), when that form has at least 8
characters. ``allowed_in_ledger`` needles (the sender's address) may appear in the ledger only.
"""

from __future__ import annotations

import email
import email.policy
import html
import io
import json
import re
import sqlite3
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

_TAG = re.compile(r"<[^>]*>")
_NOT_ALNUM = re.compile(r"[\W_]+")
MIN_COMPACT = 8


def compact(text: str) -> str:
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text)).lower()


def _texts_of_zip(data: bytes) -> Iterator[tuple[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            body = z.read(info.filename)
            text = body.decode("utf-8", "replace")
            yield f"!{info.filename}", text
            yield f"!{info.filename} (text)", html.unescape(_TAG.sub("", text))
            yield f"!{info.filename} (name)", info.filename


def _texts_of_eml(data: bytes) -> Iterator[tuple[str, str]]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    yield " (headers)", "\n".join(f"{k}: {v}" for k, v in msg.items())
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        body = part.get_payload(decode=True) or b""
        yield f" part {i}", body.decode("utf-8", "replace")
        if body[:4] == b"PK\x03\x04":
            try:
                for where, text in _texts_of_zip(body):
                    yield f" part {i}{where}", text
            except zipfile.BadZipFile:
                pass


def _texts_of_sqlite(path: Path) -> Iterator[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            yield f" table {table}", "\n".join(" | ".join(str(v) for v in row) for row in rows)
    finally:
        conn.close()


def _texts_of_file(path: Path) -> Iterator[tuple[str, str]]:
    data = path.read_bytes()
    yield "", data.decode("utf-8", "replace")
    yield " (latin-1)", data.decode("latin-1")
    if data[:4] == b"PK\x03\x04":
        try:
            yield from _texts_of_zip(data)
        except zipfile.BadZipFile:
            pass
    elif data.startswith(b"SQLite format 3\x00"):
        yield from _texts_of_sqlite(path)
    elif path.suffix.lower() == ".eml":
        yield from _texts_of_eml(data)
    else:
        text = data.decode("utf-8", "replace")
        if path.suffix.lower() == ".json":
            try:
                yield " (json)", json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                pass
        if path.suffix.lower() in (".html", ".htm", ".xml", ".svg"):
            yield " (text)", html.unescape(_TAG.sub("", text))


def everything(folder: Path | None, ledger: Path | None = None,
               streams: Iterable[str] = ()) -> Iterator[tuple[str, str, bool]]:
    """(where, text, is_ledger) for everything written."""
    ledger_files: set[Path] = set()
    if ledger is not None:
        ledger = Path(ledger)
        ledger_files = {p for p in ledger.parent.glob(ledger.name + "*") if p.is_file()}
    files: list[Path] = []
    if folder is not None:
        files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    for path in sorted(set(files) | ledger_files):
        is_ledger = path in ledger_files
        rel = path.relative_to(folder).as_posix() if folder is not None and path.is_relative_to(folder) else str(path)
        yield f"{rel} (its name)", rel, is_ledger
        for where, text in _texts_of_file(path):
            yield rel + where, text, is_ledger
    for i, text in enumerate(streams):
        yield f"stream {i}", text or "", False


def find_leaks(folder: Path | None, needles: Iterable[str], *, ledger: Path | None = None,
               streams: Iterable[str] = (), allowed_in_ledger: Iterable[str] = ()) -> list[str]:
    """'needle: where' for every raw needle found."""
    needles = [n for n in needles if n]
    allowed = set(allowed_in_ledger)
    forms = [(n, n.lower(), compact(n)) for n in needles]
    leaks = []
    for where, text, is_ledger in everything(folder, ledger, streams):
        low = text.lower()
        flat = compact(text) if any(len(c) >= MIN_COMPACT for _n, _l, c in forms) else ""
        for needle, lower, comp in forms:
            if is_ledger and needle in allowed:
                continue
            if lower in low or (len(comp) >= MIN_COMPACT and comp in flat):
                leaks.append(f"{needle!r}: {where}")
    return leaks


def assert_no_leak(folder: Path | None, needles: Iterable[str], *, ledger: Path | None = None,
                   streams: Iterable[str] = (), allowed_in_ledger: Iterable[str] = ()) -> None:
    leaks = find_leaks(folder, needles, ledger=ledger, streams=streams, allowed_in_ledger=allowed_in_ledger)
    assert not leaks, "raw personal data in the outputs:\n" + "\n".join(sorted(set(leaks))[:50])
