"""Field checks from the spec, run once per batch of files with pandera, or in plain Python.

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
``upper``              value <= upper          ``above-maximum`` (percent: 100; every number:
                                               at most ``FIGURE_CEILING``, 10^9, either sign)
``max_decimals`` 0     whole number            ``not-whole-number`` (counts)
``max_decimals`` n     at most n places        ``too-many-decimals`` (a spec's ``decimals``)
``query_decimals`` n   at most n places        ``many-decimals``, a query (FTE, days: 4)
``max_length``         length <= max           ``text-too-long``
``pattern``            full match              ``pattern-mismatch``
=====================  ======================  ==========================================

Only cells whose type is right reach the frame (checks.cells reports the others first).
Each failure case's row index maps back to its file, field and key, then to sheet and cell.
Dates and choices have no row here: their type check (checks.cells) is the whole check.

Two engines give the same findings (tests/test_field_engines.py holds them to it): pandera,
the engine of the command line, and plain Python (checks.field_limits), for where pandas
cannot be installed (the browser page runs this package in Pyodide). ``engine()`` picks
pandera when pandas and pandera are installed; the environment variable
``KPD_RETURNS_FIELD_ENGINE`` (``pandera``, ``python`` or ``auto``) or the ``engine``
argument of ``check_fields`` chooses one. Nothing here imports pandas at module level.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from ..spec.basis import CEILING
from ..spec.constants import FIGURE_CEILING
from ..spec.return_spec import FieldSpec, ReturnSpec
from .context import FileCheck, number_text
from .field_limits import TOLERANCE as _TOLERANCE, failures as python_failures, fits_decimals

ENGINE_VARIABLE = "KPD_RETURNS_FIELD_ENGINE"
ENGINES = ("pandera", "python")
_EXAMPLE = re.compile(r"(?:written as|for example)\s+([^\s,;]+?)[.,;]?(?:\s|$)")

_SCHEMAS: dict[str, Any] = {}


def _fits_decimals(d):
    """Rows whose value has at most ``decimals`` places (within float noise). A value beyond the figure
    ceiling has its own finding (``above-maximum``), and scaled up it could be infinity: it passes here."""
    scaled = d["value"] * 10.0 ** d["decimals"]
    slack = _TOLERANCE * d["value"].abs().clip(lower=1.0) * 10.0 ** d["decimals"]
    return ((scaled - scaled.round()).abs() <= slack) | (d["value"].abs() > FIGURE_CEILING)


def _pattern_ok(d):
    ok = d["value"].notna()
    # Text over its field's max_length is already an error (text-too-long) and is not tried against the
    # pattern: with the pattern shapes the spec allows (spec.patterns) a match then takes at most
    # quadratic time in max_length, never hours.
    has = d["pattern"].notna() & (d["value"].astype(str).str.len() <= d["max_length"])
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


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def engine(choice: str | None = None) -> str:
    """The field-limit engine to use: ``choice``, else the environment's, else pandera when installed."""
    value = (choice or os.environ.get(ENGINE_VARIABLE) or "auto").strip().lower()
    if value == "auto":
        return "pandera" if _installed("pandas") and _installed("pandera") else "python"
    if value not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE} must be pandera, python or auto, not '{value}'.")
    return value


def warm(specs: dict[str, ReturnSpec] | None = None) -> None:
    """Import pandera and build the schemas now (before forking workers, so they share them)."""
    if engine() != "pandera":
        return
    schemas()
    import pandas  # noqa: F401  (heavy: imported here, before the workers fork, not at start-up)


def pattern_hint(field: FieldSpec) -> str:
    """How to write a patterned value: the example in its definition, else the pattern."""
    m = _EXAMPLE.search(field.definition)
    return m.group(1) if m else field.pattern or ""


def check_fields(batch: list[FileCheck], engine_choice: str | None = None) -> None:
    """Check every usable cell of every file in the batch: one call for numbers, one for text.

    ``engine_choice``: 'pandera', 'python' or None for ``engine()``'s choice."""
    which_engine = engine(engine_choice)
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
                lo, hi, d = f.checked_lower, f.checked_upper, f.max_decimals
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
        _validate(batch, "numbers", nums, num_rows, which_engine)
    _query_decimals(batch, nums["value"], num_rows)
    if text_rows:
        _validate(batch, "texts", texts, text_rows, which_engine)


def _query_decimals(batch: list[FileCheck], values: list[float], rows: list) -> None:
    """A figure with more places than its field's ``query_decimals`` is queried, not rejected
    (the cell stays usable). Few cells have such a limit, so plain Python is enough here."""
    for v, (i, f, key) in zip(values, rows):
        n = f.query_decimals
        if n is None or abs(v) > FIGURE_CEILING:  # beyond the ceiling: above-maximum says so (and 1e305 * 10^4
            continue                              # is infinity, which round() cannot take)
        if not fits_decimals(v, n):
            batch[i].add("many-decimals", f.id, key, guidance="plausibility check",
                         found=number_text(batch[i].data.values[(f.id, key)]), expected=n)


def _validate(batch: list[FileCheck], which: str, columns: dict[str, list], rows: list, which_engine: str) -> None:
    cases = pandera_failures(which, columns) if which_engine == "pandera" else python_failures(which, columns)
    for check, index in cases:
        i, field, key = rows[index]
        _report(batch[i], field, key, check)


def pandera_failures(which: str, columns: dict[str, list]) -> list[tuple[str, int]]:
    """(check, row index) for every failing row, as the pandera schema reports them."""
    # pandas and pandera are heavy (about 0.8 s together), and absent in the browser: imported when a
    # batch is checked with this engine, never at start-up.
    import pandas as pd
    import pandera.pandas as pa

    frame = pd.DataFrame({k: pd.Series(v, dtype=float if k in ("lower", "upper", "decimals", "max_length")
                                       or (which == "numbers" and k == "value") else object)
                          for k, v in columns.items()})
    try:
        schemas()[which].validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    out: list[tuple[str, int]] = []
    seen: set[tuple[str, int]] = set()
    for check, index in zip(cases["check"], cases["index"]):
        if index is None or index != index or (str(check), int(index)) in seen:
            continue
        seen.add((str(check), int(index)))  # one failure case per column of the failing row
        out.append((str(check), int(index)))
    return out


def _limit_text(limit: float) -> str:
    """A limit as the message quotes it: the figure ceiling with its thousands marked (1,000,000,000)."""
    return f"{limit:,.0f}" if abs(limit) == FIGURE_CEILING else number_text(limit)


def _report(fc: FileCheck, field: FieldSpec, key: str, code: str) -> None:
    v = fc.data.values[(field.id, key)]
    found: Any
    expected: Any = None
    if code == "below-minimum":
        found, expected = number_text(v), _limit_text(field.checked_lower)
    elif code == "above-maximum":
        found, expected = number_text(v), _limit_text(field.checked_upper)
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
    beyond_ceiling = code in ("above-maximum", "below-minimum") and abs(v) > FIGURE_CEILING
    # Past the ceiling no spec's limit decides: it is kpd-returns' own protection, always an error (issue 19 item 4).
    basis = CEILING if beyond_ceiling else field.limit_basis(_LIMIT_OF[code])
    fc.add(code, field.id, key, guidance=field.guidance, found=found, expected=expected, invalid=True, basis=basis)


# The field limit each code checks: its basis (spec.basis) decides error or query.
_LIMIT_OF = {"below-minimum": "min", "above-maximum": "max", "not-whole-number": "decimals",
             "too-many-decimals": "decimals", "text-too-long": "max_length", "pattern-mismatch": "pattern"}
