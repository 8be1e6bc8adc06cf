"""Links to other workbooks are not sent back: every copy kpd-returns writes of a provider's file
(annotated, fixed totals, the rejected copy) leaves out the file's external workbook links.

A link to another workbook (``xl/externalLinks/``: ``\\\\host\\share\\book.xlsx`` or
``https://host/book.xlsx``) makes the spreadsheet program offer to fetch that file when the copy is
opened, from a host nobody here chose: on Windows a ``\\\\host`` path alone hands over the reader's
sign-in. So a copy keeps none. A formula that read another workbook keeps the value last calculated
(the provider's file holds it), as a plain value; a defined name that pointed into another workbook is
removed. Hyperlinks typed into cells are kept: they open only when someone clicks them.

The zip/XML path does not edit such a file (``has_external_links`` sends it to openpyxl's path, which
``drop_external_links`` completes after openpyxl has loaded it without its links).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

# An external workbook's index in a formula: [1]Sheet1!A1, '[2]My sheet'!B3, [1]!Name. Not a structured
# reference (Table1[Column], Table1[[#This Row],[Col]]) nor text in quotes ("[1] note").
_EXTERNAL = re.compile(r"(?<![\w\]])\[\d+\]")
_STRING = re.compile(r'"(?:[^"]|"")*"')


def refers_outside(formula: object) -> bool:
    """Whether a formula (or defined name) reads another workbook."""
    return isinstance(formula, str) and bool(_EXTERNAL.search(_STRING.sub('""', formula)))


def has_external_links(part_names: list[str], workbook_rel_types: list[str], workbook_children: set[str]) -> bool:
    """Whether a package links to other workbooks: an external link part, a relationship of that type from
    the workbook, or an ``externalReferences`` list in it."""
    return (any(n.lower().startswith("xl/externallinks/") for n in part_names)
            or any(t.lower().endswith("/externallink") for t in workbook_rel_types)
            or "externalReferences" in workbook_children)


def drop_external_links(wb, source: Path) -> int:
    """``wb`` (openpyxl, loaded from ``source`` with ``keep_links=False``) with no formula or defined name
    reading another workbook: each such formula cell holds its cached value. The number of cells changed."""
    wb._external_links = []  # loaded without them; never written back either
    cells = [(ws.title, cell.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for cell in row
             if cell.data_type == "f" and refers_outside(getattr(cell.value, "text", cell.value))]
    for name in [n for n, dn in wb.defined_names.items() if refers_outside(dn.attr_text)]:
        del wb.defined_names[name]
    for ws in wb.worksheets:
        for name in [n for n, dn in ws.defined_names.items() if refers_outside(dn.attr_text)]:
            del ws.defined_names[name]
    if not cells:
        return 0
    import openpyxl  # the caller has loaded it already (openpyxl's path): this costs nothing more

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cached = openpyxl.load_workbook(source, data_only=True, keep_vba=False, keep_links=False)
    for title, ref in cells:
        wb[title][ref].value = cached[title][ref].value
    return len(cells)
