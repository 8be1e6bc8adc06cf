"""The edits an annotated copy makes to an .xlsx package (see ``_zippackage`` for how parts are
read, scanned and spliced): relationships, content types, styles (a fill derived from a
cell's own format), worksheets (cells marked, rows and cells inserted in order, a legacy
drawing for comments), the workbook (a sheet inserted first) and docProps/app.xml.

Everything below the package level is re-exported here, so callers use one module.
"""

from __future__ import annotations

import bisect
import html
import posixpath
import re
from collections.abc import Callable, Iterable

from ..spec.personal_data import mask_formula
from ._xlsx import CopyError
from ._zippackage import (
    CT_WORKSHEET,
    Edits,
    El,
    MAIN_NS,
    NeedsOpenpyxl,
    Package,
    REL_NS,
    RT,
    XML_DECL,
    append_children,
    check_utf8,
    ns_prefix,
    parse_ref,
    ref_of,
    scan,
    set_attr,
    text_of,
    xml_attr,
    xml_text,
)
from ._zippackage import (  # noqa: F401 - used by annotate through this module
    CT_COMMENTS,
    CT_VML,
    clean,
    col_letters,
)


# ---------------------------------------------------------------- relationships and content types


def rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(part: str, target: str) -> str:
    """The part a relationship of ``part`` points to."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target)).lstrip("/")


def relative(part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(part) or ".")


class Rels:
    """A .rels part (or a new one): read its relationships, append new ones."""

    def __init__(self, pkg: Package, source_part: str):
        self.pkg, self.source = pkg, source_part
        self.name = pkg.find(rels_part(source_part)) or rels_part(source_part)
        self.exists = pkg.find(self.name) is not None
        self.items: list[dict[str, str]] = []
        self._new: list[bytes] = []
        if self.exists:
            self.data = pkg.read(self.name)
            check_utf8(self.data, self.name)
            els = scan(self.data, self.name, pkg.label, {("Relationships",): {"Relationship"}})
            self.root = els[0]
            self.items = [e.attrs for e in els[1:]]

    def target(self, rid: str) -> str | None:
        for rel in self.items:
            if rel.get("Id") == rid and rel.get("TargetMode") != "External":
                return resolve(self.source, rel.get("Target", ""))
        return None

    def has_type(self, *kinds: str) -> bool:
        return any(rel.get("Type", "") in {RT + k for k in kinds} for rel in self.items)

    def add(self, kind: str, target_part: str) -> str:
        used = {rel.get("Id") for rel in self.items}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        self.items.append({"Id": rid})
        self._new.append(b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (
            rid.encode(), xml_attr(RT + kind), xml_attr(relative(self.source, target_part))))
        return rid

    def save(self) -> None:
        if not self._new:
            return
        if self.exists:
            edits = Edits(self.data)
            prefix = self.root.prefix.encode()
            new = b"".join(x.replace(b"<Relationship ", b"<" + prefix + b"Relationship ") for x in self._new)
            append_children(edits, self.root, new)
            self.pkg.write(self.name, edits.result())
        else:
            self.pkg.write(self.name, XML_DECL + b'<Relationships xmlns="http://schemas.openxmlformats.org/'
                           b'package/2006/relationships">' + b"".join(self._new) + b"</Relationships>")


class ContentTypes:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.name = pkg.find("[Content_Types].xml")
        if self.name is None:
            raise CopyError(f"{pkg.label} is damaged (it has no [Content_Types].xml), so no copy was made.")
        self.data = pkg.read(self.name)
        check_utf8(self.data, self.name)
        els = scan(self.data, self.name, pkg.label, {("Types",): None})
        self.root = els[0]
        self.defaults = {e.attrs.get("Extension", "").lower() for e in els[1:] if e.local == "Default"}
        # Part names with an Override, even one for a part not in the zip: a new part must not reuse one.
        self.overrides = {e.attrs.get("PartName", "").lstrip("/").lower() for e in els[1:] if e.local == "Override"}
        self._new: list[bytes] = []

    def override(self, part: str, content_type: str) -> None:
        self.overrides.add(part.lower())
        self._new.append(b'<Override PartName="/%s" ContentType="%s"/>' % (xml_attr(part), xml_attr(content_type)))

    def default(self, extension: str, content_type: str) -> None:
        if extension.lower() not in self.defaults:
            self.defaults.add(extension.lower())
            # A Default may come anywhere among the Overrides; first is where Excel puts them.
            self._new.insert(0, b'<Default Extension="%s" ContentType="%s"/>' % (
                xml_attr(extension), xml_attr(content_type)))

    def save(self) -> None:
        if self._new:
            edits = Edits(self.data)
            prefix = self.root.prefix.encode()
            append_children(edits, self.root, b"".join(x.replace(b"<", b"<" + prefix, 1) for x in self._new))
            self.pkg.write(self.name, edits.result())


# ---------------------------------------------------------------- styles


class Styles:
    """xl/styles.xml: append fills, fonts and cell formats; derive a cell format with another fill."""

    GROUPS = ("fonts", "fills", "cellXfs")

    def __init__(self, pkg: Package, part: str | None):
        if part is None or pkg.find(part) is None:
            raise NeedsOpenpyxl("the workbook has no styles part")
        self.pkg, self.part = pkg, pkg.find(part)
        self.data = pkg.read(self.part)
        check_utf8(self.data, self.part)
        keep = {("styleSheet",): set(self.GROUPS), ("styleSheet", "fonts"): {"font"},
                ("styleSheet", "fills"): {"fill"}, ("styleSheet", "cellXfs"): {"xf"}}
        els = scan(self.data, self.part, pkg.label, keep)
        self.prefix = els[0].prefix.encode()
        self.groups: dict[str, El] = {e.local: e for e in els if len(e.path) == 1}
        self.children: dict[str, list[El]] = {g: [e for e in els if e.path == ("styleSheet", g)] for g in self.GROUPS}
        if els[0].local != "styleSheet" or set(self.groups) != set(self.GROUPS) or not self.children["cellXfs"]:
            raise NeedsOpenpyxl("the styles part lacks fonts, fills or cell formats")
        self._added: dict[str, list[bytes]] = {g: [] for g in self.GROUPS}
        self._derived: dict[tuple[int, int], int] = {}

    def _add(self, group: str, xml: bytes) -> int:
        xml = re.sub(rb"<(/?)", lambda m: b"<" + m.group(1) + self.prefix, xml)
        self._added[group].append(xml)
        return len(self.children[group]) + len(self._added[group]) - 1

    def solid_fill(self, rgb: str) -> int:
        return self._add("fills", b'<fill><patternFill patternType="solid"><fgColor rgb="FF%s"/>'
                                  b'<bgColor indexed="64"/></patternFill></fill>' % rgb.encode())

    def font(self, inner: bytes) -> int:
        return self._add("fonts", b"<font>" + inner + b"</font>")

    def xf(self, attrs: bytes, inner: bytes = b"") -> int:
        return self._add("cellXfs", b"<xf " + attrs + (b">" + inner + b"</xf>" if inner else b"/>"))

    def with_fill(self, base: int, fill_id: int) -> int:
        """A copy of cell format ``base`` (font, border, number format, alignment, protection) with another fill."""
        if (base, fill_id) not in self._derived:
            xfs = self.children["cellXfs"]
            el = xfs[base] if 0 <= base < len(xfs) else xfs[0]
            head = set_attr(set_attr(self.data[el.start:el.head_end], "fillId", str(fill_id)), "applyFill", "1")
            self._added["cellXfs"].append(head + self.data[el.head_end:el.end])
            self._derived[(base, fill_id)] = len(xfs) + len(self._added["cellXfs"]) - 1
        return self._derived[(base, fill_id)]

    def save(self) -> None:
        edits = Edits(self.data)
        for group in self.GROUPS:
            if self._added[group]:
                el = self.groups[group]
                total = len(self.children[group]) + len(self._added[group])
                if el.empty:
                    head = set_attr(self.data[el.start:el.head_end - 2].rstrip(), "count", str(total))
                    edits.replace(el.start, el.end, head + b">" + b"".join(self._added[group])
                                  + b"</" + el.tag.encode() + b">")
                else:
                    edits.set_attr(el, "count", str(total))
                    edits.insert(el.close, b"".join(self._added[group]))
        self.pkg.write(self.part, edits.result())


# ---------------------------------------------------------------- worksheets

_SHEET_VIEW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetView\b[^>]*>")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")
_SELECTED = re.compile(rb"""\stabSelected\s*=\s*["'](?:1|true)["']""")


def unselected(data: bytes) -> bytes | None:
    """A sheet part with tabSelected turned off, or None when it was not selected.

    Only the start of the part is searched (sheet views come before the cell data),
    and a sheetView's attributes are all numbers, names and flags, so a plain
    pattern is exact here and saves parsing every sheet.
    """
    stop = _SHEET_DATA.search(data)
    head = data[:stop.start()] if stop else data
    views = [m for m in _SHEET_VIEW.finditer(head) if _SELECTED.search(m.group())]
    if not views:
        return None
    out, pos = [], 0
    for m in views:
        out += [data[pos:m.start()], set_attr(m.group(), "tabSelected", "0")]
        pos = m.end()
    return b"".join(out) + data[pos:]


class Worksheet:
    """One worksheet part: give cells another format (adding absent cells and rows), add a legacyDrawing."""

    KEEP = {("worksheet",): None, ("worksheet", "sheetData"): {"row"},
            ("worksheet", "mergeCells"): {"mergeCell"}, ("worksheet", "cols"): {"col"}}
    # CT_Worksheet is a sequence: legacyDrawing comes before these (AlternateContent wraps controls and OLE objects).
    AFTER_LEGACY = {"legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                    "tableParts", "extLst", "AlternateContent"}

    def __init__(self, pkg: Package, part: str, title: str, refs: Iterable[str]):
        """Read the part for marking ``refs`` (cell references; see ``target``)."""
        self.part, self.title = part, title
        self.data = pkg.read(part)
        check_utf8(self.data, part)
        refs = [pos for pos in map(parse_ref, refs) if pos is not None]
        rows = {r for r, _ in refs}
        self._read(pkg, rows)
        # A merged range's top-left cell may be in a row not read yet.
        more = {self.target(ref_of(*pos))[0] for pos in refs} - rows
        if more:
            self._read(pkg, rows | more)
        self.has_legacy_drawing = any(e.local == "legacyDrawing" for e in self.children)
        self.sheet_data = next((e for e in self.children if e.local == "sheetData"), None)
        if self.sheet_data is None:
            raise NeedsOpenpyxl(f"'{title}' has no cell data")
        self.edits = Edits(self.data)

    def _read(self, pkg: Package, rows: set[int]) -> None:
        # Only the cells of the rows to mark are kept: a sheet has thousands, and each costs time.
        wanted = {str(r) for r in rows}
        keep = dict(self.KEEP)
        keep[("worksheet", "sheetData", "row")] = lambda row, local: local == "c" and row.attrs.get("r") in wanted
        els = scan(self.data, self.part, pkg.label, keep)
        title = self.title  # for the messages below
        self.root = els[0]
        if self.root.local != "worksheet" or ns_prefix(self.root, MAIN_NS) is None:
            raise NeedsOpenpyxl(f"'{title}' is not a worksheet this module edits")
        self.children = [e for e in els if len(e.path) == 1]
        self.rows: dict[int, El] = {}
        self.cells: dict[int, list[tuple[int, El]]] = {}  # row -> [(column, <c>)] in document order
        self.merges: list[tuple[int, int, int, int]] = []
        self.cols: list[tuple[int, int, int]] = []  # (min, max, style)
        row = 0
        for e in els:
            where = e.path[1:] and e.path[1]
            if where == "sheetData" and e.local == "row":
                row = _int(e.attrs.get("r"))
                if not row or row in self.rows:
                    raise NeedsOpenpyxl(f"'{title}' has rows without a row number")  # positions would be implied
                self.rows[row] = e
                self.cells[row] = []
            elif where == "sheetData":
                pos = parse_ref(e.attrs.get("r"))
                if pos is None or pos[0] != row:
                    raise NeedsOpenpyxl(f"'{title}' has cells without a reference")
                self.cells[row].append((pos[1], e))
            elif where == "mergeCells":
                first, _, last = e.attrs.get("ref", "").partition(":")
                a, b = parse_ref(first), parse_ref(last or first)
                if a and b:
                    self.merges.append((a[0], a[1], b[0], b[1]))
            elif where == "cols":
                lo, hi = _int(e.attrs.get("min")), _int(e.attrs.get("max"))
                self.cols.append((lo, hi, _int(e.attrs.get("style"))))

    def target(self, ref: str) -> tuple[int, int] | None:
        """The cell to mark for ``ref``: for a cell inside a merged range, its top-left cell."""
        pos = parse_ref(ref)
        if pos is None:
            return None
        for r1, c1, r2, c2 in self.merges:
            if r1 <= pos[0] <= r2 and c1 <= pos[1] <= c2:
                return r1, c1
        return pos

    def style_of(self, row: int, col: int) -> int:
        """The cell format a cell shows: its own, else its row's (if set), else its column's."""
        for c, el in self.cells.get(row, ()):
            if c == col:
                return _int(el.attrs.get("s"))
        row_el = self.rows.get(row)
        if row_el is not None and row_el.attrs.get("customFormat") in ("1", "true"):
            return _int(row_el.attrs.get("s"))
        return next((style for lo, hi, style in self.cols if lo <= col <= hi), 0)

    def cell_el(self, row: int, col: int) -> El | None:
        return next((el for c, el in self.cells.get(row, ()) if c == col), None)

    def shared_index(self, row: int, col: int) -> int | None:
        """The shared-string index a cell shows, or None (not a shared-string cell)."""
        el = self.cell_el(row, col)
        if el is None or el.empty or el.attrs.get("t") != "s":
            return None
        v = _V.search(self.data[el.head_end:el.close])
        return int(v.group(1)) if v and v.group(1).strip().isdigit() else None

    def set_styles(self, styles: dict[tuple[int, int], int]) -> None:
        """Give each (row, column) the cell format; a cell or row not in the part yet is added in order."""
        p = self.root.prefix
        new_rows: dict[int, list[tuple[int, int]]] = {}
        for (row, col), xf in sorted(styles.items()):
            cell = self.cell_el(row, col)
            if cell is not None:
                self.edits.set_attr(cell, "s", str(xf))
            else:
                new_rows.setdefault(row, []).append((col, xf))
        fresh_rows = []
        for row, new in new_rows.items():
            xml = {col: f'<{p}c r="{ref_of(row, col)}" s="{xf}"/>'.encode() for col, xf in new}
            row_el = self.rows.get(row)
            if row_el is None:
                fresh_rows.append((row, f'<{p}row r="{row}">'.encode() + b"".join(xml.values()) + f"</{p}row>".encode()))
                continue
            head = self._spans(row_el, [col for col, _ in new])
            if row_el.empty:
                self.edits.replace(row_el.start, row_el.end, head[:-2].rstrip() + b">" + b"".join(xml.values())
                                   + f"</{row_el.tag}>".encode())
                continue
            if head != self.data[row_el.start:row_el.head_end]:
                self.edits.replace(row_el.start, row_el.head_end, head)
            for col, _ in new:
                after = next((el for c, el in self.cells[row] if c > col), None)
                self.edits.insert(after.start if after is not None else row_el.close, xml[col])
        self._insert_rows(fresh_rows)
        self._widen_dimension(styles)

    def _spans(self, row_el: El, cols: list[int]) -> bytes:
        """The row's start tag, its optional spans hint widened to cover ``cols``."""
        head = self.data[row_el.start:row_el.head_end]
        spans = re.findall(r"(\d+):(\d+)", row_el.attrs.get("spans", ""))
        if not spans:
            return head
        lo = min([int(a) for a, _ in spans] + cols)
        hi = max([int(b) for _, b in spans] + cols)
        return set_attr(head, "spans", f"{lo}:{hi}")

    def _insert_rows(self, fresh: list[tuple[int, bytes]]) -> None:
        sd = self.sheet_data
        if fresh and sd.empty:
            head = self.data[sd.start:sd.head_end - 2].rstrip()
            self.edits.replace(sd.start, sd.end, head + b">" + b"".join(x for _, x in fresh) + f"</{sd.tag}>".encode())
            return
        for row, xml in fresh:  # ascending, so rows inserted at one place stay in order
            after = next((el for r, el in self.rows.items() if r > row), None)
            self.edits.insert(after.start if after is not None else sd.close, xml)

    def _widen_dimension(self, styles: dict[tuple[int, int], int]) -> None:
        dim = next((e for e in self.children if e.local == "dimension"), None)
        if dim is None or not styles:
            return
        first, _, last = dim.attrs.get("ref", "").partition(":")
        a, b = parse_ref(first), parse_ref(last or first)
        if a is None or b is None:
            return
        rows = [a[0], b[0]] + [r for r, _ in styles]
        cols = [a[1], b[1]] + [c for _, c in styles]
        ref = f"{ref_of(min(rows), min(cols))}:{ref_of(max(rows), max(cols))}"
        if ref != dim.attrs.get("ref"):
            self.edits.set_attr(dim, "ref", ref)

    def add_legacy_drawing(self, rid: str) -> None:
        """<legacyDrawing r:id=.../> at its place in the schema's sequence (the comments' shapes)."""
        rel = ns_prefix(self.root, REL_NS)
        if rel is None:
            if "xmlns:r" in self.root.attrs:
                raise NeedsOpenpyxl(f"'{self.title}' binds the prefix r to another namespace")
            self.edits.set_attr(self.root, "xmlns:r", REL_NS)
            rel = "r"
        seen_data = False
        at = self.root.close
        for child in self.children:
            seen_data = seen_data or child is self.sheet_data
            if seen_data and child.local in self.AFTER_LEGACY:
                at = child.start
                break
        self.edits.insert(at, f'<{self.root.prefix}legacyDrawing {rel}:id="{rid}"/>'.encode())

    def result(self) -> bytes:
        return self.edits.result()


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


# ---------------------------------------------------------------- strings (personal data masked)

_T_TEXT = re.compile(rb"<(?:[\w.-]+:)?t(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?t>", re.S)
_RPH = re.compile(rb"<((?:[\w.-]+:)?rPh)\b.*?</\1>", re.S)  # phonetic runs are not part of the text
_V = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?v>", re.S)


def xml_string(fragment: bytes) -> str:
    """The text of a string item (<si> or <is> content): its <t> runs joined, entities resolved."""
    body = _RPH.sub(b"", fragment)
    return html.unescape("".join(m.group(1).decode("utf-8", "replace") for m in _T_TEXT.finditer(body)))


_TEXT_NODE = re.compile(rb">([^<]+)<")
_CELL_START = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*?\br=\"([A-Za-z]+\d+)\"[^>]*?(/?)>")
_CELL_END = re.compile(rb"</(?:[\w.-]+:)?c>")
_TAG_NAME = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)")


def mask_text_nodes(pkg: Package, part: str, mask: Callable[[str], str]) -> set[str]:
    """Every text node of ``part`` (inline strings, formula results and formulas, header and footer
    text, comment text) that ``mask`` changes is replaced by its masked text; the references of the
    cells changed. A rich-text inline string is masked as a whole (its runs joined) first."""
    data = pkg.read(part)
    check_utf8(data, part)
    changed: set[str] = set()
    for masker, pattern in ((_whole_inline, _INLINE_RICH), (_text_node, _TEXT_NODE)):
        edits, cells, n = Edits(data), _Cells(data), 0
        for m in pattern.finditer(data):
            new = masker(data, m, mask)
            if new is not None:
                edits.replace(m.start(), m.end(), new)
                changed |= cells.ref_at(m.start())
                n += 1
        if n:
            data = edits.result()
            pkg.write(part, data)
    return changed


class _Cells:
    """Which cell a position of a worksheet part is in (worked out when first asked)."""

    def __init__(self, data: bytes):
        self.data, self.starts, self.at = data, None, []

    def ref_at(self, pos: int) -> set[str]:
        if self.starts is None:
            self.starts = list(_CELL_START.finditer(self.data))
            self.at = [c.start() for c in self.starts]
        i = bisect.bisect_right(self.at, pos) - 1
        if i < 0 or self.starts[i].group(2) or _CELL_END.search(self.data, self.starts[i].end(), pos) is not None:
            return set()
        return {self.starts[i].group(1).decode().upper()}


def _text_node(data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    text = html.unescape(m.group(1).decode("utf-8", "replace"))
    tag = _TAG_NAME.match(data, data.rfind(b"<", 0, m.start()))
    new = mask_formula(text) if tag and tag.group(1) == b"f" else mask(text)
    return None if new == text else b">" + xml_text(clean(new)) + b"<"


_INLINE_RICH = re.compile(rb"<((?:[\w.-]+:)?)is>((?:(?!</(?:[\w.-]+:)?is>).)*?<(?:[\w.-]+:)?r>.*?)</\1is>", re.S)


def _whole_inline(_data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    """A rich-text inline string (<is> with runs) whose joined text holds personal data: one plain run."""
    text = xml_string(m.group(2))
    new = mask(text)
    if new == text:
        return None
    p = m.group(1).decode()
    return (f"<{p}is><{p}t xml:space=\"preserve\">".encode() + xml_text(clean(new)) + f"</{p}t></{p}is>".encode())


class SharedStrings:
    """The shared string table, with every item ``mask`` changes replaced by its masked text (plain,
    no runs), so the raw text survives in no part of the copy whichever cells share it."""

    def __init__(self, pkg: Package, book: "Workbook", mask: Callable[[str], str]):
        rel = next((r for r in book.rels.items if r.get("Type") == RT + "sharedStrings"), None)
        self.part = pkg.find(resolve(book.part, rel.get("Target", ""))) if rel else None
        self.masked: set[int] = set()  # indexes of the items replaced
        if self.part is None:
            return
        data = pkg.read(self.part)
        check_utf8(data, self.part)
        els = scan(data, self.part, pkg.label, {("sst",): {"si"}})
        edits = Edits(data)
        for index, si in enumerate(els[1:]):
            text = xml_string(data[si.head_end:si.close])
            new = mask(text)
            if new != text:
                p = si.prefix
                edits.replace(si.start, si.end, f'<{si.tag}><{p}t xml:space="preserve">'.encode()
                              + xml_text(clean(new)) + f"</{p}t></{si.tag}>".encode())
                self.masked.add(index)
        if self.masked:
            pkg.write(self.part, edits.result())


# ---------------------------------------------------------------- the workbook part


class Workbook:
    """xl/workbook.xml and its relationships: the sheets, in tab order, and where their parts are."""

    KEEP = {("workbook",): None, ("workbook", "sheets"): {"sheet"}, ("workbook", "bookViews"): {"workbookView"},
            ("workbook", "definedNames"): {"definedName"}}

    def __init__(self, pkg: Package):
        self.pkg = pkg
        main = Rels(pkg, "")  # _rels/.rels
        office = next((r for r in main.items if r.get("Type") == RT + "officeDocument"), None)
        part = pkg.find(resolve("", office.get("Target", "")) if office else "xl/workbook.xml")
        if part is None:
            raise CopyError(f"{pkg.label} is damaged (it has no workbook part), so no copy was made.")
        self.part, self.data = part, pkg.read(part)
        check_utf8(self.data, part)
        els = scan(self.data, part, pkg.label, self.KEEP)
        self.root = els[0]
        self.rel_prefix = ns_prefix(self.root, REL_NS)
        if self.root.local != "workbook" or ns_prefix(self.root, MAIN_NS) is None or self.rel_prefix is None:
            raise NeedsOpenpyxl("the workbook part is not transitional SpreadsheetML")
        self.children = {e.local: e for e in els if len(e.path) == 1}
        if "sheets" not in self.children:
            raise CopyError(f"{pkg.label} is damaged (its workbook lists no sheets), so no copy was made.")
        self.rels = Rels(pkg, part)
        self.sheet_els = [e for e in els if e.path == ("workbook", "sheets")]
        self.views = [e for e in els if e.path == ("workbook", "bookViews")]
        self.names = [e for e in els if e.path == ("workbook", "definedNames")]
        self.titles = [e.attrs.get("name", "") for e in self.sheet_els]
        styles = next((r for r in self.rels.items if r.get("Type") == RT + "styles"), None)
        self.styles_part = resolve(part, styles["Target"]) if styles else None

    def part_of(self, sheet: El, kind: str | None = None) -> str | None:
        """The part of a <sheet> (of relationship type ``kind`` if given), as stored, or None."""
        rid = sheet.attrs.get(f"{self.rel_prefix}:id")
        rel = next((r for r in self.rels.items if r.get("Id") == rid and r.get("TargetMode") != "External"), None)
        if rel is None or (kind and rel.get("Type") != RT + kind):
            return None
        return self.pkg.find(resolve(self.part, rel.get("Target", "")))

    def insert_first_sheet(self, title: str, part: str, filter_ref: str, types: ContentTypes) -> None:
        """Add worksheet ``part`` as the first, active sheet; local names move with their sheets."""
        edits, p = Edits(self.data), self.root.prefix
        rid = self.rels.add("worksheet", part)
        types.override(part, CT_WORKSHEET)
        sheet_id = max([_int(e.attrs.get("sheetId")) for e in self.sheet_els] + [0]) + 1
        new_sheet = f'<{p}sheet name="'.encode() + xml_attr(title) + f'" sheetId="{sheet_id}" {self.rel_prefix}:id="{rid}"/>'.encode()
        sheets = self.children["sheets"]
        if sheets.empty:
            append_children(edits, sheets, new_sheet)
        else:
            edits.insert(sheets.head_end, new_sheet)
        # localSheetId is a 0-based position in <sheets>: every sheet moves one place on.
        for name in self.names:
            if "localSheetId" in name.attrs:
                edits.set_attr(name, "localSheetId", str(_int(name.attrs["localSheetId"]) + 1))
        for view in self.views:  # the new sheet is the active one and the first tab shown
            head = self.data[view.start:view.head_end]
            for attr in ("activeTab", "firstSheet"):
                if _int(view.attrs.get(attr)):
                    head = set_attr(head, attr, "0")
            edits.replace(view.start, view.head_end, head)
        if "bookViews" not in self.children:
            edits.insert(sheets.start, f"<{p}bookViews><{p}workbookView/></{p}bookViews>".encode())
        quoted = "'" + title.replace("'", "''") + "'!" + filter_ref
        filter_name = (f'<{p}definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'.encode()
                       + xml_text(quoted) + f"</{p}definedName>".encode())
        names = self.children.get("definedNames")
        if names is not None:
            append_children(edits, names, filter_name)
        else:  # definedNames follows sheets, functionGroups and externalReferences
            before = [e.end for k, e in self.children.items() if k in ("sheets", "functionGroups", "externalReferences")]
            edits.insert(max(before), f"<{p}definedNames>".encode() + filter_name + f"</{p}definedNames>".encode())
        self.pkg.write(self.part, edits.result())
        self.rels.save()


def app_titles_with(pkg: Package, title: str) -> None:
    """docProps/app.xml lists the sheet titles after a 'Worksheets' count: add ``title`` first.

    Excel rewrites this part on saving and does not check it on opening, so any
    other shape is left as it is rather than guessed at.
    """
    part = pkg.find("docProps/app.xml")
    if part is None:
        return
    data = pkg.read(part)
    check_utf8(data, part)
    keep = {("Properties",): {"HeadingPairs", "TitlesOfParts"}, ("Properties", "HeadingPairs"): {"vector"},
            ("Properties", "TitlesOfParts"): {"vector"}, ("Properties", "HeadingPairs", "vector"): {"variant"},
            ("Properties", "HeadingPairs", "vector", "variant"): None}
    els = scan(data, part, pkg.label, keep)
    values = [e for e in els if len(e.path) == 4]
    titles = next((e for e in els if e.path == ("Properties", "TitlesOfParts")), None)
    if titles is None or len(values) < 2 or values[0].local != "lpstr" or text_of(data, values[0]) != "Worksheets" \
            or values[1].local != "i4" or not text_of(data, values[1]).strip().isdigit():
        return
    edits = Edits(data)
    count = values[1]
    edits.replace(count.head_end, count.close, str(int(text_of(data, count)) + 1).encode())
    edits.set_attr(titles, "size", str(_int(titles.attrs.get("size")) + 1))
    lpstr = values[0].tag.encode()
    edits.insert(titles.head_end, b"<" + lpstr + b">" + xml_text(title) + b"</" + lpstr + b">")
    pkg.write(part, edits.result())
