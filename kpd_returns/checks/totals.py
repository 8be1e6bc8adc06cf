"""Totals (KPD 9, 14, 15): recomputed from their inputs, never taken from the file.

``recompute`` works out every computed field for every key whose inputs are all present
and valid; a month with a missing or invalid input has no total (its other findings say
why). A ratio whose denominator is 0 has no value; a result that is not finite or is beyond
``FIGURE_CEILING`` (spec.constants) is ``total-out-of-range`` at its cell and has no value either.
The arithmetic is kpd_returns.spec.computed's, shared with the consolidated workbook and the packs.

The ``computed_totals`` rule then looks at the cells:

* a formula: fine. Its cached value is not compared (a file saved by openpyxl has none,
  and LibreOffice's may be stale);
* a typed number that disagrees with the inputs by more than ``tolerance``:
  ``total-mismatch`` (found = the typed number, expected = the recomputed total);
* a typed number that agrees: ``total-typed-over`` (a warning: restore the formula);
* a ratio with denominator 0 and a numerator that is not 0: ``total-divide-by-zero``;
  0 / 0 gives nothing, and so does any 0 denominator of a field whose spec says
  ``zero_denominator = "blank"`` (a month-by-month flow: not the provider's mistake).
"""

from __future__ import annotations

import math

from ..spec.basis import CEILING
from ..spec.computed import ListRow, evaluate, order
from ..spec.constants import FIGURE_CEILING
from ..spec.return_spec import RuleSpec
from .context import FileCheck, number_text
from .registry import rule


def recompute(fc: FileCheck) -> None:
    """Fill ``fc.computed`` (and ``fc.zero_denominator``) for every computed field."""
    lists: dict[str, list[ListRow]] = {}

    def rows_of(name: str) -> list[ListRow]:
        if name not in lists:
            lists[name] = list_rows(fc, name)
        return lists[name]

    for sheet, f in order(fc.spec.sheets):  # a ratio of two list totals after both
        for key in fc.idx.keys[sheet.name]:
            outcome = evaluate(f.computed, lambda fid, key=key: fc.value(fid, key), rows_of=rows_of)
            if outcome.zero_denominator:
                if outcome.reportable:
                    fc.zero_denominator.add((f.id, key))
            elif outcome.overflow or (outcome.value is not None and not _in_range(outcome.value)):
                _out_of_range(fc, f, key, outcome.value)
            elif outcome.value is not None:
                fc.computed[(f.id, key)] = outcome.value


def list_rows(fc: FileCheck, name: str) -> list[ListRow]:
    """The started rows of a list sheet as spec.computed reads them: a row is started when one of its
    input cells is filled in (a computed column's formula does not start a row)."""
    fields = fc.spec.sheet(name).expanded_fields
    inputs = [f.id for f in fields if f.computed is None]
    totals = [f.id for f in fields if f.computed is not None]
    rows = []
    for key in fc.idx.keys[name]:
        row = {fid: fc.value(fid, key) for fid in inputs if fc.filled(fid, key)}
        if row:
            row.update({fid: v for fid in totals if (v := fc.value(fid, key)) is not None})
            rows.append(row)
    return rows


def _in_range(value: float) -> bool:
    """A figure a return can hold: finite and within ``FIGURE_CEILING`` (a ratio over a denominator
    of 1e-300 is infinity, a sum of twelve counts of 10^9 is past the ceiling)."""
    return math.isfinite(value) and abs(value) <= FIGURE_CEILING


def _out_of_range(fc: FileCheck, f, key: str, value: float | None) -> None:
    """``total-out-of-range`` at the computed cell, which then has no value (nothing stores or sums it)."""
    fc.add("total-out-of-range", f.id, key, guidance=f.guidance, invalid=True, detail=fc.month_label(key), basis=CEILING,
           found="infinity" if value is None else number_text(value), expected=f"{FIGURE_CEILING:,.0f}")


@rule("computed_totals", "sheets", each_sheet=True)
def computed_totals(fc: FileCheck, r: RuleSpec) -> None:
    tolerance = float(r.params.get("tolerance", 0.005))
    for name in r.params["sheets"]:
        for f in fc.spec.sheet(name).expanded_fields:
            if f.computed is None:
                continue
            guidance = f.guidance or r.guidance
            for key in fc.idx.keys[name]:
                if fc.after_period(key):
                    continue  # months after the period have their own rule
                if (f.id, key) in fc.zero_denominator:
                    numerator = fc.value(f.computed.of[0], key)
                    if numerator:
                        fc.add("total-divide-by-zero", f.id, key, guidance=guidance, found=numerator,
                               detail=fc.month_label(key))
                    continue
                total = fc.computed.get((f.id, key))
                if total is None or not fc.typed(f.id, key) or (f.id, key) in fc.bad:
                    continue
                typed = fc.data.values.get((f.id, key))
                if typed is None:
                    continue
                if abs(typed - total) > tolerance:
                    fc.add("total-mismatch", f.id, key, guidance=guidance, found=typed, expected=total,
                           invalid=True)
                else:
                    fc.add("total-typed-over", f.id, key, guidance=guidance)
