"""Read an .xlsx file into located cell values, safely and fast.

Why not openpyxl: it is 10-20 times slower (FIELD-NOTES) and cannot be bounded
against hostile files. Why not python-calamine alone: it cannot tell a formula
from a typed number, and a typed-over total is exactly what we must catch.

So this module reads the zip parts itself with the standard library:
* every part is read with a hard cap on its decompressed size (zip bombs);
* XML is parsed with expat and any DOCTYPE is refused, so no entity, external
  or internal, is ever declared, let alone resolved (XXE, billion laughs);
* only the sheets asked for are parsed, lazily.

Problems raise ``UnreadableFile(code, detail)`` with a code from the findings
catalogue; callers turn that into one plain sentence naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import functools
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .sheet_xml import (_CELL_REF, CellData, UnreadableFile, _col_number, _parse_rels, _parse_sheet,
                        _parse_shared_strings, _parse_workbook_xml)
from .terminal import safe_name
from ..spec.small_files import not_ordinary

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 16 * 1024 * 1024  # decompressed, any one part
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # decompressed, all parts read
MAX_ZIP_ENTRIES = 5000
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


@dataclass
class SheetInfo:
    name: str
    state: str  # "visible", "hidden", "veryHidden"
    part: str  # zip member name


@dataclass
class WorkbookData:
    source: str
    sheets: list[SheetInfo]
    defined_names: dict[str, str]
    date1904: bool = False
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)
    _shared: list[str] | None = field(default=None, repr=False)
    _cells: dict[str, dict[tuple[int, int], CellData]] = field(default_factory=dict, repr=False)
    _budget: list[int] = field(default_factory=lambda: [MAX_TOTAL_BYTES], repr=False)

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def has_sheet(self, name: str) -> bool:
        return any(s.name == name for s in self.sheets)

    def cells(self, sheet: str) -> dict[tuple[int, int], CellData]:
        """(row, col) -> CellData for one sheet (1-based), parsed on first use."""
        if sheet not in self._cells:
            info = next((s for s in self.sheets if s.name == sheet), None)
            if info is None:
                raise KeyError(sheet)
            xml = _read_part(self._zip, info.part, self._budget)
            self._cells[sheet] = _parse_sheet(xml, self._shared_strings())
        return self._cells[sheet]

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            name = _find_part(self._zip, "xl/sharedStrings.xml")
            self._shared = _parse_shared_strings(_read_part(self._zip, name, self._budget)) if name else []
        return self._shared

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def excel_date(serial: float, date1904: bool = False) -> dt.date:
    """An Excel date serial as a date (1900 system from 1 March 1900, or 1904)."""
    base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    return base + dt.timedelta(days=int(serial))


def excel_datetime(serial: float, date1904: bool = False) -> dt.datetime:
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    return base + dt.timedelta(days=serial)


@functools.lru_cache(maxsize=4096)  # every file of a template names the same ranges
def parse_ref(ref: str) -> tuple[str, int, int, int, int] | None:
    """"'Staffing'!$C$5:$N$5" -> ("Staffing", 5, 3, 5, 14); None if not a plain range."""
    ref = ref.strip().lstrip("=")
    if "!" not in ref:
        return None
    sheet_part, _, cells = ref.rpartition("!")
    if sheet_part.startswith("'") and sheet_part.endswith("'"):
        sheet_part = sheet_part[1:-1].replace("''", "'")
    first, _, last = cells.partition(":")
    m1 = _CELL_REF.match(first)
    m2 = _CELL_REF.match(last or first)
    if not m1 or not m2:
        return None
    return (sheet_part, int(m1.group(2)), _col_number(m1.group(1)),
            int(m2.group(2)), _col_number(m2.group(1)))


# ---------------------------------------------------------------- opening


def open_workbook(source: str | Path | bytes, name: str | None = None) -> WorkbookData:
    """Open a workbook from a path or bytes; raise UnreadableFile for anything that is not a usable .xlsx."""
    label = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
    data = _load_bytes(source)
    _sniff(data, label)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile("file-corrupt", f"the zip archive is truncated or damaged: {exc}") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UnreadableFile("file-too-large", f"it holds {len(infos)} parts")
    if sum(i.file_size for i in infos) > 4 * MAX_TOTAL_BYTES:
        raise UnreadableFile("file-too-large", "it would expand to more than 256 MB")
    names = {i.filename for i in infos}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise UnreadableFile("file-macros")
    wb_part = _find_part(zf, "xl/workbook.xml")
    if wb_part is None:
        raise UnreadableFile("file-not-workbook", "it is a zip file without a workbook inside")
    budget = [MAX_TOTAL_BYTES]
    sheets, names_map, date1904 = _parse_workbook_xml(_read_part(zf, wb_part, budget))
    rels_part = _find_part(zf, "xl/_rels/workbook.xml.rels")
    rels = _parse_rels(_read_part(zf, rels_part, budget)) if rels_part else {}
    infos_out = []
    for name_, state, rid in sheets:
        target = rels.get(rid)
        if target is None:
            continue  # a chart sheet or a broken relationship: not a worksheet we can read
        part = _resolve_target(target)
        if _find_part(zf, part) is None:
            raise UnreadableFile("file-corrupt", f"the sheet '{name_}' has no data part")
        infos_out.append(SheetInfo(name_, state, _find_part(zf, part)))
    return WorkbookData(label, infos_out, names_map, date1904, zf, None, {}, budget)


def os_reason(exc: BaseException, path: Path) -> str:
    """An operating-system error on an input, said as what happened (never "damaged": the file may be fine)."""
    code = getattr(exc, "errno", None)
    if code == errno.ELOOP or isinstance(exc, RuntimeError):
        return "it is a symbolic link that loops back on itself"
    if code == errno.ENOENT and path.is_symlink():
        return f"it is a symbolic link to {safe_name(os.readlink(path))}, which does not exist"
    if code == errno.ENOENT:
        return "it was removed while the run was reading it"
    if code in (errno.EACCES, errno.EPERM):
        return "kpd-returns has no permission to read it"
    return f"the operating system refused to read it ({safe_name(getattr(exc, 'strerror', None) or exc)})"


def _load_bytes(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            if path.is_symlink():
                raise UnreadableFile("file-unreadable", os_reason(FileNotFoundError(errno.ENOENT, ""), path)) \
                    from None
            raise UnreadableFile("file-not-found") from None
        except (OSError, RuntimeError) as exc:
            raise UnreadableFile("file-unreadable", os_reason(exc, path)) from None
        if path.is_dir():
            raise UnreadableFile("file-not-workbook", "it is a folder")
        special = not_ordinary(path)  # a pipe would wait for a writer, /dev/zero would fill memory
        if special is not None:
            raise UnreadableFile("file-unreadable", special)
        if size > MAX_FILE_BYTES:
            raise UnreadableFile("file-too-large", f"{size // (1024 * 1024)} MB")
        try:
            with open(path, "rb") as fh:  # bounded: the file may have grown since its size was read
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise UnreadableFile("file-unreadable", os_reason(exc, path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile("file-too-large", f"{len(data) // (1024 * 1024)} MB")
    return data


def _sniff(data: bytes, label: str) -> None:
    if not data:
        raise UnreadableFile("file-empty")
    if data.startswith(_CFB_MAGIC):
        # Both encrypted .xlsx and legacy .xls are OLE compound files; only an
        # encrypted workbook carries an EncryptionInfo stream.
        if _ENCRYPTION_INFO in data:
            raise UnreadableFile("file-encrypted")
        raise UnreadableFile("file-legacy-xls")
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return
    head = data[:4096]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""
    if text and "\x00" not in text and not text.lstrip().startswith("<") and _looks_like_csv(text, len(data) > 4096):
        raise UnreadableFile("file-csv")
    if text.lstrip().startswith("<"):
        kind = "it looks like HTML or XML text"
    elif text and "\x00" not in text:
        kind = "it is plain text"  # a script or a note renamed .xlsx is not "a CSV file" (issue 19 item 20)
    else:
        kind = "it is not a zip-based .xlsx file"
    raise UnreadableFile("file-not-workbook", kind)


def _looks_like_csv(text: str, cut: bool) -> bool:
    """Comma-, semicolon- or tab-separated values: every line (the last one dropped when the sample was cut
    short) splits into the same number of fields, two or more, on one of those separators."""
    lines = [line for line in text.splitlines() if line.strip()]
    if cut and len(lines) > 1:
        lines = lines[:-1]
    if not lines:
        return False
    for sep in (",", ";", "\t"):
        try:
            widths = {len(row) for row in csv.reader(lines, delimiter=sep)}
        except csv.Error:
            continue
        # one line of two fields ("print('hi, there')") is a sentence as much as a table
        if len(widths) == 1 and widths.pop() >= (2 if len(lines) > 1 else 3):
            return True
    return False


def _find_part(zf: zipfile.ZipFile, name: str) -> str | None:
    """Zip member names are case-sensitive but some writers vary the case."""
    try:
        zf.getinfo(name)
        return name
    except KeyError:
        lower = name.lower()
        for info in zf.infolist():
            if info.filename.lower() == lower:
                return info.filename
    return None


def _read_part(zf: zipfile.ZipFile, name: str, budget: list[int]) -> bytes:
    """Read one member with a hard cap, whatever its header claims."""
    cap = min(MAX_PART_BYTES, budget[0])
    try:
        with zf.open(name) as fh:
            data = fh.read(cap + 1)
    except zlib.error as exc:  # the compressed bytes themselves are damaged (a broken deflate stream)
        raise UnreadableFile("file-corrupt", f"the compressed data of the part {name} is damaged: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise UnreadableFile("file-corrupt", f"the part {name} cannot be read: {exc}") from None
    except RuntimeError as exc:  # encrypted zip member
        raise UnreadableFile("file-encrypted") from exc
    if len(data) > cap:
        raise UnreadableFile("file-too-large", f"the part {name} expands to more than {cap // (1024 * 1024)} MB")
    budget[0] -= len(data)
    return data


def _resolve_target(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in PurePosixPath("xl", target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


# ---------------------------------------------------------------- XML
