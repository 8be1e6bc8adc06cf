"""Field checks from the spec, run with pandera once per batch of files.

Every usable cell of every file in the batch becomes one row of a long frame that carries
the cell's limits from the spec beside its value, so two pandera schemas (numbers and
text) check a whole batch in two ``validate`` calls. pandera's cost is per check, not per
row (about a millisecond each): one column per field would mean hundreds of checks a call,
these schemas have six. The limits come from the field's type and the spec:

=====================  ======================  ==========================================
field                  check                   finding
=====================  ======================  ==========================================
``lower``              value >= lower          ``below-minimum`` (numbers are never
                                               negative unless the spec says so)
``upper``              value <= upper          ``above-maximum`` (percent: 100)
``max_decimals`` 0     whole number            ``not-whole-number`` (counts)
``max_decimals`` n     at most n places        ``too-many-decimals`` (a spec's ``decimals``)
``query_decimals`` n   at most n places        ``many-decimals``, a query (FTE, days: 4)
``max_length``         length <= max           ``text-too-long``
``pattern``            full match              ``pattern-mismatch``
=====================  ======================  ==========================================

Only cells whose type is right reach the frame (checks.cells reports the others first).
Each failure case's row index maps back to its file, field and key, then to sheet and cell.
Dates and choices have no row here: their type check (checks.cells) is the whole check.
"""

from __future__ import annotations

import re
from typing import Any

from ..spec.return_spec import FieldSpec, ReturnSpec
from .context import FileCheck, number_text

_TOLERANCE = 1e-9
_EXAMPLE = re.compile(r"(?:written as|for example)\s+([^\s,;]+?)[.,;]?(?:\s|$)")

_SCHEMAS: dict[str, Any] = {}


def _fits_decimals(d):
    """Rows whose value has at most ``decimals`` places (within float noise)."""
    scaled = d["value"] * 10.0 ** d["decimals"]
    slack = _TOLERANCE * d["value"].abs().clip(lower=1.0) * 10.0 ** d["decimals"]
    return (scaled - scaled.round()).abs() <= slack


def _pattern_ok(d):
    ok = d["value"].notna()
    has = d["pattern"].notna()
    for pattern, index in d[has].groupby("pattern").groups.items():
        ok[index] = d.loc[index, "value"].astype(str).str.fullmatch(pattern).fillna(False).astype(bool)
    return ok


def schemas() -> dict[str, Any]:
    """The two long-format schemas (built once): 'numbers' and 'texts'."""
    if not _SCHEMAS:
        import pandera.pandas as pa  # heavy (about 0.5 s): only when a batch is checked

        _SCHEMAS["numbers"] = pa.DataFrameSchema(
            {"value": pa.Column(float), "lower": pa.Column(float, nullable=True),
             "upper": pa.Column(float, nullable=True), "decimals": pa.Column(float, nullable=True)},
            checks=[
                pa.Check(lambda d: d["lower"].isna() | (d["value"] >= d["lower"]), name="below-minimum"),
                pa.Check(lambda d: d["upper"].isna() | (d["value"] <= d["upper"]), name="above-maximum"),
                pa.Check(lambda d: (d["decimals"] != 0) | _fits_decimals(d), name="not-whole-number"),
                pa.Check(lambda d: d["decimals"].isna() | (d["decimals"] == 0) | _fits_decimals(d),
                         name="too-many-decimals"),
            ], name="numeric cells")
        _SCHEMAS["texts"] = pa.DataFrameSchema(
            {"value": pa.Column(), "max_length": pa.Column(float), "pattern": pa.Column(nullable=True)},
            checks=[
                pa.Check(lambda d: d["value"].astype(str).str.len() <= d["max_length"], name="text-too-long"),
                pa.Check(lambda d: d["pattern"].isna() | _pattern_ok(d), name="pattern-mismatch"),
            ], name="text cells")
    return _SCHEMAS


def warm(specs: dict[str, ReturnSpec] | None = None) -> None:
    """Import pandera and build the schemas now (before forking workers, so they share them)."""
    schemas()
    import pandas  # noqa: F401  (heavy: imported here, before the workers fork, not at start-up)


def pattern_hint(field: FieldSpec) -> str:
    """How to write a patterned value: the example in its definition, else the pattern."""
    m = _EXAMPLE.search(field.definition)
    return m.group(1) if m else field.pattern or ""


def check_fields(batch: list[FileCheck]) -> None:
    """Check every usable cell of every file in the batch: one pandera call for numbers, one for text."""
    nums: dict[str, list] = {"value": [], "lower": [], "upper": [], "decimals": []}
    texts: dict[str, list] = {"value": [], "max_length": [], "pattern": []}
    num_rows: list[tuple[int, FieldSpec, str]] = []
    text_rows: list[tuple[int, FieldSpec, str]] = []
    for i, fc in enumerate(batch):
        fields = fc.spec.fields_by_id
        for (fid, key), v in fc.data.values.items():
            if (fid, key) in fc.bad:
                continue
            f = fields[fid][1]
            if f.numeric:
                lo, hi, d = f.lower, f.upper, f.max_decimals
                nums["value"].append(float(v))
                nums["lower"].append(lo)
                nums["upper"].append(hi)
                nums["decimals"].append(d)
                num_rows.append((i, f, key))
            elif f.type == "text":
                texts["value"].append(v)
                texts["max_length"].append(float(f.max_length))
                texts["pattern"].append(f.pattern)
                text_rows.append((i, f, key))
    if num_rows:
        _validate(batch, "numbers", nums, num_rows)
    _query_decimals(batch, nums["value"], num_rows)
    if text_rows:
        _validate(batch, "texts", texts, text_rows)


def _query_decimals(batch: list[FileCheck], values: list[float], rows: list) -> None:
    """A figure with more places than its field's ``query_decimals`` is queried, not rejected
    (the cell stays usable). Few cells have such a limit, so plain Python is enough here."""
    for v, (i, f, key) in zip(values, rows):
        n = f.query_decimals
        if n is None:
            continue
        scaled = v * 10.0 ** n
        if abs(scaled - round(scaled)) > _TOLERANCE * max(abs(v), 1.0) * 10.0 ** n:
            batch[i].add("many-decimals", f.id, key, guidance="plausibility check",
                         found=number_text(batch[i].data.values[(f.id, key)]), expected=n)


def _validate(batch: list[FileCheck], which: str, columns: dict[str, list], rows: list) -> None:
    # pandas and pandera are heavy (about 0.8 s together): imported when a batch is checked, not at start-up.
    import pandas as pd
    import pandera.pandas as pa

    frame = pd.DataFrame({k: pd.Series(v, dtype=float if k in ("lower", "upper", "decimals", "max_length")
                                       or (which == "numbers" and k == "value") else object)
                          for k, v in columns.items()})
    try:
        schemas()[which].validate(frame, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    seen: set[tuple[str, int]] = set()
    for check, index in zip(cases["check"], cases["index"]):
        if index is None or index != index or (check, int(index)) in seen:
            continue
        seen.add((check, int(index)))  # one failure case per column of the failing row
        i, field, key = rows[int(index)]
        _report(batch[i], field, key, str(check))


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
        found, expected = v, pattern_hint(field)  # masked by findings.make
    else:  # a dtype or schema-level failure: not one of ours
        return
    fc.add(code, field.id, key, guidance=field.guidance, found=found, expected=expected, invalid=True,
           basis=field.limit_basis(_LIMIT_OF[code]))


# The field limit each code checks: its basis (spec.basis) decides error or query.
_LIMIT_OF = {"below-minimum": "min", "above-maximum": "max", "not-whole-number": "decimals",
             "too-many-decimals": "decimals", "text-too-long": "max_length", "pattern-mismatch": "pattern"}
