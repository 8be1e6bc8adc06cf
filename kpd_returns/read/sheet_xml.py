"""Parsing a workbook's XML parts, safely and fast: the workbook part, its relationships, the shared
strings and each sheet's cells (a regular-expression fast path for the plain cells spreadsheet
programs write, expat for the rest). expat refuses any DOCTYPE, so no entity is ever declared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from ..spec.personal_data import cut


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


_WORKBOOKS: dict[bytes, tuple[tuple[tuple[str, str, str], ...], dict[str, str], bool]] = {}


def _parse_workbook_xml(xml: bytes) -> tuple[list[tuple[str, str, str]], dict[str, str], bool]:
    """(sheets as (name, state, relationship id), defined names, date1904). Every file made from one
    template has the same workbook part: each is parsed once per process (by its digest; bounded)."""
    key = hashlib.blake2b(xml, digest_size=20).digest()
    hit = _WORKBOOKS.get(key)
    if hit is None:
        sheets, names, date1904 = _parse_workbook_xml_once(xml)
        if len(_WORKBOOKS) >= 64:
            _WORKBOOKS.clear()
        hit = _WORKBOOKS[key] = (tuple(sheets), names, date1904)
    return list(hit[0]), dict(hit[1]), hit[2]


def _parse_workbook_xml_once(xml: bytes) -> tuple[list[tuple[str, str, str]], dict[str, str], bool]:
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
    position, t, v, inline, formula = _fast_parts(head, inner)
    value = _cell_value(t, v, inline, shared)
    if value is None and formula is None:
        return None
    return position, CellData(value, formula)


def _fast_parts(head: str, inner: str) -> tuple[tuple[int, int], str | None, str | None, list[str], str | None]:
    """A cell's position, type, value text, inline text and formula, as written."""
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
    return position, t, v, inline, formula


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
    pieces = body.split("</c>")
    last = pieces.pop()
    # Most pieces (a label with the empty cells before it) are the same in every file made from
    # one template: each piece's reading is remembered, so only pieces not seen before are read.
    got = list(map(_PIECES.new.get, pieces))
    if None in got:
        try:
            for i, hit in enumerate(got):
                if hit is None:
                    got[i] = _read_piece(pieces[i], shared)
        except _NotFast:
            return None
    if not _only_empty_cells(last):
        return None
    return dict(filter(None, got))


class _Memo:
    """Readings kept in two generations: when the new one is full it becomes the old one (and the
    old one is dropped); a reading found in the old one moves to the new. What every file of a
    template repeats stays; what one file held goes. Bounded, so memory does not grow with a batch."""

    def __init__(self, limit: int):
        self.limit, self.new, self.old = limit, {}, {}

    def old_hit(self, key: str) -> tuple | None:
        hit = self.old.pop(key, None)
        if hit is not None:
            self.put(key, hit)
        return hit

    def put(self, key: str, value: tuple) -> None:
        if len(self.new) >= self.limit:
            self.old, self.new = self.new, {}
        self.new[key] = value

    def clear(self) -> None:
        self.new, self.old = {}, {}


# piece -> ((row, col), CellData), or () for a cell without content; and for a cell whose value is
# a shared string, piece -> ((row, col), index, formula) (the same index is another text in another
# file, so the text is looked up each time).
_PIECES = _Memo(8192)
_SHARED_PIECES = _Memo(8192)


def _read_piece(piece: str, shared: list[str]) -> tuple:
    """One piece of a sheet split at ``</c>``: empty cells and row tags, then one cell with its content."""
    cell = _PIECES.old_hit(piece)
    if cell is not None:
        return cell
    hit = _SHARED_PIECES.new.get(piece) or _SHARED_PIECES.old_hit(piece)
    if hit is None:
        j = piece.rfind('<c r="')
        k = piece.find(">", j)
        if j < 0 or k < 0 or piece[k - 1] == "/" or (j and not _only_empty_cells(piece[:j])):
            raise _NotFast
        position, t, v, inline, formula = _fast_parts(piece[j:k], piece[k + 1:])
        if t != "s":
            value = _cell_value(t, v, inline, shared)
            cell = () if value is None and formula is None else (position, CellData(value, formula))
            _PIECES.put(piece, cell)
            return cell
        hit = (position, v, formula)
        _SHARED_PIECES.put(piece, hit)
    position, v, formula = hit
    value = _cell_value("s", v, [], shared)
    return () if value is None and formula is None else (position, CellData(value, formula))


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
        raise UnreadableFile("file-corrupt", f"a number cell holds '{cut(v, 20)}'") from None


_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
