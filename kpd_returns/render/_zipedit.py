"""The edits an annotated copy makes to an .xlsx package (see ``_zippackage`` for how parts are
read, scanned and spliced): worksheets (cells marked, rows and cells inserted in order, a legacy
drawing for comments), the workbook (a sheet inserted first) and docProps/app.xml.

Relationships, content types and styles are in ``_zipmeta``, the masked strings in ``_zipstrings``;
what annotate needs of them and of the package level is re-exported here, so it uses one module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._xlsx import CopyError
from ._zipmeta import ContentTypes, Rels, Styles, relative, rels_part, resolve
from ._zippackage import (CT_COMMENTS, CT_VML, CT_WORKSHEET, MAIN_NS, REL_NS, RT, XML_DECL, Edits, El, NeedsOpenpyxl,
                          Package, append_children, check_utf8, clean, col_letters, ns_prefix, parse_ref, ref_of, scan,
                          set_attr, text_of, xml_attr, xml_text)
from ._zipstrings import _V, SharedStrings, mask_text_nodes, xml_string

# What annotate uses through this one module (the package level, the bookkeeping parts, the strings).
__all__ = ["CT_COMMENTS", "CT_VML", "MAIN_NS", "REL_NS", "XML_DECL", "ContentTypes", "NeedsOpenpyxl", "Package", "Rels",
           "SharedStrings", "Styles", "Workbook", "Worksheet", "app_titles_with", "clean", "col_letters",
           "mask_text_nodes", "parse_ref", "ref_of", "relative", "rels_part", "resolve", "unselected", "xml_attr",
           "xml_string", "xml_text"]


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
        quoted = "'" + title.replace("'", "''") + "'!"
        filter_name = (f'<{p}definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'.encode()
                       + xml_text(quoted + filter_ref) + f"</{p}definedName>".encode())
        # The header row repeated on every printed page (issue 19 item 19): the row of the filter's first cell.
        header = re.search(r"\d+", filter_ref).group()
        filter_name += (f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="0">'.encode()
                        + xml_text(f"{quoted}${header}:${header}") + f"</{p}definedName>".encode())
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
