"""Byte-level editing of .xlsx files: change a few cells of a base workbook without
loading it into openpyxl, so thousands of distinct returns can be derived quickly.

A ``Book`` holds the base file's zip members. ``Book.derive(edits)`` rewrites only
the worksheets that are edited (each edit replaces one ``<c>`` element, keeping its
style) and copies every other member unchanged, so a derived file differs from its
base exactly where it was edited and nowhere else: same styles, data validation,
protection, defined names and hidden sheets as the base.

Values: ``None`` (empty cell, style kept), int/float, str (written as an inline
string, as openpyxl itself writes them), ``datetime.date`` (an Excel serial; the
cell's existing date style shows it as a date) and ``Formula(text, cached)`` (a
formula with the cached result a spreadsheet program saves with it).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from kpd_returns.read.workbook import open_workbook

_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class Formula:
    text: str  # without '='
    cached: Any = None  # float, str ("" for an empty-string result), or "#VALUE!"-style error


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _split_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref)
    if not m:
        raise ValueError(f"not a cell reference: {ref}")
    return int(m.group(2)), _col_number(m.group(1))


def _num(value: float | int) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are not written by the benchmark generator")
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_cell(ref: str, style: str | None, value: Any) -> str:
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        f = f"<f>{escape(value.text)}</f>"
        cached = value.cached
        if cached is None:
            return f'<c r="{ref}"{s}>{f}</c>'
        if isinstance(cached, str):
            t = "e" if cached.startswith("#") else "str"
            return f'<c r="{ref}"{s} t="{t}">{f}<v>{escape(cached)}</v></c>'
        return f'<c r="{ref}"{s}>{f}<v>{_num(cached)}</v></c>'
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{_num(value)}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


_STYLE = re.compile(r'\ss="(\d+)"')


def set_cells(xml: str, edits: dict[str, Any]) -> str:
    """Replace (or insert) the given cells of one worksheet's XML, in one pass."""
    if not edits:
        return xml
    pat = re.compile(r'<c r="(' + "|".join(map(re.escape, edits)) + r')"(?=[\s/>])([^>]*?)(?:/>|>(.*?)</c>)', re.S)
    seen = set()

    def replace(m: re.Match) -> str:
        ref = m.group(1)
        if ref in seen:  # never two cells with one reference, but be safe
            return m.group(0)
        seen.add(ref)
        sm = _STYLE.search(m.group(2))
        return render_cell(ref, sm.group(1) if sm else None, edits[ref])

    xml = pat.sub(replace, xml)
    for ref, value in edits.items():
        if ref not in seen:
            xml = _insert_cell(xml, ref, render_cell(ref, None, value))
    return xml


def _insert_cell(xml: str, ref: str, cell: str) -> str:
    row, col = _split_ref(ref)
    rm = re.search(r'<row r="' + str(row) + r'"(?=[\s/>])([^>]*?)(/>|>(.*?)</row>)', xml, re.S)
    if rm is None:
        # A new row, placed before the first row with a higher number.
        new_row = f'<row r="{row}">{cell}</row>'
        for m in re.finditer(r'<row r="(\d+)"', xml):
            if int(m.group(1)) > row:
                return xml[: m.start()] + new_row + xml[m.start():]
        if "<sheetData/>" in xml:
            return xml.replace("<sheetData/>", f"<sheetData>{new_row}</sheetData>", 1)
        return xml.replace("</sheetData>", new_row + "</sheetData>", 1)
    if rm.group(2) == "/>":
        replacement = f'<row r="{row}"{rm.group(1)}>{cell}</row>'
        return xml[: rm.start()] + replacement + xml[rm.end():]
    body_start = rm.start(3)
    body = rm.group(3)
    for cm in re.finditer(r'<c r="([A-Z]+)\d+"', body):
        if _col_number(cm.group(1)) > col:
            pos = body_start + cm.start()
            return xml[:pos] + cell + xml[pos:]
    pos = rm.end(3)
    return xml[:pos] + cell + xml[pos:]


class Book:
    """A base workbook whose variants are written by editing sheet XML in the zip."""

    def __init__(self, data: bytes):
        self.data = data
        wb = open_workbook(data, name="base")
        self.part_of_sheet = {s.name: s.part for s in wb.sheets}
        wb.close()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            self.infos = zf.infolist()
            self.members = {i.filename: zf.read(i.filename) for i in self.infos}
        self._text: dict[str, str] = {}
        # Compressed bytes of each member, computed once and reused for every variant.
        self._deflated: dict[str, bytes] = {}

    def sheet_xml(self, sheet: str) -> str:
        part = self.part_of_sheet[sheet]
        if part not in self._text:
            self._text[part] = self.members[part].decode("utf-8")
        return self._text[part]

    def edited(self, edits: dict[str, dict[str, Any]]) -> "Book":
        """A new base with the edits applied (for bases derived from bases)."""
        return Book(self.derive(edits))

    def derive(self, edits: dict[str, dict[str, Any]]) -> bytes:
        """The bytes of a variant: ``edits`` maps sheet name -> {cell ref: value}."""
        changed = {self.part_of_sheet[sheet]: set_cells(self.sheet_xml(sheet), cells).encode("utf-8")
                   for sheet, cells in edits.items() if cells}
        return _write_zip(self, changed)


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _write_zip(book: Book, changed: dict[str, bytes]) -> bytes:
    """A zip with the base's members in order, compressed members reused where unchanged.

    zipfile cannot copy raw compressed data, so the archive is assembled here: local
    headers, data, central directory, end record (no zip64: files are small)."""
    import struct

    out = io.BytesIO()
    central = []
    for info in book.infos:
        name = info.filename
        data = changed.get(name)
        if data is None:
            data = book.members[name]
            comp = book._deflated.get(name)
            if comp is None:
                comp = book._deflated[name] = _deflate(data)
        else:
            comp = _deflate(data)
        crc = zlib.crc32(data) & 0xFFFFFFFF
        fname = name.encode("utf-8")
        offset = out.tell()
        dostime = (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2)
        dosdate = ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2]
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, dostime, dosdate, crc,
                              len(comp), len(data), len(fname), 0))
        out.write(fname)
        out.write(comp)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, dostime, dosdate,
                                   crc, len(comp), len(data), len(fname), 0, 0, 0, 0,
                                   info.external_attr, offset) + fname)
    cd_start = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_start, 0))
    return out.getvalue()
