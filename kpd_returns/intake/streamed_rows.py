"""Long sheets written straight to XML, a row at a time, and spliced into a finished workbook.

The consolidated workbook's two data sheets hold every figure of every current return
(about 170 rows a return: 170,000 rows for 1,000 returns). Written cell by cell through
xlsxwriter they cost about 20 microseconds a cell and, unless the whole workbook is in
constant-memory mode, every cell stays in memory until the workbook is closed. So:

1. ``RowWriter`` turns each row into its ``<row>`` XML (inline strings and numbers, no
   styles) and appends it to a temporary file, counting the rows;
2. xlsxwriter writes the sheet with its title, notes and header row only (the table's
   filter range and defined name use the row count from step 1);
3. ``splice`` copies the finished .xlsx, inserting each temporary file before its sheet's
   ``</sheetData>`` and widening the sheet's ``<dimension>``.

``splice`` also adds Excel tables (``TableSpec``) to sheets written by xlsxwriter in
constant-memory mode, where its own ``add_table`` is not available (it keeps an entry
per cell of the table): the table part, the sheet's relationship and ``<tableParts>``,
in the XML xlsxwriter itself writes for a table.

Memory stays flat however many returns there are, and the XML is what Excel writes for
inline strings. Text is escaped as xlsxwriter escapes it (``&<>``, control characters as
``_xHHHH_``), is never a formula, and is cut at Excel's 32,767-character limit.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from xlsxwriter.utility import xl_col_to_name as col_letter  # 0 -> A, 26 -> AA (0-based, as xlsxwriter counts)

from . import scratch

EXCEL_MAX_CHARS = 32_767
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_RID = re.compile(rb'Id="rId(\d+)"')
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _text(value: str) -> str:
    if len(value) > EXCEL_MAX_CHARS:
        value = value[:EXCEL_MAX_CHARS]
    if _NEEDS_ESCAPE.search(value):
        value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def _inline_tail(value: str) -> str:
    """' t="inlineStr"><is><t>text</t></is></c>': a text cell after its r attribute."""
    s = _text(value)
    space = ' xml:space="preserve"' if s[:1].isspace() or s[-1:].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{s}</t></is></c>'


class RowWriter:
    """Rows of XML for one sheet, in a temporary file; ``first_row`` is 0-based (as in xlsxwriter).
    ``folder`` is the output folder: the file goes in its scratch folder (kpd_returns.intake.scratch)."""

    def __init__(self, first_row: int, columns: int, folder: str | Path | None = None):
        self.first_row = first_row
        self.columns = columns
        self.rows = 0
        self._letters = [col_letter(c) for c in range(columns)]
        self._tails: dict[str, str] = {}  # text -> the rest of its cell's XML after the reference
        # In the output folder's scratch folder (kpd_returns.intake.scratch): a killed run's rows are removed by the next.
        fd, name = tempfile.mkstemp(prefix="rows-", suffix=".xml", dir=scratch.folder(folder) if folder else None)
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def write(self, values: Sequence[Any]) -> None:
        """One row: str -> text, int/float -> number, None/'' -> no cell. Never a formula."""
        r = str(self.first_row + self.rows + 2)  # below the header row; XML rows are 1-based
        parts = [f'<row r="{r}">']
        tails = self._tails
        for letter, v in zip(self._letters, values):
            kind = type(v)
            if (kind is float or kind is int) and math.isfinite(v):
                parts.append(f'<c r="{letter}{r}"><v>{v!r}</v></c>')
                continue
            if v is None or v == "":
                continue
            tail = tails.get(v) if kind is str else None
            if tail is None:
                tail = _inline_tail(v if kind is str else str(v))
                if kind is str:
                    if len(tails) > 100_000:  # providers and field labels repeat; free text rarely does
                        tails.clear()
                    tails[v] = tail
            parts.append(f'<c r="{letter}{r}"{tail}')
        parts.append("</row>")
        self._fh.write("".join(parts))
        self.rows += 1

    def write_all(self, rows: Iterable[Sequence[Any]]) -> int:
        for row in rows:
            self.write(row)
        return self.rows

    @property
    def last_row(self) -> int:
        """0-based index of the last row written (the header row when there are none)."""
        return self.first_row + self.rows

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def discard(self) -> None:
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the package (from workbook.xml and its relationships)."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for sheet in book.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


@dataclass
class TableSpec:
    """An Excel table over cells already written: header on ``first_row`` (0-based), data below, and
    an optional totals row on ``last_row`` (per column: ("label", text), ("formula", f) or None)."""

    name: str
    first_row: int
    last_row: int
    headers: Sequence[str]
    totals: Sequence[tuple[str, str] | None] | None = None
    style: str = "TableStyleLight9"

    def ref(self, last_row: int | None = None) -> str:
        last = self.last_row if last_row is None else last_row
        return f"A{self.first_row + 1}:{col_letter(len(self.headers) - 1)}{last + 1}"

    def xml(self, table_id: int) -> bytes:
        esc = _attr
        filter_ref = self.ref(self.last_row - 1 if self.totals is not None else None)
        extra = ' totalsRowCount="1"' if self.totals is not None else ""
        columns = []
        for i, header in enumerate(self.headers):
            total = self.totals[i] if self.totals is not None else None
            if total is None:
                columns.append(f'<tableColumn id="{i + 1}" name="{esc(header)}"/>')
            elif total[0] == "label":
                columns.append(f'<tableColumn id="{i + 1}" name="{esc(header)}" totalsRowLabel="{esc(total[1])}"/>')
            else:
                columns.append(f'<tableColumn id="{i + 1}" name="{esc(header)}" totalsRowFunction="custom">'
                               f'<totalsRowFormula>{esc(total[1].lstrip("="))}</totalsRowFormula></tableColumn>')
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="{_NS["m"]}" '
                f'id="{table_id}" name="{esc(self.name)}" displayName="{esc(self.name)}" ref="{self.ref()}"{extra}>'
                f'<autoFilter ref="{filter_ref}"/><tableColumns count="{len(self.headers)}">{"".join(columns)}'
                f'</tableColumns><tableStyleInfo name="{esc(self.style)}" showFirstColumn="0" showLastColumn="0" '
                'showRowStripes="1" showColumnStripes="0"/></table>').encode("utf-8")


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "&#xA;"))


def _rels_of(part: str) -> str:
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def _add_tables(src: zipfile.ZipFile, parts: dict[str, str], tables: dict[str, TableSpec]
                ) -> tuple[dict[str, bytes], dict[str, bytes], dict[str, bytes]]:
    """(changed parts, new parts, sheet part -> its <tableParts>) that add each sheet's table, numbered in
    sheet order."""
    names = set(src.namelist())
    changed: dict[str, bytes] = {}
    inserts: dict[str, bytes] = {}
    new: dict[str, bytes] = {}
    taken = {n for n in names if n.startswith("xl/tables/")}
    number = 0
    overrides = []
    order = {name: i for i, name in enumerate(parts)}
    for sheet in sorted(tables, key=lambda n: order[n]):
        spec = tables[sheet]
        number += 1
        while f"xl/tables/table{number}.xml" in taken:
            number += 1
        table_part = f"xl/tables/table{number}.xml"
        new[table_part] = spec.xml(number)
        overrides.append(f'<Override PartName="/{table_part}" ContentType="{CT_TABLE}"/>')
        part = parts[sheet]
        rels_name = _rels_of(part)
        rels = src.read(rels_name) if rels_name in names else (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
        rid = f"rId{max((int(m) for m in _RID.findall(rels)), default=0) + 1}"
        rel = f'<Relationship Id="{rid}" Type="{REL_TABLE}" Target="../tables/table{number}.xml"/>'.encode()
        rels = rels.replace(b"</Relationships>", rel + b"</Relationships>")
        (changed if rels_name in names else new)[rels_name] = rels
        inserts[part] = f'<tableParts count="1"><tablePart r:id="{rid}"/></tableParts>'.encode()
    if overrides:
        types = src.read("[Content_Types].xml")
        changed["[Content_Types].xml"] = types.replace(b"</Types>", "".join(overrides).encode() + b"</Types>")
    return changed, new, inserts


_TAIL = 1 << 16  # <tableParts> goes just before </worksheet> (or <extLst>), within the part's last bytes


def _copy_inserting_at_end(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile,
                           entry: zipfile.ZipInfo, insert: bytes) -> None:
    """Copy a worksheet part a megabyte at a time (a Files sheet can be large), adding ``insert`` at its end."""
    with src.open(info) as fin, dst.open(entry, "w") as out:
        held = b""
        while chunk := fin.read(1 << 20):
            held += chunk
            if len(held) > _TAIL:
                out.write(held[:-_TAIL])
                held = held[-_TAIL:]
        if b"<tableParts" in held:
            raise ValueError(f"{info.filename} already has a table")
        mark = held.rfind(b"<extLst")
        if mark < 0:
            if b"</extLst>" in held:
                raise ValueError(f"{info.filename} has an extension list too long to add a table before")
            mark = held.rfind(b"</worksheet>")
        if mark < 0:
            raise ValueError(f"{info.filename} does not end as a worksheet")
        out.write(held[:mark] + insert + held[mark:])


def splice(path: str | Path, streams: dict[str, RowWriter], tables: dict[str, TableSpec] | None = None) -> None:
    """Insert each sheet's streamed rows, and add each sheet's table, in the workbook at ``path`` (in place)."""
    path = Path(path)
    for s in streams.values():
        s.close()
    fd, tmp = tempfile.mkstemp(prefix="splice-", suffix=".xlsx", dir=str(scratch.folder(path.parent)))
    os.close(fd)
    os.chmod(tmp, path.stat().st_mode & 0o777)  # the permissions xlsxwriter's file had, not mkstemp's 0600
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            parts = sheet_parts(src)
            by_part = {parts[name]: stream for name, stream in streams.items()}
            changed, new, inserts = _add_tables(src, parts, tables or {})
            if set(inserts) & set(by_part):
                raise ValueError("a sheet gets either streamed rows or a table, not both")
            model = src.infolist()[0]  # new parts get the same time and attributes as xlsxwriter's
            for info in src.infolist():
                stream = by_part.get(info.filename)
                entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr, entry.create_system = info.external_attr, info.create_system
                if info.filename in inserts:
                    _copy_inserting_at_end(src, info, dst, entry, inserts[info.filename])
                    continue
                if stream is None:
                    data = changed.get(info.filename)
                    dst.writestr(entry, data if data is not None else src.read(info.filename), compresslevel=6)
                    continue
                xml = src.read(info.filename)  # a data sheet as xlsxwriter wrote it: title, notes, header
                head, sep, tail = xml.partition(b"</sheetData>")
                if not sep:  # xlsxwriter writes <sheetData/> only for an empty sheet; ours always has a title
                    raise ValueError(f"{info.filename} has no sheet data to add rows to")
                last = f"{col_letter(stream.columns - 1)}{stream.last_row + 1}".encode()
                head = _DIMENSION.sub(b'<dimension ref="A1:' + last + b'"/>', head, count=1)
                with dst.open(entry, "w") as out, open(stream.path, "rb") as rows:
                    out.write(head)
                    shutil.copyfileobj(rows, out, 1 << 20)
                    out.write(sep + tail)
            for name in sorted(new):
                entry = zipfile.ZipInfo(name, date_time=model.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr, entry.create_system = model.external_attr, model.create_system
                dst.writestr(entry, new[name], compresslevel=6)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        for s in streams.values():
            s.discard()
        scratch.tidy(path.parent)
