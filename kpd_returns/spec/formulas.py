"""The spreadsheet formula of a computed field (a sum or a ratio, spec ``computed``) at one cell.

Below both its users: the template writer (author.template) writes it into the blank return, and
a copy with its totals' formulas restored (render.fix_totals) writes it back, so the two always agree.
The values themselves are worked out by ``spec.computed``, the one evaluator.
"""

from __future__ import annotations

from . import layout
from .return_spec import ReturnSpec


def computed_formula(spec: ReturnSpec, field_id: str, key: str = "",
                     index: dict[tuple[str, str], layout.Slot] | None = None) -> str:
    """The formula of a computed field at one key (column or row), e.g. '=SUM(C5,C6,C7,C8)'.

    The template writes it; ``--fix-totals`` (render.fix_totals) restores it. A ratio
    shows an empty cell rather than #DIV/0! when its denominator is empty or 0.
    """
    field = spec.field(field_id)
    if field.computed is None:
        raise ValueError(f"The field '{field_id}' is not a computed field.")
    index = index if index is not None else layout.slot_index(spec)
    cells = [index[(part, key)].cell for part in field.computed.of]
    if field.computed.op == "sum":
        # Blank until the month has an input: a 0 in a month not yet reported reads as no staff.
        joined = ",".join(cells)
        return f'=IF(COUNT({joined})=0,"",SUM({joined}))'
    num, den = cells
    return f'=IF(OR({den}="",{den}=0),"",{num}/{den})'
