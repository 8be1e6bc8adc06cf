"""Field limits in plain Python: the same failures as the pandera schemas of checks.fields.

The browser page runs the validator in Pyodide, which has no pandas (so no pandera). This
module gives each row of the long frame that checks.fields builds the same verdict the
schemas give, so the findings are identical whichever engine ran (a report sorts its findings,
so the order the failures come in does not matter): a parity test (tests/test_field_engines.py)
runs both over every sample, mistake and hostile file.

The arithmetic follows the pandas expressions exactly: every limit is a float64, a missing
limit passes, and "at most n places" is ``|v*10^n - round(v*10^n)| <= 1e-9*max(|v|,1)*10^n``
with round half to even (numpy's ``round`` and Python's agree); a figure too big for that
(infinite once scaled) fails, as numpy's ``inf - inf`` (NaN) does.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..spec.constants import FIGURE_CEILING

TOLERANCE = 1e-9
NUMBER_CHECKS = ("below-minimum", "above-maximum", "not-whole-number", "too-many-decimals")
TEXT_CHECKS = ("text-too-long", "pattern-mismatch")


def fits_decimals(value: float, decimals: float) -> bool:
    """``value`` has at most ``decimals`` places (within float noise)."""
    scale = 10.0 ** decimals
    scaled = value * scale
    if not math.isfinite(scaled):
        return False
    slack = TOLERANCE * max(abs(value), 1.0) * scale
    return abs(scaled - round(scaled)) <= slack


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _number_ok(code: str, value: float, lower: Any, upper: Any, decimals: Any) -> bool:
    if code == "below-minimum":
        return _missing(lower) or value >= float(lower)
    if code == "above-maximum":
        return _missing(upper) or value <= float(upper)
    if abs(value) > FIGURE_CEILING:  # beyond the ceiling above-maximum (or below-minimum) says so: as checks.fields
        return True
    if code == "not-whole-number":
        return _missing(decimals) or float(decimals) != 0 or fits_decimals(value, 0.0)
    # too-many-decimals
    return _missing(decimals) or float(decimals) == 0 or fits_decimals(value, float(decimals))


def _text_ok(code: str, value: Any, max_length: Any, pattern: Any) -> bool:
    if code == "text-too-long":
        return len(str(value)) <= float(max_length)
    if _missing(pattern):
        return True
    if value is None:
        return False
    # Over max_length it is text-too-long, and never tried against the pattern (spec.patterns): as checks.fields
    return len(str(value)) > float(max_length) or re.fullmatch(pattern, str(value)) is not None


def failures(which: str, columns: dict[str, list]) -> list[tuple[str, int]]:
    """(check, row index) for every failing row, check by check: ``which`` is 'numbers' or 'texts'."""
    out: list[tuple[str, int]] = []
    if which == "numbers":
        rows = list(zip(columns["value"], columns["lower"], columns["upper"], columns["decimals"]))
        for code in NUMBER_CHECKS:
            out += [(code, i) for i, (v, lo, hi, d) in enumerate(rows) if not _number_ok(code, float(v), lo, hi, d)]
    else:
        rows = list(zip(columns["value"], columns["max_length"], columns["pattern"]))
        for code in TEXT_CHECKS:
            out += [(code, i) for i, (v, n, p) in enumerate(rows) if not _text_ok(code, v, n, p)]
    return out
