"""Finding the inputs of a batch: workbooks in folders, and workbooks attached to e-mails.

Only returns are inputs: ``.xlsx``, ``.xlsm``, ``.xls``, ``.eml`` and ``.msg`` files,
a ``.csv`` whose header line names an extract's key column (spec/extract_spec.py: a PRaP
extract), and files of any other name whose first bytes say they are one (a zip holding a
workbook, an OLE compound file, an e-mail). Anything else in an inbox folder (a
README, a tracker .json, a covering-letter .pdf, another .csv) is listed once as
"skipped: not a return" and changes nothing else. A file given directly on the
command line is always an input. Operating-system clutter is never listed:

* ``.DS_Store``, ``._*`` (macOS resource forks), ``__MACOSX/``, ``.Spotlight-V100/``,
  ``.Trashes/``, ``.fseventsd/`` (macOS);
* ``Thumbs.db``, ``ehthumbs.db``, ``desktop.ini``, ``$RECYCLE.BIN/`` (Windows);
* ``~$*`` Office owner files (the lock file Excel leaves beside an open workbook);
* the ledger, the run's own output folder and kpd-returns' scratch folders (``.kpd-work/``),
  if they are inside an inbox.

An input kpd-returns cannot read itself (a symbolic link that loops or leads
nowhere, a file or sub-folder without read permission) is one unreadable input,
reported as such ("file-unreadable"), and the batch goes on. Names are kept in
one printable form (kpd_returns.read.terminal.safe_name): a name whose bytes are not
UTF-8, or which holds control characters, is shown and stored with those bytes
escaped (``\\xff``).

Folders are walked recursively in sorted order (by path, case-sensitive), so a
batch is always read in the same order.

E-mails
    ``.eml`` (read as a stream, a line at a time, with the standard library's
    header parser; only workbook attachments are kept) and Outlook ``.msg`` (read
    offline with extract-msg), each capped at ``MAX_EMAIL_BYTES`` (twice the
    workbook cap) and each attachment at the workbook cap. Each workbook-like attachment
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

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
import zipfile

from .inbox_email import _from_eml, _from_msg
from .inbox_item import _OLE_MAGIC, InboxItem, _file_digest, _mtime, _problem_item
from ..read.terminal import safe_name
from ..read.workbook import os_reason as _os_reason
from ..spec.small_files import not_ordinary
from ..read.table import header_of
from ..spec.extract_spec import recognise_header


JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
# ".kpd-work" is kpd-returns' own scratch folder (kpd_returns.intake.scratch): what it holds is never an input.
JUNK_DIRS = frozenset({"__macosx", ".spotlight-v100", ".trashes", ".fseventsd", "$recycle.bin", ".temporaryitems",
                       ".kpd-work"})


def is_junk(path: Path) -> bool:
    name = path.name
    low = name.lower()
    return low in JUNK_NAMES or name.startswith("._") or name.startswith("~$")


@dataclass
class InboxScan:
    """What a walk of the inboxes found: the inputs in reading order, and the files that are not returns."""

    inputs: list[tuple[Path, str]]  # (path, path relative to its inbox as shown: POSIX form, safe_name)
    skipped: list[str]  # files in an inbox that are not returns (a README, a covering PDF), as shown


def list_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[tuple[Path, str]]:
    """(path, path relative to its inbox) of every input file, in the order they are read."""
    return scan_inputs(paths, exclude).inputs


def scan_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> InboxScan:
    """Walk the inboxes: every input in reading order, and the files skipped as not returns.

    A folder that cannot be opened is itself an input (reported as one that could not be
    read); a file given directly is always an input, whatever its name."""
    excluded = {_resolved(p) for p in exclude}
    out: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found: list[Path] = []
            _walk(p, excluded, found)
            for x in sorted(found, key=lambda x: x.relative_to(p).parts):
                rel = safe_name(x.relative_to(p).as_posix())
                if x.is_dir() or input_kind(x) is not None:
                    out.append((x, rel))
                else:
                    skipped.append(rel)
        else:
            out.append((p, safe_name(p.name)))
    return InboxScan(out, skipped)


def _walk(top: Path, excluded: set[str], found: list[Path]) -> None:
    """Files under ``top``; a sub-folder that cannot be listed is added itself (reported as unreadable).

    Links to folders are not followed (as os.walk does not), so a link loop cannot recurse; folders
    are walked with a list, not recursion, so no depth of nesting can stop the run."""
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            if folder == top:
                raise
            found.append(folder)
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name.lower() not in JUNK_DIRS and _resolved(path) not in excluded:
                    folders.append(path)
                continue
            try:
                linked_dir = entry.is_symlink() and entry.is_dir()
            except OSError:
                linked_dir = False
            if linked_dir or is_junk(path) or _resolved(path) in excluded:
                continue
            found.append(path)


_EMAIL_HEAD = re.compile(rb"(?i)^(?:received|from|return-path|mime-version|message-id|delivered-to|subject|date|to"
                         rb"|x-[a-z0-9-]+):")


def input_kind(path: Path) -> str | None:
    """'workbook', 'eml' or 'msg' for a file that is (or may be) a return; None for one that is not.

    The name decides first (.xlsx, .xlsm, .xls, .eml, .msg); any other file is an input only
    when its first bytes say so: a zip holding a workbook, an OLE compound file (a legacy
    workbook or an Outlook message), or an e-mail's headers. A file whose bytes cannot be
    read is an input, so that it is reported rather than lost."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "workbook"
    if suffix in (".eml", ".msg"):
        return suffix[1:]
    if suffix == ".csv" and not_ordinary(path) is None:  # an extract is an input; any other .csv is not
        return "workbook" if _names_an_extract(path) else None
    if not_ordinary(path) is not None:  # a pipe or device: an input reported unreadable, never opened
        return "workbook"
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except (OSError, RuntimeError):
        return "workbook"
    if head.startswith(_OLE_MAGIC):
        return "workbook"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                return "workbook" if any(n.lower().startswith("xl/") for n in zf.namelist()) else None
        except Exception:  # noqa: BLE001 - a damaged zip may be a damaged workbook: let the reader say
            return "workbook"
    if _EMAIL_HEAD.match(head):
        return "eml"
    return None


def _names_an_extract(path: Path) -> bool:
    """Whether a .csv's header line names an extract's key column (spec/extract_spec.py)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return True  # reported unreadable rather than lost
    return recognise_header(header_of(head, path.name)) is not None


def _resolved(p: str | Path) -> str:
    try:
        return str(Path(p).resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python before 3.13)
        return str(Path(p).absolute())


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
    problem = _unreadable_reason(path)
    if problem is not None:
        return [_problem_item(path, "file-unreadable", problem)]
    kind = input_kind(path)
    if kind == "eml":
        return _from_eml(path)
    if kind == "msg":
        return _from_msg(path)
    try:
        sha, size = _file_digest(path)
    except OSError as exc:
        return [_problem_item(path, "file-unreadable", _os_reason(exc, path))]
    return [InboxItem(0, path, safe_name(path.name), safe_name(path), sha, size, _mtime(path), "file-modified")]


def _unreadable_reason(path: Path) -> str | None:
    """Why kpd-returns itself cannot read ``path`` (a link that loops or leads nowhere, no permission, a
    folder it may not open), in words for the run's reader; None when it can be read."""
    try:
        if path.is_dir():
            try:
                os.listdir(path)
            except OSError as exc:
                return f"it is a folder that cannot be opened ({_os_reason(exc, path)})"
            return None
        special = not_ordinary(path)  # opening a pipe waits for a writer: say what it is instead
        if special is not None:
            return special
        with open(path, "rb"):
            return None
    except (OSError, RuntimeError) as exc:
        return _os_reason(exc, path)
