"""The spreadsheet formula of a computed field (a sum, a ratio or an aggregate of a list, spec ``computed``).

Below its users: the template writer (author.template) writes it into the blank return, a copy with
its totals' formulas restored (render.fix_totals) writes it back, and the Checks sheet
(author.checks_sheet_rules) compares a typed total with the same expression, so the three agree.
The values themselves are worked out by ``spec.computed``, the one evaluator; the formula carries the
same ``scale`` and ``decimals`` (``ROUND(num/den*100,1)``), so the cell shows the figure the report gives.
An aggregate of a list is a SUMPRODUCT over the list's fixed row range: Excel and LibreOffice both
compute it, and it needs no function newer than Excel 2007 (FIELD-NOTES, "Formulas that check as the
provider types").
"""

from __future__ import annotations

from collections.abc import Callable

from . import layout
from .return_spec import Computed, ReturnSpec


def computed_formula(spec: ReturnSpec, field_id: str, key: str = "",
                     index: dict[tuple[str, str], layout.Slot] | None = None) -> str:
    """The formula of a computed field at one key (column or row), e.g. '=IF(COUNT(C5,C6)=0,"",SUM(C5,C6))'.

    The template writes it; ``--fix-totals`` (render.fix_totals) restores it. A ratio
    shows an empty cell rather than #DIV/0! when its denominator is empty or 0.
    """
    field = spec.field(field_id)
    computed = field.computed
    if computed is None:
        raise ValueError(f"The field '{field_id}' is not a computed field.")
    if computed.aggregate:
        return "=" + finish(computed, aggregate_expression(spec, computed))
    index = index if index is not None else layout.slot_index(spec)
    cells = [index[(part, key)].cell for part in computed.of]
    if computed.op == "sum":
        # Blank until the month has an input: a 0 in a month not yet reported reads as no staff.
        joined = ",".join(cells)
        return f'=IF(COUNT({joined})=0,"",{finish(computed, f"SUM({joined})")})'
    num, den = cells
    return f'=IF(OR({den}="",{den}=0),"",{finish(computed, f"{num}/{den}")})'


def finish(computed: Computed, expression: str) -> str:
    """``expression`` times ``scale`` and rounded to ``decimals``, as spec.computed works it out."""
    if computed.scale != 1:
        expression = f"{expression}*{computed.scale:.15g}"
    if computed.decimals is not None:
        expression = f"ROUND({expression},{computed.decimals})"
    return expression


def computed_expression(spec: ReturnSpec, computed: Computed, ref: Callable[[str], str]) -> str:
    """The value of a computed field over ``ref(part)`` of each of its parts (a cell, or a range on the
    Checks sheet), with its scale and decimals: what its formula shows, without the blank-cell guard."""
    if computed.aggregate:
        return f"({finish(computed, aggregate_expression(spec, computed))})"
    refs = [ref(part) for part in computed.of]
    core = f"({'+'.join(refs)})" if computed.op == "sum" else f"{refs[0]}/{refs[1]}"
    return f"({finish(computed, core)})"


def aggregate_expression(spec: ReturnSpec, computed: Computed) -> str:
    """SUMPRODUCT over the list's rows: the sum of ``column`` or the count of started rows, where each
    ``where`` field (trimmed; Excel's = ignores case, as spec.computed does) is one of its values."""
    sheet = spec.sheet(computed.list_sheet)

    def whole(fid: str) -> str:
        r1, c1, r2, c2 = layout.field_range(spec, sheet, spec.field(fid))
        return layout.absolute_ref(sheet.name, r1, c1, r2, c2)

    keep = ["(" + "+".join(f'(TRIM({whole(fid)})="{_text(v)}")' for v in values) + ")"
            for fid, values in computed.where.items()]
    if computed.op == "sum":
        column = whole(computed.column)
        # The comma form: text in the column counts 0 there (the validator reports the cell).
        return f"SUMPRODUCT({'*'.join(keep)}*1,{column})" if keep else f"SUM({column})"  # *1: TRUE is 1
    if computed.column is not None:
        rows = f"(LEN(TRIM({whole(computed.column)}))>0)"
    else:  # a started row: any input cell filled in (a computed column's formula does not start one)
        inputs = [f.id for f in sheet.expanded_fields if f.computed is None]
        rows = "((" + "+".join(f"LEN(TRIM({whole(fid)}))" for fid in inputs) + ")>0)"
    return f"SUMPRODUCT({'*'.join([rows, *keep])}*1)"


def _text(value: str) -> str:
    return value.strip().replace('"', '""')
