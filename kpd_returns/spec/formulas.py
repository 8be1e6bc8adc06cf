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
    Checks sheet), with its scale and decimals: what its formula shows, without the blank-cell guard.
    Bare (``a+b``, ``a/b*100``): the caller brackets it where it needs to."""
    if computed.aggregate:
        return finish(computed, aggregate_expression(spec, computed))
    refs = [ref(part) for part in computed.of]
    if computed.op == "ratio":
        return finish(computed, f"{refs[0]}/{refs[1]}")
    core = "+".join(refs)
    return finish(computed, f"({core})" if computed.scale != 1 and len(refs) > 1 else core)


def aggregate_expression(spec: ReturnSpec, computed: Computed) -> str:
    """SUMPRODUCT over the list's rows: the sum of ``column`` or the count of started rows, where each
    ``where`` field (trimmed; Excel's = ignores case, as spec.computed does) is one of its values."""
    if computed.op == "sum":
        column = _whole(spec, computed.list_sheet, computed.column)
        keep = _kept(spec, computed)
        # The comma form: text in the column counts 0 there (the validator reports the cell). *1: TRUE is 1.
        return f"SUMPRODUCT({'*'.join(keep)}*1,{column})" if keep else f"SUM({column})"
    return f"SUMPRODUCT({_rows(spec, computed, computed.column)}*1)"


def _whole(spec: ReturnSpec, list_sheet: str, fid: str) -> str:
    sheet = spec.sheet(list_sheet)
    r1, c1, r2, c2 = layout.field_range(spec, sheet, spec.field(fid))
    return layout.absolute_ref(sheet.name, r1, c1, r2, c2)


def _kept(spec: ReturnSpec, computed: Computed) -> list[str]:
    """One factor per ``where`` field: 1 on a row whose value is one of the given ones."""
    return ["(" + "+".join(f'(TRIM({_whole(spec, computed.list_sheet, fid)})="{_text(v)}")' for v in values) + ")"
            for fid, values in computed.where.items()]


def _rows(spec: ReturnSpec, computed: Computed, column: str | None) -> str:
    """1 on a row counted: ``column`` filled in, or (none given) a started row, any input cell filled in
    (a computed column's formula does not start one); and kept by ``where``."""
    if column is not None:
        rows = f"(LEN(TRIM({_whole(spec, computed.list_sheet, column)}))>0)"
    else:
        inputs = [f.id for f in spec.sheet(computed.list_sheet).expanded_fields if f.computed is None]
        rows = "((" + "+".join(f"LEN(TRIM({_whole(spec, computed.list_sheet, fid)}))" for fid in inputs) + ")>0)"
    return "*".join([rows, *_kept(spec, computed)])


def aggregate_ready(spec: ReturnSpec, computed: Computed) -> str:
    """1 when an aggregate has a value (spec.computed.aggregate): no summed cell of a kept row is text or
    below or above its field's limits (such a cell is reported at itself, and leaves the total unknown)."""
    if computed.op != "sum":
        return "1"
    field = spec.field(computed.column)
    col = _whole(spec, computed.list_sheet, computed.column)
    bad = [f"ISTEXT({col})"]
    if field.computed is None:
        bad += [f"ISNUMBER({col})*({col}<{field.lower:g})"] if field.lower is not None else []
        bad += [f"ISNUMBER({col})*({col}>{field.upper:g})"] if field.upper is not None else []
    return f"(SUMPRODUCT({_rows(spec, computed, computed.column)}*({'+'.join(bad)}>0))=0)"


def _text(value: str) -> str:
    return value.strip().replace('"', '""')
