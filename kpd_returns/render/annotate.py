"""An annotated copy of a provider's workbook: every cell with a finding is marked, and a
"Findings" sheet (first) lists them all with links to the cells.

* A cell with a finding gets a fill (errors light red, warnings amber) and a
  comment starting with the severity word, so colour is never the only signal:
  "ERROR total-mismatch: ... [KPD 9]". The fill is a new cell format derived from
  the cell's own (same font, border, number format, alignment and lock), so the
  cell keeps its look and its protection.
* The "Findings" sheet has one row per finding: severity, code, sheet, cell (a
  link to the cell), field, message, guidance. Findings about the whole file
  have no link. It is inserted first, selected and active.
* No value the provider entered is changed, except personal data: a marked cell
  whose text holds any (``checks.personal_data.mask_all``: an NI number in a free
  text or in a number cell, an e-mail address...) shows the masked text instead,
  and its comment says so; the shared string it came from is masked too, so the
  raw text survives in no part of the copy and the copy can travel back by e-mail.
  The Findings sheet and the comments quote only masked values (``findings.make``),
  and the file's name in the verdict line is masked. Otherwise only cell formats
  and comments are added, and one sheet is inserted.
* The same input and findings give the same bytes.

How: the copy is made at the zip/XML level (``_zipedit``). Every part of the
provider's file is copied byte for byte except the few that must change (the
marked sheets, styles, the workbook, its relationships, content types, and
docProps/app.xml when it lists the sheet titles), so formulas, cached results,
Excel 2010 (x14) validations, images and everything else are kept, and a copy
takes milliseconds.

Fallback: when a sheet to be marked already has comments or other VML shapes
(a legacyDrawing), or the file has something ``_zipedit`` does not edit (rows or
cells without references, a part not in UTF-8, Strict OOXML), the whole copy is
made with openpyxl instead (full load and save, about 0.6 s): a provider's own
comment is then kept below ours, but openpyxl drops x14 validations, images and
cached formula results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..spec.personal_data import mask_all
from ..spec.print_text import row_points
from ..spec.findings import Finding
from ..spec.model import FileReport
from . import _zipedit as Z
from ._common import sorted_findings
from ._links import has_external_links
from ._xlsx import CopyError, check_target, preflight, write_atomically
from .annotate_marks import (AUTHOR, ERROR_FILL, FINDINGS_SHEET, FINDINGS_SHEET_ALT, HEADER_ROW, HEADERS, MAX_TEXT,
                             WARNING_FILL, WIDTHS, _clean, _comment_text, _fill_of, _message, annotated_name)
from .annotate_openpyxl import _openpyxl_copy
from ._zipmask import mask_package
from .text import verdict_line


__all__ = ["CopyError", "annotate", "annotated_name", "FINDINGS_SHEET", "HEADER_ROW", "HEADERS"]


def annotate(source: str | Path, report: FileReport, out: str | Path) -> int:
    """Write the annotated copy of ``source`` to ``out``; return the number of cells marked.

    Raises CopyError (one plain sentence) when no copy can be made, for example
    for a file that could not be read.
    """
    source, out = Path(source), Path(out)
    label = mask_all(report.name or source.name)
    if report.verdict == "unreadable":
        raise CopyError(f"No annotated copy of {label}: the file could not be read.")
    check_target(source, out, label)
    preflight(source, label)  # size caps, no DOCTYPE, no macros: before any part is parsed
    ordered = sorted_findings(report)  # errors first, as in the JSON report
    try:
        blob = source.read_bytes()
    except OSError as exc:
        raise CopyError(f"{label} cannot be opened ({exc.strerror or exc}).") from None
    try:
        data, marked = _zip_copy(blob, report, ordered, label)
    except Z.NeedsOpenpyxl:
        return _openpyxl_copy(source, report, ordered, out, label)
    except CopyError:
        raise
    except Exception:  # noqa: BLE001 - a shape of file the zip path did not foresee: take openpyxl's path
        return _openpyxl_copy(source, report, ordered, out, label)
    try:
        write_atomically(out, data)
    except OSError as exc:
        raise CopyError(f"The annotated copy of {label} could not be written to {out} ({exc.strerror or exc}).") from None
    return marked


# ---------------------------------------------------------------- the zip/XML path


def _zip_copy(blob: bytes, report: FileReport, ordered: Sequence[Finding], label: str) -> tuple[bytes, int]:
    """The annotated copy's bytes and the number of cells marked; NeedsOpenpyxl for the fallback."""
    pkg = Z.Package(blob, label)
    book = Z.Workbook(pkg)
    if has_external_links(pkg.names(), [r.get("Type", "") for r in book.rels.items], set(book.children)):
        raise Z.NeedsOpenpyxl("it links to other workbooks, which no copy keeps (render._links)")
    # Personal data first, in every part (sheet names too), so every later read sees the masked text.
    book, shared, texts_masked = mask_package(pkg, book=book)
    titles = set(book.titles)
    marks = _cells_to_mark(pkg, book, ordered, titles)  # may raise NeedsOpenpyxl: nothing is written yet
    styles = Z.Styles(pkg, book.styles_part)
    types = Z.ContentTypes(pkg)
    fills = {ERROR_FILL: styles.solid_fill(ERROR_FILL), WARNING_FILL: styles.solid_fill(WARNING_FILL)}
    block = _first_free_vml_block(pkg)
    for ws, rels, targets in marks:
        masked = {pos for pos in targets if Z.ref_of(*pos) in texts_masked.get(ws.part, ())
                  or ws.shared_index(*pos) in shared.masked}
        ws.set_styles({pos: styles.with_fill(ws.style_of(*pos), fills[_fill_of(items)])
                       for pos, items in targets.items()})
        comments = pkg.fresh("xl/comments{}.xml", types.overrides)
        pkg.write(comments, _comments_xml(targets, masked))
        vml = pkg.fresh("xl/drawings/vmlDrawing{}.vml", types.overrides)
        pkg.write(vml, _vml_xml(targets, block, masked))
        block += len(targets) // 1024 + 1
        ws.add_legacy_drawing(rels.add("vmlDrawing", vml))
        rels.add("comments", comments)
        rels.save()
        pkg.write(ws.part, ws.result())
        types.override(comments, Z.CT_COMMENTS)
        types.default("vml", Z.CT_VML)

    # Only the new sheet is selected: any sheet part that was is changed (tabSelected="0").
    for sheet_el in book.sheet_els:
        part = book.part_of(sheet_el)
        changed = Z.unselected(pkg.read(part)) if part else None
        if changed is not None:
            pkg.write(part, changed)

    title = _findings_title(titles)
    last_row = max(HEADER_ROW + len(ordered), HEADER_ROW + 1)
    part = pkg.fresh("xl/worksheets/sheet{}.xml", types.overrides)
    pkg.write(part, _findings_xml(report, ordered, titles, _findings_styles(styles, fills), last_row))
    book.insert_first_sheet(title, part, f"$A${HEADER_ROW}:${Z.col_letters(len(HEADERS))}${last_row}", types)
    Z.app_titles_with(pkg, title)
    styles.save()
    types.save()
    return pkg.to_bytes(), sum(len(targets) for _, _, targets in marks)


Marks = list[tuple[Z.Worksheet, Z.Rels, dict[tuple[int, int], list[Finding]]]]


def _cells_to_mark(pkg: Z.Package, book: Z.Workbook, ordered: Sequence[Finding], titles: set[str]) -> Marks:
    """Per sheet to mark: the sheet, its relationships, and the findings of each cell to mark."""
    marks: Marks = []
    for title, items in _by_sheet(ordered, titles).items():
        part = book.part_of(book.sheet_els[book.titles.index(title)], "worksheet")
        if part is None:
            continue  # a chart sheet, or a sheet whose part is missing: nothing to mark
        ws, rels = Z.Worksheet(pkg, part, title, [f.cell for f in items]), Z.Rels(pkg, part)
        if ws.has_legacy_drawing or rels.has_type("comments", "vmlDrawing"):
            raise Z.NeedsOpenpyxl(f"'{title}' already has comments or shapes")
        targets: dict[tuple[int, int], list[Finding]] = {}
        for f in items:
            pos = ws.target(f.cell)
            if pos is not None:
                targets.setdefault(pos, []).append(f)
        if targets:
            marks.append((ws, rels, targets))
    return marks


def _findings_title(titles: set[str]) -> str:
    """'Findings', or another name when the workbook has it (sheet names ignore case in Excel)."""
    taken = {t.lower() for t in titles}
    title, n = FINDINGS_SHEET, 1
    if title.lower() in taken:
        title = FINDINGS_SHEET_ALT
    while title.lower() in taken:
        n += 1
        title = f"{FINDINGS_SHEET_ALT} {n}"
    return title


def _by_sheet(ordered: Sequence[Finding], titles: set[str]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in ordered:
        if f.sheet and f.cell and f.sheet in titles:
            out.setdefault(f.sheet, []).append(f)
    return out


def _findings_styles(styles: Z.Styles, fills: dict[str, int]) -> dict[str, int]:
    bold = styles.font(b'<b/><sz val="11"/><name val="Calibri"/><family val="2"/>')
    link = styles.font(b'<u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/>')
    base = 'numFmtId="0" fontId="{}" fillId="{}" borderId="0" xfId="0"'
    return {
        "plain": styles.xf(base.format(0, 0).encode()),
        "bold": styles.xf(base.format(bold, 0).encode() + b' applyFont="1"'),
        "error": styles.xf(base.format(0, fills[ERROR_FILL]).encode() + b' applyFill="1"'),
        "warning": styles.xf(base.format(0, fills[WARNING_FILL]).encode() + b' applyFill="1"'),
        "wrap": styles.xf(base.format(0, 0).encode() + b' applyAlignment="1"',
                          b'<alignment vertical="top" wrapText="1"/>'),
        "link": styles.xf(base.format(link, 0).encode() + b' applyFont="1"'),
    }


def _cell(row: int, col: int, text: str | None, xf: int) -> bytes:
    """An inline-string cell: text is never taken for a formula, whatever it starts with."""
    text = _clean(text)[:MAX_TEXT]
    if not text:
        return b""
    return (f'<c r="{Z.ref_of(row, col)}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">'.encode()
            + Z.xml_text(text) + b"</t></is></c>")


def _findings_xml(report: FileReport, ordered: Sequence[Finding], titles: set[str], xf: dict[str, int],
                  last_row: int) -> bytes:
    rows = [b'<row r="1">' + _cell(1, 1, verdict_line(report, mask_all(report.name) or None), xf["bold"]) + b"</row>",
            f'<row r="{HEADER_ROW}">'.encode()
            + b"".join(_cell(HEADER_ROW, col, label, xf["bold"]) for col, label in enumerate(HEADERS, 1)) + b"</row>"]
    links = []
    for row, f in enumerate(ordered, HEADER_ROW + 1):
        linked = bool(f.sheet and f.cell and f.sheet in titles)
        values = (f.severity, f.code, f.sheet, f.cell, f.field_label or f.field, _message(f), f.guidance)
        styles = (xf["error" if f.severity == "error" else "warning"], xf["plain"], xf["plain"],
                  xf["link" if linked else "plain"], xf["plain"], xf["wrap"], xf["plain"])
        # a row as tall as its wrapped message, so a printed page shows all of it (issue 19 item 19)
        height = row_points([(_message(f), WIDTHS[5])])
        rows.append((f'<row r="{row}" ht="{height}" customHeight="1">' if height else f'<row r="{row}">').encode()
                    + b"".join(
            _cell(row, col, value, style) for col, (value, style) in enumerate(zip(values, styles), 1)) + b"</row>")
        if linked:
            # An internal link (a location, no relationship): the same as "#'Sheet'!D12".
            location = "'" + f.sheet.replace("'", "''") + "'!" + f.cell
            links.append(f'<hyperlink ref="D{row}" location="'.encode() + Z.xml_attr(_clean(location))
                         + b'" tooltip="' + Z.xml_attr(_clean(f"Go to {f.ref}")[:255]) + b'" display="'
                         + Z.xml_attr(_clean(f.cell)) + b'"/>')
    if not ordered:
        rows.append(f'<row r="{HEADER_ROW + 1}">'.encode() + _cell(HEADER_ROW + 1, 1, "No findings.", xf["plain"])
                    + b"</row>")
    last_col = Z.col_letters(len(HEADERS))
    cols = b"".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'.encode() for i, w in enumerate(WIDTHS, 1))
    first = f"A{HEADER_ROW + 1}"
    return (Z.XML_DECL
            + f'<worksheet xmlns="{Z.MAIN_NS}" xmlns:r="{Z.REL_NS}">'.encode()
            + b'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            + f'<dimension ref="A1:{last_col}{last_row}"/>'.encode()
            + f'<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="{HEADER_ROW}" '
              f'topLeftCell="{first}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
              f'activeCell="{first}" sqref="{first}"/></sheetView></sheetViews>'.encode()
            + b'<sheetFormatPr defaultRowHeight="15"/><cols>' + cols + b"</cols>"
            + b"<sheetData>" + b"".join(rows) + b"</sheetData>"
            + f'<autoFilter ref="A{HEADER_ROW}:{last_col}{last_row}"/>'.encode()
            + (b"<hyperlinks>" + b"".join(links) + b"</hyperlinks>" if links else b"")
            + b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            # A4 landscape, one page wide and as many tall as it needs: it printed across four portrait pages
            + b'<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            + b"</worksheet>")


def _comments_xml(targets: dict[tuple[int, int], list[Finding]], masked: set = frozenset()) -> bytes:
    body = []
    for (row, col), items in sorted(targets.items()):
        body.append(f'<comment ref="{Z.ref_of(row, col)}" authorId="0"><text><r><rPr><sz val="9"/>'
                    f'<color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr><t xml:space="preserve">'.encode()
                    + Z.xml_text(_comment_text(items, (row, col) in masked)[:MAX_TEXT]) + b"</t></r></text></comment>")
    return (Z.XML_DECL + f'<comments xmlns="{Z.MAIN_NS}"><authors><author>{AUTHOR}</author></authors>'.encode()
            + b"<commentList>" + b"".join(body) + b"</commentList></comments>")


def _first_free_vml_block(pkg: Z.Package) -> int:
    """Shape ids come in blocks of 1024 per VML part (<o:idmap data="1,2">): start after any in use."""
    used = [0]
    for name in pkg.names():
        if name.lower().endswith(".vml"):
            for m in _IDMAP.finditer(pkg.read(name)):
                used += [int(n) for n in re.findall(rb"\d+", m.group(1))]
    return max(used) + 1


_IDMAP = re.compile(rb"""<o:idmap\b[^>]*\bdata\s*=\s*["']([^"']*)["']""")
_VML_HEAD = (b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
             b'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
             b'<o:idmap v:ext="edit" data="%s"/></o:shapelayout><v:shapetype id="_x0000_t202" '
             b'coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
             b'<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
_VML_SHAPE = ('<v:shape id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;margin-left:{left}pt;'
              'margin-top:{top}pt;width:315pt;height:{height}pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" '
              'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
              '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left">'
              '</div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
              '<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>'
              '<x:Column>{col}</x:Column></x:ClientData></v:shape>')


def _vml_xml(targets: dict[tuple[int, int], list[Finding]], block: int, masked: set = frozenset()) -> bytes:
    """The comments' note shapes (Excel draws a comment from these), hidden until hovered."""
    blocks = ",".join(str(block + i) for i in range(len(targets) // 1024 + 1))
    shapes = []
    for z, ((row, col), items) in enumerate(sorted(targets.items()), 1):
        text = _comment_text(items, (row, col) in masked)
        height_px = min(600, 60 + 18 * (text.count("\n") + len(text) // 60))  # as the openpyxl path sizes them
        top = max(row - 2, 0)  # Excel puts a note one row above its cell and one column to the right
        anchor = f"{col}, 15, {top}, 10, {col + 6}, 36, {top + height_px // 20 + 1}, 4"
        shapes.append(_VML_SHAPE.format(id=block * 1024 + z, left=col * 48 + 11.25, top=top * 15 + 1.5,
                                        height=round(height_px * 0.75, 2), z=z, anchor=anchor, row=row - 1,
                                        col=col - 1))
    return _VML_HEAD % blocks.encode() + "".join(shapes).encode() + b"</xml>"


# ---------------------------------------------------------------- the openpyxl path (fallback)
