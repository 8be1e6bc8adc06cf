"""The one evaluator of a spec's computed fields (``computed = { op = ..., of = [...] }``).

Used by the checks (recomputing totals, kpd_returns.checks.totals), the consolidated
workbook (key measures built from totals) and the packs, so a total or a ratio is
worked out the same way everywhere:

* ``sum``: the sum of the fields in ``of``;
* an aggregate of a list sheet (``list``): ``sum`` adds up its ``column`` over the started rows
  (an empty cell adds 0, an empty list gives 0), ``count`` counts them (rows with ``column`` filled in,
  when given); ``where`` keeps only rows whose field (trimmed, any case) is one of the given values.
  A cell of the column that failed its own checks leaves the total with no value;
* ``ratio``: ``of[0] / of[1]``; a denominator of 0 gives no value, and says so
  (``zero_denominator``), so a check can tell 0 / 0 (nothing to report) from 5 / 0;
  a field with ``zero_denominator = "blank"`` is left empty either way (``reportable``);
* then multiplied by ``scale`` (100 for a percentage) and rounded to ``decimals``
  places when the spec gives them, halves away from zero as a spreadsheet's ROUND does (the
  template's formula, spec.formulas, writes the same ROUND: 12.5 is 13 in both).
* a result that is not a finite number (a ratio over a denominator of 1e-300) gives no
  value, and says so (``overflow``): nothing downstream ever holds infinity.

A missing input (None: empty, invalid or not reported) gives no value: a total is never
worked out from part of its inputs. ``digits`` rounds away floating-point noise
(0.1 + 0.2) before anything is compared or shown; callers keep the precision they
have always shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .sheet_model import Computed, FieldSpec, SheetSpec

# One started row of a list sheet: field id -> its usable value (a number, a choice or text); a cell
# filled in but unusable (it failed its own checks) is there as None; an empty cell is not there.
ListRow = dict[str, "float | str | None"]

NOISE_DIGITS = 9


@dataclass(frozen=True)
class Outcome:
    value: float | None
    zero_denominator: bool = False  # a ratio whose denominator is 0 (value is None)
    reportable: bool = True  # False: the spec says a 0 denominator is left blank, never a finding
    overflow: bool = False  # the result is not a finite number (value is None)


def evaluate(computed: Computed, value_of: Callable[[str], float | None], *, digits: int = NOISE_DIGITS,
             rows_of: Callable[[str], list[ListRow]] | None = None) -> Outcome:
    """Work out one computed field from ``value_of(field id)`` for each of its inputs; an aggregate of a
    list from ``rows_of(list sheet name)``, its started rows. Without ``rows_of`` (the consolidated
    workbook, which holds only the usable cells of a list) an aggregate has no value here: the caller
    takes the figure this evaluator worked out when the return was checked (stored in the ledger)."""
    if computed.aggregate:
        raw = aggregate(computed, rows_of(computed.list_sheet)) if rows_of else None
        if raw is None:
            return Outcome(None)
        return _scaled(computed, raw, digits)
    inputs = [value_of(fid) for fid in computed.of]
    if any(v is None for v in inputs):
        return Outcome(None)
    if computed.op == "sum":
        raw = sum(inputs)
    elif inputs[1] == 0:
        return Outcome(None, zero_denominator=True, reportable=computed.zero_denominator == "finding")
    else:
        raw = inputs[0] / inputs[1]
    return _scaled(computed, raw, digits)


def _scaled(computed: Computed, raw: float, digits: int) -> Outcome:
    if not math.isfinite(raw * computed.scale):  # 1e9 / 1e-300: never a figure anything stores or adds up
        return Outcome(None, overflow=True)
    value = round(raw * computed.scale, digits)
    if computed.decimals is not None:
        value = round_half_up(value, computed.decimals)
    return Outcome(value)


def round_half_up(value: float, decimals: int) -> float:
    """``value`` to ``decimals`` places, halves away from zero (a spreadsheet's ROUND), on the number as
    written (2.675 is 2.68, where Python's round gives 2.67 from its binary form). From 10^15 up a
    float has no places to round (and Decimal would refuse 1e300 to 10 places)."""
    if abs(value) >= 1e15:
        return value
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def kept(row: ListRow, where: dict[str, list[str]]) -> bool:
    """A list row is kept when each ``where`` field's text (trimmed, any case) is one of its values."""
    for fid, values in where.items():
        text = row.get(fid)
        if not isinstance(text, str) or text.strip().casefold() not in {v.casefold() for v in values}:
            return False
    return True


def aggregate(computed: Computed, rows: list[ListRow]) -> float | None:
    """The sum or count of a list's started ``rows`` (see the module's words); None when a summed cell
    is unusable: a total is never worked out from part of its inputs."""
    chosen = [row for row in rows if kept(row, computed.where)]
    column = computed.column
    if computed.op == "count":
        return float(sum(1 for row in chosen if column is None or column in row))
    values = [row[column] for row in chosen if column in row]
    if any(v is None or isinstance(v, str) for v in values):
        return None
    return float(sum(values))


def order(sheets: list[SheetSpec]) -> list[tuple[SheetSpec, FieldSpec]]:
    """Every computed field, each after the computed fields it is worked out from (a ratio of two
    aggregates, a sum of a list's computed column), otherwise in sheet order."""
    found = {f.id: (s, f) for s in sheets for f in s.expanded_fields if f.computed is not None}
    out: list[tuple[SheetSpec, FieldSpec]] = []
    placed: set[str] = set()

    def place(fid: str, path: frozenset[str]) -> None:
        if fid in placed or fid in path:  # a circle is left in sheet order
            return
        for part in found[fid][1].computed.inputs:
            if part in found:
                place(part, path | {fid})
        placed.add(fid)
        out.append(found[fid])

    for fid in found:
        place(fid, frozenset())
    return out


def total(values: list[float | None], *, digits: int = NOISE_DIGITS) -> float | None:
    """The sum of figures, None if any is missing; one figure is itself (nothing to add, nothing rounded)."""
    if len(values) == 1:
        return values[0]
    if any(v is None for v in values):
        return None
    result = sum(values)
    return round(result, digits) if math.isfinite(result) else None


def ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    """``numerator / denominator * scale``; None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    result = numerator / denominator * scale
    return result if math.isfinite(result) else None


def value(computed: Computed, value_of: Callable[[str], float | None], *, digits: int = NOISE_DIGITS) -> float | None:
    """Just the value of ``evaluate`` (None when it cannot be worked out)."""
    return evaluate(computed, value_of, digits=digits).value


def aggregate_problem(sheets: list[SheetSpec], sheet: SheetSpec, f: FieldSpec) -> tuple[str, str] | None:
    """(key, sentence) when an aggregate of a list names what is not there (see ``aggregate``)."""
    c = f.computed
    if sheet.kind == "list":
        return "list", f"computed field '{f.id}' is on a list sheet: an aggregate of a list goes on a form or grid sheet"
    target = next((s for s in sheets if s.name == c.list_sheet), None)
    if target is None or target.kind != "list":
        what = "not a sheet of this return" if target is None else f"a {target.kind} sheet, not a list"
        return "list", f"computed field '{f.id}' adds up '{c.list_sheet}', which is {what}"
    fields = {x.id: x for x in target.expanded_fields}
    if c.column is not None and c.column not in fields:
        return "column", f"computed field '{f.id}' uses column '{c.column}', not a field of list '{target.name}'"
    if c.op == "sum" and not fields[c.column].numeric:
        return "column", f"computed field '{f.id}' adds up '{c.column}', which is not a number field"
    for fid, values in c.where.items():
        if fid not in fields:
            return f"where.{fid}", f"computed field '{f.id}' filters on '{fid}', not a field of list '{target.name}'"
        w = fields[fid]
        if w.type not in ("choice", "text"):
            return f"where.{fid}", f"computed field '{f.id}' filters on '{fid}', which is not a choice or text field"
        unknown = [v for v in values if w.choices and v.casefold() not in {x.casefold() for x in w.choices}]
        if unknown:
            return f"where.{fid}", (f"computed field '{f.id}' filters on {unknown}, not among the choices of "
                                    f"'{fid}' ({', '.join(w.choices)})")
    return None
