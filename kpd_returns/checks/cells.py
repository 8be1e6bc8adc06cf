"""Cell types and required cells, checked before any figure is compared.

* Every located cell is parsed with ``values.parse``: text in a number cell ("12 FTE",
  "n/a", "1,5"), a date that is not a date (or falls outside the years a return can mean,
  spec.constants ``PLAUSIBLE_YEARS``) and a choice not in its list are reported
  with the text found, and the cell is left out of every later check.
* A computed field whose cell holds a formula is not parsed: its cached value is
  never trusted (checks.totals recomputes it). A typed number there is parsed.
* Required cells: form fields marked ``required``; grid fields marked ``required`` in
  every column, except on sheets a ``months_in_period_required`` rule covers (that rule
  asks only for the months within the period); fixed-row list fields in every row;
  free-row list fields in rows that have been started. Optional sheets have none.
"""

from __future__ import annotations

from ..read.values import Problem, parse
from ..spec.basis import PLAUSIBLE_DATE, UNREADABLE
from ..spec.constants import years_text
from .context import FileCheck


def parse_cells(fc: FileCheck, date1904: bool = False) -> None:
    """Fill ``fc.data.values`` with the parsed value of every cell whose type is right."""
    idx = fc.idx
    values = fc.data.values
    for key, loc in fc.data.cells.items():
        field = idx.field_of[loc.field]
        if field.computed is not None and loc.formula is not None:
            continue
        v = parse(field, loc.raw, date1904)
        if v is None:
            continue
        if isinstance(v, Problem):
            found = v.found  # masked by findings.make, whatever the field type
            expected = ", ".join(field.choices or []) if v.code == "not-in-list" else None
            basis = field.limit_basis("choices") if v.code == "not-in-list" else UNREADABLE
            if v.code == "date-out-of-range":
                found, expected = f"{found.day:02d}/{found.month:02d}/{found.year:04d}", years_text()
                basis = PLAUSIBLE_DATE
            fc.add(v.code, loc.field, loc.key, guidance=field.guidance, found=found, expected=expected,
                   invalid=True, basis=basis)
        else:
            values[key] = v


def started_rows(fc: FileCheck, sheet_name: str) -> list[str]:
    """Row keys of a list sheet with at least one filled cell, in sheet order."""
    return fc.started_rows(sheet_name)


def month_rule_sheets(fc: FileCheck) -> set[str]:
    return {name for r in fc.spec.rules if r.kind == "months_in_period_required"
            for name in r.params.get("sheets", [])}


def check_required(fc: FileCheck) -> None:
    """``required-missing`` for each empty required cell (see the module notes)."""
    by_month_rule = month_rule_sheets(fc)
    for sheet in fc.spec.sheets:
        if sheet.optional or (sheet.kind == "grid" and sheet.name in by_month_rule) or \
                sheet.name in fc.unreadable_sheets:
            continue
        required = [f for f in sheet.expanded_fields if f.required and f.computed is None]
        if not required:
            continue
        keys = fc.idx.keys[sheet.name]
        if sheet.kind == "list" and not sheet.rows:
            keys = started_rows(fc, sheet.name)
        for f in required:
            basis = fc.spec.required_basis(sheet, f)
            for key in keys:
                if not fc.filled(f.id, key):
                    fc.add("required-missing", f.id, key, guidance=f.guidance, basis=basis)
