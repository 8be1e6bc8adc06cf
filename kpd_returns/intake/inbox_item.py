"""One input of a run (a workbook file, or a workbook attached to an e-mail): the record, and how
an input is fingerprinted (SHA-256), dated (UK local time) and recognised as a workbook attachment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ..read.terminal import safe_name
from ..spec.constants import plausible_year


_UK = ZoneInfo("Europe/London")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
SPREADSHEET_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel", "application/vnd.ms-excel.sheet.macroenabled.12", "text/csv",
})


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
    # The e-mail's other attachments (a covering PDF), on its first input only: listed as "not a return" in
    # the run's output and summary.json, so none goes unmentioned (issue 19 item 20).
    others: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} (in {self.source_email})" if self.source_email else self.name


def _mtime(path: Path) -> dt.datetime | None:
    try:
        ts = path.stat().st_mtime
        when = dt.datetime.fromtimestamp(int(ts), tz=dt.timezone.utc).astimezone(_UK).replace(tzinfo=None)
    except (OSError, OverflowError, ValueError):  # a modification time past what a date can hold
        return None
    # A time outside the years a return can mean (a file unzipped with 1980 dates) tells nothing.
    return when if plausible_year(when.year) else None


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


def _problem_item(path: Path, code: str, detail: str) -> InboxItem:
    """An input that cannot be read at all: recorded under a digest of its name (it has no bytes to hash)."""
    shown = safe_name(path)
    sha = _digest(f"unreadable:{shown}".encode())
    return InboxItem(0, path, safe_name(path.name), shown, sha, 0, problem=(code, detail))


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Outlook .msg files are OLE compound files
