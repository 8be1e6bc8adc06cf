"""Returns that arrive attached to e-mails: the workbook attachments of an .eml or Outlook .msg
file, each an input of its own, with the sender and the time sent; an e-mail with none is one input
that says so.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import email
import re
import email.utils
from email.message import EmailMessage
from pathlib import Path

from .inbox_item import (_OLE_MAGIC, SPREADSHEET_TYPES, InboxItem, _digest, _file_digest, _mtime, _problem_item, _uk,
                         is_workbook_attachment)
from ..read.eml_stream import EmlStream, MalformedEmail
from ..read.terminal import safe_name
from ..read.workbook import MAX_FILE_BYTES, os_reason as _os_reason
from ..spec.constants import plausible_year


# -- .eml -----------------------------------------------------------------------------
# An e-mail is capped as a workbook is (workbook.MAX_FILE_BYTES): room for one workbook at that cap,
# base64-encoded (a third bigger), and the message around it. It is read as a stream, a line at a time;
# only the workbook attachments' decoded bytes are held, each capped at the workbook limit.
MAX_EMAIL_BYTES = 2 * MAX_FILE_BYTES


def _from_eml(path: Path) -> list[InboxItem]:
    too_big = _email_too_big(path)
    if too_big:
        return [too_big]
    try:
        with open(path, "rb") as fh:
            parsed = EmlStream(fh, is_workbook_attachment, SPREADSHEET_TYPES, MAX_FILE_BYTES).parse()
    except OSError as exc:
        return [_problem_item(path, "file-unreadable", _os_reason(exc, path))]
    except MalformedEmail as exc:
        return [_email_problem(path, "email-unreadable", str(exc))]
    except Exception:  # noqa: BLE001 - a malformed e-mail must not stop the batch
        return [_email_problem(path, "email-unreadable", "it is not a well-formed e-mail")]
    headers, attachments, others = parsed
    try:
        sender = _address(headers.get("From"))
        when = _eml_date(headers)
    except Exception:  # noqa: BLE001 - a malformed header only loses what it would have told
        sender, when = None, None
    return _email_items(path, sender, when, attachments, others)


def _email_too_big(path: Path) -> InboxItem | None:
    size = path.stat().st_size
    if size <= MAX_EMAIL_BYTES:
        return None
    return _email_problem(path, "email-too-large",
                          f"{-(-size // 2**20)} MB; the limit is {MAX_EMAIL_BYTES // 2**20} MB")


_YEAR_WRITTEN = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3,}\s+(\d+)\b")


def _eml_date(msg: EmailMessage) -> dt.datetime | None:
    """The Date header in UK time; None when there is none, it cannot be read, or its year is not one a
    return can mean (spec.constants PLAUSIBLE_YEARS): then the submission time comes from elsewhere."""
    header = msg.get("Date")
    if header is None:
        return None
    value = getattr(header, "datetime", None)
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(str(header))
        except (TypeError, ValueError, IndexError):
            return None
    # The standard library reads a year under 100 as 19xx or 20xx (RFC 5322's obsolete two-digit
    # years), so "01 Jan 0001" comes back as 2001: a year written with more digits must be read as written.
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == "date"), str(header))  # as sent, not re-formatted
    written = _YEAR_WRITTEN.search(raw)
    if written and len(written[1]) > 2 and int(written[1]) != value.year:
        return None
    return _plausible(value)


def _plausible(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in UK time if its year is one a return can mean, else None (9999 is no submission time)."""
    if value is None or not plausible_year(value.year):
        return None
    try:
        local = _uk(value)
    except (OverflowError, ValueError):  # 31 December 2100 23:00 -05:00 is already 2101 in London
        return None
    return local if local is not None and plausible_year(local.year) else None


def _address(header: object) -> str | None:
    if header is None:
        return None
    addresses = getattr(header, "addresses", None)
    if addresses:
        addr = addresses[0].addr_spec
        return addr or str(header)
    _name, addr = email.utils.parseaddr(str(header))
    return addr or str(header) or None


def _no_workbook(path: Path, sender: str | None, when: dt.datetime | None, source: str,
                 others: list[str]) -> InboxItem:
    detail = f" (attached: {', '.join(safe_name(o) for o in others)})" if others else ""
    if sender:
        detail = f" from {sender}" + detail
    sha, size = _file_digest(path)
    name = safe_name(path.name)
    return InboxItem(0, path, name, safe_name(path), sha, size, when, source, name, sender,
                     problem=("no-workbook-attached", detail))


def _email_problem(path: Path, code: str, detail: str) -> InboxItem:
    """An e-mail that cannot be used: recorded under the digest of its bytes (read in blocks, never held)."""
    try:
        sha, size = _file_digest(path)
    except OSError:
        sha, size = _digest(f"unreadable:{safe_name(path)}".encode()), 0
    name = safe_name(path.name)
    return InboxItem(0, path, name, safe_name(path), sha, size, _mtime(path), "file-modified", name, None,
                     problem=(code, detail))


# -- .msg (Outlook) ---------------------------------------------------------------------
def _from_msg(path: Path) -> list[InboxItem]:
    too_big = _email_too_big(path)
    if too_big:
        return [too_big]
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_OLE_MAGIC))
    except OSError as exc:
        return [_problem_item(path, "file-unreadable", _os_reason(exc, path))]
    if magic != _OLE_MAGIC:
        return [_email_problem(path, "email-unreadable", "it is not an Outlook message file")]
    try:
        # Imported when an Outlook message arrives: extract-msg is large and most inboxes have none.
        import extract_msg

        quiet = logging.getLogger("extract_msg")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its own error log would repeat our finding
        try:
            msg = extract_msg.openMsg(str(path), strict=False)
        finally:
            quiet.setLevel(level)
    except Exception as exc:
        return [_email_problem(path, "email-unreadable", f"not an Outlook message: {type(exc).__name__}")]
    try:
        sender = None
        try:
            sender_text = msg.sender
        except Exception:
            sender_text = None
        if sender_text:
            sender = email.utils.parseaddr(sender_text)[1] or sender_text
        try:
            when = _plausible(msg.date)
        except Exception:
            when = None
        attachments: list[tuple[str, bytes | None]] = []
        others: list[str] = []
        _msg_attachments(msg, attachments, others, depth=0)
    except Exception as exc:
        return [_email_problem(path, "email-unreadable", f"{type(exc).__name__}: {exc}")]
    finally:
        try:
            msg.close()
        except Exception:
            pass
    return _email_items(path, sender, when, attachments, others)


def _msg_attachments(msg: object, out: list[tuple[str, bytes | None]], others: list[str], depth: int) -> None:
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
        elif data is not None and _is_eml(name, mime):
            _eml_attachments(bytes(data), name, out, others)
        elif name:
            others.append(name)


def _is_eml(name: str | None, mime: str | None) -> bool:
    """An e-mail saved as a file (.eml) and attached to an Outlook message, as forwarding it does."""
    return bool(name and name.lower().endswith(".eml")) or (mime or "").lower() == "message/rfc822"


def _eml_attachments(data: bytes, name: str | None, out: list[tuple[str, bytes | None]], others: list[str]) -> None:
    """The workbooks of an .eml attached to an Outlook message, read as any .eml is (issue 19 item 17: they
    were dropped without a word). One that cannot be read is listed among the other attachments."""
    try:
        _headers, found, more = EmlStream(io.BytesIO(data), is_workbook_attachment, SPREADSHEET_TYPES,
                                          MAX_FILE_BYTES).parse()
    except Exception:  # noqa: BLE001 - a malformed attached e-mail costs only itself
        others.append(f"{name or 'an attached e-mail'} (an e-mail kpd-returns could not read)")
        return
    out.extend(found)
    if not found:  # the sentence saying no workbook came names it, and what it held
        others.append(name or "an attached e-mail")
    others.extend(more)


def _email_items(path: Path, sender: str | None, when: dt.datetime | None,
                 attachments: list[tuple[str, bytes | None]], others: list[str]) -> list[InboxItem]:
    """One input per workbook attached; an e-mail without one is itself an (unreadable) input.
    The Date header is the submission time; without one, the e-mail file's modification time.
    An attachment over the workbook cap (``None`` bytes) is an input refused as too large."""
    source = "email" if when else "file-modified"
    when = when or _mtime(path)
    if when is None:  # neither a usable Date header nor a usable file time: the workbook's own date, else as-of
        source = None
    sender = safe_name(sender) if sender else sender
    if not attachments:
        return [_no_workbook(path, sender, when, source, others)]
    email_name, email_path = safe_name(path.name), safe_name(path)
    items = []
    for name, data in attachments:
        name = safe_name(name)
        if data is None:
            sha = _digest(f"too-large:{email_path}:{name}".encode())
            items.append(InboxItem(0, b"", name, email_path, sha, 0, when, source, email_name, sender,
                                   problem=("file-too-large", f"more than {MAX_FILE_BYTES // 2**20} MB")))
        else:
            items.append(InboxItem(0, data, name, email_path, _digest(data), len(data), when, source, email_name,
                                   sender))
    items[0].others = tuple(safe_name(o) for o in others)
    return items
