"""Field checks from the spec, run with pandera once per sheet over a whole batch of files.

One ``DataFrameSchema`` per sheet is built from the spec: a grid gives one row per column
key, a list one row per list row, a form one row; one DataFrame column per field. The
checks come from the field's type and limits:

=====================  ======================  ==========================================
field                  check                   finding
=====================  ======================  ==========================================
``lower``              value >= lower          ``below-minimum`` (numbers are never
                                               negative unless the spec says so)
``upper``              value <= upper          ``above-maximum`` (percent: 100)
``max_decimals`` 0     whole number            ``not-whole-number`` (counts)
``max_decimals`` n     at most n places        ``too-many-decimals`` (FTE: 2)
``max_length``         length <= max           ``text-too-long``
``pattern``            full match              ``pattern-mismatch``
=====================  ======================  ==========================================

Only cells whose type is right reach the frame (checks.cells reports the others first).
pandera costs about a millisecond per ``validate`` call whatever the size, so
``check_fields`` concatenates the rows of every file in the batch and maps each failure
case back (frame index -> file and key -> sheet and cell).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from ..spec import FieldSpec, ReturnSpec, SheetSpec
from .context import FileCheck, number_text
from .personal_data import mask_text

_TOLERANCE = 1e-9
_EXAMPLE = re.compile(r"(?:written as|for example)\s+([^\s,;]+?)[.,;]?(?:\s|$)")

_SCHEMAS: dict[tuple[int, str], Any] = {}


def _decimals_check(pa, d: int):
    def fits(s):
        return (s - s.round(d)).abs() <= _TOLERANCE * s.abs().clip(lower=1.0)

    return pa.Check(fits, name="not-whole-number" if d == 0 else "too-many-decimals")


def _column(pa, field: FieldSpec):
    checks = []
    if field.numeric:
        lo, hi, d = field.lower, field.upper, field.max_decimals
        if lo is not None:
            checks.append(pa.Check(lambda s, lo=lo: s >= lo, name="below-minimum"))
        if hi is not None:
            checks.append(pa.Check(lambda s, hi=hi: s <= hi, name="above-maximum"))
        if d is not None:
            checks.append(_decimals_check(pa, d))
        return pa.Column(float, nullable=True, required=False, checks=checks) if checks else None
    if field.type == "text":
        n = field.max_length
        checks.append(pa.Check(lambda s, n=n: s.str.len() <= n, name="text-too-long"))
        if field.pattern:
            pattern = field.pattern
            checks.append(pa.Check(lambda s, p=pattern: s.str.fullmatch(p).fillna(False).astype(bool),
                                   name="pattern-mismatch"))
        return pa.Column(object, nullable=True, required=False, checks=checks)
    return None  # dates and choices: their type check (checks.cells) is the whole check


def sheet_schema(spec: ReturnSpec, sheet: SheetSpec):
    """(schema, {field id: FieldSpec}) for the fields of ``sheet`` that have checks; None if none."""
    cache_key = (id(spec), sheet.name)
    hit = _SCHEMAS.get(cache_key)
    if hit is None or hit[0] is not spec:
        import pandera.pandas as pa

        columns, checked = {}, {}
        for f in sheet.expanded_fields:
            col = _column(pa, f)
            if col is not None:
                columns[f.id] = col
                checked[f.id] = f
        schema = pa.DataFrameSchema(columns, strict=False, name=sheet.name) if columns else None
        _SCHEMAS[cache_key] = (spec, schema, checked)
    return _SCHEMAS[cache_key][1:]


def warm(specs: dict[str, ReturnSpec]) -> None:
    """Import pandera and build every schema now (before forking workers, so they share them)."""
    for spec in specs.values():
        for sheet in spec.sheets:
            sheet_schema(spec, sheet)
    import pandas  # noqa: F401


def pattern_hint(field: FieldSpec) -> str:
    """How to write a patterned value: the example in its definition, else the pattern."""
    m = _EXAMPLE.search(field.definition)
    return m.group(1) if m else field.pattern or ""


def check_fields(batch: list[FileCheck]) -> None:
    """Run every sheet schema once over all files of the batch; add findings to each file."""
    by_spec: dict[int, list[int]] = defaultdict(list)
    for i, fc in enumerate(batch):
        by_spec[id(fc.spec)].append(i)
    for members in by_spec.values():
        spec = batch[members[0]].spec
        schemas = {sheet.name: sheet_schema(spec, sheet) for sheet in spec.sheets}
        # (file, field, key, value) of each usable cell, by sheet: one pass over each file's values.
        cells: dict[str, list[tuple[int, str, str, Any]]] = defaultdict(list)
        for i in members:
            fc = batch[i]
            sheet_of = fc.idx.sheet_of
            for (fid, key), v in fc.data.values.items():
                if (fid, key) not in fc.bad:
                    cells[sheet_of[fid].name].append((i, fid, key, v))
        for name, (schema, checked) in schemas.items():
            if schema is not None and cells.get(name):
                _check_sheet(batch, cells[name], schema, checked)


def _check_sheet(batch: list[FileCheck], cells: list[tuple[int, str, str, Any]], schema,
                 checked: dict[str, FieldSpec]) -> None:
    import numpy as np
    import pandas as pd
    import pandera.pandas as pa

    rows: list[tuple[int, str]] = []
    row_of: dict[tuple[int, str], int] = {}
    columns: dict[str, dict[int, Any]] = defaultdict(dict)
    for i, fid, key, v in cells:
        if fid in checked:
            r = row_of.get((i, key))
            if r is None:
                r = row_of[(i, key)] = len(rows)
                rows.append((i, key))
            columns[fid][r] = v
    if not rows:
        return
    n = len(rows)
    frame = {}
    for fid, cells in columns.items():
        if checked[fid].numeric:
            arr = np.full(n, np.nan)
            for r, v in cells.items():
                arr[r] = v
        else:
            arr = np.full(n, None, dtype=object)
            for r, v in cells.items():
                arr[r] = v
        frame[fid] = arr
    try:
        schema.validate(pd.DataFrame(frame), lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    for fid, check, index in zip(cases["column"], cases["check"], cases["index"]):
        if fid not in checked or index is None or index != index:
            continue
        i, key = rows[int(index)]
        _report(batch[i], checked[fid], key, str(check))


def _report(fc: FileCheck, field: FieldSpec, key: str, code: str) -> None:
    v = fc.data.values[(field.id, key)]
    found: Any
    expected: Any = None
    if code == "below-minimum":
        found, expected = number_text(v), number_text(field.lower)
    elif code == "above-maximum":
        found, expected = number_text(v), number_text(field.upper)
    elif code == "not-whole-number":
        found = number_text(v)
    elif code == "too-many-decimals":
        found, expected = number_text(v), field.max_decimals
    elif code == "text-too-long":
        found, expected = len(v), field.max_length
    elif code == "pattern-mismatch":
        found, expected = (mask_text(v) if field.checks_personal_data else v), pattern_hint(field)
    else:  # a dtype or schema-level failure: not one of ours
        return
    fc.add(code, field.id, key, guidance=field.guidance, found=found, expected=expected, invalid=True)
