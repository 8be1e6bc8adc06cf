"""Where each field lives in a workbook: the single source of cell positions.

The template writer and the reader both ask this module, so a template and the
checks of it cannot drift apart. Rows and columns are 1-based here.
"""

from __future__ import annotations

from typing import NamedTuple

from .return_spec import FIRST_DATA_ROW, HEADER_ROW, FieldSpec, ReturnSpec, SheetSpec

FORM_VALUE_COL = 2
GRID_FIRST_VALUE_COL = 3
LIST_FIRST_FIELD_COL = 2


def col_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def absolute_ref(sheet: str, r1: int, c1: int, r2: int | None = None, c2: int | None = None) -> str:
    """An absolute reference for a defined name: 'Staffing'!$C$5:$N$5."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    first = f"${col_letter(c1)}${r1}"
    if r2 is None or (r2 == r1 and c2 == c1):
        return f"{quoted}!{first}"
    return f"{quoted}!{first}:${col_letter(c2)}${r2}"


class Slot(NamedTuple):
    """One input or computed cell: a field at a key (column key, row key or '' for a form).

    A NamedTuple rather than a frozen dataclass: an MMIR return has about 9,500 slots,
    built on every run, and a tuple is built five times faster."""

    sheet: str
    field: str
    key: str
    row: int
    col: int

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    @property
    def ref(self) -> str:
        """Sheet and cell as users write it: Staffing!D12 ('Late reworks'!B5 when quoted)."""
        name = f"'{self.sheet}'" if " " in self.sheet else self.sheet
        return f"{name}!{self.cell}"


def column_keys(spec: ReturnSpec, sheet: SheetSpec) -> list[str]:
    if sheet.kind == "grid":
        return list(spec.column_sets[sheet.columns].keys)
    return []


def header_labels(spec: ReturnSpec, sheet: SheetSpec) -> list[str]:
    """The header row's labels, from column A."""
    if sheet.kind == "form":
        return ["Field", "Value", "Guidance"]
    if sheet.kind == "grid":
        return ["Measure", "Guidance", *spec.column_sets[sheet.columns].labels]
    return [sheet.row_label, *[f.label for f in sheet.expanded_fields]]


def row_labels(sheet: SheetSpec) -> list[str]:
    """Column A labels of the data rows, top to bottom."""
    if sheet.kind in ("form", "grid"):
        return [f.label for f in sheet.expanded_fields]
    return [r.label for r in sheet.row_keys]


def last_row(sheet: SheetSpec) -> int:
    return FIRST_DATA_ROW + len(row_labels(sheet)) - 1


def last_col(spec: ReturnSpec, sheet: SheetSpec) -> int:
    return len(header_labels(spec, sheet))


def slots(spec: ReturnSpec, sheet: SheetSpec) -> list[Slot]:
    """Every field cell of a sheet, in reading order (row by row)."""
    out: list[Slot] = []
    fields = sheet.expanded_fields
    if sheet.kind == "form":
        for i, f in enumerate(fields):
            out.append(Slot(sheet.name, f.id, "", FIRST_DATA_ROW + i, FORM_VALUE_COL))
    elif sheet.kind == "grid":
        keys = column_keys(spec, sheet)
        for i, f in enumerate(fields):
            for j, key in enumerate(keys):
                out.append(Slot(sheet.name, f.id, key, FIRST_DATA_ROW + i, GRID_FIRST_VALUE_COL + j))
    else:
        for i, rk in enumerate(sheet.row_keys):
            for j, f in enumerate(fields):
                out.append(Slot(sheet.name, f.id, rk.key, FIRST_DATA_ROW + i, LIST_FIRST_FIELD_COL + j))
    return out


def field_range(spec: ReturnSpec, sheet: SheetSpec, field: FieldSpec) -> tuple[int, int, int, int]:
    """(first_row, first_col, last_row, last_col) of a field: the target of its defined name."""
    fields = sheet.expanded_fields
    i = next(k for k, f in enumerate(fields) if f.id == field.id)
    if sheet.kind == "form":
        r = FIRST_DATA_ROW + i
        return r, FORM_VALUE_COL, r, FORM_VALUE_COL
    if sheet.kind == "grid":
        r = FIRST_DATA_ROW + i
        n = len(column_keys(spec, sheet))
        return r, GRID_FIRST_VALUE_COL, r, GRID_FIRST_VALUE_COL + n - 1
    c = LIST_FIRST_FIELD_COL + i
    return FIRST_DATA_ROW, c, last_row(sheet), c


def defined_names(spec: ReturnSpec) -> dict[str, str]:
    """Defined name -> absolute reference, for every field of the return."""
    out = {}
    for sheet in spec.sheets:
        for f in sheet.expanded_fields:
            r1, c1, r2, c2 = field_range(spec, sheet, f)
            out[spec.defined_name(f.id)] = absolute_ref(sheet.name, r1, c1, r2, c2)
    return out


def slot_index(spec: ReturnSpec) -> dict[tuple[str, str], Slot]:
    """(field id, key) -> Slot for the whole return: built once per spec and kept on it (building it walks
    every cell of every sheet, and the checks across returns ask for it on each file that arrives)."""
    return spec.memo("layout.slot_index", _build_slot_index)


def _build_slot_index(spec: ReturnSpec) -> dict[tuple[str, str], Slot]:
    return {(s.field, s.key): s for sheet in spec.sheets for s in slots(spec, sheet)}


__all__ = [
    "HEADER_ROW", "FIRST_DATA_ROW", "Slot", "a1", "absolute_ref", "col_letter", "column_keys",
    "defined_names", "field_range", "header_labels", "last_col", "last_row", "row_labels",
    "slot_index", "slots",
]
