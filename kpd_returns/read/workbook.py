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

import datetime as dt
import errno
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.parsers import expat

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 16 * 1024 * 1024  # decompressed, any one part
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # decompressed, all parts read
MAX_ZIP_ENTRIES = 5000

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


class UnreadableFile(Exception):
    """The file cannot be read as a workbook. ``code`` is a findings catalogue code."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CellData:
    value: Any  # str, float, bool, datetime (t="d") or None
    formula: str | None = None  # formula text without '=', "" for a shared-formula child


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


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


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
    from .terminal import safe_name

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
        if size > MAX_FILE_BYTES:
            raise UnreadableFile("file-too-large", f"{size // (1024 * 1024)} MB")
        try:
            data = path.read_bytes()
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
    if text and ("," in text or ";" in text or "\t" in text) and "\x00" not in text and not text.lstrip().startswith("<"):
        raise UnreadableFile("file-csv")
    kind = "it looks like HTML or XML text" if text.lstrip().startswith("<") else "it is not a zip-based .xlsx file"
    raise UnreadableFile("file-not-workbook", kind)


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


def _parser() -> expat.XMLParserType:
    p = expat.ParserCreate()
    p.buffer_text = True

    def refuse_doctype(*_args: Any) -> None:
        raise UnreadableFile("file-hostile-xml", "a document type declaration, which could define entities")

    p.StartDoctypeDeclHandler = refuse_doctype
    p.EntityDeclHandler = refuse_doctype
    p.ExternalEntityRefHandler = refuse_doctype
    return p


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _run(p: expat.XMLParserType, xml: bytes) -> None:
    try:
        p.Parse(xml, True)
    except expat.ExpatError as exc:
        raise UnreadableFile("file-corrupt", f"damaged XML ({exc})") from None


def _parse_workbook_xml(xml: bytes) -> tuple[list[tuple[str, str, str]], dict[str, str], bool]:
    sheets: list[tuple[str, str, str]] = []
    names: dict[str, str] = {}
    state = {"name": None, "text": [], "date1904": False}
    p = _parser()

    def start(tag: str, attrs: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
        elif tag == "definedName" and "localSheetId" not in attrs:
            state["name"] = attrs.get("name")
            state["text"] = []
        elif tag == "workbookPr":
            state["date1904"] = attrs.get("date1904", "0") in ("1", "true")

    def end(tag: str) -> None:
        if _local(tag) == "definedName" and state["name"]:
            names[state["name"]] = "".join(state["text"])
            state["name"] = None

    def chars(text: str) -> None:
        if state["name"]:
            state["text"].append(text)

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    _run(p, xml)
    return sheets, names, bool(state["date1904"])


def _parse_rels(xml: bytes) -> dict[str, str]:
    rels: dict[str, str] = {}
    p = _parser()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            rels[attrs.get("Id", "")] = attrs.get("Target", "")

    p.StartElementHandler = start
    _run(p, xml)
    return rels


def _parse_shared_strings(xml: bytes) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    depth = {"in_t": False, "in_rph": False}
    p = _parser()

    def start(tag: str, _attrs: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "si":
            buf.clear()
        elif tag == "t" and not depth["in_rph"]:
            depth["in_t"] = True
        elif tag == "rPh":  # phonetic hints are not part of the text
            depth["in_rph"] = True

    def end(tag: str) -> None:
        tag = _local(tag)
        if tag == "si":
            out.append("".join(buf))
        elif tag == "t":
            depth["in_t"] = False
        elif tag == "rPh":
            depth["in_rph"] = False

    def chars(text: str) -> None:
        if depth["in_t"]:
            buf.append(text)

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    _run(p, xml)
    return out


# A worksheet is mostly cells, and a template's input cells are styled but empty, so a
# return holds thousands of ``<c r="B7" s="12"/>``. Calling back into Python for every
# element costs most of the read. The fast path below finds cells with regular
# expressions (C speed) and only handles the ones with content. It applies to plain
# UTF-8 worksheets only: anything unusual (a DOCTYPE or any other ``<!``, CDATA, a
# processing instruction, another encoding, a prefixed namespace, a cell without ``r``
# first, an entity other than the five predefined ones) goes to the expat parser, which
# keeps every guarantee above (no DTD, damaged XML reported).
_FAST_F = re.compile(r"<f\b[^>]*?(?:/>|>([^<]*)</f>)")
_FAST_V = re.compile(r"<v\b[^>]*?(?:/>|>([^<]*)</v>)")
_FAST_T = re.compile(r"<t\b[^>]*?(?:/>|>([^<]*)</t>)")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding=["']([A-Za-z0-9._-]+)["']""")


class _NotFast(Exception):
    """The fast path does not apply: parse with expat."""


def _entity(m: re.Match) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] == "x" else int(name[1:])
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):
        raise _NotFast
    return chr(code)


def _xml_text(raw: str | None) -> str:
    """Character data as an XML parser gives it: line ends normalised, entities resolved."""
    if not raw:
        return ""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in raw:
        return raw
    text = _ENTITY.sub(_entity, raw)
    if text.count("&") != raw.count("&amp;"):
        raise _NotFast  # an entity the fast path does not know: let expat judge it
    return text


def _fast_cell(head: str, inner: str, shared: list[str]) -> tuple[tuple[int, int], CellData] | None:
    """One cell with content: ``head`` is '<c r="B7" s="3" t="n"', ``inner`` what is between the tags."""
    q = head.find('"', 6)
    position = _position(head[6:q])
    if "<c " in inner or "<c>" in inner:
        raise _NotFast
    ti = head.find(' t="', q)
    t = head[ti + 4:head.find('"', ti + 4)] if ti >= 0 else None
    formula = None
    if "<f" in inner:
        f = _FAST_F.search(inner)
        formula = None if f is None else _xml_text(f.group(1))
    inline: list[str] = []
    v = None
    if t == "inlineStr":
        if inner.startswith("<is><t>") and inner.endswith("</t></is>") and inner.count("<") == 4:
            inline = [_xml_text(inner[7:-9])]
        else:
            inline = [_xml_text(x) for x in _FAST_T.findall(inner)]
    elif inner.startswith("<v>") and inner.endswith("</v>") and inner.count("<") == 2:
        v = _xml_text(inner[3:-4])
    elif "<v" in inner:
        vm = _FAST_V.search(inner)
        v = None if vm is None else _xml_text(vm.group(1))
    value = _cell_value(t, v, inline, shared)
    if value is None and formula is None:
        return None
    return position, CellData(value, formula)


_POSITIONS: dict[str, tuple[int, int]] = {}


def _position(ref: str) -> tuple[int, int]:
    """'B7' -> (7, 2); templates repeat the same references in every file, so remember them."""
    hit = _POSITIONS.get(ref)
    if hit is None:
        m = _CELL_REF.match(ref)
        if m is None:
            raise _NotFast
        if len(_POSITIONS) > 200_000:
            _POSITIONS.clear()
        hit = _POSITIONS[ref] = (int(m.group(2)), _col_number(m.group(1)))
    return hit


def _parse_sheet_fast(xml: bytes, shared: list[str]) -> dict[tuple[int, int], CellData] | None:
    """Cells of a plain worksheet, or None when only the full parser should read it.

    ``</c>`` ends every cell with content, so splitting on it leaves each such cell at the
    end of a piece, after the empty (self-closing) cells and row tags before it, which are
    never looked at one by one. A piece holding anything else sends the sheet to expat.
    """
    if xml.startswith(b"\xef\xbb\xbf"):
        xml = xml[3:]
    m = _ENCODING.match(xml)
    if not xml.startswith(b"<") or (m and m.group(1).lower() not in (b"utf-8", b"utf8")):
        return None
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start, end = text.find("<sheetData>"), text.rfind("</sheetData>")
    if "<!" in text or text.count("<?") > 1 or start < 0 or end < start or not text.rstrip().endswith("</worksheet>"):
        return None
    body = text[start + len("<sheetData>"):end]
    cells: dict[tuple[int, int], CellData] = {}
    pieces = body.split("</c>")
    try:
        for piece in pieces[:-1]:
            j = piece.rfind('<c r="')
            k = piece.find(">", j)
            if j < 0 or k < 0 or piece[k - 1] == "/" or (j and not _only_empty_cells(piece[:j])):
                raise _NotFast
            cell = _fast_cell(piece[j:k], piece[k + 1:], shared)
            if cell is not None:
                cells[cell[0]] = cell[1]
    except _NotFast:
        return None
    if not _only_empty_cells(pieces[-1]):
        return None
    return cells


def _only_empty_cells(text: str) -> bool:
    """Between two cells with content there is nothing to read: no value, formula or inline string."""
    return "<v" not in text and "<f" not in text and "<is" not in text and "<t" not in text


def _parse_sheet(xml: bytes, shared: list[str]) -> dict[tuple[int, int], CellData]:
    cells = _parse_sheet_fast(xml, shared)
    return cells if cells is not None else _parse_sheet_expat(xml, shared)


def _parse_sheet_expat(xml: bytes, shared: list[str]) -> dict[tuple[int, int], CellData]:
    cells: dict[tuple[int, int], CellData] = {}
    st: dict[str, Any] = {"row": 0, "col": 0, "t": None, "v": None, "f": None, "in": None, "is": []}
    p = _parser()

    def start(tag: str, attrs: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                m = _CELL_REF.match(ref)
                if m:
                    st["row"], st["col"] = int(m.group(2)), _col_number(m.group(1))
                else:
                    st["col"] += 1
            else:
                st["col"] += 1
            st["t"], st["v"], st["f"] = attrs.get("t"), None, None
            st["is"] = []
        elif tag == "row":
            r = attrs.get("r")
            st["row"] = int(r) if r and r.isdigit() else st["row"] + 1
            st["col"] = 0
        elif tag == "v":
            st["in"] = "v"
            st["v"] = ""
        elif tag == "f":
            st["in"] = "f"
            st["f"] = ""
        elif tag == "t" and st["t"] == "inlineStr":
            st["in"] = "is"

    def end(tag: str) -> None:
        tag = _local(tag)
        if tag in ("v", "f", "t"):
            st["in"] = None
        elif tag == "c":
            value = _cell_value(st["t"], st["v"], st["is"], shared)
            if value is not None or st["f"] is not None:
                cells[(st["row"], st["col"])] = CellData(value, st["f"])

    def chars(text: str) -> None:
        where = st["in"]
        if where == "v":
            st["v"] += text
        elif where == "f":
            st["f"] += text
        elif where == "is":
            st["is"].append(text)

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    _run(p, xml)
    return cells


def _cell_value(t: str | None, v: str | None, inline: list[str], shared: list[str]) -> Any:
    if t == "inlineStr":
        return "".join(inline)
    if v is None:
        return None
    if t == "s":
        try:
            return shared[int(v)]
        except (ValueError, IndexError):
            raise UnreadableFile("file-corrupt", f"a cell points to shared string {v}, which does not exist") from None
    if t in ("str", "e"):
        return v
    if t == "b":
        return v.strip() in ("1", "true")
    if t == "d":
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            return v
    if v == "":
        return None
    try:
        return float(v)
    except ValueError:
        raise UnreadableFile("file-corrupt", f"a number cell holds '{v[:20]}'") from None
