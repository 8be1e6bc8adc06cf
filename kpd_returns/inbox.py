"""Finding the inputs of a batch: workbooks in folders, and workbooks attached to e-mails.

Every file found is an input and ends up in the run's summary, whatever it is: a
stray PDF or an old .xls is passed on and comes back "unreadable" with its
reason. Nothing is skipped silently except operating-system clutter that is
never a return:

* ``.DS_Store``, ``._*`` (macOS resource forks), ``__MACOSX/``, ``.Spotlight-V100/``,
  ``.Trashes/``, ``.fseventsd/`` (macOS);
* ``Thumbs.db``, ``ehthumbs.db``, ``desktop.ini``, ``$RECYCLE.BIN/`` (Windows);
* ``~$*`` Office owner files (the lock file Excel leaves beside an open workbook);
* the ledger and the run's own output folder, if they are inside an inbox.

Folders are walked recursively in sorted order (by path, case-sensitive), so a
batch is always read in the same order.

E-mails
    ``.eml`` (read with the standard library, ``policy.default``) and Outlook
    ``.msg`` (read offline with extract-msg). Each workbook-like attachment
    (.xlsx, .xlsm, .xls, .csv, or a spreadsheet content type) is an input. The
    e-mail's Date header is its submission time (``submitted_source`` "email")
    and its From address the sender; both are recorded with the e-mail's file
    name. Attachments of forwarded (attached) e-mails count too. An e-mail with
    no workbook attached, or one that cannot be read, is itself an input and is
    recorded as unreadable with the reason.

Bare workbooks
    The submission time is the workbook's own Date submitted when it has one (the
    validator reads it: ``submitted_source`` "workbook"); the file's modification
    time is passed as the fallback (``submitted_source`` "file-modified").
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

_UK = ZoneInfo("Europe/London")

JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
JUNK_DIRS = frozenset({"__macosx", ".spotlight-v100", ".trashes", ".fseventsd", "$recycle.bin", ".temporaryitems"})
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
SPREADSHEET_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel", "application/vnd.ms-excel.sheet.macroenabled.12", "text/csv",
})
EMAIL_SUFFIXES = (".eml", ".msg")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Outlook .msg files are OLE compound files


@dataclass
class InboxItem:
    """One input: a workbook file, a workbook attached to an e-mail, or an e-mail that failed.

    ``source`` is a path (a file in a folder) or the bytes of an attachment.
    ``problem`` is set (a findings code and its detail) when the inbox itself
    already knows the input cannot be used.
    """

    index: int
    source: Path | bytes
    name: str
    source_path: str
    sha256: str
    size: int
    submitted: dt.datetime | None = None
    submitted_source: str | None = None
    source_email: str | None = None
    sender: str | None = None
    problem: tuple[str, str] | None = None
    last_of_file: bool = True  # the last input the file gives (for progress by file)
    rel: str = ""  # the file's path relative to the inbox it was found in (POSIX form)

    @property
    def label(self) -> str:
        return f"{self.name} (in {self.source_email})" if self.source_email else self.name


def is_junk(path: Path) -> bool:
    name = path.name
    low = name.lower()
    return low in JUNK_NAMES or name.startswith("._") or name.startswith("~$")


def list_files(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Every input file under ``paths`` (files given directly are kept as they are), sorted, junk left out."""
    return [path for path, _rel in list_inputs(paths, exclude)]


def list_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[tuple[Path, str]]:
    """(path, path relative to its inbox) of every input file, in the order they are read."""
    excluded = {_resolved(p) for p in exclude}
    out: list[tuple[Path, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d.lower() not in JUNK_DIRS
                                 and _resolved(Path(root) / d) not in excluded)
                for f in files:
                    fp = Path(root) / f
                    if is_junk(fp) or _resolved(fp) in excluded:
                        continue
                    found.append(fp)
            out.extend((x, x.relative_to(p).as_posix()) for x in sorted(found, key=lambda x: x.relative_to(p).parts))
        else:
            out.append((p, p.name))
    return out


def _resolved(p: str | Path) -> str:
    try:
        return str(Path(p).resolve())
    except OSError:
        return str(Path(p).absolute())


def _mtime(path: Path) -> dt.datetime | None:
    try:
        ts = path.stat().st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(int(ts), tz=dt.timezone.utc).astimezone(_UK).replace(tzinfo=None)


def _uk(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_UK).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def is_workbook_attachment(filename: str | None, content_type: str | None) -> bool:
    if filename and filename.lower().endswith(WORKBOOK_SUFFIXES):
        return True
    return (content_type or "").lower() in SPREADSHEET_TYPES


def iter_items(paths: Iterable[str | Path], exclude: Iterable[str | Path] = (),
               files: list[tuple[Path, str]] | None = None) -> Iterator[InboxItem]:
    """The inputs, one at a time, in a fixed order (only one e-mail is held in memory at once).

    ``files`` is what ``list_inputs`` gives (it is worked out here when not given)."""
    index = 0
    for path, rel in files if files is not None else list_inputs(paths, exclude):
        items = items_from_file(path)
        for i, item in enumerate(items):
            item.index = index
            item.rel = rel
            item.last_of_file = i == len(items) - 1
            index += 1
            yield item


def items_from_file(path: Path) -> list[InboxItem]:
    """The inputs one file gives: itself, or an e-mail's workbook attachments."""
    suffix = path.suffix.lower()
    if suffix == ".eml":
        return _from_eml(path)
    if suffix == ".msg":
        return _from_msg(path)
    try:
        sha, size = _file_digest(path)
    except OSError as exc:
        # The validator reports a missing or unreadable file in its own words.
        sha, size = _digest(f"unreadable:{path}".encode()), 0
        return [InboxItem(0, path, path.name, str(path), sha, size, problem=("file-corrupt", exc.strerror or str(exc)))]
    return [InboxItem(0, path, path.name, str(path), sha, size, _mtime(path), "file-modified")]


# -- .eml -----------------------------------------------------------------------------
def _from_eml(path: Path) -> list[InboxItem]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [_email_problem(path, b"", "email-unreadable", exc.strerror or str(exc))]
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        sender = _address(msg.get("From"))
        when = _eml_date(msg)
        attachments = []
        others = []
        for part in msg.walk():
            if part.is_multipart() or part.get_content_maintype() == "message":
                continue
            filename = part.get_filename()
            disposition = part.get_content_disposition()
            if not filename and disposition != "attachment" and part.get_content_type() not in SPREADSHEET_TYPES:
                continue  # a body part
            if is_workbook_attachment(filename, part.get_content_type()):
                data = part.get_payload(decode=True) or b""
                attachments.append((filename or f"attachment-{len(attachments) + 1}.xlsx", data))
            elif filename:
                others.append(filename)
    except Exception as exc:  # a malformed e-mail must not stop the batch
        return [_email_problem(path, raw, "email-unreadable", f"{type(exc).__name__}: {exc}")]
    return _email_items(path, raw, sender, when, attachments, others)


def _eml_date(msg: EmailMessage) -> dt.datetime | None:
    header = msg.get("Date")
    if header is None:
        return None
    value = getattr(header, "datetime", None)
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(str(header))
        except (TypeError, ValueError, IndexError):
            return None
    return _uk(value)


def _address(header: object) -> str | None:
    if header is None:
        return None
    addresses = getattr(header, "addresses", None)
    if addresses:
        addr = addresses[0].addr_spec
        return addr or str(header)
    _name, addr = email.utils.parseaddr(str(header))
    return addr or str(header) or None


def _no_workbook(path: Path, raw: bytes, sender: str | None, when: dt.datetime | None, source: str,
                 others: list[str]) -> InboxItem:
    detail = f" (attached: {', '.join(others)})" if others else ""
    if sender:
        detail = f" from {sender}" + detail
    return InboxItem(0, raw, path.name, str(path), _digest(raw), len(raw), when, source, path.name, sender,
                     problem=("no-workbook-attached", detail))


def _email_problem(path: Path, raw: bytes, code: str, detail: str) -> InboxItem:
    sha = _digest(raw) if raw else _digest(f"unreadable:{path}".encode())
    return InboxItem(0, raw, path.name, str(path), sha, len(raw), _mtime(path), "file-modified", path.name, None,
                     problem=(code, detail))


# -- .msg (Outlook) ---------------------------------------------------------------------
def _from_msg(path: Path) -> list[InboxItem]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [_email_problem(path, b"", "email-unreadable", exc.strerror or str(exc))]
    if not raw.startswith(_OLE_MAGIC):
        return [_email_problem(path, raw, "email-unreadable", "it is not an Outlook message file")]
    try:
        import logging

        import extract_msg

        quiet = logging.getLogger("extract_msg")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its own error log would repeat our finding
        try:
            msg = extract_msg.openMsg(str(path), strict=False)
        finally:
            quiet.setLevel(level)
    except Exception as exc:
        return [_email_problem(path, raw, "email-unreadable", f"not an Outlook message: {type(exc).__name__}")]
    try:
        sender = None
        try:
            sender_text = msg.sender
        except Exception:
            sender_text = None
        if sender_text:
            sender = email.utils.parseaddr(sender_text)[1] or sender_text
        try:
            when = _uk(msg.date)
        except Exception:
            when = None
        attachments: list[tuple[str, bytes]] = []
        others: list[str] = []
        _msg_attachments(msg, attachments, others, depth=0)
    except Exception as exc:
        return [_email_problem(path, raw, "email-unreadable", f"{type(exc).__name__}: {exc}")]
    finally:
        try:
            msg.close()
        except Exception:
            pass
    return _email_items(path, raw, sender, when, attachments, others)


def _msg_attachments(msg: object, out: list[tuple[str, bytes]], others: list[str], depth: int) -> None:
    for att in getattr(msg, "attachments", []) or []:
        data = getattr(att, "data", None)
        name = (getattr(att, "longFilename", None) or getattr(att, "shortFilename", None)
                or getattr(att, "name", None) or getattr(att, "displayName", None))
        if data is not None and not isinstance(data, (bytes, bytearray)):
            if depth < 5 and hasattr(data, "attachments"):  # an attached e-mail
                _msg_attachments(data, out, others, depth + 1)
            continue
        mime = getattr(att, "mimetype", None)
        if is_workbook_attachment(name, mime) and data is not None:
            out.append((name or f"attachment-{len(out) + 1}.xlsx", bytes(data)))
        elif name:
            others.append(name)


def _email_items(path: Path, raw: bytes, sender: str | None, when: dt.datetime | None,
                 attachments: list[tuple[str, bytes]], others: list[str]) -> list[InboxItem]:
    """One input per workbook attached; an e-mail without one is itself an (unreadable) input.
    The Date header is the submission time; without one, the e-mail file's modification time."""
    source = "email" if when else "file-modified"
    when = when or _mtime(path)
    if not attachments:
        return [_no_workbook(path, raw, sender, when, source, others)]
    return [InboxItem(0, data, name, str(path), _digest(data), len(data), when, source, path.name, sender)
            for name, data in attachments]
