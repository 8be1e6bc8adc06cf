"""The one evaluator of a spec's computed fields (``computed = { op = ..., of = [...] }``).

Used by the checks (recomputing totals, kpd_returns.checks.totals), the consolidated
workbook (key measures built from totals) and the packs, so a total or a ratio is
worked out the same way everywhere:

* ``sum``: the sum of the fields in ``of``;
* ``ratio``: ``of[0] / of[1]``; a denominator of 0 gives no value, and says so
  (``zero_denominator``), so a check can tell 0 / 0 (nothing to report) from 5 / 0;
  a field with ``zero_denominator = "blank"`` is left empty either way (``reportable``);
* then multiplied by ``scale`` (100 for a percentage) and rounded to ``decimals``
  places when the spec gives them.
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

from .sheet_model import Computed

NOISE_DIGITS = 9


@dataclass(frozen=True)
class Outcome:
    value: float | None
    zero_denominator: bool = False  # a ratio whose denominator is 0 (value is None)
    reportable: bool = True  # False: the spec says a 0 denominator is left blank, never a finding
    overflow: bool = False  # the result is not a finite number (value is None)


def evaluate(computed: Computed, value_of: Callable[[str], float | None], *, digits: int = NOISE_DIGITS) -> Outcome:
    """Work out one computed field from ``value_of(field id)`` for each of its inputs."""
    inputs = [value_of(fid) for fid in computed.of]
    if any(v is None for v in inputs):
        return Outcome(None)
    if computed.op == "sum":
        raw = sum(inputs)
    elif inputs[1] == 0:
        return Outcome(None, zero_denominator=True, reportable=computed.zero_denominator == "finding")
    else:
        raw = inputs[0] / inputs[1]
    if not math.isfinite(raw * computed.scale):  # 1e9 / 1e-300: never a figure anything stores or adds up
        return Outcome(None, overflow=True)
    value = round(raw * computed.scale, digits)
    if computed.decimals is not None:
        value = round(value, computed.decimals)
    return Outcome(value)


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
